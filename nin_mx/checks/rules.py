"""Pitfalls of a graph at one input size, found with the border arithmetic and the shape engine.

:func:`find_pitfalls` runs every rule of :data:`RULES` over the layers of a shape report and
returns a :class:`~nin_mx.findings.Finding` per layer and rule that applies. Sizes at the
report's input come from the report's own walk (:mod:`nin_mx.checks.context`) and
:mod:`nin_mx.core.border`, never from a formula of their own; where a rule says at which input
sizes a layer breaks, it infers the graph again at other sizes with nin_mx's shape engine
(:mod:`nin_mx.graph.sides`), which follows every operator it has a rule for. No MXNet here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from nin_mx.checks.context import (
    _and,
    _effective,
    _Graph,
    _inputs,
    _output,
    _output_one,
    _pool_kind,
    _window_name,
    _x,
)
from nin_mx.checks.findings import Finding, Rule, Severity
from nin_mx.core import border
from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.ops import OPS
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.sides import (
    Span,
    flattened_map,
    graph_failure,
    input_ranges,
    spatial_at,
    spatial_input,
)
from nin_mx.graph.walk import SpatialInfo, axis_name
from nin_mx.report.rows import Report

__all__ = ["RULES", "Finding", "Severity", "find_pitfalls"]


# --- what the rules share: input sizes found again with the engine -----------------------------


def _span(span: Span) -> str:
    low, high = span
    return f"{low} and larger" if high is None else str(low) if low == high else f"{low}..{high}"


def _some_inputs(spans: Sequence[Span | None]) -> str:
    """:func:`_inputs` of the axes that have a span (``inputs of width 17..20``)."""
    nd = len(spans)
    if None not in spans:
        return _inputs(spans, nd)  # type: ignore[arg-type]
    return "inputs of " + " and ".join(f"{axis_name(a, nd)} {_span(s)}" for a, s in enumerate(spans) if s)


def _input_name(g: _Graph) -> str:
    return spatial_input(g.input_shapes)[0]  # type: ignore[index]


def _maps(g: _Graph, index: int, output: int, sides: Sequence[Sequence[int]]) -> list[Shape | None]:
    """The spatial size of node ``index`` at each of the input sizes ``sides`` (or ``None``)."""
    found = []
    for spatial in sides:
        try:
            found.append(spatial_at(g.nodes, g.input_shapes, index, _input_name(g), spatial, output=output))
        except (ShapeError, GraphError):
            found.append(None)
    return found


def _ends(spans: Sequence[Span]) -> tuple[list[int] | None, list[int] | None]:
    """The input sizes just below and just above per-axis spans (``None`` where there are none)."""
    below = [max(1, low - 1) for low, _ in spans] if any(low > 1 for low, _ in spans) else None
    above = [high + 1 for _, high in spans] if all(high is not None for _, high in spans) else None
    return below, above  # type: ignore[return-value]


class _Elsewhere(NamedTuple):
    """What a layer does at an input size outside its spans: the layer where the graph fails
    (``fails_at``), or else the layer's own output size (``output``)."""

    fails_at: str | None
    output: Shape | None

    def json(self) -> dict[str, Any] | None:
        if self.fails_at is None and self.output is None:
            return None
        return {"fails_at": self.fails_at, "output": None if self.output is None else list(self.output)}


def _elsewhere(g: _Graph, node: Node, spatial: Sequence[int] | None, *, whole_graph: bool) -> _Elsewhere:
    """``node`` at input size ``spatial``: where the graph up to it (or the whole graph) fails,
    else its output size; both ``None`` where the engine cannot tell."""
    if spatial is None:
        return _Elsewhere(None, None)
    if whole_graph:
        failure = graph_failure(g.nodes, g.input_shapes, _input_name(g), spatial)
        if isinstance(failure, UnsupportedOperator):
            return _Elsewhere(None, None)
        if failure is not None:
            return _Elsewhere(getattr(failure, "layer", None) or "a layer", None)
    try:
        return _Elsewhere(None, spatial_at(g.nodes, g.input_shapes, node.index, _input_name(g), spatial))
    except ShapeError as exc:
        return _Elsewhere(exc.layer or node.name, None)
    except GraphError:
        return _Elsewhere(None, None)


def _fails_text(node: Node, layer: str) -> str:
    return "fail here" if layer == node.name else f"fail at {layer}"


def _size_free(spans: Sequence[Span] | None) -> bool:
    """Spans without an upper end: the size judged is the same at every input the graph takes."""
    return spans is not None and all(high is None for _, high in spans)


# --- windows that cover their whole map: the hand-computed global pool, the depthwise GDC -------

# What one window does with a map along one axis, in the order the map grows (a larger input
# only makes maps larger): it does not fit, it covers the whole map (global), it outputs one
# value but ignores the last rows, it outputs several.
_FAILS, _COVERS, _IGNORES, _SEVERAL = range(4)


def _coverage(node: Node, info: SpatialInfo, m: int, axis: int) -> int:
    """Which of the four the window of ``node`` does along ``axis`` of an ``m``-long map."""
    try:
        out = _output_one(node, info, m, axis, info.pad[axis])
    except ValueError:  # border.EmptyOutputError: the window does not fit
        return _FAILS
    if out > 1:
        return _SEVERAL
    return _COVERS if _effective(node, info)[axis] - info.pad[axis] >= m else _IGNORES


def _within(node: Node, info: SpatialInfo, low: int, high: int) -> Callable[[Shape], list[int]]:
    """The order of a map for a size search: per axis -1 below the classes ``low..high``, +1
    above them."""

    def orders(spatial: Shape) -> list[int]:
        classes = [_coverage(node, info, m, a) for a, m in enumerate(spatial)]
        return [-1 if c < low else 1 if c > high else 0 for c in classes]

    return orders


def _ignored(node: Node, info: SpatialInfo, n: Shape) -> str:
    """``1 row and 1 column``: what the one window leaves at the end of each axis of ``n``."""
    nd, reach = len(n), [ke - p for ke, p in zip(_effective(node, info), info.pad)]
    return _and(
        [
            f"{m - r} {_UNITS.get(axis_name(a, nd), 'entry')}{'s' * (m - r > 1)}"
            for a, (m, r) in enumerate(zip(n, reach))
            if m > r
        ]
    )


class _Covering(NamedTuple):
    """The input sizes at which a window outputs 1x1, found with the engine.

    Attributes:
        one: per axis, the sides at which it outputs 1 (covering its map or ignoring rows).
        whole: per axis, the sides at which it covers its whole map, or ``None`` (never).
        ignoring: per axis, the sides at which it outputs 1 but ignores the last rows (or
            ``None`` on an axis without such sides).
        below, above: the graph just below and just above ``one``.
    """

    one: list[Span]
    whole: list[Span] | None
    ignoring: list[Span | None]
    below: _Elsewhere
    above: _Elsewhere


def _covering(g: _Graph, node: Node, info: SpatialInfo) -> _Covering | bool:
    """The input sizes at which ``node``'s window outputs 1x1, at which it covers its map and at
    which it ignores rows; ``False`` when they cannot be told at other sizes, ``True`` when
    its map has one size at every input the graph takes (after ROI pooling, adaptive or
    global pooling: then nothing breaks)."""
    source, output = node.inputs[0], node.data_output
    one = input_ranges(g.nodes, g.input_shapes, source, _within(node, info, _COVERS, _IGNORES), output=output)
    if one is None:
        return False
    if _size_free(one):
        return True
    whole = input_ranges(
        g.nodes, g.input_shapes, source, _within(node, info, _COVERS, _COVERS), output=output
    )
    ignoring: list[Span | None] = []
    for a, (low, high) in enumerate(one):
        if whole is None:
            ignoring.append((low, high))
            continue
        top = whole[a][1]
        ignoring.append((top + 1, high) if top is not None and (high is None or top < high) else None)
    below, above = _ends(one)
    return _Covering(
        one,
        whole,
        ignoring,
        _elsewhere(g, node, below, whole_graph=False),
        _elsewhere(g, node, above, whole_graph=False),
    )


def _ignoring_text(g: _Graph, node: Node, covering: _Covering, verb: str) -> str:
    """``square inputs 225..416 pool to 1x1 but ignore their last rows and columns (8x8 to 13x13
    maps)`` (``verb``: ``pool to``), or ``''`` without such sizes."""
    spans = covering.ignoring
    if all(span is None for span in spans):
        return ""
    maps = ""
    if len(set(spans)) == 1:
        low, high = spans[0]  # type: ignore[misc]
        nd = len(spans)
        sides = [[low] * nd] + ([[high] * nd] if high is not None and high != low else [])
        found = list(dict.fromkeys(_maps(g, node.inputs[0], node.data_output, sides)))
        if all(found):
            maps = f" ({' to '.join(map(_x, found))} map{'s' * (len(found) > 1)})"  # type: ignore[arg-type]
    return f"{_some_inputs(spans)} {verb} 1x1 but ignore their last rows and columns{maps}"


def _covering_message(g: _Graph, node: Node, covering: _Covering, verb: str) -> str:
    """``, smaller ones fail here, <ignoring sizes>, larger ones pool to 2x2 and more`` (``verb``:
    ``pool to``)."""
    parts = []
    if covering.below.fails_at is not None:
        parts.append(f"smaller ones {_fails_text(node, covering.below.fails_at)}")
    ignoring = _ignoring_text(g, node, covering, verb)
    if ignoring:
        parts.append(ignoring)
    if covering.above.fails_at is not None:
        parts.append(f"larger ones {_fails_text(node, covering.above.fails_at)}")
    elif covering.above.output is not None:
        parts.append(f"larger ones {verb} {_x(covering.above.output)} and more")
    return "".join(f", {part}" for part in parts)


def _whole_map(g: _Graph, node: Node, covering: _Covering) -> str:
    """``square inputs 224..255 (7x7 map)``: where the window covers its whole map."""
    assert covering.whole is not None
    [found] = _maps(g, node.inputs[0], node.data_output, [[low for low, _ in covering.whole]])
    return f"{_inputs(covering.whole, len(covering.whole))}{f' ({_x(found)} map)' if found else ''}"


def _fixed_global_pool(g: _Graph, node: Node) -> Finding | None:
    """A fixed pooling kernel that pools its input to 1x1: global pooling at some input sizes only."""
    found = g.window(node) if node.op == "Pooling" else None
    if found is None:
        return None
    info, n = found
    if set(info.spatial) != {1} or set(info.kernel) == {1}:
        return None
    covers = all(_coverage(node, info, m, a) == _COVERS for a, m in enumerate(n))
    # A 1x1 output that ignores rows is a hand-computed global pool (Gluon's AvgPool2D(7), whose
    # stride is its kernel) at a larger input; a 3x3 pool of stride 2 on a tiny map is not.
    if not covers and any(s < k for s, k in zip(info.stride, info.kernel)):
        return None
    stride = info.stride
    strided = "" if set(stride) <= {1} else f" (stride {stride[0] if len(set(stride)) == 1 else _x(stride)})"
    what = f"fixed {_x(info.kernel)} {_pool_kind(node)} pool{strided}"
    detail: dict[str, Any] = {
        "kernel": list(info.kernel),
        "stride": list(stride),
        "map": list(n),
        "here": "global" if covers else "ignores",  # at this input: covers its map, or ignores rows
        "input_ranges": None,  # per input axis [lo, hi]: the sides at which it pools to 1x1
        "global_ranges": None,  # ... at which it covers its whole map: global pooling
        "ignoring_ranges": None,  # ... at which it pools to 1x1 but ignores the last rows
        "fails_below_at": None,  # the layer that fails just below input_ranges
        "above": None,  # the pool's output just above them
        "fails_above_at": None,  # or the layer that fails there
    }
    covering = _covering(g, node, info)
    if covering is True:
        return None  # its map has one size at every input: nothing breaks
    ignores = f"pools its {_x(n)} map to 1x1 but ignores its last {_ignored(node, info, n)} at this input"
    if covering is False:
        here = f"equals global pooling at this input ({_x(n)} map)" if covers else ignores
        message = f"{what} {here}, not at every size"
    else:
        if covering.whole is None:
            head = f"{what} {ignores}: it never equals global pooling"
        elif covers:
            head = f"{what} equals global pooling only for {_whole_map(g, node, covering)}"
        else:
            head = f"{what} {ignores}: it equals global pooling only for {_whole_map(g, node, covering)}"
        message = head + _covering_message(g, node, covering, "pool to")
        detail.update(
            input_ranges=[list(s) for s in covering.one],
            global_ranges=covering.whole and [list(s) for s in covering.whole],
            ignoring_ranges=[s and list(s) for s in covering.ignoring],
            fails_below_at=covering.below.fails_at,
            above=None if covering.above.output is None else list(covering.above.output),
            fails_above_at=covering.above.fails_at,
        )
    return Finding(
        "fixed-global-pool", Severity.WARNING, node.name, f"{message}; use global_pool=True", detail
    )


def _padded_global_pool(g: _Graph, node: Node) -> Finding | None:
    """A pooling kernel that covers its input, padded so that it outputs more than 1x1."""
    found = g.window(node) if node.op == "Pooling" else None
    if found is None:
        return None
    info, n = found
    if any(k < m for k, m in zip(info.kernel, n)) or set(info.spatial) == {1}:
        return None
    channels = g.channels(node.index) or 1
    values = channels * math.prod(info.spatial)
    return Finding(
        "padded-global-pool",
        Severity.WARNING,
        node.name,
        f"{_x(info.kernel)} {_pool_kind(node)} pool covers its whole {_x(n)} input, but pad "
        f"{tuple(info.pad)} makes it output {_x(info.spatial)}, not 1x1: the next layer gets "
        f"{math.prod(info.spatial)}x the values ({values:,} instead of {channels:,} per sample); "
        "use global_pool=True (or pad 0)",
        {"kernel": list(info.kernel), "pad": list(info.pad), "map": list(n), "output": list(info.spatial)},
    )


def _ignored_pool_attrs(g: _Graph, node: Node) -> Finding | None:
    """global_pool=True with a kernel, stride or pad that MXNet ignores."""
    if node.op != "Pooling" or not node.bool_attr("global_pool"):
        return None
    # Gluon's GlobalAvgPool2D writes kernel (1, 1), stride (1, 1), pad (0, 0): neutral, not flagged.
    ignored = {}
    for key, neutral in (("kernel", 1), ("stride", 1), ("pad", 0)):
        value = node.tuple_attr(key)
        if value and set(value) != {neutral}:
            ignored[key] = list(value)
    if not ignored:
        return None
    n = g.input_spatial(node)
    names = _and([f"{key} {tuple(value)}" for key, value in ignored.items()])
    return Finding(
        "ignored-pool-attrs",
        Severity.INFO,
        node.name,
        f"global_pool=True ignores {names}: the layer pools the whole {_x(n) + ' ' if n else ''}map to "
        "1x1; drop them, or set global_pool=False if that window was meant",
        {"ignored": ignored, "map": list(n) if n else None},
    )


_MODES = (border.BorderMode.SAME, border.BorderMode.VALID, border.BorderMode.FULL)  # ties: the first


@functools.lru_cache(maxsize=1024)
def _mode_pads(kernel: int, dilate: int) -> dict[border.BorderMode, int]:
    """The pad each border mode gives a kernel (a graph asks for the same few many times)."""
    return {mode: border.pad_for(mode, kernel, dilate) for mode in _MODES}


def _custom_padding(g: _Graph, node: Node) -> Finding | None:
    """A pad that matches no border mode (0, ke//2, ke-1) along an axis."""
    found = g.window(node)
    if found is None:
        return None
    info, n = found
    nd, dilate = len(n), info.dilate if node.op == "Convolution" else (1,) * len(n)
    axes, pads = [], list(info.pad)
    for a, (k, d, p) in enumerate(zip(info.kernel, dilate, info.pad)):
        candidates = _mode_pads(k, d)
        if p not in candidates.values():
            mode = min(_MODES, key=lambda m: abs(candidates[m] - p))  # the nearest mode's pad
            pads[a] = candidates[mode]
            axes.append({"axis": axis_name(a, nd), "pad": p, "needs": mode.value, "needs_pad": pads[a]})
    if not axes:
        return None
    try:
        instead: Shape | None = _output(node, info, n, pads)
    except border.EmptyOutputError:
        instead = None
    needs = " and ".join(f"{x['axis']} ({x['needs']} pads {x['needs_pad']})" for x in axes)
    return Finding(
        "custom-padding",
        Severity.WARNING,
        node.name,
        f"pad {tuple(info.pad)} of a {_window_name(node, info)} matches no border mode along {needs}: it "
        f"outputs {_x(info.spatial)} from {_x(n)}, pad {tuple(pads)} gives "
        f"{_x(instead) if instead else 'an empty map'}; set the pad a border mode gives",
        {
            "pad": list(info.pad),
            "axes": axes,
            "output": list(info.spatial),
            "instead": instead and list(instead),
        },
    )


def _even_kernel_same(g: _Graph, node: Node) -> Finding | None:
    """An even kernel padded by half of it on both sides: the map grows by one."""
    found = g.window(node)
    if found is None:
        return None
    info, n = found
    effective, nd = _effective(node, info), len(n)
    flagged = [a for a, (ke, p) in enumerate(zip(effective, info.pad)) if ke % 2 == 0 and p == ke // 2]
    if not flagged:
        return None
    # An asymmetric 'same' pads ke//2 - 1 before and ke//2 after: one row more, padded ke//2 - 1.
    longer = [m + (a in flagged) for a, m in enumerate(n)]
    asymmetric = _output(node, info, longer, [p - (a in flagged) for a, p in enumerate(info.pad)])
    split = " / ".join(dict.fromkeys(f"({info.pad[a] - 1}, {info.pad[a]})" for a in flagged))
    where = " and ".join(axis_name(a, nd) for a in flagged)
    result = f"outputs {_x(info.spatial)} from {_x(n)}"
    if asymmetric == info.spatial:
        result += f" as an asymmetric pad {split} would, but shifted by one pixel"
    else:
        result += f", where an asymmetric pad {split} gives {_x(asymmetric)}"
    return Finding(
        "even-kernel-same",
        Severity.INFO,
        node.name,
        f"{_window_name(node, info)} has an even kernel along {where} padded"
        f" by half of it on both sides ('same' pads symmetrically): it {result}; pad asymmetrically "
        "(mx.sym.pad) or use an odd kernel",
        {
            "axes": [axis_name(a, nd) for a in flagged],
            "output": list(info.spatial),
            "asymmetric": list(asymmetric),
        },
    )


# Operators whose output has a size of their own, whatever the size of their input: nothing
# after them depends on the input size (ROI pooling, adaptive pooling; global pooling too).
_FIXES_SIZE = frozenset(
    {
        "ROIPooling",
        "_contrib_ROIAlign",
        "_contrib_PSROIPooling",
        "_contrib_DeformablePSROIPooling",
        "_contrib_AdaptiveAvgPooling2D",
    }
)


def _fixed_upstream(g: _Graph, index: int) -> bool:
    """Whether the map of node ``index`` comes (through first inputs) from a layer that fixes its
    size: ROI pooling, adaptive pooling or global pooling (where the engine cannot tell)."""
    for _ in range(len(g.nodes)):
        node = g.nodes[index]
        if node.op == "null" or not node.inputs:
            return False
        canonical = OPS[node.op].name if node.op in OPS else node.op
        if canonical in _FIXES_SIZE or (canonical == "Pooling" and node.bool_attr("global_pool")):
            return True
        index = node.inputs[0]
    return False


def _input_size_dependent_params(g: _Graph, node: Node) -> Finding | None:
    """A FullyConnected weight whose shape depends on the input size."""
    if node.op != "FullyConnected" or not node.bool_attr("flatten", True):
        return None
    source = flattened_map(g.nodes, g.infos, node.index)
    spatial = g.infos[source].spatial if source is not None else None
    channels = g.channels(source) if source is not None else None
    if spatial is None or channels is None or math.prod(spatial) <= 1:
        return None
    weight = [int(node.attrs.get("num_hidden", "0")), channels * math.prod(spatial)]
    spans = input_ranges(
        g.nodes, g.input_shapes, source, lambda out: [(o > m) - (o < m) for o, m in zip(out, spatial)]
    )
    if _size_free(spans) or (spans is None and _fixed_upstream(g, source)):
        return None  # the same map at every input size: after ROI pooling, adaptive or global pooling
    fits = "this input size only" if spans is None else f"{_inputs(spans, len(spatial))} only"
    return Finding(
        "input-size-dependent-params",
        Severity.INFO,
        node.name,
        f"flattens a {channels}x{_x(spatial)} map, so its weight {tuple(weight)} fits {fits}; pool "
        "globally before it to take any input size",
        {"map": [channels, *spatial], "weight": weight, "input_ranges": spans and [list(s) for s in spans]},
    )


def _pooling_convention_sensitive(g: _Graph, node: Node) -> Finding | None:
    """A pooling whose output differs between floor and ceil rounding."""
    found = g.window(node) if node.op == "Pooling" else None
    convention = node.attrs.get("pooling_convention", "valid")
    if found is None or convention not in ("valid", "full"):
        return None
    info, n = found
    floor, ceil = (_output(node, info, n, info.pad, c) for c in ("valid", "full"))
    if floor == ceil:
        return None
    other, other_shape = ("valid", floor) if convention == "full" else ("full", ceil)
    rounding = {"valid": "floor", "full": "ceil"}
    return Finding(
        "pooling-convention-sensitive",
        Severity.INFO,
        node.name,
        f"{_window_name(node, info)} on {_x(n)} outputs {_x(info.spatial)} with {rounding[convention]} "
        f"rounding ('{convention}'), {_x(other_shape)} with {rounding[other]} ('{other}'): keep the rounding "
        "of the framework the weights come from (Caffe: 'full'; TF, Keras: 'valid')",
        {"convention": convention, "valid": list(floor), "full": list(ceil)},
    )


_UNITS = {"height": "row", "width": "column", "depth": "slice"}


def _unread(node: Node, info: SpatialInfo, n: int, axis: int) -> int | None:
    """Input rows after the last one any window reads (``None``: no window fits).

    The windows start every ``stride`` positions of the padded input (their number from
    border.py); a window reads the taps ``start + j * dilate``. The search goes back from the
    last window while an earlier one could still reach further.
    """
    kernel, stride, pad = info.kernel[axis], info.stride[axis], info.pad[axis]
    dilate = info.dilate[axis] if node.op == "Convolution" else 1
    try:
        out = _output_one(node, info, n, axis, pad)
    except border.EmptyOutputError:
        return None
    span, last_row = _effective(node, info)[axis] - 1, pad + n - 1  # padded coordinates
    best = None
    start = (out - 1) * stride
    while start >= 0 and (best is None or start + span > best):
        if start <= last_row:
            tap = start + dilate * min(kernel - 1, (last_row - start) // dilate)
            if tap >= pad:
                best = tap if best is None else max(best, tap)
        start -= stride
    return n if best is None else last_row - best


def _unread_border(g: _Graph, node: Node) -> Finding | None:
    """A strided window that never reads the last rows/columns of its input."""
    found = g.window(node)
    if found is None or node.attrs.get("pooling_convention") == "same":  # 'same' pads as it needs
        return None
    info, n = found
    nd = len(n)
    unread = [(_unread(node, info, m, a) or 0) if info.stride[a] > 1 else 0 for a, m in enumerate(n)]
    if not any(unread):
        return None
    # The sizes nearest n whose last window ends on the last row: n - unread, and a stride more.
    whole = [
        [s for s in (m - u, m - u + info.stride[a]) if s >= 1 and _unread(node, info, s, a) == 0]
        if u
        else [m]
        for a, (m, u) in enumerate(zip(n, unread))
    ]
    lost = " and ".join(
        f"{u} {_UNITS.get(axis_name(a, nd), 'entry')}{'s' * (u > 1)}" for a, u in enumerate(unread) if u
    )
    picks = (
        [_x(w[min(i, len(w) - 1)] for w in whole) for i in range(max(map(len, whole)))] if all(whole) else []
    )
    hint = f"; a {' or '.join(picks)} input is read to its last row" if picks else ""
    skips = any(ke < s for ke, s in zip(_effective(node, info), info.stride))
    inner = " (a window smaller than its stride also skips rows inside)" if skips else ""
    return Finding(
        "unread-border",
        Severity.INFO,
        node.name,
        f"{_window_name(node, info)} never reads the last {lost} of its {_x(n)} input{inner}{hint} "
        "(or pad it)",
        {"unread": unread, "read_whole": whole, "skips_inside": skips},
    )


# --- layers locked to one input size: a fixed resize, target_shape or crop, the depthwise GDC ---


def _canonical(node: Node) -> str:
    return OPS[node.op].name if node.op in OPS else node.op


def _fixed_resize(node: Node) -> bool:
    """A BilinearResize2D to a fixed height and width (mode 'size' without scales)."""
    scale = node.attrs.get("scale_height", "None").strip()
    return node.attrs.get("mode", "size").strip() == "size" and scale in ("", "None")


def _fixed_target(node: Node) -> bool:
    try:
        target = node.tuple_attr("target_shape")
    except GraphError:
        return False
    return bool(target) and any(target)  # type: ignore[arg-type]


def _fixed_crop(node: Node) -> bool:
    return node.attrs.get("num_args", "1").strip() == "1"


_LOCKS: Mapping[str, Callable[[Node], bool]] = {
    "_contrib_BilinearResize2D": _fixed_resize,
    "Deconvolution": _fixed_target,
    "Crop": _fixed_crop,
}


def _locks_size(node: Node) -> bool:
    """Whether the node's output has a size of its own (a size-locked layer, ROI or adaptive pooling)."""
    op = _canonical(node)
    return op in _FIXES_SIZE or (op in _LOCKS and _LOCKS[op](node))


def _spatial_of(g: _Graph, index: int) -> Shape | None:
    return g.infos[index].spatial if index < len(g.infos) else None


def _descends(g: _Graph, index: int, ancestor: int) -> bool:
    """Whether node ``index`` is computed from node ``ancestor`` (graph order is topological)."""
    stack, seen = [index], set()
    while stack:
        i = stack.pop()
        if i == ancestor:
            return True
        if i < ancestor or i in seen:
            continue
        seen.add(i)
        stack.extend(g.nodes[i].inputs)
    return False


class _Partner(NamedTuple):
    """The map a size-locked layer's output must match: ``index`` (output ``output``) of the graph."""

    index: int
    output: int
    name: str


def _partner(g: _Graph, node: Node, size: Shape) -> _Partner | None:
    """The map the output of a size-locked ``node`` must match: another input of the merge its
    output reaches (through layers that keep its size), not computed from it; else the data
    input, when the output has the input's size (a segmentation head's last resize)."""
    seen, frontier = {node.index}, [node.index]
    while frontier and len(seen) < 64:
        current = frontier.pop(0)
        for c in g.consumers(current):
            if c in seen:
                continue
            seen.add(c)
            consumer = g.nodes[c]
            outputs = consumer.input_outputs or (0,) * len(consumer.inputs)
            for i, k in zip(consumer.inputs, outputs):
                if i in seen or _spatial_of(g, i) != size or _locks_size(g.nodes[i]):
                    continue
                if not _descends(g, i, node.index):
                    return _Partner(i, k, g.nodes[i].name)
            if _spatial_of(g, c) == size:
                frontier.append(c)
    found = spatial_input(g.input_shapes)
    if found is not None and tuple(found[1]) == tuple(size):
        data = next((n.index for n in g.nodes if n.op == "null" and n.name == found[0]), None)
        if data is not None:
            return _Partner(data, 0, found[0])
    return None


class _Lock(NamedTuple):
    """Where a size-locked layer fits: ``spans`` (``None``: this input only), judged by the map
    it must match (``partner``) or by its own input map, and the graph just outside them."""

    spans: list[Span] | None
    partner: _Partner | None
    below: _Elsewhere
    above: _Elsewhere


def _lock(g: _Graph, node: Node, size: Shape) -> _Lock | None:
    """The input sizes a size-locked layer was computed for, or ``None`` when its output fits at
    every input size (the map it must match has one size at every input)."""
    partner = _partner(g, node, size)
    if partner is not None:
        judged, output, target = partner.index, partner.output, size
    else:
        judged, output = node.inputs[0], node.data_output
        target = _spatial_of(g, judged)  # type: ignore[assignment]
        if target is None:
            return None
    spans = input_ranges(
        g.nodes,
        g.input_shapes,
        judged,
        lambda m: [(a > b) - (a < b) for a, b in zip(m, target)],
        output=output,
    )
    if _size_free(spans):
        return None
    below, above = _ends(spans) if spans is not None else (None, None)
    return _Lock(
        spans,
        partner,
        _elsewhere(g, node, below, whole_graph=True),
        _elsewhere(g, node, above, whole_graph=True),
    )


def _lock_text(g: _Graph, node: Node, lock: _Lock, map_: Shape | None) -> str:
    """``fits square inputs 473..480 only (where conv5 is 60x60): smaller ones fail at concat0,
    larger ones still get 60x60 here``."""
    if lock.spans is None:
        return "fits this input size only"
    where = (
        f" (where {lock.partner.name} is {_x(_spatial_of(g, lock.partner.index) or ())})"
        if lock.partner is not None
        else f" (its {_x(map_)} map)"
        if map_
        else ""
    )
    parts = []
    for side, there in (("smaller", lock.below), ("larger", lock.above)):
        if there.fails_at is not None:
            parts.append(f"{side} ones {_fails_text(node, there.fails_at)}")
        elif there.output is not None:
            parts.append(f"{side} ones still get {_x(there.output)} here")
    return f"fits {_inputs(lock.spans, len(lock.spans))} only{where}" + (
        f": {', '.join(parts)}" if parts else ""
    )


def _lock_detail(lock: _Lock, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "input_ranges": lock.spans and [list(s) for s in lock.spans],
        "matches": lock.partner.name if lock.partner is not None else None,
        "below": lock.below.json(),
        "above": lock.above.json(),
    }


def _fixed_size_lock(
    g: _Graph, node: Node, op: str, fixed: Callable[[Node], bool]
) -> tuple[Shape, Shape, _Lock] | None:
    """Output and input map sizes of an ``op`` node set to a fixed size, and the input sizes it
    fits (its lock); None for another node, or one that fits every size."""
    if _canonical(node) != op or not fixed(node):
        return None
    size, map_ = _spatial_of(g, node.index), _spatial_of(g, node.inputs[0])
    if size is None or map_ is None:
        return None
    lock = _lock(g, node, size)
    return None if lock is None else (size, map_, lock)


def _fixed_size_resize(g: _Graph, node: Node) -> Finding | None:
    """A bilinear resize to a fixed height and width: it fits the input size it was computed for."""
    found = _fixed_size_lock(g, node, "_contrib_BilinearResize2D", _fixed_resize)
    if found is None:
        return None
    size, map_, lock = found
    # scale_height/scale_width follow the input size where the map does and the ratio is whole
    scales = None
    if all(s % m == 0 for s, m in zip(size, map_)):
        current = spatial_input(g.input_shapes)[1]  # type: ignore[index]
        [larger] = _maps(g, node.inputs[0], node.data_output, [[2 * c for c in current]])
        if larger is not None and larger != map_:
            scales = [s // m for s, m in zip(size, map_)]
    fixes = []
    if lock.partner is not None:
        fixes.append(f"mode='like' with {lock.partner.name}")
    if scales is not None:
        fixes.append(f"scale_height={scales[0]}, scale_width={scales[-1]}")
    fix = (
        " or ".join(fixes) if fixes else "scale_height/scale_width, or mode='like' with the map it must match"
    )
    return Finding(
        "fixed-size-resize",
        Severity.WARNING,
        node.name,
        f"bilinear resize of its {_x(map_)} map to a fixed {_x(size)} "
        f"{_lock_text(g, node, lock, map_)}; use {fix} to follow the input size",
        _lock_detail(lock, size=list(size), map=list(map_), scale=scales),
    )


def _deconv_pads(
    node: Node, info: SpatialInfo, n: Shape, target: Shape
) -> tuple[list[int], list[int]] | None:
    """The pad and adj that give ``target`` from ``n`` without target_shape (MXNet crops
    ``full - target``: half on each side, the odd one out as adj), checked with border.py."""
    pads, adjs = [], []
    for a, (m, t) in enumerate(zip(n, target)):
        k, s, d = info.kernel[a], info.stride[a], info.dilate[a]  # type: ignore[index]
        try:
            pad, adj = border.deconv_target_pad(m, k, s, d, t)
            if border.deconv_output_size(m, k, s, pad, d, adj) != t:
                return None
        except ValueError:  # a target beyond the full output, or adj not smaller than the stride
            return None
        pads.append(pad)
        adjs.append(adj)
    return pads, adjs


def _fixed_target_shape(g: _Graph, node: Node) -> Finding | None:
    """A Deconvolution with a fixed target_shape: it fits the input size it was computed for."""
    if _canonical(node) != "Deconvolution" or not _fixed_target(node):
        return None
    info, n = g.infos[node.index], g.input_spatial(node)
    if info.kernel is None or info.spatial is None or n is None:
        return None
    size = info.spatial
    lock = _lock(g, node, size)
    if lock is None:
        return None
    full = [
        border.deconv_output_size(m, k, s, 0, d, 0)
        for m, k, s, d in zip(n, info.kernel, info.stride, info.dilate)
    ]  # type: ignore[arg-type]
    found = _deconv_pads(node, info, n, size)
    strided = (
        ""
        if set(info.stride) <= {1}
        else f" (stride {_x(info.stride) if len(set(info.stride)) > 1 else info.stride[0]})"
    )  # type: ignore[arg-type]
    fix = (
        f"use pad {tuple(found[0])} and adj {tuple(found[1])} instead: the same {_x(size)} here, "
        "and it follows the input size"
        if found is not None
        else "use pad and adj instead (or a Crop with num_args=2 to the map it must match)"
    )
    return Finding(
        "fixed-target-shape",
        Severity.WARNING,
        node.name,
        f"{_x(info.kernel)} deconvolution{strided} of its {_x(n)} map crops its {_x(full)} output to "
        f"target_shape {tuple(size)}, which {_lock_text(g, node, lock, n)}; {fix}",
        _lock_detail(
            lock,
            target=list(size),
            map=list(n),
            pad=found and found[0],
            adj=found and found[1],
        ),
    )


def _fixed_size_crop(g: _Graph, node: Node) -> Finding | None:
    """A Crop to a fixed h_w: it fits the input size it was computed for."""
    found = _fixed_size_lock(g, node, "Crop", _fixed_crop)
    if found is None:
        return None
    size, map_, lock = found
    if node.bool_attr("center_crop"):
        at = " at its center"
    else:
        offset = node.tuple_attr("offset", (0, 0))
        at = f" at offset {tuple(offset)}" if offset and any(offset) else ""
    like = lock.partner.name if lock.partner is not None else "the map it must match"
    return Finding(
        "fixed-size-crop",
        Severity.WARNING,
        node.name,
        f"crop of its {_x(map_)} map to a fixed {_x(size)}{at} {_lock_text(g, node, lock, map_)}; "
        f"crop to {like} instead (Crop with num_args=2, or slice_like) to follow the input size",
        _lock_detail(lock, h_w=list(size), map=list(map_)),
    )


def _global_depthwise_conv(g: _Graph, node: Node) -> Finding | None:
    """A depthwise convolution whose kernel covers its whole map: its weights fit one map size."""
    if node.op != "Convolution":
        return None
    groups = int(node.attrs.get("num_group", "1"))
    found = g.window(node) if groups > 1 else None  # most convolutions are not grouped
    if found is None:
        return None
    info, n = found
    channels = g.channels(node.inputs[0])
    if groups <= 1 or channels != groups or set(info.spatial) != {1} or set(info.kernel) == {1}:
        return None
    if not all(_coverage(node, info, m, a) == _COVERS for a, m in enumerate(n)):
        return None
    covering = _covering(g, node, info)
    if covering is True:
        return None  # its map has one size at every input size
    weight = [int(node.attrs.get("num_filter", "0")), channels // groups, *info.kernel]
    detail: dict[str, Any] = {
        "kernel": list(info.kernel),
        "map": list(n),
        "weight": weight,
        "input_ranges": None,
    }
    if covering is False:
        fits = "this input size only"
    else:
        fits = f"{_whole_map(g, node, covering)} only" + _covering_message(g, node, covering, "give")
        detail.update(
            input_ranges=covering.whole and [list(s) for s in covering.whole],
            fails_below_at=covering.below.fails_at,
            above=covering.above.json(),
        )
    return Finding(
        "global-depthwise-conv",
        Severity.INFO,
        node.name,
        f"{_x(info.kernel)} depthwise convolution covers its whole {_x(n)} map (a learned global pooling, "
        f"MobileFaceNet's GDC): its weight {tuple(weight)} fits {fits}; to take any input size, pool "
        "globally instead (Pooling global_pool=True), or resize the input to a size it fits",
        detail,
    )


# The table the README lists: id -> severity, summary (the check's docstring), check.
_POOL, _WINDOWS = ("Pooling",), ("Convolution", "Pooling")
_ALIASES = {
    name for name, info in OPS.items() if info.name in ("_contrib_BilinearResize2D", "Deconvolution", "Crop")
}
RULES: Mapping[str, Rule] = {
    "fixed-global-pool": Rule.of(Severity.WARNING, _fixed_global_pool, _POOL),
    "padded-global-pool": Rule.of(Severity.WARNING, _padded_global_pool, _POOL),
    "ignored-pool-attrs": Rule.of(Severity.INFO, _ignored_pool_attrs, _POOL),
    "custom-padding": Rule.of(Severity.WARNING, _custom_padding, _WINDOWS),
    "even-kernel-same": Rule.of(Severity.INFO, _even_kernel_same, _WINDOWS),
    "input-size-dependent-params": Rule.of(Severity.INFO, _input_size_dependent_params, ("FullyConnected",)),
    "pooling-convention-sensitive": Rule.of(Severity.INFO, _pooling_convention_sensitive, _POOL),
    "unread-border": Rule.of(Severity.INFO, _unread_border, _WINDOWS),
    "fixed-size-resize": Rule.of(
        Severity.WARNING,
        _fixed_size_resize,
        [n for n in _ALIASES if OPS[n].name == "_contrib_BilinearResize2D"],
    ),
    "fixed-target-shape": Rule.of(
        Severity.WARNING, _fixed_target_shape, [n for n in _ALIASES if OPS[n].name == "Deconvolution"]
    ),
    "fixed-size-crop": Rule.of(
        Severity.WARNING, _fixed_size_crop, [n for n in _ALIASES if OPS[n].name == "Crop"]
    ),
    "global-depthwise-conv": Rule.of(Severity.INFO, _global_depthwise_conv, ("Convolution",)),
}


# The rules whose answer depends only on a node's window (kernel, stride, pad, dilation), its
# input size and these attributes, not on the rest of the graph.
_WINDOW_ONLY = frozenset(
    {_padded_global_pool, _custom_padding, _even_kernel_same, _pooling_convention_sensitive, _unread_border}
)
_WINDOW_ATTRS = ("pooling_convention", "global_pool", "pool_type", "count_include_pad")


def find_pitfalls(
    nodes: Sequence[Node], report: Report, *, rules: Iterable[str] | None = None
) -> list[Finding]:
    """Runs the rules of :data:`RULES` over every layer of a report.

    Args:
        nodes: the graph's nodes (:func:`nin_mx.graph.parse_nodes` of the reported symbol).
        report: its shape report at one input size; of a failed report, the layers before
            the failure are checked.
        rules: the ids of the rules to run; default: all.

    Returns:
        The findings in graph order, and in the order of :data:`RULES` within a layer.

    Raises:
        ValueError: for an unknown rule id.
    """
    selected = list(RULES) if rules is None else list(rules)
    unknown = [rule for rule in selected if rule not in RULES]
    if unknown:
        raise ValueError(f"unknown rule {unknown[0]!r}; the rules are {', '.join(RULES)}")
    if not report.layers:
        return []
    g = _Graph(nodes, report)
    by_op: dict[str, list[Any]] = {}  # op -> the checks that can apply to it, in table order
    clean: dict[tuple[Any, ...], set[Any]] = {}  # window and input size -> checks that found nothing
    findings = []
    for index in g.rows:
        node = nodes[index]
        checks = by_op.get(node.op)
        if checks is None:
            checks = by_op[node.op] = [
                RULES[r].check for r in selected if RULES[r].ops is None or node.op in RULES[r].ops
            ]
        if not checks:
            continue
        # A graph repeats a few windows many times: a rule that reads only the window and its
        # input size, and found nothing there, finds nothing at the next node that has them.
        found = g.window(node)
        window = (node.op, *found[0][1:5], found[1], *map(node.attrs.get, _WINDOW_ATTRS)) if found else None
        quiet = clean.setdefault(window, set()) if window is not None else None
        for check in checks:
            if quiet is not None and check in _WINDOW_ONLY:
                if check in quiet:
                    continue
                finding = check(g, node)
                if finding is None:
                    quiet.add(check)
            else:
                finding = check(g, node)
            if finding is not None:
                findings.append(finding)
    return findings
