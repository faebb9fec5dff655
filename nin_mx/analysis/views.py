"""Views of a report: one row per layer, per block or per stage (torchinfo's "depth").

Pure data, no MXNet. :func:`group_rows` turns a document (anything with ``reports``, one report
per border mode) into a :class:`DocumentView`: groups of consecutive layers, the same groups
for every mode, each with its input and output shapes, parameters, aux states, MACs and the
receptive field of its output under each mode. Every layer of a report is in exactly one
group, so a view's totals equal the report's.

- ``layers``: one group per layer (the default report).
- ``blocks``: layers grouped by the block they belong to. nin_mx's own factories tag every
  node with its block (the ``__block__`` node attribute, :func:`nin_mx.layers.block_scope`);
  a Gluon export gives its blocks through its names (``resnetv10_stage1_conv0_fwd`` is in
  ``resnetv10_stage1``, see :func:`gluon_block`). A graph with neither, or whose names give
  a single block, is shown by stages. Consecutive blocks that are identical under every mode
  (the same operators, shapes, parameters and windows, in the same order) collapse into one
  row: ``block35_1..10`` with ``repeat`` 10.
- ``stages``: by output resolution. A stage starts at a layer whose output spatial size has
  not occurred before in the graph, under any of the modes (a stage of one mode is cut where
  any mode's size changes, so that the groups are the same for all). A layer that goes back
  to an earlier size (the 35 x 35 branch of a reduction block, whose other branch is already
  at 17 x 17) stays in the current stage, so every stage is a run of consecutive layers.

Block names come from the graph's nodes, which a report does not keep: :func:`block_map`
reads them, and a Document carries them in its ``blocks`` field.

Rows are keyed by their position in graph order, never by name alone: a Gluon block called
twice makes two nodes of one name, and all reports of one graph have the same rows in the same
order (a failed report a prefix of them). Where a view needs a unique label (a row's ``name``,
``first`` and ``last``), the second node of a name is ``name#2``, the third ``name#3``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from nin_mx.core.attrs import BLOCK_ATTR
from nin_mx.core.enums import StrEnum, View
from nin_mx.core.validate import Shape

if TYPE_CHECKING:
    from nin_mx.report.rows import LayerRow, Report

__all__ = [
    "BLOCK_ATTR",
    "BlockMap",
    "DocumentView",
    "GroupBasis",
    "GroupStats",
    "View",
    "ViewRow",
    "block_map",
    "gluon_block",
    "group_rows",
    "parse_view",
]


parse_view = View.parse  # the name of earlier versions


class GroupBasis(StrEnum):
    """What a view's groups were made from."""

    LAYER = "layer"
    ATTRIBUTE = "__block__ attribute"
    PREFIX = "name prefix"
    SIZE = "output size"


class BlockMap(NamedTuple):
    """The block of each operator node, by node name, and where the names come from.

    ``order`` holds ``(node name, block)`` for every operator in graph order, so that two
    nodes of one name (a block called twice) each keep their own block; ``names`` (by name)
    serves where it does not match the rows.
    """

    basis: GroupBasis
    names: Mapping[str, str]
    order: tuple[tuple[str, str | None], ...] = ()


class GroupStats(NamedTuple):
    """One group under one border mode.

    Attributes:
        input_shape: the shape of the group's first input from outside it (batch axis
            included), ``None`` if unknown.
        output_shape: the shape of its last layer's output.
        params, aux, macs: sums over its layers (over every repeat of a collapsed row).
        receptive_field: of its last layer's output, ``None`` outside the spatial domain.
        layers: how many of its layers this report has (fewer when the report fails in it).
    """

    input_shape: Shape | None
    output_shape: Shape
    params: int
    aux: int
    macs: int
    receptive_field: Shape | None
    layers: int


class ViewRow(NamedTuple):
    """One row of a view: a layer, a block (or a run of identical blocks) or a stage.

    Attributes:
        name: the layer's or block's name, ``block35_1..10`` for identical blocks, or
            ``stage<k>``.
        repeat: how many identical blocks the row stands for (1 but for collapsed blocks).
        first, last: the names of its first and last layers.
        layers: its number of layers, every repeat included.
        op: the operator of a one-layer row, else ``None``.
        stats: per report (border mode), in the document's order; ``None`` where the report
            has none of its layers (it failed before).
        fails: per report, whether the report's failing layer is in this row.
    """

    name: str
    repeat: int
    first: str
    last: str
    layers: int
    op: str | None
    stats: tuple[GroupStats | None, ...]
    fails: tuple[bool, ...]


@dataclass(frozen=True)
class DocumentView:
    """A document's reports grouped into rows (:func:`group_rows`).

    Attributes:
        view: the view asked for.
        basis: what the groups were made from; ``output size`` for a ``blocks`` view of a
            graph without block names.
        modes: the border mode of each report.
        rows: the groups, in graph order.
    """

    view: View
    basis: GroupBasis
    modes: tuple[str, ...]
    rows: tuple[ViewRow, ...]

    def totals(self, index: int = 0) -> tuple[int, int, int]:
        """``(params, aux, macs)`` of report ``index``, summed over the rows."""
        stats = [row.stats[index] for row in self.rows if row.stats[index] is not None]
        return (
            sum(s.params for s in stats),  # type: ignore[union-attr]
            sum(s.aux for s in stats),  # type: ignore[union-attr]
            sum(s.macs for s in stats),  # type: ignore[union-attr]
        )


_COUNTER = re.compile(r"[A-Za-z]+[0-9]+")


def gluon_block(name: str) -> str | None:
    """The Gluon block a node belongs to, from its name; ``None`` if it is not Gluon's.

    Gluon names a node ``<prefixes><leaf block><n>_fwd`` or ``<prefixes><operator><n>``,
    each prefix a child block (``resnetv10_``, ``stage1_``). The block is the name without
    its layer: ``resnetv10_stage1_conv0_fwd`` and ``resnetv10_stage1__plus0`` are in
    ``resnetv10_stage1``; ``alexnet0_conv0_relu_fwd`` (a layer's own activation) is in
    ``alexnet0``; ``densenet0_flatten0_flatten0`` (an operator named like its block) in
    ``densenet0``.
    """
    parts = name.split("_")
    if parts[-1] == "fwd":
        parts.pop()
        # a leaf block's own named children (Conv2D's 'relu_'), down to the layer's counter
        while len(parts) > 1 and parts[-1].isalpha() and _COUNTER.fullmatch(parts[-2]):
            parts.pop()
    if len(parts) < 2 or not _COUNTER.fullmatch(parts[-1]):
        return None
    layer = parts.pop()
    while parts and not parts[-1]:  # '_plus0' under a prefix leaves an empty part
        parts.pop()
    if len(parts) > 1 and parts[-1] == layer:
        parts.pop()
    return "_".join(parts) if parts and all(parts) else None


def block_map(nodes: Iterable[Any]) -> BlockMap | None:
    """The block of every operator node (nodes with ``name``, ``op``, ``attrs``).

    From the ``__block__`` attribute when any operator has one (operators without it have no
    block), else from Gluon names when every operator has one, some end in ``_fwd`` and
    they give at least two blocks; ``None`` otherwise.
    """
    ops = [node for node in nodes if node.op != "null"]
    tagged = {node.name: node.attrs[BLOCK_ATTR] for node in ops if BLOCK_ATTR in node.attrs}
    if tagged:
        order = tuple((node.name, node.attrs.get(BLOCK_ATTR)) for node in ops)
        return BlockMap(GroupBasis.ATTRIBUTE, tagged, order)
    prefixes = {node.name: gluon_block(node.name) for node in ops}
    if (
        prefixes
        and all(block is not None for block in prefixes.values())
        and any(name.endswith("_fwd") for name in prefixes)
        and len(set(prefixes.values())) > 1
    ):
        order = tuple((node.name, prefixes[node.name]) for node in ops)
        return BlockMap(GroupBasis.PREFIX, prefixes, order)  # type: ignore[arg-type]
    return None


Source = Union[Sequence["Report"], Any]  # reports, or a document that holds them


def group_rows(source: Source, view: View | str, *, blocks: BlockMap | None = None) -> DocumentView:
    """Groups the layers of a document's reports into the rows of a view.

    Args:
        source: a document (anything with ``reports``) or its reports (one graph, one report per
            border mode).
        view: ``layers``, ``blocks`` or ``stages``.
        blocks: the graph's blocks (:func:`block_map`); default: the document's ``blocks``.
            Without any, a ``blocks`` view is made by stages.

    Returns:
        A :class:`DocumentView`; its rows hold every layer of every report once.

    Raises:
        ValueError: for an unknown view.
    """
    view = parse_view(view)
    reports: Sequence[Report] = getattr(source, "reports", source)  # type: ignore[assignment]
    if blocks is None:
        blocks = getattr(source, "blocks", None)
    layout = _Layout(reports)
    positions = range(len(layout.names))
    keys = layout.blocks(blocks) if view is View.BLOCKS and blocks is not None else None
    if view is View.LAYERS:
        basis, runs = GroupBasis.LAYER, [[p] for p in positions]
    elif keys is not None:
        basis, runs = blocks.basis, _runs(positions, keys)  # type: ignore[union-attr]
    else:
        basis, runs = GroupBasis.SIZE, _stage_runs(layout)
    groups = [(run, [_stats(run, layout, r) for r in range(len(reports))]) for run in runs]
    if keys is not None:
        labels = [keys[run[0]] or _span(layout.labels[run[0]], layout.labels[run[-1]]) for run, _ in groups]
        rows = _collapse(groups, labels, layout)
    else:
        labels = [
            layout.labels[run[0]] if view is View.LAYERS else f"stage{k}"
            for k, (run, _) in enumerate(groups, start=1)
        ]
        rows = [_row(label, 1, run, stats, layout) for label, (run, stats) in zip(labels, groups)]
    return DocumentView(view, basis, tuple(str(r.border_mode) for r in reports), tuple(rows))


class _Layout:
    """The rows of a document's reports by position in graph order (the same for every report,
    a failed one a prefix), with what the views need of each position.

    Attributes:
        rows: per report, its rows.
        inputs: per report, its input shapes by name.
        names, ops: per position, the node's name and operator (of the longest report).
        labels: per position, a unique label: the name, ``name#2`` for its second node, ...
        producers: per position, per input of the row, the position of the row it reads (the
            last one of that name before it), or ``None`` for a data input.
        failing: per report, the position of the layer it fails at, or ``None``.
    """

    def __init__(self, reports: Sequence[Report]) -> None:
        self.rows: list[Sequence[LayerRow]] = [report.layers for report in reports]
        self.inputs = [report.input_shapes for report in reports]
        longest = max(self.rows, key=len, default=())
        self.names = [row.name for row in longest]
        self.ops = [row.op for row in longest]
        seen: dict[str, int] = {}
        self.labels: list[str] = []
        self.producers: list[list[tuple[int | None, str]]] = []
        last: dict[str, int] = {}
        for p, row in enumerate(longest):
            count = seen[row.name] = seen.get(row.name, 0) + 1
            self.labels.append(row.name if count == 1 else f"{row.name}#{count}")
            self.producers.append([(last.get(name), name) for name in row.inputs])
            last[row.name] = p
        self._starts: list[int] | None = None  # rows that read only data inputs
        # per position, the positions of the rows that read it
        self.consumers: list[list[int]] = [[] for _ in longest]
        for p, producers in enumerate(self.producers):
            for q, _ in producers:
                if q is not None:
                    self.consumers[q].append(p)
        self.failing: list[int | None] = []
        for report, rows in zip(reports, self.rows):
            failed = report.failed_at
            found = None
            if failed is not None:
                found = next((p for p in range(len(rows), len(self.names)) if self.names[p] == failed), None)
            self.failing.append(found)

    def leaving(self, present: Sequence[tuple[int, LayerRow]], members: set[int]) -> LayerRow:
        """The tensor that leaves a group of rows: the last row read outside the group (or the
        graph's output) through which every path to those readers runs (the trunk), not merely
        the last in graph order (a branch's last convolution); else the last row read outside."""
        outside = {p: [c for c in self.consumers[p] if c not in members] for p, _ in present}
        leaving = [(p, row) for p, row in present if outside[p] or not self.consumers[p]]
        if not leaving:
            return present[-1][1]
        readers = {c for p, _ in leaving for c in outside[p]}
        for p, row in reversed(leaving):
            if not readers or self.dominates(p, readers):
                return row
        return leaving[-1][1]

    def dominates(self, position: int, targets: set[int]) -> bool:
        """Whether every path from the graph's inputs to ``targets`` runs through ``position``."""
        if self._starts is None:
            self._starts = [
                p for p, producers in enumerate(self.producers) if all(q is None for q, _ in producers)
            ]
        seen = {position}
        stack = [p for p in self._starts if p != position]
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            if p in targets:
                return False
            seen.add(p)
            stack.extend(c for c in self.consumers[p] if c not in seen)
        return True

    def row(self, report: int, position: int) -> LayerRow | None:
        rows = self.rows[report]
        return rows[position] if position < len(rows) else None

    def blocks(self, blocks: BlockMap) -> list[str | None]:
        """The block of each position: from the map's graph order where it matches the rows,
        else by name."""
        order = blocks.order
        if len(order) >= len(self.names) and all(order[p][0] == name for p, name in enumerate(self.names)):
            return [order[p][1] for p in range(len(self.names))]
        return [blocks.names.get(name) for name in self.names]


def _runs(positions: Iterable[int], keys: Sequence[Any]) -> list[list[int]]:
    """Maximal runs of consecutive positions with the same key."""
    runs: list[list[int]] = []
    previous: Any = object()
    for p in positions:
        key = keys[p]
        if not runs or key != previous:
            runs.append([])
        runs[-1].append(p)
        previous = key
    return runs


def _stage_runs(layout: _Layout) -> list[list[int]]:
    """A new run at each layer whose spatial output size is new in one of the reports."""
    seen: list[set[Shape]] = [set() for _ in layout.rows]
    runs: list[list[int]] = []
    for p in range(len(layout.names)):
        new = False
        for r, sizes in enumerate(seen):
            row = layout.row(r, p)
            if row is not None:
                size = tuple(row.output_shape[2:])
                new = new or size not in sizes
                sizes.add(size)
        if new or not runs:
            runs.append([])
        runs[-1].append(p)
    return runs


def _stats(run: Sequence[int], layout: _Layout, report: int) -> GroupStats | None:
    present = [(p, row) for p in run if (row := layout.row(report, p)) is not None]
    if not present:
        return None
    members = set(run)
    input_shape = None
    # The tensor that enters: an outside row every path into the group runs through (the trunk),
    # else the first one the group reads; a data input when the group reads one directly.
    entering = [
        (q, name) for p, _ in present for q, name in layout.producers[p] if q is None or q not in members
    ]
    trunk = (
        next((q for q, _ in entering if q is not None and layout.dominates(q, members)), None)
        if len(present) > 1
        else None
    )
    for q, name in [(trunk, "")] if trunk is not None else entering[:1]:
        row = layout.row(report, q) if q is not None else None
        if row is not None:
            input_shape = tuple(row.output_shape)
        elif q is None and name in layout.inputs[report]:
            input_shape = tuple(layout.inputs[report][name])
    rows = [row for _, row in present]
    last = rows[-1] if len(present) == 1 else layout.leaving(present, members)
    return GroupStats(
        input_shape,
        tuple(last.output_shape),
        sum(row.params for row in rows),
        sum(row.aux for row in rows),
        sum(row.macs for row in rows),
        last.receptive_field,
        len(rows),
    )


def _row(
    label: str, repeat: int, run: Sequence[int], stats: Sequence[GroupStats | None], layout: _Layout
) -> ViewRow:
    members = set(run)
    return ViewRow(
        label,
        repeat,
        layout.labels[run[0]],
        layout.labels[run[-1]],
        len(run),
        layout.ops[run[0]] if len(run) == 1 else None,
        tuple(stats),
        tuple(failing is not None and failing in members for failing in layout.failing),
    )


def _signature(run: Sequence[int], layout: _Layout, report: int, stats: GroupStats | None) -> tuple[Any, ...]:
    """What two blocks must share to collapse: their input and every layer but its names."""
    present = (row for p in run if (row := layout.row(report, p)) is not None)
    layers = tuple(
        (r.op, r.output_shape, r.params, r.aux, r.macs, r.kernel, r.stride, r.pad, r.dilate) for r in present
    )
    return (stats.input_shape if stats is not None else None, len(run), layers)


def _collapse(
    groups: Sequence[tuple[list[int], list[GroupStats | None]]], labels: Sequence[str], layout: _Layout
) -> list[ViewRow]:
    """Blocks, with each run of consecutive identical blocks (under every mode) as one row."""
    signatures = [tuple(_signature(run, layout, r, s) for r, s in enumerate(stats)) for run, stats in groups]
    out: list[ViewRow] = []
    i = 0
    while i < len(groups):
        j = i + 1
        if not _fails(groups[i][0], layout):
            while j < len(groups) and signatures[j] == signatures[i] and not _fails(groups[j][0], layout):
                j += 1
        run = [p for group, _ in groups[i:j] for p in group]
        stats = [_merge([groups[k][1][m] for k in range(i, j)]) for m in range(len(layout.rows))]
        label = labels[i] if j == i + 1 else _range_name(labels[i:j])
        out.append(_row(label, j - i, run, stats, layout))
        i = j
    return out


def _fails(run: Sequence[int], layout: _Layout) -> bool:
    """Whether a report fails in this group (such a block is never collapsed)."""
    members = set(run)
    return any(failing is not None and failing in members for failing in layout.failing)


def _merge(parts: Sequence[GroupStats | None]) -> GroupStats | None:
    """Consecutive groups as one: the first's input, the last's output and field, sums."""
    known = [p for p in parts if p is not None]
    if not known:
        return None
    return GroupStats(
        known[0].input_shape,
        known[-1].output_shape,
        sum(p.params for p in known),
        sum(p.aux for p in known),
        sum(p.macs for p in known),
        known[-1].receptive_field,
        sum(p.layers for p in known),
    )


_NUMBERED = re.compile(r"(.*?)(\d+)")


def _range_name(labels: Sequence[str]) -> str:
    """``block35_1 ... block35_10`` -> ``block35_1..10``; else ``first..last``."""
    parts = [_NUMBERED.fullmatch(label) for label in labels]
    if all(parts):
        stems = {p.group(1) for p in parts}  # type: ignore[union-attr]
        numbers = [int(p.group(2)) for p in parts]  # type: ignore[union-attr]
        if len(stems) == 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return f"{labels[0]}..{numbers[-1]}"
    return _span(labels[0], labels[-1])


def _span(first: str, last: str) -> str:
    return first if first == last else f"{first}..{last}"
