"""From diagnosis to repair: the edits that fix a graph's pooling and padding findings; no MXNet.

:func:`fix` runs the graph rules (:func:`nin_mx.checks.rules.find_pitfalls`) at one input size
and rewrites the nodes they name, in the graph's own symbol JSON::

    fixed-global-pool   Pooling(kernel=<map>)            -> global_pool=True; kernel, stride, pad removed
    padded-global-pool  Pooling(kernel=<map>, pad=p > 0) -> global_pool=True; kernel, stride, pad removed
    ignored-pool-attrs  Pooling(global_pool=True, ...)   -> the kernel, stride, pad it ignores removed
    custom-padding      pad matching no border mode      -> the pad of the border mode asked for
                        (only when asked: ``{"custom-padding": "same"}``)

Only the ``attrs`` objects of the edited nodes change: the new text is the original one with
those objects rewritten in place, in the original's own style (MXNet's ``tojson``/``save``
writes ``"key": "value", `` lines that ``json.dumps`` would not reproduce), so every other byte
stays as it was and ``diff -u original fixed`` shows the changed attribute lines only.

The fixed graph is then reported again (:func:`nin_mx.report.rows.report_graph`): the
:class:`FixResult` says what each edit does to the shapes, which arrays of a checkpoint change
shape, what the fixed rules find in the fixed graph (nothing, normally), and holds the
layer-by-layer :class:`~nin_mx.analysis.diff.GraphDiff` of the two graphs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any, NamedTuple, Union

from nin_mx.analysis.diff import GraphDiff, diff_reports, graph_attrs
from nin_mx.checks.context import _inputs, _x
from nin_mx.checks.findings import Finding
from nin_mx.checks.params import StoredArray, check_params
from nin_mx.checks.rules import RULES, find_pitfalls
from nin_mx.core.border import BorderMode, pad_for
from nin_mx.core.errors import GraphError
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node, check_operators, parse_nodes
from nin_mx.graph.shapes import Shapes, describe, infer
from nin_mx.graph.source import Graph
from nin_mx.graph.walk import axis_name
from nin_mx.report.rows import InputShapes, LayerRow, Report, report_graph

__all__ = [
    "DEFAULT_FIX_RULES",
    "FIXABLE_RULES",
    "Edit",
    "FixResult",
    "ParamChange",
    "checkpoint_fit",
    "fix",
    "parse_fix_rules",
]

FIXABLE_RULES = ("fixed-global-pool", "padded-global-pool", "ignored-pool-attrs", "custom-padding")
DEFAULT_FIX_RULES = ("fixed-global-pool", "padded-global-pool", "ignored-pool-attrs")
_NEEDS_MODE = "custom-padding"  # the one rule fixed only with a border mode
_GLOBAL = ("fixed-global-pool", "padded-global-pool")  # they make the pool global

Params = Union[str, "os.PathLike[str]", Mapping[str, StoredArray]]
RuleSpec = Union[str, Sequence[str], Mapping[str, Union[str, None]], None]


# --- which rules to fix ----------------------------------------------------------------------


def _rule_error(name: str) -> ValueError:
    if name in RULES:
        return ValueError(f"rule {name!r} has no fix; the fixable rules are {', '.join(FIXABLE_RULES)}")
    return ValueError(f"unknown rule {name!r}; the fixable rules are {', '.join(FIXABLE_RULES)}")


def _add_rule(rules: dict[str, str | None], name: str, mode: str | None) -> None:
    name = name.strip()
    if name not in FIXABLE_RULES:
        raise _rule_error(name)
    if name == _NEEDS_MODE:
        if mode is None or not str(mode).strip():
            raise ValueError(
                f"{_NEEDS_MODE} is fixed with a border mode: {_NEEDS_MODE}=valid, {_NEEDS_MODE}=same "
                f"or {_NEEDS_MODE}=full"
            )
        mode = BorderMode.parse(str(mode).strip()).value
    elif mode is not None:
        raise ValueError(f"{name} takes no border mode (got {name}={mode}); only {_NEEDS_MODE} does")
    if name in rules and rules[name] != mode:
        raise ValueError(f"{name} is given twice, with {rules[name]} and {mode}")
    rules[name] = mode


def parse_fix_rules(text: str) -> dict[str, str | None]:
    """The rules of ``--fix-rules``: ``'fixed-global-pool,custom-padding=same'`` ->
    ``{'fixed-global-pool': None, 'custom-padding': 'same'}`` (``half`` is read as ``same``).

    Raises:
        ValueError: one line, for an empty list, an unknown rule or one without a fix (naming
            the fixable ones), ``custom-padding`` without a border mode or with an unknown one,
            a mode given to another rule, or a rule given twice with different modes.
    """
    rules: dict[str, str | None] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, mode = part.partition("=")
        _add_rule(rules, name, mode if sep else None)
    if not rules:
        raise ValueError(f"no rule to fix in {text!r}; the fixable rules are {', '.join(FIXABLE_RULES)}")
    return rules


def _normalize_rules(rules: RuleSpec) -> dict[str, str | None]:
    if rules is None:
        return dict.fromkeys(DEFAULT_FIX_RULES)
    if isinstance(rules, str):
        return parse_fix_rules(rules)
    out: dict[str, str | None] = {}
    if isinstance(rules, Mapping):
        for name, mode in rules.items():
            _add_rule(out, str(name), mode)
    else:
        for item in rules:
            name, sep, mode = str(item).partition("=")
            _add_rule(out, name, mode if sep else None)
    if not out:
        raise ValueError(f"no rule to fix; the fixable rules are {', '.join(FIXABLE_RULES)}")
    return out


# --- the result ------------------------------------------------------------------------------


def _change(key: str, old: str | None, new: str | None) -> str:
    return f"{key} {'unset' if old is None else old}->{'unset' if new is None else new}"


@dataclass(frozen=True)
class Edit:
    """One node rewritten for one finding.

    Attributes:
        rule: the rule whose finding it fixes.
        layer: the node's name.
        removed: the attributes it removed or changed, with their old values (as stored).
        added: the attributes it added or changed, with their new values.
        effect: one line: what it does to the shapes at the input size, and at other sizes.
    """

    rule: str
    layer: str
    removed: Mapping[str, str] = field(hash=False)
    added: Mapping[str, str] = field(hash=False)
    effect: str

    @property
    def message(self) -> str:
        """``fixed-global-pool at pool: global_pool False->True, kernel (7, 7)->unset: <effect>``."""
        keys = [*self.added, *(k for k in self.removed if k not in self.added)]
        changes = ", ".join(_change(k, self.removed.get(k), self.added.get(k)) for k in keys)
        return f"{self.rule} at {self.layer}: {changes}: {self.effect}"

    def __str__(self) -> str:
        return self.message


class ParamChange(NamedTuple):
    """An argument or auxiliary state whose inferred shape the fix changes."""

    array: str
    old_shape: Shape
    new_shape: Shape

    @property
    def message(self) -> str:
        return f"{self.array} {self.old_shape} -> {self.new_shape}"


@dataclass(frozen=True)
class FixResult:
    """What :func:`fix` did to a graph.

    Attributes:
        text: the fixed symbol JSON, or ``None`` when the rules found nothing to fix.
        edits: one per fixed finding, in graph order.
        param_changes: the arguments and auxiliary states whose inferred shape changes (a
            checkpoint of the original graph does not fit those).
        recheck: the findings of the fixed rules on the fixed graph, at the same input size
            (empty, unless a fix brings about another finding).
        diff: the original graph vs the fixed one, layer by layer (attributes compared);
            ``None`` when nothing was fixed.
        graph: the fixed graph (the original one when nothing was fixed).
        input_shapes: the input size the graph was fixed at, by input name.
        rules: the rules that were fixed, with the border mode of ``custom-padding``.
    """

    text: str | None
    edits: tuple[Edit, ...]
    param_changes: tuple[ParamChange, ...]
    recheck: tuple[Finding, ...]
    diff: GraphDiff | None
    graph: Graph = field(repr=False, compare=False)
    input_shapes: Mapping[str, Shape] = field(default_factory=dict, hash=False)
    rules: Mapping[str, str | None] = field(default_factory=dict, hash=False)

    @property
    def changed(self) -> bool:
        """Whether anything was fixed (``text`` is not ``None``)."""
        return self.text is not None

    @property
    def messages(self) -> list[str]:
        """One line per edit, then one per array that changes shape."""
        lines = [edit.message for edit in self.edits]
        lines += [
            f"{c.message}: a checkpoint of the original graph does not fit the fixed one"
            for c in self.param_changes
        ]
        return lines

    def checkpoint_fit(self, params: Params) -> list[Finding]:
        """:func:`checkpoint_fit` of this result."""
        return checkpoint_fit(self, params)


def checkpoint_fit(result: FixResult, params: Params) -> list[Finding]:
    """Whether a checkpoint fits the fixed graph at the input size it was fixed at.

    Args:
        result: what :func:`fix` returned.
        params: a ``.params`` path, or what :func:`nin_mx.checks.params.load_params` returned.

    Returns:
        The findings of :func:`nin_mx.checks.params.check_params` on the fixed graph: none for a
        ``fixed-global-pool`` fix of the checkpoint's own graph; ``params-shape`` of the
        classifier's weight after a ``padded-global-pool`` fix.

    Raises:
        nin_mx.core.errors.GraphError: for a file that is not a checkpoint, or one that shares no
            array name with the graph.
    """
    return check_params(result.graph, result.input_shapes, params)


# --- the JSON text, edited in place ----------------------------------------------------------

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()
_ATTR_KEYS = ("param", "attr", "attrs")  # where a node keeps its attributes (MXNet 0.8: param, attr)


class _Entry(NamedTuple):
    """One ``"key": value`` of a JSON object, by position in the text."""

    key: str
    start: int  # the key's opening quote
    key_end: int  # after the key's closing quote
    value_start: int
    value_end: int


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _malformed(i: int) -> GraphError:
    return GraphError(f"not a symbol JSON: unexpected text at offset {i}")


def _object(text: str, start: int) -> tuple[list[_Entry], int]:
    """The entries of the JSON object at ``text[start]`` and the offset after its ``}``."""
    if text[start] != "{":
        raise _malformed(start)
    entries: list[_Entry] = []
    i = _skip(text, start + 1)
    if text[i] == "}":
        return entries, i + 1
    while True:
        if text[i] != '"':
            raise _malformed(i)
        key, key_end = scanstring(text, i + 1)
        colon = _skip(text, key_end)
        if text[colon] != ":":
            raise _malformed(colon)
        value = _skip(text, colon + 1)
        _, value_end = _DECODER.raw_decode(text, value)
        entries.append(_Entry(key, i, key_end, value, value_end))
        after = _skip(text, value_end)
        if text[after] == "}":
            return entries, after + 1
        if text[after] != ",":
            raise _malformed(after)
        i = _skip(text, after + 1)


def _array(text: str, start: int) -> list[tuple[int, int]]:
    """The (start, end) of each value of the JSON array at ``text[start]``."""
    if text[start] != "[":
        raise _malformed(start)
    items = []
    i = _skip(text, start + 1)
    if text[i] == "]":
        return items
    while True:
        _, end = _DECODER.raw_decode(text, i)
        items.append((i, end))
        after = _skip(text, end)
        if text[after] == "]":
            return items
        if text[after] != ",":
            raise _malformed(after)
        i = _skip(text, after + 1)


def _last(entries: Sequence[_Entry]) -> dict[str, _Entry]:
    """Entries by key; of a key given twice, the last (as ``json.loads`` reads it)."""
    return {entry.key: entry for entry in entries}


def _separator(prefix: str, outer: str | None) -> str:
    """The separator between entries of an object that has one entry: the enclosing object's,
    indented as this object's first entry is."""
    if outer is None:
        return ", "
    if "\n" in outer and "\n" in prefix:
        return outer[: outer.rindex("\n") + 1] + prefix[prefix.rindex("\n") + 1 :]
    return outer


def _rewrite_object(text: str, start: int, changes: Mapping[str, str | None], outer: str | None) -> str:
    """The JSON object at ``text[start]`` with ``changes`` applied (a value, or ``None`` to remove
    the key), written as the original is: its own separators and indentation, a new key at its
    sorted place if the keys are sorted (MXNet sorts them)."""
    entries, end = _object(text, start)
    new = {k: v for k, v in changes.items() if v is not None and k not in {e.key for e in entries}}
    if not entries:
        if not new:
            return text[start:end]
        return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(new.items())) + "}"
    pairs = Counter(text[e.key_end : e.value_start] for e in entries).most_common(1)[0][0]
    seps = [text[a.value_end : b.start] for a, b in zip(entries, entries[1:])]
    prefix, suffix = text[start + 1 : entries[0].start], text[entries[-1].value_end : end - 1]
    common = Counter(seps).most_common(1)[0][0] if seps else _separator(prefix, outer)
    items: list[tuple[str, str, int | None]] = []  # key, text, index in the original
    for index, entry in enumerate(entries):
        if entry.key not in changes:
            items.append((entry.key, text[entry.start : entry.value_end], index))
        elif changes[entry.key] is not None:
            value = json.dumps(changes[entry.key])
            items.append((entry.key, text[entry.start : entry.value_start] + value, index))
    keys = [e.key for e in entries]
    ordered = keys == sorted(keys)
    for key, value in sorted(new.items()):
        at = next((i for i, item in enumerate(items) if item[0] > key), len(items)) if ordered else len(items)
        items.insert(at, (key, json.dumps(key) + pairs + json.dumps(value), None))
    if not items:
        return "{}"
    body = [items[0][1]]
    for a, b in zip(items, items[1:]):
        adjacent = a[2] is not None and b[2] == a[2] + 1
        body += [seps[a[2]] if adjacent else common, b[1]]  # type: ignore[index]
    return "{" + prefix + "".join(body) + suffix + "}"


def _find_node(raw: Sequence[Mapping[str, Any]], node: Node) -> int:
    """The index in the JSON's node list of a parsed node (the parse may reorder them)."""
    same = [i for i, r in enumerate(raw) if r.get("name") == node.name and r.get("op") == node.op]
    if len(same) > 1:
        same = [i for i in same if _merged(raw[i]) == dict(node.attrs)]
    if len(same) != 1:
        raise ValueError(
            f"cannot edit node '{node.name}': the JSON has {len(same)} {node.op} nodes of that name"
        )
    return same[0]


def _merged(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for key in _ATTR_KEYS for k, v in (raw.get(key) or {}).items()}


def _edit_text(text: str, changes: Mapping[int, Mapping[str, str | None]]) -> tuple[str, Any]:
    """``text`` with the attributes of some of its nodes changed, and the JSON object it holds.

    Args:
        text: a symbol JSON.
        changes: by index in the JSON's node list, attribute -> new value (``None``: remove it).

    Only the attribute objects of those nodes are rewritten; every other byte is kept.
    """
    obj = json.loads(text)
    top, _ = _object(text, _skip(text, 0))
    node_items = _array(text, _last(top)["nodes"].value_start)
    spans: list[tuple[int, int, str]] = []
    for index, node_changes in sorted(changes.items()):
        raw = obj["nodes"][index]
        start, _end = node_items[index]
        entries, _ = _object(text, start)
        seps = [text[a.value_end : b.start] for a, b in zip(entries, entries[1:])]
        outer = Counter(seps).most_common(1)[0][0] if seps else None
        parts = _last(entries)
        present = [key for key in _ATTR_KEYS if isinstance(raw.get(key), Mapping)]
        if not present:
            raise ValueError(f"cannot edit node '{raw.get('name')}': it has no attributes object")
        per_part: dict[str, dict[str, str | None]] = {}
        for attr, value in node_changes.items():
            holders = [key for key in present if attr in raw[key]]
            if value is None:
                targets = holders
            else:
                targets = holders or ["attrs" if "attrs" in present else present[0]]
            for key in targets:
                per_part.setdefault(key, {})[attr] = value
        for key, part_changes in per_part.items():
            entry = parts[key]
            new_text = _rewrite_object(text, entry.value_start, part_changes, outer)
            spans.append((entry.value_start, entry.value_end, new_text))
            target = raw[key]
            for attr, value in part_changes.items():
                if value is None:
                    target.pop(attr, None)
                else:
                    target[attr] = value
    out = text
    for start, end, new_text in sorted(spans, reverse=True):
        out = out[:start] + new_text + out[end:]
    if json.loads(out) != obj:  # the text says what the edited object says
        raise AssertionError("the rewritten symbol JSON does not hold the edited graph")
    return out, obj


# --- the edits of each rule -------------------------------------------------------------------


def _global_changes(node: Node) -> dict[str, str | None]:
    changes: dict[str, str | None] = {"global_pool": "True"}
    changes.update((key, None) for key in ("kernel", "stride", "pad") if key in node.attrs)
    return changes


def _padding_changes(node: Node, finding: Finding, mode: str) -> dict[str, str | None] | None:
    """The pad of ``mode`` along the axes that match no border mode; the others keep theirs."""
    kernel = node.tuple_attr("kernel") or ()
    pads = list(finding.detail["pad"])
    dilate = node.tuple_attr("dilate") if node.op == "Convolution" else None
    dilate = dilate or (1,) * len(pads)
    axes = {axis["axis"] for axis in finding.detail["axes"]}
    for a in range(len(pads)):
        if axis_name(a, len(pads)) in axes:
            pads[a] = pad_for(mode, kernel[a], dilate[a])
    if pads == list(finding.detail["pad"]):
        return None
    return {"pad": str(tuple(pads))}


def _variables(graph: Graph, shapes: Shapes, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
    """Arguments and auxiliary states by name, with their shapes (data inputs, labels left out)."""
    skip = set(inputs) | set(graph.inputs)
    out: dict[str, Shape] = {}
    for node in graph.nodes:
        if node.is_variable and node.name not in skip and not node.name.endswith("_label"):
            shape = shapes.outputs[node.index][0]
            if shape is not None:
                out.setdefault(node.name, tuple(shape))
    return out


def _downstream(nodes: Sequence[Node], index: int) -> set[int]:
    """The nodes that read node ``index``'s output, directly or not (and it)."""
    reached = {index}
    for node in nodes[index + 1 :]:
        if any(i in reached for i in node.inputs):
            reached.add(node.index)
    return reached


def _shape(row: LayerRow | None) -> str:
    return "?" if row is None else _x(row.output_shape[1:])


def _names(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class _Effects:
    """The two graphs' reports and weights, to say what an edit changes."""

    def __init__(self, graph: Graph, fixed: Graph, report: Report, fixed_report: Report) -> None:
        self.graph, self.fixed = graph, fixed
        self.rows = {row.name: row for row in report.layers}
        self.fixed_rows = {row.name: row for row in fixed_report.layers}
        inputs = report.input_shapes
        old = _variables(graph, infer(graph, inputs), inputs)
        new = _variables(fixed, infer(fixed, inputs), inputs)
        self.params = tuple(
            ParamChange(name, shape, new[name]) for name, shape in old.items() if new.get(name) != shape
        )
        self.users = {}  # variable name -> the nodes that read it
        for node in fixed.nodes:
            for i in node.inputs:
                self.users.setdefault(fixed.nodes[i].name, set()).add(node.index)

    def _after(self, layer: str) -> tuple[list[str], list[ParamChange]]:
        """The later layers whose output shape changes, and the arrays that change shape, that
        the fixed node feeds."""
        index = next(n.index for n in self.fixed.nodes if n.name == layer)
        below = _downstream(self.fixed.nodes, index)
        layers = [
            n.name
            for n in self.fixed.nodes
            if n.index in below
            and n.name != layer
            and not n.is_variable
            and _shape(self.rows.get(n.name)) != _shape(self.fixed_rows.get(n.name))
        ]
        params = [c for c in self.params if self.users.get(c.array, set()) & below]
        return layers, params

    def _tail(self, layer: str) -> str:
        layers, params = self._after(layer)
        parts = []
        if layers:
            parts.append(
                f"{len(layers)} later layer{'s' * (len(layers) > 1)} "
                f"{'change' if len(layers) > 1 else 'changes'} shape ({_names(layers)})"
            )
        if params:
            parts.append(f"weights change shape: {', '.join(c.message for c in params)}")
        return "; " + "; ".join(parts) if parts else ""

    def of(self, rule: str, layer: str, finding: Finding) -> str:
        before, after = self.rows.get(layer), self.fixed_rows.get(layer)
        old, new = _shape(before), _shape(after)
        if rule == "fixed-global-pool":
            # The inputs at which the kernel was the whole map (global); older findings: 1x1.
            spans = finding.detail.get("global_ranges", finding.detail.get("input_ranges"))
            kernel = _x(finding.detail["kernel"])
            did = (
                f" (the {kernel} kernel did for {_inputs([tuple(s) for s in spans], len(spans))} only)"
                if spans
                else f" (the {kernel} kernel did at this input, not at every size)"
            )
            head = f"output {new} unchanged at this input" if old == new else f"output {old} -> {new}"
            return f"{head}; any input size now pools to 1x1{did}{self._tail(layer)}"
        if rule == "padded-global-pool":
            return f"output {old} -> {new} at this input, and 1x1 at any input size{self._tail(layer)}"
        if rule == "ignored-pool-attrs":
            same = old == new and not self._after(layer)[0]
            return (
                f"no shape changes: MXNet ignored them (output {new})"
                if same
                else f"output {old} -> {new}{self._tail(layer)}"
            )
        return f"output {old} -> {new} at this input{self._tail(layer)}"


# --- fix -------------------------------------------------------------------------------------


def _graph_of(text: str, like: Graph) -> Graph:
    """The fixed text as a Graph, checked and parsed as :meth:`Graph.from_file` does."""
    nodes = parse_nodes(json.loads(text))
    check_operators(nodes)
    return Graph.from_nodes(
        nodes, text, label=f"{like.label} (fixed)", notes=like.notes, node_row_ptr=like.node_row_ptr
    )


def _source_text(graph: Graph) -> str:
    """The JSON the graph was read from: the file's text, or the symbol's ``tojson()``."""
    if graph.text is not None:
        return graph.text
    return graph.symbol.tojson(remove_amp_cast=False)  # the JSON Graph.from_symbol parsed


def fix(graph: Any, data_shape: InputShapes, rules: RuleSpec = None) -> FixResult:
    """Rewrites the nodes that the pooling and padding rules flag at one input size.

    Args:
        graph: a :class:`~nin_mx.graph.source.Graph`, or anything :meth:`Graph.resolve` takes
            (a ``-symbol.json`` path, a registered model's name, an ``mx.sym.Symbol``).
        data_shape: the input's full shape ``(N, C, H, W)``, or shapes by input name: the size
            at which the rules run (a fixed kernel is flagged where it equals its map).
        rules: the rules to fix: ids (``['fixed-global-pool']``; ``'custom-padding=same'``), a
            mapping ``{'custom-padding': 'same'}``, or the ``--fix-rules`` text
            (:func:`parse_fix_rules`); default :data:`DEFAULT_FIX_RULES`. ``custom-padding``
            is fixed only when asked, with a border mode; it sets the pad of that mode along the
            axes whose pad matches none (a pool made global is not re-padded).

    Returns:
        A :class:`FixResult`; its ``text`` is ``None`` when there is nothing to fix.

    Raises:
        ValueError: one line, for an unknown rule or one without a fix, a bad shape, an input
            size at which the original graph fails, or a fix that makes the graph fail there.
        nin_mx.core.errors.GraphError: for a graph that cannot be loaded.
    """
    selected = _normalize_rules(rules)
    graph = Graph.resolve(graph)
    report = report_graph(graph, data_shape)
    if not report.ok:
        raise ValueError(
            f"cannot fix {graph.label} at {describe(report.input_shapes)}: the original graph fails "
            f"there ({report.error}); give an input size it takes"
        )
    findings = find_pitfalls(graph.nodes, report, rules=[r for r in RULES if r in selected])
    by_name = {node.name: node for node in graph.nodes if not node.is_variable}
    global_layers = {f.layer for f in findings if f.rule in _GLOBAL}
    planned: list[tuple[Finding, Node, dict[str, str | None]]] = []
    for finding in findings:
        node = by_name[finding.layer]  # type: ignore[index]
        if finding.rule in _GLOBAL:
            changes = _global_changes(node)
        elif finding.rule == "ignored-pool-attrs":
            changes = dict.fromkeys(finding.detail["ignored"])
        elif node.name in global_layers:  # custom-padding of a pool made global: its pad goes
            continue
        else:
            changes = _padding_changes(node, finding, selected[_NEEDS_MODE])  # type: ignore[arg-type]
            if changes is None:
                continue
        planned.append((finding, node, changes))
    inputs = dict(report.input_shapes)
    if not planned:
        return FixResult(None, (), (), (), None, graph, inputs, selected)

    text = _source_text(graph)
    raw_nodes = json.loads(text)["nodes"]
    changes_by_index: dict[int, dict[str, str | None]] = {}
    for _, node, changes in planned:
        changes_by_index.setdefault(_find_node(raw_nodes, node), {}).update(changes)
    fixed_text, _ = _edit_text(text, changes_by_index)
    fixed = _graph_of(fixed_text, graph)
    fixed_report = report_graph(fixed, inputs)
    if not fixed_report.ok:
        raise ValueError(
            f"the fixed {graph.label} fails at {describe(inputs)}: {fixed_report.error}; the edits "
            "change a size that a later layer depends on (fix that layer's rule too)"
        )
    effects = _Effects(graph, fixed, report, fixed_report)
    edits = []
    for finding, node, changes in planned:
        removed = {k: node.attrs[k] for k in changes if k in node.attrs and node.attrs[k] != changes[k]}
        added = {k: v for k, v in changes.items() if v is not None and node.attrs.get(k) != v}
        effect = effects.of(finding.rule, node.name, finding)
        edits.append(Edit(finding.rule, node.name, removed, added, effect))
    recheck = find_pitfalls(fixed.nodes, fixed_report, rules=[r for r in RULES if r in selected])
    diff = diff_reports(report, fixed_report, attrs_a=graph_attrs(graph), attrs_b=graph_attrs(fixed))
    return FixResult(fixed_text, tuple(edits), effects.params, tuple(recheck), diff, fixed, inputs, selected)
