"""What the graph rules of :mod:`nin_mx.checks.rules` read, and the wording they share.

:class:`_Graph` gives a rule the nodes, the report's rows by node index and the walk at the
report's input size, read off the rows (the report's own walk) as a rule asks for a node. The
helpers put sizes and windows into words (``3x3 max pool (stride 2)``) and compute one output
axis with :mod:`nin_mx.core.border`, never with a formula of their own. No MXNet here.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence

from nin_mx.core import border
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.sides import Span
from nin_mx.graph.walk import SpatialInfo, axis_name, channels_last
from nin_mx.report.rows import LayerRow, Report

__all__: list[str] = []  # private to nin_mx.checks.rules

_UNKNOWN = SpatialInfo(None)
_info = functools.partial(tuple.__new__, SpatialInfo)  # from a 7-tuple, without keywords
# A row's window and receptive field, by name, in SpatialInfo's order after its spatial size.
_window_fields = operator.attrgetter("kernel", "stride", "pad", "dilate", "receptive_field", "jump")


class _Graph:
    """What the rules read: the nodes, the report's rows by node index, the walk at its size.

    The walk is the report's own: its rows hold each node's window, receptive field and
    MXNet's output shape, which the report checked against the border arithmetic. So the
    :class:`SpatialInfo` of each node is read off its row, not walked a second time.
    """

    def __init__(self, nodes: Sequence[Node], report: Report) -> None:
        self.nodes = nodes
        self.input_shapes = dict(report.input_shapes)
        # A report has one row per operator, in graph order (a failed report, those before the
        # failure): rows are paired with nodes by position, never by name (a Gluon block called
        # twice makes two nodes of one name). A report of another graph stops at the first
        # operator whose name differs.
        self.rows: dict[int, LayerRow] = {}
        operators = (node for node in nodes if node.op != "null")
        for node, row in zip(operators, report.layers):
            if row.name != node.name:
                break
            self.rows[node.index] = row
        stop = max(self.rows, default=-1) + 1  # a failed report has rows up to its failure
        self.infos = _Infos(self, stop)
        self._windows: dict[int, tuple[SpatialInfo, Shape] | None] = {}
        self._consumers: dict[int, list[int]] | None = None

    def consumers(self, index: int) -> list[int]:
        """The operators before ``stop`` that read node ``index``, in graph order."""
        if self._consumers is None:
            self._consumers = {}
            for node in self.nodes[: len(self.infos)]:
                for i in dict.fromkeys(node.inputs):
                    self._consumers.setdefault(i, []).append(node.index)
        return self._consumers.get(index, [])

    def info(self, index: int) -> SpatialInfo:
        """What spatial_walk, resumed from MXNet's shapes, gives of node ``index``."""
        spatial = self.spatial(index)
        if spatial is None:
            return _UNKNOWN
        row = self.rows.get(index)
        if row is None:  # a data input
            nd = len(spatial)
            return SpatialInfo(spatial, rf=(1,) * nd, jump=(1,) * nd)
        return _info((spatial, *_window_fields(row)))

    def input_spatial(self, node: Node) -> Shape | None:
        return self.spatial(node.inputs[0]) if node.inputs else None

    def spatial(self, index: int) -> Shape | None:
        """The spatial size of node ``index`` (``info(index).spatial``), without making its
        SpatialInfo (a rule reads the input size of every window)."""
        node, row = self.nodes[index], self.rows.get(index)
        if row is None:
            shape = self.input_shapes.get(node.name)
            return shape[2:] if shape is not None and len(shape) > 2 else None
        if len(row.output_shape) <= 2 or ("layout" in node.attrs and channels_last(node)):
            return None
        return row.output_shape[2:]

    def channels(self, index: int) -> int | None:
        row = self.rows.get(index)
        shape = row.output_shape if row else self.input_shapes.get(self.nodes[index].name)
        return shape[1] if shape is not None and len(shape) > 1 else None

    def window(self, node: Node) -> tuple[SpatialInfo, Shape] | None:
        """Window and input size of a Convolution or non-global Pooling that the walk followed."""
        try:
            return self._windows[node.index]
        except KeyError:
            pass
        found = None
        if node.op in ("Convolution", "Pooling") and not (
            node.op == "Pooling" and node.bool_attr("global_pool")
        ):
            info, n = self.infos[node.index], self.input_spatial(node)
            if info.kernel is not None and n is not None and info.spatial is not None:
                found = (info, n)
        self._windows[node.index] = found  # several rules ask for the same node
        return found


class _Infos(Sequence[SpatialInfo]):
    """The walk of the nodes before ``stop``, read off the rows as a rule asks (a rule reads a
    few nodes of a large graph)."""

    def __init__(self, graph: _Graph, stop: int) -> None:
        self._graph, self._stop = graph, stop
        self._cache: dict[int, SpatialInfo] = {}

    def __len__(self) -> int:
        return self._stop

    def __getitem__(self, index: int) -> SpatialInfo:  # type: ignore[override]
        if not 0 <= index < self._stop:
            raise IndexError(index)
        try:
            return self._cache[index]
        except KeyError:
            info = self._cache[index] = self._graph.info(index)
            return info


def _x(shape: Iterable[int]) -> str:
    return "x".join(map(str, shape))


def _and(parts: Sequence[str]) -> str:
    return " and ".join(parts) if len(parts) < 3 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _inputs(spans: Sequence[Span], nd: int) -> str:
    """``square inputs 299..330``, or per axis for a non-square input."""

    def one(span: Span) -> str:
        low, high = span
        return f"{low} and larger" if high is None else str(low) if low == high else f"{low}..{high}"

    if len(set(spans)) == 1:
        return f"square inputs {one(spans[0])}"
    return "inputs of " + " and ".join(f"{axis_name(a, nd)} {one(s)}" for a, s in enumerate(spans))


def _pool_kind(node: Node) -> str:
    kind = node.attrs.get("pool_type", "max")
    return {"avg": "average", "lp": "Lp"}.get(kind, kind)


def _window_name(node: Node, info: SpatialInfo) -> str:
    """``3x3 max pool (stride 2)``, ``11x11 convolution (stride 4)``, ``1x7 convolution``."""
    kind = "convolution" if node.op == "Convolution" else f"{_pool_kind(node)} pool"
    stride = info.stride or ()
    strided = "" if set(stride) <= {1} else f" (stride {stride[0] if len(set(stride)) == 1 else _x(stride)})"
    return f"{_x(info.kernel or ())} {kind}{strided}"


def _effective(node: Node, info: SpatialInfo) -> tuple[int, ...]:
    dilate = info.dilate if node.op == "Convolution" and info.dilate else (1,) * len(info.kernel)
    return _effective_kernels(info.kernel, dilate)


@functools.lru_cache(maxsize=1024)
def _effective_kernels(kernel: Shape, dilate: Shape) -> tuple[int, ...]:
    """Per axis, from border.py (a graph repeats a few windows many times)."""
    return tuple(border.effective_kernel(k, d) for k, d in zip(kernel, dilate))


def _output_one(
    node: Node, info: SpatialInfo, n: int, axis: int, pad: int, convention: str | None = None
) -> int:
    """One output axis at input ``n`` with pad ``pad`` (and a pooling convention), from border.py."""
    if node.op == "Pooling":
        rounding = convention or node.attrs.get("pooling_convention", "valid")
        return border.pool_output_size(n, info.kernel[axis], info.stride[axis], pad, rounding)
    return border.conv_output_size(n, info.kernel[axis], info.stride[axis], pad, info.dilate[axis])


def _output(
    node: Node, info: SpatialInfo, n: Sequence[int], pad: Sequence[int], convention: str | None = None
) -> Shape:
    return tuple(_output_one(node, info, m, a, p, convention) for a, (m, p) in enumerate(zip(n, pad)))
