"""Pitfalls of a graph at one input size, found with the border arithmetic.

:func:`find_pitfalls` runs every rule of :data:`RULES` over the layers of a shape report and
returns a :class:`~nin_mx.findings.Finding` per layer and rule that applies. Sizes come from
the pure-Python walk (:func:`nin_mx.walk.spatial_walk`) and :mod:`nin_mx.core.border`, never from a
formula of their own; where a rule says at which input sizes a layer breaks, it re-runs the
walk at other sizes (:mod:`nin_mx.graph.sides`). No MXNet here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.sides import flattened_map, input_ranges, spatial_at, spatial_input
from nin_mx.graph.walk import SpatialInfo, axis_name
from nin_mx.report.rows import Report

__all__ = ["RULES", "Finding", "Severity", "find_pitfalls"]


# --- the rules: each takes the graph and one node, and returns a Finding or None ----------------


def _fixed_global_pool(g: _Graph, node: Node) -> Finding | None:
    """A fixed pooling kernel equal to its input (output 1x1): it breaks at other input sizes."""
    found = g.window(node) if node.op == "Pooling" else None
    if found is None:
        return None
    info, n = found
    if any(k < m for k, m in zip(info.kernel, n)) or set(info.spatial) != {1} or set(info.kernel) == {1}:
        return None
    spans = input_ranges(g.nodes, g.input_shapes, node.index, lambda out: [(o > 1) - (o < 1) for o in out])
    what = f"fixed {_x(info.kernel)} {_pool_kind(node)} pool"
    detail: dict[str, Any] = {
        "kernel": list(info.kernel),
        "map": list(n),
        "input_ranges": None,  # per input axis [lo, hi]: the sides at which it pools to 1x1
        "fails_below_at": None,  # the layer that fails just below them
        "above": None,  # the pool's output just above them
    }
    if spans is None:
        message = f"{what} equals global pooling at this input ({_x(n)} map), not at every size"
    elif all(low == 1 and high is None for low, high in spans):
        return None  # 1 x 1 at every input size: nothing breaks
    else:
        name = spatial_input(g.input_shapes)[0]  # type: ignore[index]
        below, above, parts = None, None, []
        if any(low > 1 for low, _ in spans):
            try:
                spatial_at(g.nodes, g.input_shapes, node.index, name, [max(1, low - 1) for low, _ in spans])
            except ShapeError as exc:
                below = exc.layer
            except GraphError:
                pass
            if below is not None:
                parts.append(
                    "smaller ones fail here" if below == node.name else f"smaller ones fail at {below}"
                )
        if all(high is not None for _, high in spans):
            try:
                above = spatial_at(g.nodes, g.input_shapes, node.index, name, [high + 1 for _, high in spans])
            except (ShapeError, GraphError):
                above = None
            if above is not None:
                parts.append(f"larger ones pool to {_x(above)} and more")
        detail.update(
            input_ranges=[list(s) for s in spans],
            fails_below_at=below,
            above=None if above is None else list(above),
        )
        rest = "".join(f", {part}" for part in parts)
        message = f"{what} equals global pooling only for {_inputs(spans, len(n))} ({_x(n)} map){rest}"
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


# The table the README lists: id -> severity, summary (the check's docstring), check.
_POOL, _WINDOWS = ("Pooling",), ("Convolution", "Pooling")
RULES: Mapping[str, Rule] = {
    "fixed-global-pool": Rule.of(Severity.WARNING, _fixed_global_pool, _POOL),
    "padded-global-pool": Rule.of(Severity.WARNING, _padded_global_pool, _POOL),
    "ignored-pool-attrs": Rule.of(Severity.INFO, _ignored_pool_attrs, _POOL),
    "custom-padding": Rule.of(Severity.WARNING, _custom_padding, _WINDOWS),
    "even-kernel-same": Rule.of(Severity.INFO, _even_kernel_same, _WINDOWS),
    "input-size-dependent-params": Rule.of(Severity.INFO, _input_size_dependent_params, ("FullyConnected",)),
    "pooling-convention-sensitive": Rule.of(Severity.INFO, _pooling_convention_sensitive, _POOL),
    "unread-border": Rule.of(Severity.INFO, _unread_border, _WINDOWS),
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
    clean: set[tuple[Any, ...]] = set()  # (check, window, input size) that found nothing
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
        for check in checks:
            if window is not None and check in _WINDOW_ONLY:
                if (check, window) in clean:
                    continue
                finding = check(g, node)
                if finding is None:
                    clean.add((check, window))
            else:
                finding = check(g, node)
            if finding is not None:
                findings.append(finding)
    return findings
