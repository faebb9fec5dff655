"""Which input sizes a condition on one layer holds for: the walk re-run at other sizes.

Output sizes never shrink when the input grows, so a condition such as "this pooling outputs
1 x 1" holds for one interval of input sides, found by bisection with the pure-Python walk
(:func:`nin_mx.walk.spatial_walk`, a few milliseconds per call). :func:`flattened_map` finds
the map a FullyConnected flattens, whose size its weight depends on. No MXNet here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.walk import SpatialInfo, spatial_walk

__all__ = ["SIDE_LIMIT", "flattened_map", "input_ranges", "side_interval", "spatial_at", "spatial_input"]

Span = tuple[int, "int | None"]
SIDE_LIMIT = 1 << 16  # the largest input side a search tries


def spatial_at(
    nodes: Sequence[Node], input_shapes: Mapping[str, Shape], index: int, name: str, spatial: Sequence[int]
) -> Shape | None:
    """The output spatial size of node ``index`` when input ``name`` has spatial size ``spatial``.

    Walks ``nodes[: index + 1]`` only; the batch and channels of the input stay as they are.

    Returns:
        The spatial size, or ``None`` where the walk does not follow the graph (an operator it
        does not model).

    Raises:
        ShapeError: if a layer up to ``index`` would be empty at that size.
        GraphError: if the graph cannot take that size otherwise (a merge of unequal sizes).
    """
    shapes = dict(input_shapes)
    shapes[name] = (*shapes[name][:2], *spatial)
    return spatial_walk(nodes[: index + 1], shapes)[index].spatial


def _first(pred: Callable[[int], bool], start: int, limit: int) -> int | None:
    """The smallest side in ``1..limit`` where the monotone ``pred`` holds, searched from ``start``."""
    if pred(start):
        low, high = 0, start  # pred(high) holds; side 0 stands for "none below"
    else:
        low, step = start, 1
        while True:  # gallop upwards: start + 1, + 2, + 4, ...
            high = min(start + step, limit)
            if pred(high):
                break
            if high == limit:
                return None
            low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if pred(middle) else (middle, high)
    return high


def side_interval(order: Callable[[int], int], start: int, *, limit: int = SIDE_LIMIT) -> Span | None:
    """The input sides ``lo..hi`` where ``order`` is 0, for an ``order`` that never decreases.

    ``order(side)`` is -1 below the wanted sizes (or where the graph fails), 0 at them and +1
    above. Found by bisection, in about ``2 log2(side)`` calls of ``order``.

    Args:
        order: the classification of one input side.
        start: where to start, usually the current side.
        limit: the largest side tried.

    Returns:
        ``(lo, hi)``, with ``hi=None`` when every side from ``lo`` up to ``limit`` is 0; ``None``
        when no side is.
    """
    memo: dict[int, int] = {}

    def at(side: int) -> int:
        if side not in memo:
            memo[side] = order(side)
        return memo[side]

    low = _first(lambda side: at(side) >= 0, start, limit)
    if low is None or at(low) > 0:
        return None
    above = _first(lambda side: at(side) > 0, max(start, low), limit)
    return low, None if above is None else above - 1


def spatial_input(input_shapes: Mapping[str, Shape]) -> tuple[str, Shape] | None:
    """The name and spatial size of the one data input with spatial axes, if there is one only."""
    spatial = [(name, tuple(shape[2:])) for name, shape in input_shapes.items() if len(shape) > 2]
    return spatial[0] if len(spatial) == 1 else None


class _Unknown(Exception):
    """The walk does not know the size at another input size."""


def _order(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    index: int,
    orders: Callable[[Shape], Sequence[int]],
    name: str,
    spatial: Shape,
    axes: Sequence[int],
) -> int:
    """+1 if any of ``axes`` is above the wanted size, else -1 if any is below (or the graph
    fails), else 0: this never decreases when every per-axis order never does."""
    try:
        out = spatial_at(nodes, input_shapes, index, name, spatial)
    except ShapeError:
        return -1
    if out is None:
        raise _Unknown
    per_axis = orders(out)
    judged = [per_axis[a] for a in axes]
    return 1 if 1 in judged else -1 if -1 in judged else 0


def _along(order: Callable[[Shape, Sequence[int]], int], current: Shape, axis: int, side: int) -> int:
    return order((*current[:axis], side, *current[axis + 1 :]), (axis,))


def input_ranges(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    index: int,
    orders: Callable[[Shape], Sequence[int]],
) -> list[Span] | None:
    """Per input axis, the sides ``lo..hi`` for which node ``index`` has the wanted size.

    A square input is varied as a square (the same span for every axis); any other input one
    axis at a time, the others kept.

    Args:
        nodes: the graph's nodes.
        input_shapes: the current input shapes; exactly one input may have spatial axes.
        index: the node whose output is judged.
        orders: the judgement of that node's output spatial size, per axis: -1 below, 0 at,
            +1 above the wanted size.

    Returns:
        One ``(lo, hi)`` per spatial axis (``hi=None``: no upper end up to
        :data:`SIDE_LIMIT`), or ``None`` when the graph has several spatial inputs, no side
        works, or the walk cannot follow the graph at other sizes.
    """
    found = spatial_input(input_shapes)
    if found is None:
        return None
    name, current = found
    order = functools.partial(_order, nodes, input_shapes, index, orders, name)
    try:
        if len(set(current)) == 1:
            axes = range(len(current))
            span = side_interval(lambda side: order((side,) * len(current), axes), current[0])
            return None if span is None else [span] * len(current)
        spans = [
            side_interval(functools.partial(_along, order, current, a), current[a])
            for a in range(len(current))
        ]
    except (_Unknown, GraphError):
        return None
    return None if None in spans else spans  # type: ignore[return-value]


# Operators between a spatial map and the FullyConnected that flattens it (first inputs
# followed): Flatten, and those that keep their input's shape (activations, BatchNorm, Dropout, ...).
_TO_FLATTEN = frozenset(
    name for name, info in OPS.items() if info.name == "Flatten" or info.spatial == "keeps"
)


def flattened_map(nodes: Sequence[Node], infos: Sequence[SpatialInfo], index: int) -> int | None:
    """The node whose spatial map the FullyConnected ``nodes[index]`` flattens, or ``None``.

    Follows first inputs through Flatten, Dropout, activations and BatchNorm to the first node
    whose spatial size the walk (``infos``) knows.
    """
    node = nodes[index]
    while node.inputs and node.inputs[0] < len(infos):
        source = node.inputs[0]
        if infos[source].spatial is not None:
            return source
        node = nodes[source]
        if node.op not in _TO_FLATTEN:
            return None
    return None
