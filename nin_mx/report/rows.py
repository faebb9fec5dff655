"""Graph + input shapes -> a Report: one row per operator, with shapes, costs and windows.

The path of a report: a :class:`~nin_mx.graph.source.Graph` (built and parsed once) -> its
shapes (:func:`nin_mx.graph.shapes.infer`: nin_mx's engine, MXNet only for an operator the engine
has no rule for) and the pure-Python walk of :mod:`nin_mx.graph.walk` -> one :class:`LayerRow` per
operator -> a :class:`Report` per border mode -> a :class:`~nin_mx.document.Document` per run,
which :mod:`nin_mx.render` formats.

Shapes, parameters and auxiliary states come from the shape engine (MXNet only for an operator
it has no rule for). Kernel, stride, pad, dilation, receptive field and jump come from the walk
(the border arithmetic), which the report checks against those shapes.

MACs (multiply-accumulates) are counted for the whole batch of the input shape, for
Convolution (``N * C_out * prod(out_spatial) * C_in / groups * prod(kernel)``),
Deconvolution (``N * C_in * prod(in_spatial) * C_out / groups * prod(kernel)``) and
FullyConnected (``N * in_features * num_hidden``); bias additions and every other operator
count 0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple, Union

from nin_mx.core.border import ReportMode
from nin_mx.core.errors import ShapeError
from nin_mx.core.ops import OPS
from nin_mx.core.validate import Shape, check_dims
from nin_mx.graph.engine import failing_index
from nin_mx.graph.nodes import Node, collector_paused
from nin_mx.graph.shapes import Shapes, infer, infer_before
from nin_mx.graph.source import Graph
from nin_mx.graph.walk import spatial_walk
from nin_mx.models import list_models

__all__ = [
    "LayerRow",
    "Report",
    "compare_border_modes",
    "report_graph",
    "resolve_inputs",
    "shape_report",
]

InputShapes = Union[Sequence[int], Mapping[str, Sequence[int]]]
BYTES_PER_VALUE = 4  # float32 activations


class LayerRow(NamedTuple):
    """One operator node of the graph.

    Attributes:
        name: the node's name.
        op: the MXNet operator.
        inputs: names of the nodes (operators or data inputs) feeding it; weights excluded.
        output_shape: the first output's shape, batch axis included.
        params: learnable parameters first used by this node (arguments that are not data
            inputs or labels, BatchNorm's gamma included), from MXNet's argument shapes.
        aux: auxiliary states (BatchNorm's moving mean and variance) of this node.
        macs: multiply-accumulates for the whole batch (see the module docstring).
        kernel, stride, pad, dilate: per spatial axis, for convolutions and poolings.
        receptive_field, jump: per spatial axis, in input pixels; ``None`` once the graph
            has left the spatial domain.
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    output_shape: Shape
    params: int
    aux: int
    macs: int
    kernel: Shape | None = None
    stride: Shape | None = None
    pad: Shape | None = None
    dilate: Shape | None = None
    receptive_field: Shape | None = None
    jump: Shape | None = None


@dataclass(frozen=True)
class Report:
    """The shape report of one graph at one input size under one border mode.

    ``border_mode`` is a border mode, ``reference`` for a model's published padding, or
    ``as built`` for a symbol given as is. When shapes cannot be inferred, ``ok`` is False,
    ``error`` is one line, ``failed_at`` names the first layer whose output would be empty
    (when the border arithmetic finds it) and ``layers`` holds the rows before it; totals then
    cover those rows.
    """

    model: str
    border_mode: ReportMode
    input_shapes: dict[str, Shape]
    ok: bool
    error: str | None
    failed_at: str | None
    layers: tuple[LayerRow, ...]
    output_shape: Shape | None
    total_params: int
    total_aux: int
    total_macs: int
    activation_bytes: int
    notes: tuple[str, ...] = field(default=())

    @property
    def input_shape(self) -> Shape:
        """The shape of the first (usually only) input."""
        return next(iter(self.input_shapes.values()))


def resolve_inputs(graph: Graph, shapes: InputShapes) -> dict[str, Shape]:
    """Names the input shape(s) of a graph: one tuple for a one-input graph, or a dict.

    Raises:
        ValueError: for a malformed shape, an unknown input name, or an input left unnamed.
    """
    inputs = graph.inputs
    if isinstance(shapes, Mapping):
        resolved = {str(k): check_dims(v, f"shape of {k!r}") for k, v in shapes.items()}
        unknown = sorted(set(resolved) - {n.name for n in graph.nodes if n.is_variable})
        if unknown:
            raise ValueError(f"the graph has no input {unknown[0]!r} (inputs: {', '.join(inputs) or 'none'})")
        missing = [name for name in inputs if name not in resolved]
        if missing:
            raise ValueError(f"no shape given for input {missing[0]!r}")
        return resolved
    if len(inputs) != 1:
        raise ValueError(
            f"the graph has {len(inputs)} data inputs ({', '.join(inputs) or 'none'}); "
            "give a shape for each by name"
        )
    return {inputs[0]: check_dims(shapes, f"shape of {inputs[0]!r}")}


def shape_report(
    model: Any,
    data_shape: InputShapes,
    /,
    *,
    border_mode: str | None = None,
    **factory_kwargs: Any,
) -> Report:
    """The shape report of one graph at one input size.

    Args:
        model: a :class:`~nin_mx.source.Graph`, a registered model name, a path to a
            ``-symbol.json``, or an ``mx.sym.Symbol``.
        data_shape: the input's full shape ``(N, C, H, W)`` (any rank), or a dict of shapes
            by input name for a graph with several inputs.
        border_mode: for registered models: ``'valid'``, ``'same'``/``'half'``, ``'full'``,
            or ``None``/``'reference'`` for the published padding.
        **factory_kwargs: other factory arguments (``num_classes``, ``pooling_convention``,
            ``pool_kernel``...).

    Returns:
        A :class:`Report`; ``ok=False`` with a one-line ``error`` if shapes cannot be inferred.

    Raises:
        ValueError: for an unknown model, a bad shape or argument.
        nin_mx.errors.GraphError: for a symbol file that cannot be loaded.
    """
    with collector_paused():  # one pause for the build and the report (each pause ends in a collection)
        return report_graph(Graph.resolve(model, border_mode=border_mode, **factory_kwargs), data_shape)


def compare_border_modes(
    model: Any,
    data_shape: InputShapes,
    /,
    modes: Sequence[str | None] | None = None,
    **factory_kwargs: Any,
) -> list[Report]:
    """Reports of one graph under several border modes, in the order given.

    Args:
        model: a registered model name, or any other source :func:`shape_report` takes.
        data_shape: as in :func:`shape_report`.
        modes: border modes; default ``valid``, ``same``, ``full`` for a registered model, and
            ``as built`` (the one way it exists) for a file, a symbol or a block.
        **factory_kwargs: other factory arguments, for a registered model.

    Raises:
        ValueError: for an unknown model or mode, or a border mode for a graph not built here.
    """
    if modes is None:
        registered = isinstance(model, str) and model in list_models()
        modes = ("valid", "same", "full") if registered else ("as built",)
    return [shape_report(model, data_shape, border_mode=mode, **factory_kwargs) for mode in modes]


def report_graph(graph: Graph, data_shape: InputShapes) -> Report:
    """The shape report of a resolved graph at one input size (see :func:`shape_report`).

    Raises:
        ValueError: for a bad shape, or one that names no input of the graph.
    """
    shapes = resolve_inputs(graph, data_shape)
    with collector_paused():
        return _report(graph, shapes)


def _report(graph: Graph, shapes: dict[str, Shape]) -> Report:
    try:
        found = infer(graph, shapes, walk=True)
    except ShapeError as exc:
        failed_index = failing_index(graph.nodes, exc)
        before = infer_before(graph, shapes, failed_index) if failed_index is not None else None
        rows = [] if before is None else _rows(graph.nodes, before, shapes, failed_index)
        return _assemble(graph, shapes, rows, str(exc), exc.layer, None)
    rows = _rows(graph.nodes, found, shapes, len(graph.nodes))
    return _assemble(graph, shapes, rows, None, None, _graph_output(graph, found))


def _graph_output(graph: Graph, found: Shapes) -> Shape:
    """The shape of the graph's last visible internal output (MXNet's last internal), the output
    the report calls the graph's."""
    last = graph.nodes[-1].index
    return found.outputs[last][found.visible[last] - 1]


def _rows(nodes: Sequence[Node], found: Shapes, shapes: Mapping[str, Shape], stop: int) -> list[LayerRow]:
    """One row per operator node before ``stop``; windows and receptive fields from the walk."""
    outputs, aux = found.outputs, found.aux
    first = [out[0] if out else None for out in outputs[:stop]]  # each node's first output
    walked = found.spatial
    infos = (
        walked
        if walked is not None and len(walked) == stop
        else spatial_walk(nodes[:stop], shapes, resume=first)
    )
    claimed: set[str] = set()  # weights, biases, labels and statistics counted once, by name
    rows = []
    append = rows.append
    for node, info in zip(nodes, infos):
        op = node.op
        if op == "null":
            continue
        params = n_aux = 0
        inputs = []  # the operators and data inputs feeding it, by name
        for i in node.inputs:
            source = nodes[i]
            name = source.name
            if source.op != "null" or name in shapes:
                inputs.append(name)
                continue
            shape = first[i]
            if shape is not None and name not in claimed:
                claimed.add(name)
                if i in aux:
                    n_aux += math.prod(shape)
                elif not name.endswith("_label"):
                    params += math.prod(shape)
        out = first[node.index]
        kernel = info.kernel
        if kernel is not None and info.spatial != out[2:]:  # type: ignore[index]
            raise AssertionError(
                f"nin_mx border arithmetic disagrees with the shapes at {node.name}: "
                f"{info.spatial} vs {out[2:]}"  # type: ignore[index]
            )
        macs = 0
        rule = _MAC_RULES.get(op)
        if rule is not None and node.inputs:
            data = node.inputs[0]
            data_shape = shapes.get(nodes[data].name) or outputs[data][node.data_output]
            macs = _macs(rule, node, data_shape, out, kernel)  # type: ignore[arg-type]
        # kernel, stride, pad, dilate, receptive field and jump: the walk's, in its order
        append(_row((node.name, op, tuple(inputs), out, params, n_aux, macs, *info[1:])))
    return rows


# The operators whose multiply-accumulates the report counts, with their rule (core.ops).
_MAC_RULES = {name: info.macs for name, info in OPS.items() if info.macs is not None}
_row = functools.partial(tuple.__new__, LayerRow)  # a LayerRow from a 13-tuple, without keywords


def _macs(rule: str, node: Node, data_shape: Shape | None, out: Shape, kernel: Shape | None) -> int:
    """Multiply-accumulates by the operator table's MAC rule: ``conv``, ``deconv`` or ``fc``."""
    if data_shape is None:
        return 0
    if rule in ("conv", "deconv") and kernel is not None:
        groups = int(node.attrs.get("num_group", "1"))
        if rule == "conv":
            return math.prod(out) * (data_shape[1] // groups) * math.prod(kernel)
        return math.prod(data_shape) * (out[1] // groups) * math.prod(kernel)
    if rule == "fc":
        if node.bool_attr("flatten", True):  # (N, ...) -> (N, num_hidden)
            return out[0] * math.prod(data_shape[1:]) * out[-1]
        return math.prod(out[:-1]) * data_shape[-1] * out[-1]  # applied to the last axis
    return 0


def _assemble(
    graph: Graph,
    shapes: dict[str, Shape],
    rows: list[LayerRow],
    error: str | None,
    failed_at: str | None,
    output_shape: Shape | None,
) -> Report:
    notes = list(graph.notes)
    if graph.mode is ReportMode.SAME and any(
        k % 2 == 0 for r in rows if r.op == "Convolution" and r.kernel for k in r.kernel
    ):
        notes.append(
            "same with an even kernel pads symmetrically by k//2, so that layer grows the map by one"
        )
    return Report(
        model=graph.label,
        border_mode=graph.mode,
        input_shapes=dict(shapes),
        ok=error is None,
        error=error,
        failed_at=failed_at,
        layers=tuple(rows),
        output_shape=output_shape,
        total_params=sum(map(attrgetter("params"), rows)),
        total_aux=sum(map(attrgetter("aux"), rows)),
        total_macs=sum(map(attrgetter("macs"), rows)),
        activation_bytes=sum(map(math.prod, map(attrgetter("output_shape"), rows))) * BYTES_PER_VALUE,
        notes=tuple(notes),
    )
