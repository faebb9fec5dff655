"""``nin_mx.to_onnx``: an MXNet graph and its checkpoint as an ONNX model, without MXNet.

The graph and every shape come from nin_mx (:class:`~nin_mx.graph.source.Graph`,
:func:`nin_mx.graph.shapes.infer`), the weights from the checkpoint through nin_mx's own
NDArray reader, each operator from its handler (:mod:`nin_mx.export.handlers`).

Sizes: the batch axis is symbolic (``N``); height and width are symbolic too (``H``, ``W``)
when the graph is size-free: no layer the checks find locked to one input size
(``fixed-global-pool``, ``fixed-size-resize``, ``fixed-target-shape``, ``fixed-size-crop``),
and the engine infers the same weights at two other sizes. Otherwise the model is exported at
the given size, with one note naming the layer that locks it.

The model's inputs are the graph's data inputs (labels such as ``softmax_label`` are not); its
outputs are the graph's heads, what MXNet's forward returns, in the same order and named as
``list_outputs()`` names them (``softmax_output``, ``split_output1``, ``bn_mean``); a head listed
twice is an ``Identity`` named ``<name>__<position>`` the second time (ONNX output names are
unique), as is a data input that is a head (``data__1``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from nin_mx.checks.findings import Severity
from nin_mx.checks.params import check_params
from nin_mx.checks.rules import find_pitfalls
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS
from nin_mx.core.ops._base import Attrs
from nin_mx.export import activations, arrays, broadcast, nn, norm, proto, spatial, tensor  # noqa: F401
from nin_mx.export.builder import Builder, NeedsStatic, mxnet_output_name, untranslatable
from nin_mx.export.dtypes import onnx_type, out_dtype
from nin_mx.export.handlers import handler_for, translation_of
from nin_mx.export.weights import CheckpointWeights, RandomWeights, Span
from nin_mx.graph.nodes import Node, collector_paused
from nin_mx.graph.shapes import Shapes, infer
from nin_mx.graph.source import Graph
from nin_mx.report.rows import report_graph, resolve_inputs

__all__ = [
    "DEFAULT_OPSET",
    "LOCK_RULES",
    "MAX_OPSET",
    "MIN_OPSET",
    "Exported",
    "export_onnx",
    "to_onnx",
]

DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 13, 21
LOCK_RULES = ("fixed-global-pool", "fixed-size-resize", "fixed-target-shape", "fixed-size-crop")


class Exported:
    """An export: the model, what it says of sizes, and the input shapes it was made at.

    Attributes:
        proto: the model as nin_mx writes it (:class:`nin_mx.export.proto.Model`), which
            :func:`nin_mx.export.save_onnx` writes without onnx.
        model: the same model as an ``onnx.ModelProto`` (made, with onnx, when first read).
        notes: one line each (a size-locked graph: the layer that locks it).
        input_shapes: the full input shapes by name the export was made at.
        symbolic: the names of the dimensions left symbolic (``N``, ``H``, ``W``).
        deferred: with ``defer_weights``, per initializer index, where its bytes lie in the
            checkpoint (:class:`~nin_mx.export.weights.Span`): the model holds that
            initializer's name, type and dims only, and :func:`nin_mx.export.save_onnx` of this
            export writes it whole, copying those bytes from the checkpoint into the file.
    """

    __slots__ = ("_model", "deferred", "input_shapes", "notes", "proto", "symbolic")

    def __init__(
        self,
        proto: proto.Model,
        notes: tuple[str, ...],
        input_shapes: Mapping[str, tuple[int, ...]],
        symbolic: tuple[str, ...],
        deferred: Mapping[int, Span] = MappingProxyType({}),
    ) -> None:
        self.proto, self.notes, self.input_shapes = proto, notes, input_shapes
        self.symbolic, self.deferred = symbolic, deferred
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self.proto.to_onnx()
        return self._model


def to_onnx(
    graph: Any,
    *,
    params: str | os.PathLike[str] | None = None,
    input_shapes: Any = None,
    opset: int = DEFAULT_OPSET,
    dynamic: bool = True,
    seed: int = 0,
) -> Any:
    """An MXNet graph as an ONNX model, an ``onnx.ModelProto`` (no MXNet needed).

    Args:
        graph: anything :meth:`nin_mx.Graph.resolve` takes: a model name, a ``-symbol.json``
            path, an ``mx.sym.Symbol``, a Gluon block or a Graph.
        params: the checkpoint (``.params``) whose arrays become the initializers; it must fit
            the graph (the ``--params`` checks). Without it, seeded random initializers
            (:mod:`nin_mx.export.weights`).
        input_shapes: the input's full shape ``(N, C, H, W)`` or shapes by name; default: a
            registered model's own input, batch 1.
        opset: the ONNX opset, 13 to 21.
        dynamic: symbolic batch (always) and, for a size-free graph, height and width;
            ``False``: every dimension fixed.
        seed: for the random initializers.

    Raises:
        GraphError: one line: an operator without a translation (naming the node), a
            checkpoint that does not fit, a graph that cannot be read.
        ShapeError: the graph does not take the input shapes.
        ValueError: a bad opset or input shape.
    """
    exported = export_onnx(
        graph, params=params, input_shapes=input_shapes, opset=opset, dynamic=dynamic, seed=seed
    )
    return exported.proto.to_onnx(release=True)  # each weight's bytes let go once in the ModelProto


def export_onnx(
    graph: Any,
    *,
    params: str | os.PathLike[str] | None = None,
    input_shapes: Any = None,
    opset: int = DEFAULT_OPSET,
    dynamic: bool = True,
    seed: int = 0,
    defer_weights: bool = False,
) -> Exported:
    """:func:`to_onnx`, with the notes of the export (see there).

    ``defer_weights``: the checkpoint's float32 arrays are not read into the model; pass the
    result to :func:`nin_mx.export.save_onnx`, which copies them from the checkpoint file into
    the written model (the same bytes; the memory of the export does not grow with them).
    """
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset {opset!r}: nin_mx writes ONNX opsets {MIN_OPSET} to {MAX_OPSET}")
    # As for a report: many objects and no cycles (shapes at three sizes, the ONNX nodes), and a
    # collection the allocations would trigger walks them all (a third of Inception-ResNet-v2's).
    with collector_paused():
        return _export(graph, params, input_shapes, opset, dynamic, seed, defer_weights)


def _export(
    graph: Any,
    params: str | os.PathLike[str] | None,
    input_shapes: Any,
    opset: int,
    dynamic: bool,
    seed: int,
    defer_weights: bool,
) -> Exported:
    graph = Graph.resolve(graph)
    shapes_in = _input_shapes(graph, input_shapes)
    _refuse_untranslated(graph, opset)
    base = infer(graph, shapes_in)
    weights: Any = RandomWeights(seed)
    if params is not None:
        _check_fit(graph, shapes_in, params)
        weights = CheckpointWeights(params, defer=defer_weights)
    notes: list[str] = []
    others: list[Shapes] = []
    if dynamic:
        others, note = _other_sizes(graph, shapes_in)
        notes += [note] if note else []
    try:
        builder = _build(graph, base, others, opset, weights)
    except NeedsStatic as exc:
        others = _batch_only(graph, shapes_in)
        notes.append(_lock_note(str(exc), shapes_in))
        builder = _build(graph, base, others, opset, weights)
    symbolic = _model(graph, builder, shapes_in)
    return Exported(builder.model, tuple(notes), shapes_in, symbolic, MappingProxyType(builder.deferred))


def _input_shapes(graph: Graph, input_shapes: Any) -> dict[str, tuple[int, ...]]:
    if input_shapes is None:
        default = graph.default_input_shape
        if default is None:
            raise ValueError(f"{graph.label}: give the input shape (N, C, H, W)")
        input_shapes = (1, *default)
    return {k: tuple(v) for k, v in resolve_inputs(graph, input_shapes).items()}


def _refuse_untranslated(graph: Graph, opset: int) -> None:
    for node in graph.nodes:
        if not node.is_variable and handler_for(node.op, opset) is None:
            raise untranslatable(node, translation_of(node.op))


def _check_fit(graph: Graph, shapes_in: Mapping[str, tuple[int, ...]], params: Any) -> None:
    """The checkpoint must pass the ``--params`` checks (:mod:`nin_mx.checks.params`)."""
    for finding in check_params(graph, shapes_in, params):
        if finding.severity >= Severity.ERROR:
            raise GraphError(f"{os.fspath(params)}: the checkpoint does not fit the graph: {finding.message}")


def _scaled(shapes_in: Mapping[str, tuple[int, ...]], batch: int, grow: Any) -> dict[str, tuple[int, ...]]:
    return {
        k: (v[0] + batch, v[1], *(grow(d) for d in v[2:])) if len(v) > 2 else v for k, v in shapes_in.items()
    }


def _labels(graph: Graph) -> set[int]:
    """The variables read as a label (SoftmaxOutput's ``softmax_label``): not model inputs."""
    found = set()
    for node in graph.nodes:
        info = OPS.get(node.op)
        if node.is_variable or info is None or info.variadic:
            continue
        names = info.input_names(node.attrs)
        found.update(i for i, name in zip(node.inputs, names) if name == "label")
    return found


def _weights(graph: Graph) -> list[Node]:
    """The graph's weights: its variables but the data inputs and labels."""
    labels = _labels(graph)
    return [n for n in graph.nodes if n.is_variable and n.name not in graph.inputs and n.index not in labels]


def _variables(weights: Sequence[Node], shapes: Shapes) -> dict[str, Any]:
    """The weights' shapes by name."""
    return {n.name: shapes.outputs[n.index][0] for n in weights}


def _other_sizes(graph: Graph, shapes_in: Mapping[str, tuple[int, ...]]) -> tuple[list[Shapes], str | None]:
    """The engine's shapes at two other sizes (larger batch, height and width), or, for a
    size-locked graph, at another batch only, with the note that says why."""
    report = report_graph(graph, dict(shapes_in))
    locks = find_pitfalls(graph.nodes, report, rules=LOCK_RULES) if report.ok else []
    if locks:
        why = f"layer '{locks[0].layer}' locks the input size ({locks[0].rule})"
        return _batch_only(graph, shapes_in), _lock_note(why, shapes_in, locks[0].rule == "fixed-global-pool")
    weights = _weights(graph)
    base = _variables(weights, infer(graph, shapes_in))
    others = []
    for batch, grow in ((1, lambda d: d + 32), (2, lambda d: 2 * d)):
        try:
            found = infer(graph, _scaled(shapes_in, batch, grow))
        except (ShapeError, GraphError):
            return _batch_only(graph, shapes_in), _lock_note("the graph takes no other input size", shapes_in)
        changed = [name for name, shape in _variables(weights, found).items() if base.get(name) != shape]
        if changed:
            reader = next(n for n in graph.nodes if any(graph.nodes[i].name == changed[0] for i in n.inputs))
            why = f"layer '{reader.name}' ({reader.op}) has a weight whose shape depends on the input size"
            return _batch_only(graph, shapes_in), _lock_note(why, shapes_in)
        others.append(found)
    return others, None


def _batch_only(graph: Graph, shapes_in: Mapping[str, tuple[int, ...]]) -> list[Shapes]:
    try:
        found = infer(graph, _scaled(shapes_in, 1, lambda d: d))
    except (ShapeError, GraphError):
        return []
    weights = _weights(graph)
    return [found] if _variables(weights, found) == _variables(weights, infer(graph, shapes_in)) else []


def _lock_note(why: str, shapes_in: Mapping[str, tuple[int, ...]], fixable: bool = False) -> str:
    """The note of a size-locked export; ``fixable``: ``--fix`` repairs the lock (a hand-computed
    global pool), so its fixed file exports size-free."""
    sizes = ", ".join("x".join(map(str, v[2:])) for v in shapes_in.values() if len(v) > 2)
    way_out = "; `nin-shape-report --fix` writes a size-free graph to export instead" if fixable else ""
    return f"{why}: exported at {sizes} only{way_out}"


def _build(graph: Graph, base: Shapes, others: Sequence[Shapes], opset: int, weights: Any) -> Builder:
    b = Builder(graph.nodes, base, others, opset, graph.inputs, weights)
    for node in graph.nodes:
        if node.is_variable:
            continue
        handler = handler_for(node.op, opset)
        if handler is None:
            raise untranslatable(node, translation_of(node.op))
        handler(b, node, Attrs(node.attrs))
    return b


def _outputs(
    graph: Graph, b: Builder, shapes_in: Mapping[str, tuple[int, ...]]
) -> list[tuple[int, int, str]]:
    """The model's outputs: MXNet's heads (:attr:`Graph.heads`), in order, as (node, output, ONNX
    name). Each is named as MXNet's ``list_outputs()`` names it; ONNX wants the names unique, so
    a head whose name an earlier head took (a head listed twice, two nodes of one name) is an
    ``Identity`` of its value named ``<name>__<position>``; so is a data input that is a head (an
    ONNX output cannot be named as an input). A weight or a label may not be a head. An output
    that inference does not compute (rrelu's mask) is left out."""
    found: list[tuple[int, int, str]] = []
    used: set[str] = set()
    for position, (index, k) in enumerate(graph.heads):
        node = graph.nodes[index]
        if node.is_variable and node.name not in shapes_in:
            raise GraphError(
                f"head {position} of the graph is the variable '{node.name}', a weight or label that "
                "the graph does not compute: it cannot be an ONNX output"
            )
        value = b.value(index, k)
        if not b.produced(value):
            continue
        name = mxnet_output_name(node, k, len(b.shapes.outputs[index]))
        if name in used or name != value or node.is_variable:
            alias = f"{name}__{position}"
            while b.produced(alias) or alias in used:
                alias += "_"
            b.op(node, "Identity", [value], [alias])
            name = alias
        used.add(name)
        found.append((index, k, name))
    return found


def _dims(shape: Sequence[int], names: Sequence[str | None]) -> list[Any]:
    return [name if name is not None else dim for dim, name in zip(shape, names)]


def _model(graph: Graph, b: Builder, shapes_in: Mapping[str, tuple[int, ...]]) -> tuple[str, ...]:
    """Completes the builder's model (name, inputs, outputs); the symbolic dimensions' names."""
    shapes = [b.shapes, *b.others]
    single = len(shapes_in) == 1
    known: dict[tuple[int, ...], str] = {}  # the input dims by their values at every size
    inputs, input_dims = [], {}
    for node in graph.nodes:
        if not node.is_variable or node.name not in shapes_in:
            continue
        flags, names = b._varying(node.index, 0), []
        for k, flag in enumerate(flags):
            if not flag:
                names.append(None)
                continue
            name = (
                "N" if k == 0 else (("H", "W")[k - 2] if single and len(flags) == 4 else f"{node.name}_d{k}")
            )
            names.append(name)
            known.setdefault(tuple(s.outputs[node.index][0][k] for s in shapes), name)  # type: ignore[index]
        input_dims[node.index] = _dims(shapes_in[node.name], names)
        inputs.append(proto.ValueInfo(node.name, proto.FLOAT, input_dims[node.index]))
    outputs = []
    for index, k, value in _outputs(graph, b, shapes_in):
        if index in input_dims:  # a data input as a head: its own dims
            outputs.append(proto.ValueInfo(value, proto.FLOAT, input_dims[index]))
            continue
        flags, names = b._varying(index, k), []
        for d, flag in enumerate(flags):
            values = tuple(s.outputs[index][k][d] for s in shapes)  # type: ignore[index]
            names.append(None if not flag else known.get(values, f"{value}_d{d}"))
        dims = _dims(b.out_shape(graph.nodes[index], k), names)
        outputs.append(proto.ValueInfo(value, onnx_type(out_dtype(b, index)), dims))
    model = b.model
    model.name = graph.label
    model.inputs.extend(inputs)
    model.outputs.extend(outputs)
    return tuple(sorted({d for v in inputs for d in v.dims if isinstance(d, str)}))
