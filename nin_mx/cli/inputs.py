"""What a symbol file says of its own input, once it is read: its size when ``--input`` is not
given, what is known of that size otherwise, and the channel count a checkpoint fixes.

A symbol file's data input may carry its shape (``__shape__``, batch included, as
``mx.sym.var(name, shape=...)`` writes it): then that is the size reported. Otherwise the run
stops with one usage line (:class:`InputNeeded`, exit 2) that says what the file and the
checkpoint fix — the channel count the first convolution's weight takes (its own ``__shape__``,
or the array of that name in ``--params``) — the smallest square input every layer accepts (the
size search of :func:`nin_mx.report.min_input.min_input_size`, confirmed by the shape engine),
and an ``--input C,H,W`` to paste. No MXNet here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from nin_mx.checks.params import StoredArray
from nin_mx.cli.request import InputNeeded, Request, channels_last_hint
from nin_mx.core.attrs import parse_shape
from nin_mx.core.errors import GraphError, ShapeError, one_line
from nin_mx.core.ops import OPS
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.source import Graph

__all__ = ["Channels", "checkpoint_hint", "first_conv_channels", "own_input_shapes", "request_input"]


class Channels(NamedTuple):
    """The input channels the first convolution's weight takes, and where that was read.

    Attributes:
        count: the channel count (``weight.shape[1] * num_group``), or ``None`` if nothing fixes it.
        weight: the weight's name, or ``None`` when no convolution reads the data input as it is.
        shape: the weight's shape as read (``None``: unknown; a 0 is a dimension left to inference).
        source: the checkpoint's path when the checkpoint gave the shape, else ``None``.
    """

    count: int | None
    weight: str | None = None
    shape: Shape | None = None
    source: str | None = None

    def says(self) -> str:
        """What is known, as a clause of the usage line."""
        if self.weight is None:
            return "no convolution reads it as it is, so nothing here fixes its channel count"
        shape = _x(self.shape) if self.shape else None
        if self.count is not None:
            where = self.source if self.source is not None else "the file"
            return (
                f"the first convolution's weight {self.weight} is {shape} in {where}: {self.count} channels"
            )
        stored = f" (its __shape__ is {shape})" if shape else ""
        return (
            f"the file does not fix its channel count: the first convolution's weight "
            f"{self.weight}{stored} gets it from the input; --params FILE reads it from a checkpoint"
        )


def _own_shape(node: Node) -> Shape | None:
    """A variable's ``__shape__``, or ``None``; unknown dimensions (0) are kept."""
    raw = node.attrs.get("__shape__")
    if raw is None:
        return None
    try:
        shape = parse_shape(raw)
    except (GraphError, ValueError):
        return None
    return tuple(shape) if shape else None


def _reads_data(nodes: tuple[Node, ...], index: int, inputs: tuple[str, ...]) -> bool:
    """Whether node ``index`` is a data input, or reaches one through layers that keep their
    first input's shape (activations, BatchNorm, scalar arithmetic: the operator table's 'keeps')."""
    while True:
        node = nodes[index]
        if node.is_variable:
            return node.name in inputs
        info = OPS.get(node.op)
        if info is None or info.spatial != "keeps" or not node.inputs:
            return False
        index = node.inputs[0]


def first_conv_channels(
    graph: Graph, stored: Mapping[str, StoredArray] | None = None, source: str | None = None
) -> Channels:
    """The channel count the graph's first convolution takes, if it reads the data input (through
    shape-keeping layers only) in a channels-first layout: from the weight's array in ``stored``
    (a checkpoint read from ``source``), else from the weight's own ``__shape__``."""
    nodes = graph.nodes
    for node in nodes:
        info = OPS.get(node.op)
        if info is None or info.macs != "conv":
            continue
        layout = node.attrs.get("layout", "None").strip()
        names = info.input_names(node.attrs)
        if not node.inputs or "weight" not in names or not _reads_data(nodes, node.inputs[0], graph.inputs):
            return Channels(None)
        if layout not in ("None", "NCW", "NCHW", "NCDHW"):
            return Channels(None)
        weight = nodes[node.inputs[names.index("weight")]]
        groups = int(node.attrs.get("num_group", "1"))
        array = stored.get(weight.name) if stored else None
        if array is not None and len(array.shape) >= 2 and array.shape[1] > 0:
            return Channels(array.shape[1] * groups, weight.name, array.shape, source)
        own = _own_shape(weight)
        if own is not None and len(own) >= 2 and own[1] > 0:
            return Channels(own[1] * groups, weight.name, own)
        return Channels(None, weight.name, own)
    return Channels(None)


def own_input_shapes(
    graph: Graph,
    *,
    batch: int | None,
    stored: Mapping[str, StoredArray] | None = None,
    source: str | None = None,
) -> dict[str, Shape]:
    """The data inputs' shapes from their own ``__shape__`` (the batch axis set to ``batch`` when
    ``--batch`` was given).

    Raises:
        InputNeeded: when a data input has none: what is known of it and an ``--input`` to try.
    """
    by_name = {node.name: node for node in graph.nodes if node.is_variable}
    shapes: dict[str, Shape] = {}
    for name in graph.inputs:
        shape = _own_shape(by_name[name])
        if shape is None or 0 in shape:
            raise InputNeeded(_proposal(graph, batch or 1, stored, source))
        shapes[name] = shape if batch is None else (batch, *shape[1:])
    return shapes


def _proposal(graph: Graph, batch: int, stored: Mapping[str, StoredArray] | None, source: str | None) -> str:
    """One line: the file needs --input, what fixes its size, and a size to try."""
    from nin_mx.report.min_input import min_input_size, spatial_rank

    if len(graph.inputs) != 1:
        return (
            f"{graph.label} has {len(graph.inputs)} data inputs without a __shape__ of their own "
            f"({', '.join(graph.inputs)}): give each with --shape NAME=N,C,H,W"
        )
    name = graph.inputs[0]
    own = _own_shape(next(node for node in graph.nodes if node.is_variable and node.name == name))
    if own is not None and len(own) >= 3 and own[1] > 0:  # e.g. (0, 3, 0, 0): the channels only
        channels = Channels(own[1])
        parts = [
            f"{graph.label} needs --input C,H,W: its data input {name!r} has the __shape__ "
            f"{tuple(own)}, whose 0s are sizes left open: {own[1]} channels"
        ]
    else:
        channels = first_conv_channels(graph, stored, source)
        parts = [f"{graph.label} needs --input C,H,W: its data input {name!r} has no __shape__ of its own"]
        parts.append(channels.says())
    count = channels.count if channels.count is not None else 3
    if not any(OPS.get(node.op) is not None and OPS[node.op].spatial == "windowed" for node in graph.nodes):
        parts.append("no convolution or pooling tells its size: give the size it was made for")
        return "; ".join(parts)
    try:
        side = min_input_size(graph, channels=count, batch=batch)
    except (ShapeError, GraphError, ValueError) as exc:
        parts.append(f"no size was found that every layer accepts ({one_line(exc)})")
        return "; ".join(parts)
    ndim = spatial_rank(graph.nodes)
    parts.append(f"the smallest square input every layer accepts is {_x((count,) + (side,) * ndim)}")
    fit = _checkpoint_fit(graph, (batch, count) + (side,) * ndim, stored, source)
    if fit is not None:
        parts.append(fit[0])
        size = fit[1]
    else:
        size = (count,) + (_usual_side(graph, batch, count, side, ndim),) * ndim
    guess = "" if channels.count is not None else " (3 channels, as for RGB images, is a guess)"
    return "; ".join(parts) + f": e.g. --input {','.join(map(str, size))}{guess}"


_USUAL_SIDE = 224  # ImageNet's crop, the size most exported classifiers were trained at


def _usual_side(graph: Graph, batch: int, channels: int, smallest: int, ndim: int) -> int:
    """The side to propose: 224 where the engine takes it (and the smallest accepted is not
    larger), else the smallest accepted."""
    from nin_mx.graph.shapes import infer

    if smallest >= _USUAL_SIDE:
        return smallest
    try:
        infer(graph, {graph.inputs[0]: (batch, channels) + (_USUAL_SIDE,) * ndim})
    except (ShapeError, GraphError, ValueError):
        return smallest
    return _USUAL_SIDE


def _checkpoint_fit(
    graph: Graph, shape: Shape, stored: Mapping[str, StoredArray] | None, source: str | None
) -> tuple[str, Shape] | None:
    """Where the checkpoint fixes the input size (a FullyConnected's weight on a flattened
    map): what it fits, as a clause, and the smallest input it fits (without the batch axis)."""
    if not stored:
        return None
    from nin_mx.checks.params import check_params

    try:
        findings = check_params(graph, {graph.inputs[0]: shape}, stored)
    except (ShapeError, GraphError, ValueError):
        return None
    for finding in findings:
        fits = finding.detail.get("fits_input") if finding.rule == "params-shape" else None
        if fits and fits[0]:
            smallest, largest = (tuple(s) if s else None for s in fits)
            where = f"{finding.detail['array']} in {source}"
            if smallest == largest:
                return f"{where} fits the input {_x(smallest)} only", smallest
            upper = f"to {_x(largest)}" if largest else "and larger"
            return f"{where} fits the inputs {_x(smallest)} {upper}", smallest
    return None


def _x(shape: Shape | None) -> str:
    return "x".join(map(str, shape or ()))


def checkpoint_hint(
    graph: Graph,
    shapes: Shape | Mapping[str, Shape],
    stored: Mapping[str, StoredArray],
    source: str,
    hint: str | None,
) -> str | None:
    """The note on an input that reads as channels-last, once the checkpoint is read: where its
    first convolution's weight fixes the channel count, an input whose last axis has that count
    and whose first does not is named with the weight; an input whose first axis has it gets no
    note; otherwise ``hint`` (the note made from the input alone) stands."""
    channels = first_conv_channels(graph, stored, source)
    if channels.count is None or channels.source is None or len(graph.inputs) != 1:
        return hint
    shape = shapes if isinstance(shapes, tuple) else shapes.get(graph.inputs[0])
    if shape is None:
        return hint
    if shape[1] == channels.count:
        return None
    known = f"{channels.weight} in {source} takes {channels.count} channels"
    return channels_last_hint(shape[1:], channels.count, known) or hint


def request_input(
    request: Request, graph: Graph, stored: Mapping[str, StoredArray] | None
) -> tuple[Shape | Mapping[str, Shape], str | None]:
    """The input shapes of the run and the note on them: for a symbol file without ``--input``,
    its data input's own ``__shape__`` (else :class:`InputNeeded`); with a checkpoint, the note
    on a channels-last input names the channels its first convolution's weight takes."""
    if not request.is_file:
        return request.shapes, request.hint
    if request.shapes is None:
        return own_input_shapes(graph, batch=request.batch, stored=stored, source=request.params), None
    if stored is not None and request.params is not None:
        return request.shapes, checkpoint_hint(graph, request.shapes, stored, request.params, request.hint)
    return request.shapes, request.hint
