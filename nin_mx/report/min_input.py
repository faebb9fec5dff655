"""The smallest input a graph accepts: bisection with the border arithmetic, confirmed by the
shape engine (which follows every operator it knows, not only windows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS
from nin_mx.graph.nodes import Node
from nin_mx.graph.shapes import infer
from nin_mx.graph.source import Graph
from nin_mx.graph.walk import spatial_walk

__all__ = ["min_input_size", "spatial_rank"]


def min_input_size(
    model: Any,
    *,
    channels: int | None = None,
    batch: int = 1,
    border_mode: str | None = None,
    limit: int = 1 << 14,
    **factory_kwargs: Any,
) -> int:
    """The smallest square (cubic, ...) spatial size for which every layer is non-empty.

    Found by bisection with the border arithmetic (output sizes grow with the input), then
    confirmed by the shape engine; where the engine still refuses (an operator beyond windows,
    such as a crop, needs more), the search goes on upward with the engine itself.

    Args:
        model: a :class:`~nin_mx.source.Graph`, a registered model name, a ``-symbol.json``
            path or an ``mx.sym.Symbol``.
        channels: input channels; default: the model's (3 for other graphs).
        batch: batch size.
        border_mode: as in :func:`nin_mx.report.shape_report`.
        limit: the largest side tried.
        **factory_kwargs: other factory arguments, for a model name.

    Raises:
        ValueError: for a graph with several data inputs, or a bad argument.
        ShapeError: if no size up to ``limit`` works.
    """
    graph = Graph.resolve(model, border_mode=border_mode, **factory_kwargs)
    nodes, inputs, label = graph.nodes, graph.inputs, graph.label
    if len(inputs) != 1:
        raise ValueError(f"min_input_size needs a graph with one data input, {label} has {len(inputs)}")
    if channels is None:
        default = graph.default_input_shape
        channels = default[0] if default is not None else 3
    ndim = spatial_rank(nodes)

    def fits(side: int) -> bool:
        try:
            spatial_walk(nodes, {inputs[0]: (batch, channels) + (side,) * ndim})
        except ShapeError:
            return False
        return True

    high = _smallest(fits, 0, 1, limit, f"{label}: no input up to {limit} x {limit} fits every layer")

    def infers(side: int) -> bool:
        try:
            infer(graph, {inputs[0]: (batch, channels) + (side,) * ndim})
        except (ShapeError, GraphError):
            return False
        return True

    if infers(high):
        return high
    # Every window fits from here on, something else does not: search on with the engine.
    message = f"{label}: no input up to {limit} x {limit} passes shape inference"
    return _smallest(infers, high, max(2 * high, 2), limit, message)


def _smallest(fits: Callable[[int], bool], low: int, high: int, limit: int, message: str) -> int:
    """The smallest side above ``low`` that ``fits``, doubling ``high`` until it fits, then by
    bisection (sizes that fit grow with the input).

    Raises:
        ShapeError: ``message``, when no side up to ``limit`` fits.
    """
    while not fits(high):
        low, high = high, high * 2
        if high > limit:
            raise ShapeError(message)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def spatial_rank(nodes: Sequence[Node]) -> int:
    """The number of spatial axes, from the first convolution or pooling kernel (2 if none)."""
    for node in nodes:
        info = OPS.get(node.op)
        if info is not None and info.spatial == "windowed":
            kernel = node.tuple_attr("kernel")
            if kernel:
                return len(kernel)
    return 2
