"""Shape inference by MXNet: one ``infer_shape`` over a graph's internals, errors in one line.

:func:`infer_shapes` asks MXNet for every internal shape at once and turns its C++ trace into
a :class:`~nin_mx.errors.ShapeError` whose one line names the first layer that cannot take its
input, found by :func:`nin_mx.walk.spatial_walk`.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from nin_mx._mxnet import mx
from nin_mx.core.errors import GraphError, ShapeError, one_line
from nin_mx.core.ops import OPS
from nin_mx.core.validate import INT32_MAX, Shape
from nin_mx.graph.nodes import Node, parse_nodes
from nin_mx.graph.walk import spatial_walk

__all__ = [
    "aux_variables",
    "explain_failure",
    "infer_internals",
    "infer_shapes",
    "internal_outputs",
    "mxnet_shapes",
    "mxnet_shapes_before",
]

_OPERATOR = re.compile(r"Error in operator ([^:\s]+):")


def infer_internals(
    internals: Any, input_shapes: Mapping[str, Shape]
) -> tuple[list[Shape], list[Shape], list[Shape]]:
    """One MXNet ``infer_shape`` over a symbol's internals (``symbol.get_internals()``).

    Returns:
        ``(outputs, arguments, aux)``: shape lists in MXNet's orders, those of
        ``internals.list_outputs()``, ``list_arguments()`` and ``list_auxiliary_states()``
        (names are left to the caller: asking MXNet for them is a measurable part of a
        report, which does not need them; see BENCHMARKS.md).

    Raises:
        mxnet.base.MXNetError: MXNet's own error, for the caller to explain.
        ShapeError: if MXNet leaves a shape unknown, or an input dimension exceeds 2^31 - 1.
    """
    for name, shape in input_shapes.items():
        if any(dim > INT32_MAX for dim in shape):
            raise ShapeError(f"input {name}={tuple(shape)}: MXNet takes dimensions up to 2^31 - 1")
    # Symbol.infer_shape is this call plus a print of the arguments on failure.
    args, outs, auxs = internals._infer_shape_impl(False, **{k: tuple(v) for k, v in input_shapes.items()})
    if outs is None or None in outs or not all(map(all, outs)):  # unknown, or a 0 in a shape
        raise ShapeError(f"shapes cannot be inferred from the inputs {_describe(input_shapes)}")
    if max(map(math.prod, outs), default=0) > INT32_MAX:  # a cheap bound on every prod(s[1:])
        _check_flattened(internals, outs)
    return outs, args, auxs  # MXNet returns lists of tuples already


def aux_variables(internals: Any, nodes: Sequence[Node], count: int) -> frozenset[int]:
    """Indices of the variable nodes that are auxiliary states, of the ``count`` MXNet reports.

    Found from the operator table's mutated inputs (:mod:`nin_mx.core.ops`) when those account
    for all ``count`` (every variable they name is an auxiliary state, so finding ``count`` of
    them finds them all); otherwise (an operator the table does not list) from MXNet's
    ``list_auxiliary_states()``.

    Args:
        internals: the symbol that was inferred.
        nodes: its nodes in graph order (a prefix is enough when it holds every operator).
        count: ``len(aux)`` of :func:`infer_internals`.
    """
    found = {
        node.inputs[slot]
        for node in nodes
        if node.op in OPS
        for slot in OPS[node.op].mutated_inputs(node.attrs)
        if slot < len(node.inputs) and nodes[node.inputs[slot]].op == "null"
    }
    if len(found) == count:
        return frozenset(found)
    names = set(internals.list_auxiliary_states())
    return frozenset(node.index for node in nodes if node.op == "null" and node.name in names)


def internal_outputs(nodes: Sequence[Node], node_row_ptr: Any, count: int) -> list[int] | None:
    """How many outputs each node shows ``symbol.get_internals()``, told from the symbol's JSON.

    ``get_internals()`` lists every visible output, node by node in graph order (the order of
    the symbol's JSON), and its JSON costs more to write and read than the symbol's own. The
    JSON's ``node_row_ptr`` counts all outputs of each node; the operator table gives the
    visible number for the operators it knows, and any other operator is counted with
    all its outputs, which is at least its visible number. So when the counts add up to the
    ``count`` of outputs MXNet inferred, each one is exact.

    Returns:
        One count per node, or None when they do not add up (an operator the table does not
        list hides outputs) or the JSON has no ``node_row_ptr``: the caller then asks MXNet.
    """
    if not isinstance(node_row_ptr, list) or len(node_row_ptr) != len(nodes) + 1:
        return None
    counts = list(map(operator.sub, node_row_ptr[1:], node_row_ptr))
    for node in nodes:
        info = OPS.get(node.op)
        if info is not None:
            counts[node.index] = info.visible(node.attrs)
    return counts if sum(counts) == count and 0 not in counts else None


def _check_flattened(internals: Any, outs: Sequence[Shape]) -> None:
    """Flatten (and FullyConnected) of more than 2^31 - 1 values per sample: MXNet's 32-bit
    product wraps around, often to a positive but wrong size, so it must be caught here."""
    graph = json.loads(internals.tojson())
    shapes: dict[int, Shape] = {}
    for head, shape in zip(graph["heads"], outs):
        shapes.setdefault(head[0], shape)
    for node in parse_nodes(graph):
        flattens = node.op in ("Flatten", "flatten") or (
            node.op == "FullyConnected" and node.bool_attr("flatten", True)
        )
        shape = shapes.get(node.inputs[0]) if flattens and node.inputs else None
        if shape is not None and math.prod(shape[1:]) > INT32_MAX:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): its input {'x'.join(map(str, shape[1:]))} holds "
                f"{math.prod(shape[1:]):,} values per sample, beyond 2^31 - 1, which overflows "
                "MXNet's 32-bit shape arithmetic"
            )


def infer_shapes(
    symbol: Any, input_shapes: Mapping[str, Shape]
) -> tuple[dict[str, Shape], dict[str, Shape], dict[str, Shape]]:
    """Every internal output, argument and auxiliary shape, from one MXNet ``infer_shape``.

    Args:
        symbol: an ``mx.sym.Symbol``.
        input_shapes: full shapes of the data inputs, by name.

    Returns:
        ``(outputs, arguments, aux)``: dicts from MXNet's names (``conv1_output``,
        ``conv1_weight``, ``bn_moving_mean``) to shapes.

    Raises:
        ShapeError: one line, naming the first layer that cannot take its input when the
            border arithmetic finds it, else MXNet's own check in one line.
    """
    internals = symbol.get_internals()
    try:
        outs, args, auxs = infer_internals(internals, input_shapes)
    except mx.base.MXNetError as exc:
        raise explain_failure(symbol, input_shapes, exc) from None
    return (
        dict(zip(internals.list_outputs(), outs)),
        dict(zip(internals.list_arguments(), args)),
        dict(zip(internals.list_auxiliary_states(), auxs)),
    )


def _describe(input_shapes: Mapping[str, Shape]) -> str:
    return ", ".join(f"{k}={tuple(v)}" for k, v in input_shapes.items())


def explain_failure(
    symbol_or_nodes: Any, input_shapes: Mapping[str, Shape], exc: BaseException
) -> ShapeError:
    """Turns MXNet's failed ``infer_shape`` into a one-line ShapeError.

    The first layer whose output would be empty is found with the border arithmetic
    (:func:`spatial_walk`), not by parsing MXNet's message; only when the walk finds nothing
    is MXNet's own check quoted, in one line. The walk looks no further than the operator
    MXNet names, where MXNet's graph-order inference stopped.
    """
    shapes = _describe(input_shapes)
    nodes = parse_nodes(symbol_or_nodes.tojson()) if hasattr(symbol_or_nodes, "tojson") else symbol_or_nodes
    # MXNet infers in graph order and stops at its first failure: what follows is not the cause
    # (the walk does not know channels, so it may find a later layer too small).
    stopped = _OPERATOR.search(str(exc))
    last = {node.name: node.index for node in nodes}.get(stopped.group(1)) if stopped else None
    try:
        spatial_walk(nodes if last is None else nodes[: last + 1], input_shapes)
    except ShapeError as found:
        return ShapeError(f"input {shapes} is too small: {found}", layer=found.layer, index=found.index)
    except GraphError as bad:
        return ShapeError(f"cannot infer shapes for {shapes}: {bad}")
    detail = one_line(exc)
    if re.search(r"-\d{5,}", detail):  # a wrapped-around size, e.g. Flatten of a huge map
        detail += " (a size beyond 2^31 - 1 overflowed MXNet's 32-bit shape arithmetic)"
    return ShapeError(f"cannot infer shapes for {shapes}: {detail}")


def _per_node(
    count: int, heads: Sequence[int], outs: Sequence[Shape], variables: Mapping[int, Shape] | None = None
) -> list[tuple[Shape | None, ...]]:
    """MXNet's internal outputs (node index and shape of each, in order) as outputs per node."""
    outputs: list[list[Shape | None]] = [[] for _ in range(count)]
    for index, shape in zip(heads, outs):
        outputs[index].append(shape)
    for index, shape in (variables or {}).items():
        outputs[index] = [shape]
    return [tuple(o) if o else (None,) for o in outputs]


def _internal_heads(internals: Any) -> list[int]:
    """The node index of every output of ``internals``, from its own JSON."""
    return [head[0] for head in json.loads(internals.tojson(remove_amp_cast=False))["heads"]]


PerNode = tuple[list[tuple[Optional[Shape], ...]], frozenset[int]]


def mxnet_shapes(graph: Any, input_shapes: Mapping[str, Shape]) -> PerNode:
    """Every shape of a graph from one MXNet ``infer_shape`` over its internals: the outputs of
    each node by index, and the indices of the auxiliary states (for a graph with an operator the
    engine has no rule for; :func:`nin_mx.graph.shapes.infer` calls it).

    Raises:
        ShapeError: one line, as :func:`explain_failure` words it.
    """
    nodes, internals = graph.nodes, graph.internals
    try:
        outs, _, auxs = infer_internals(internals, input_shapes)
    except mx.base.MXNetError as exc:
        raise explain_failure(nodes, input_shapes, exc) from None
    counts = internal_outputs(nodes, graph.node_row_ptr, len(outs))
    heads = (
        _internal_heads(internals)
        if counts is None
        else [index for index, n in enumerate(counts) for _ in range(n)]
    )
    aux = aux_variables(internals, nodes, len(auxs))
    return _per_node(len(nodes), heads, outs), aux


def mxnet_shapes_before(graph: Any, input_shapes: Mapping[str, Shape], stop: int) -> PerNode | None:
    """The shapes of the nodes before node ``stop`` from MXNet, or None when MXNet cannot
    infer even those (see :func:`mxnet_shapes`)."""
    nodes, internals = graph.nodes, graph.internals
    heads = _internal_heads(internals)
    # Operator outputs only: the failing layer's own weights precede it but have no shape.
    keep = [i for i, n in enumerate(heads) if n < stop and not nodes[n].is_variable]
    if not keep:  # the very first operator fails (mx.sym.Group([]) is a TypeError)
        return None
    try:
        before = mx.sym.Group([internals[i] for i in keep])
        outs, args, auxs = infer_internals(before, input_shapes)
    except (mx.base.MXNetError, ShapeError, GraphError):
        return None
    by_name = dict(zip(before.list_arguments(), args))
    by_name.update(zip(before.list_auxiliary_states(), auxs))
    variables = {n.index: by_name[n.name] for n in nodes[:stop] if n.name in by_name}
    aux = aux_variables(before, nodes[:stop], len(auxs))
    return _per_node(len(nodes), [heads[i] for i in keep], outs, variables), aux
