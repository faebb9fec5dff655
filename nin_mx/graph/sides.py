"""Which input sizes a condition on one layer holds for: the graph inferred again at other sizes.

Output sizes never shrink when the input grows, so a condition such as "this pooling outputs
1 x 1" holds for one interval of input sides, found by bisection. Each size is inferred by
nin_mx's shape engine (:func:`nin_mx.graph.engine.infer_graph`, pure Python), which follows
every operator it has a rule for (``slice_axis``, ``BilinearResize2D``, ``Crop``,
``UpSampling``, ROI pooling, ...), so every interval is exact; the pure-Python walk
(:func:`nin_mx.graph.walk.spatial_walk`) only says why a size fails, and stands in for a graph
with an operator the engine does not know. :func:`flattened_map` finds the map a
FullyConnected flattens, whose size its weight depends on. No MXNet here.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Union

from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.ops import OPS
from nin_mx.core.validate import Shape
from nin_mx.graph.engine import Inferred, failing_index, infer_graph
from nin_mx.graph.nodes import Node
from nin_mx.graph.walk import SpatialInfo, channels_last, spatial_walk

__all__ = [
    "SIDE_LIMIT",
    "SizeError",
    "flattened_map",
    "graph_failure",
    "input_ranges",
    "output_at",
    "side_interval",
    "spatial_at",
    "spatial_input",
]

Span = tuple[int, "int | None"]
SIDE_LIMIT = 1 << 16  # the largest input side a search tries


class SizeError(ShapeError):
    """The graph fails at a size for a reason other than a window that does not fit: a layer
    the walk does not follow (a crop, a slice, a resize to a fixed size and the merge after it,
    a reshape to a fixed shape). Unlike a window that does not fit, such a failure may come at
    larger sizes too; ``layer`` names the failing node."""


# The engine's answers at the sizes a search tried: (id(nodes), stop, shapes) -> (nodes, answer).
# A search asks each size a few times (several rules, the ends of each interval); the nodes are
# kept with the answer, so that their id is not reused while it is cached.
_Answer = Union[Inferred, Exception]
_Key = tuple[int, int, tuple[tuple[str, Shape], ...]]
_answers: OrderedDict[_Key, tuple[Sequence[Node], _Answer]] = OrderedDict()
_CACHED = 128


def _infer(nodes: Sequence[Node], shapes: Mapping[str, Shape], stop: int | None = None) -> _Answer:
    """The engine's answer for ``nodes[:stop]`` (all of them by default), or its error; cached."""
    stop = len(nodes) if stop is None else stop
    key = (id(nodes), stop, tuple(sorted((name, tuple(shape)) for name, shape in shapes.items())))
    found = _answers.get(key)
    if found is not None and found[0] is nodes:
        _answers.move_to_end(key)
        return found[1]
    try:
        answer: _Answer = infer_graph(nodes[:stop] if stop < len(nodes) else nodes, shapes)
    except (ShapeError, GraphError) as exc:
        answer = exc.with_traceback(None)  # its frames hold the engine's shapes
    _answers[key] = (nodes, answer)
    if len(_answers) > _CACHED:
        _answers.popitem(last=False)
    return answer


def _explained(nodes: Sequence[Node], shapes: Mapping[str, Shape], stop: int, exc: ShapeError) -> Exception:
    """Why the engine failed at node ``stop``, as the walk of ``nodes[: stop + 1]`` tells it: a
    window that does not fit (a ShapeError naming it: the input is too small), branches of
    unequal sizes at a merge (a GraphError: a size search cannot trust order there), or
    anything else (a :class:`SizeError`: a crop, a slice, a Deconvolution's target_shape, a
    merge after a layer the walk does not follow)."""
    try:
        spatial_walk(nodes[: stop + 1], shapes)
    except ShapeError as found:
        return found
    except GraphError as found:
        info = OPS.get(nodes[stop].op)
        if info is not None and info.spatial == "merges":
            return found
    return SizeError(str(exc), layer=exc.layer, index=exc.index)


def _answer_for(nodes: Sequence[Node], shapes: Mapping[str, Shape], index: int) -> _Answer:
    """The engine's answer that covers node ``index``: the whole graph's, or, where the graph
    fails (or has an operator without a rule) after that node, that of the nodes up to it."""
    answer = _infer(nodes, shapes)
    if isinstance(answer, Exception):
        failing = failing_index(nodes, answer)
        if isinstance(answer, UnsupportedOperator) or (failing is not None and failing > index):
            answer = _infer(nodes, shapes, index + 1)
    return answer


def output_at(
    nodes: Sequence[Node], input_shapes: Mapping[str, Shape], index: int, *, output: int = 0
) -> Shape | None:
    """The shape of output ``output`` of node ``index`` at ``input_shapes`` (full shapes by
    name), by the engine; ``None`` where it stays unknown (an operator the engine has no rule
    for before the node).

    Raises:
        ShapeError: if a layer up to ``index`` would be empty (a window does not fit);
            :class:`SizeError` if it fails otherwise (a crop, a slice, a fixed-size merge).
        GraphError: for branches of unequal sizes at a merge, or a malformed attribute.
    """
    answer = _answer_for(nodes, input_shapes, index)
    if isinstance(answer, UnsupportedOperator):
        return None
    if isinstance(answer, Exception):
        failing = failing_index(nodes[: index + 1], answer)
        if isinstance(answer, ShapeError) and failing is not None:
            raise _explained(nodes, input_shapes, failing, answer)
        raise answer
    outputs = answer.outputs[index]
    shape = outputs[output] if output < len(outputs) else None
    return None if shape is None or 0 in shape else tuple(shape)


def graph_failure(
    nodes: Sequence[Node], input_shapes: Mapping[str, Shape], name: str, spatial: Sequence[int]
) -> Exception | None:
    """Why the whole graph fails when input ``name`` has spatial size ``spatial`` (a ShapeError
    or GraphError naming the layer in ``layer`` when it can), or ``None`` if it takes that size.
    An :class:`~nin_mx.core.errors.UnsupportedOperator` where the engine cannot tell."""
    shapes = dict(input_shapes)
    shapes[name] = (*shapes[name][:2], *spatial)
    answer = _infer(nodes, shapes)
    return answer if isinstance(answer, Exception) else None


def spatial_at(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    index: int,
    name: str,
    spatial: Sequence[int],
    *,
    output: int = 0,
) -> Shape | None:
    """The output spatial size of node ``index`` when input ``name`` has spatial size ``spatial``.

    The batch and channels of the input stay as they are. The engine infers the graph; where
    it has no rule for an operator up to ``index``, the walk follows ``nodes[: index + 1]``.

    Returns:
        The spatial size (``shape[2:]``), or ``None`` where it is unknown or the output has no
        spatial axes (or they are not ``shape[2:]``: a channels-last layout).

    Raises:
        ShapeError: if a layer up to ``index`` would be empty at that size (a window does not
            fit); :class:`SizeError` if the graph fails there for another reason.
        GraphError: if the graph cannot take that size otherwise (a merge of unequal sizes).
    """
    shapes = dict(input_shapes)
    shapes[name] = (*shapes[name][:2], *spatial)
    node = nodes[index]
    if "layout" in node.attrs and channels_last(node):
        return None
    if isinstance(_answer_for(nodes, shapes, index), UnsupportedOperator):
        return spatial_walk(nodes[: index + 1], shapes)[index].spatial  # as far as it follows
    shape = output_at(nodes, shapes, index, output=output)
    return tuple(shape[2:]) if shape is not None and len(shape) > 2 else None


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
    """The engine does not know the size at another input size."""


class _Search:
    """The classification of input sizes for one node: :meth:`order` for :func:`side_interval`.

    A size at which the graph fails is below the wanted sizes when a window does not fit (sizes
    only grow with the input); a failure of another kind (a crop, a fixed-size merge, a fixed
    reshape) is below them when the size is smaller than the current one, and above them when
    it is larger: such a graph works in an interval around the current size only. Such a
    failure makes the search check the interval found afterwards (:meth:`confirmed`).
    """

    def __init__(
        self,
        nodes: Sequence[Node],
        input_shapes: Mapping[str, Shape],
        index: int,
        orders: Callable[[Shape], Sequence[int]],
        output: int,
    ) -> None:
        found = spatial_input(input_shapes)
        assert found is not None
        self.nodes, self.input_shapes, self.index, self.orders, self.output = (
            nodes,
            input_shapes,
            index,
            orders,
            output,
        )
        self.name, self.current = found
        self.other_failures = False

    def order(self, spatial: Shape, axes: Sequence[int]) -> int:
        """+1 if any of ``axes`` is above the wanted size, else -1 if any is below (or the
        graph fails), else 0: this never decreases when every per-axis order never does."""
        try:
            out = spatial_at(
                self.nodes, self.input_shapes, self.index, self.name, spatial, output=self.output
            )
        except SizeError:
            self.other_failures = True
            return -1 if spatial[axes[0]] < self.current[axes[0]] else 1
        except ShapeError:
            return -1
        if out is None:
            raise _Unknown
        per_axis = self.orders(out)
        judged = [per_axis[a] for a in axes]
        return 1 if 1 in judged else -1 if -1 in judged else 0

    def along(self, axis: int, side: int) -> int:
        current = self.current
        return self.order((*current[:axis], side, *current[axis + 1 :]), (axis,))

    def confirmed(self, spans: Sequence[Span], square: bool) -> bool:
        """After a failure that is not a window's, whether sizes inside each interval are
        wanted too (up to 16 of them, evenly spread): the failures may not be ordered."""
        axes = range(len(self.current))
        for a, (low, high) in enumerate(spans[:1] if square else spans):
            top = high if high is not None else low + 64
            step = max(1, (top - low) // 16)
            for side in range(low, top + 1, step):
                judged = self.order((side,) * len(axes), axes) if square else self.along(a, side)
                if judged != 0:
                    return False
        return True


def input_ranges(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    index: int,
    orders: Callable[[Shape], Sequence[int]],
    *,
    output: int = 0,
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
        output: which output of the node is judged.

    Returns:
        One ``(lo, hi)`` per spatial axis (``hi=None``: no upper end up to
        :data:`SIDE_LIMIT`), or ``None`` when the graph has several spatial inputs, no side
        works, or the sizes cannot be told at other sizes (an operator the engine does not
        know, branches whose sizes agree at some sizes only).
    """
    if spatial_input(input_shapes) is None:
        return None
    search = _Search(nodes, input_shapes, index, orders, output)
    current = search.current
    square = len(set(current)) == 1
    try:
        if square:
            axes = range(len(current))
            span = side_interval(lambda side: search.order((side,) * len(current), axes), current[0])
            spans = None if span is None else [span] * len(current)
        else:
            found = [
                side_interval(functools.partial(search.along, a), current[a]) for a in range(len(current))
            ]
            spans = None if None in found else found  # type: ignore[assignment]
        if spans is not None and search.other_failures and not search.confirmed(spans, square):
            return None
    except (_Unknown, GraphError):
        return None
    return spans  # type: ignore[return-value]


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
