"""nin_mx's own forward shape engine: every output of every node, in pure Python, with MXNet
1.9.1's ``infer_shape`` semantics (no MXNet, no numpy).

:func:`infer_graph` runs the operator rules of :mod:`nin_mx.core.ops` over a graph's nodes in
graph order, as MXNet's ``InferShape`` pass does, and repeats the pass while it still learns
something (a variable whose shape only a later consumer fixes): weights, biases, BatchNorm
statistics and labels are inferred backward from the operators that read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Optional

from nin_mx.core.attrs import parse_shape
from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.ops import AxisError, OpInfo, op_info
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.walk import axis_name

__all__ = ["Inferred", "engine_error", "infer_graph", "named_shapes"]

MaybeShape = Optional[Shape]
_MAX_PASSES = 8


class Inferred(NamedTuple):
    """The engine's answer.

    Attributes:
        outputs: per node index, the shapes of all its outputs (a variable has one); ``None``
            for a shape MXNet leaves unknown too, and 0 for an unknown dimension.
        visible: per node index, how many of its outputs ``get_internals()`` shows.
        aux: indices of the variables that are auxiliary states (mutated by an operator).
        complete: every shape is known.
    """

    outputs: list[tuple[MaybeShape, ...]]
    visible: list[int]
    aux: frozenset[int]
    complete: bool


def _variable_shape(node: Node, input_shapes: Mapping[str, Shape]) -> MaybeShape:
    shape = input_shapes.get(node.name)
    if shape is not None:
        return tuple(shape)
    raw = node.attrs.get("__shape__")
    if raw is None:
        return None
    try:
        shape = parse_shape(raw, where="attribute __shape__")
    except GraphError as exc:
        raise GraphError(f"variable '{node.name}': {exc}") from None
    if not shape:  # '()' or 'None': unknown in MXNet's legacy shape semantics
        return None
    return shape


def _known(shape: MaybeShape) -> bool:
    return shape is not None and 0 not in shape


def _fail(node: Node, exc: Exception) -> Exception:
    if isinstance(exc, AxisError):
        return ShapeError(
            f"layer '{node.name}' ({node.op}): {exc} along {axis_name(exc.axis, exc.ndim)}", layer=node.name
        )
    if isinstance(exc, ShapeError):
        return ShapeError(f"layer '{node.name}' ({node.op}): {exc}", layer=node.name)
    return GraphError(f"node '{node.name}' ({node.op}): {exc}")


def infer_graph(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    *,
    known: Mapping[int, Sequence[MaybeShape]] | None = None,
) -> Inferred:
    """Every output shape of every node, as MXNet 1.9.1's ``infer_shape`` finds them.

    Args:
        nodes: the graph's nodes from :func:`~nin_mx.graph.nodes.parse_nodes`.
        input_shapes: shapes of data inputs (and of any other variable), by name.
        known: output shapes already known, by node index (e.g. from MXNet), used as a start.

    Returns:
        An :class:`Inferred`; shapes that stay unknown are None (or hold a 0).

    Raises:
        ShapeError: naming the first node (graph order) that cannot take its inputs.
        UnsupportedOperator: naming a node whose operator has no rule.
        GraphError: for a malformed attribute, naming the node and the attribute.
    """
    count = len(nodes)
    shapes: list[list[MaybeShape]] = [None] * count  # type: ignore[list-item]
    infos: list[OpInfo | None] = [None] * count
    visible = [1] * count
    aux: set[int] = set()
    for node in nodes:
        index = node.index
        if node.op == "null":
            shapes[index] = [_variable_shape(node, input_shapes)]
            continue
        info = op_info(node.op)
        if info is None:
            raise UnsupportedOperator(
                f"node '{node.name}': nin_mx has no shape rule for operator {node.op}",
                layer=node.name,
                op=node.op,
            )
        infos[index] = info
        try:
            if not info.variadic:  # MXNet's FInferShape checks the count (e.g. BatchNorm's 5)
                names = info.input_names(node.attrs)
                if len(node.inputs) != len(names):
                    raise GraphError(
                        f"takes {len(names)} inputs ({', '.join(names)}), "
                        f"the graph gives it {len(node.inputs)}"
                    )
            n_out = info.num_outputs(node.attrs)
            visible[index] = info.visible(node.attrs)
            mutated = info.mutated_inputs(node.attrs)
        except (GraphError, ShapeError) as exc:
            raise _fail(node, exc) from None
        for slot in mutated:
            if slot < len(node.inputs) and nodes[node.inputs[slot]].op == "null":
                aux.add(node.inputs[slot])
        start = known.get(index) if known else None
        shapes[index] = list(start) if start is not None else [None] * n_out
    ops = [node for node in nodes if node.op != "null"]
    for _ in range(_MAX_PASSES):
        changed = False
        for node in ops:
            index = node.index
            outs = shapes[index]
            entries = [shapes[i][o] for i, o in zip(node.inputs, node.input_outputs or _zeros(node))]
            if all(map(_known, entries)) and all(map(_known, outs)) and outs:
                continue
            info = infos[index]
            try:
                new_ins, new_outs = info.rule(node.attrs, list(entries), list(outs))  # type: ignore[union-attr]
            except (GraphError, ShapeError) as exc:
                raise _fail(node, exc) from None
            except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
                # A combination of attributes and shapes no rule foresaw (MXNet itself divides by
                # zero or reads out of bounds on some): one line naming the node, never a trace.
                raise GraphError(
                    f"node '{node.name}' ({node.op}): its attributes do not fit its inputs "
                    f"({type(exc).__name__}: {exc})"
                ) from None
            for i, o, old, new in zip(node.inputs, node.input_outputs or _zeros(node), entries, new_ins):
                if new != old:
                    shapes[i][o] = new
                    changed = True
            if new_outs != outs:
                if len(new_outs) < len(outs):
                    new_outs = list(new_outs) + outs[len(new_outs) :]
                shapes[index] = list(new_outs)
                changed = True
        if not changed:
            break
    outputs = [tuple(s) for s in shapes]
    complete = all(_known(s) for out in outputs for s in out)
    return Inferred(outputs, visible, frozenset(aux), complete)


def _zeros(node: Node) -> tuple[int, ...]:
    return (0,) * len(node.inputs)


def named_shapes(
    nodes: Sequence[Node], inferred: Inferred
) -> tuple[list[tuple[str, MaybeShape]], dict[str, MaybeShape], dict[str, MaybeShape]]:
    """The engine's answer in MXNet's terms: ``(internal outputs, arguments, aux states)``.

    Internal outputs are ``(node name, shape)`` pairs in the order of
    ``symbol.get_internals().list_outputs()`` (node by node, visible outputs only); arguments and
    auxiliary states are dicts by variable name.
    """
    internals: list[tuple[str, MaybeShape]] = []
    args: dict[str, MaybeShape] = {}
    auxs: dict[str, MaybeShape] = {}
    for node in nodes:
        out = inferred.outputs[node.index]
        if node.op == "null":
            (auxs if node.index in inferred.aux else args)[node.name] = out[0]
            internals.append((node.name, out[0]))
        else:
            internals.extend((node.name, shape) for shape in out[: inferred.visible[node.index]])
    return internals, args, auxs


def _describe(input_shapes: Mapping[str, Shape]) -> str:
    return ", ".join(f"{k}={tuple(v)}" for k, v in input_shapes.items())


def engine_error(nodes: Sequence[Node], input_shapes: Mapping[str, Shape], exc: Exception) -> ShapeError:
    """The report's one line for an engine failure, worded as :func:`nin_mx.graph.infer.explain_failure`:
    ``input data=(1, 3, 8, 8) is too small: layer 'conv2' (Convolution): kernel 5 exceeds input 2
    along height`` for a window that does not fit, else ``cannot infer shapes for ...: <why>``."""
    shapes = _describe(input_shapes)
    layer = getattr(exc, "layer", None)
    if isinstance(exc, ShapeError) and " exceeds input " in str(exc) and " along " in str(exc):
        return ShapeError(f"input {shapes} is too small: {exc}", layer=layer)
    return ShapeError(f"cannot infer shapes for {shapes}: {exc}", layer=layer)
