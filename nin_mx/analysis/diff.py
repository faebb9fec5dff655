"""Two reports -> a layer-by-layer diff: which layers are the same, changed, or on one side.

Pure data, no MXNet: :func:`diff_reports` takes two :class:`~nin_mx.report.Report` objects
and, optionally, each graph's operator attributes by node name (a report's rows carry shapes
and windows only; ``num_filter``, ``global_pool`` or ``p`` live in the graph's nodes)::

    diff_reports(report_a, report_b, attrs_a=graph_attrs(graph_a), attrs_b=graph_attrs(graph_b))

Rows are paired by :func:`nin_mx.align.align_rows`: by name where the names agree and are not
MXNet's automatic ones, by structure (operator, attributes, shape, graph position) otherwise.

A pair is ``same`` when none of :data:`COMPARED_FIELDS` differs and, when both sides'
attributes are given, no operator attribute differs; a name difference alone is ``same`` (both
names are in ``a`` and ``b``). Inputs (names), receptive field and jump are not compared: they
follow from the layers upstream and would mark every layer after one change. Attributes are
compared as stored, whitespace ignored; one set on one side only differs even if it equals
MXNet's default (``stride`` absent vs ``(1, 1)``); MXNet's symbol attributes (``__lr_mult__``)
are skipped.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from nin_mx.analysis.align import Attrs, GraphAttrs, NormalAttrs, align_rows, row_attrs
from nin_mx.core.enums import StrEnum

if TYPE_CHECKING:
    from nin_mx.report.rows import LayerRow, Report

__all__ = [
    "COMPARED_FIELDS",
    "DiffCounts",
    "DiffTotals",
    "GraphDiff",
    "RowDiff",
    "RowStatus",
    "diff_reports",
    "graph_attrs",
]

AttrChange = tuple[str, Optional[str], Optional[str]]  # (attribute, value in a, value in b)

COMPARED_FIELDS = ("op", "output_shape", "params", "aux", "macs", "kernel", "stride", "pad", "dilate")
_compared = operator.attrgetter(*COMPARED_FIELDS)


class RowStatus(StrEnum):
    """How a row of one graph relates to the other graph."""

    SAME = "same"
    CHANGED = "changed"
    ONLY_A = "only_a"
    ONLY_B = "only_b"


@dataclass(frozen=True)
class RowDiff:
    """One aligned pair of rows, or a row found on one side only.

    Attributes:
        status: ``same``, ``changed``, ``only_a`` or ``only_b``.
        a, b: the rows of graph a and graph b (``None`` on the side that lacks it).
        differences: what differs, in the order of :data:`COMPARED_FIELDS`, then
            ``attrs.<name>`` for each differing operator attribute, by name; empty unless
            ``changed``.
        attr_changes: ``(attribute, value in a, value in b)`` for each ``attrs.<name>``
            difference; ``None`` where the attribute is not set.
    """

    status: RowStatus
    a: LayerRow | None
    b: LayerRow | None
    differences: tuple[str, ...] = ()
    attr_changes: tuple[AttrChange, ...] = ()


class DiffCounts(NamedTuple):
    """Rows by status."""

    same: int
    changed: int
    only_a: int
    only_b: int


class DiffTotals(NamedTuple):
    """The totals of one side, as its report gives them."""

    params: int
    aux: int
    macs: int


@dataclass(frozen=True)
class GraphDiff:
    """Two reports compared row by row; :mod:`nin_mx.render` formats it.

    ``rows`` follow graph a's order; a row of b alone comes after the pair before it, a
    row of a alone before one of b alone between the same two pairs. ``attrs_compared`` tells
    whether both sides' attributes were given. ``error_a``/``error_b``: a report's error (its
    rows then stop before the failing layer).
    """

    model_a: str
    model_b: str
    border_mode_a: str
    border_mode_b: str
    input_shapes_a: Mapping[str, tuple[int, ...]]
    input_shapes_b: Mapping[str, tuple[int, ...]]
    rows: tuple[RowDiff, ...]
    counts: DiffCounts
    totals_a: DiffTotals
    totals_b: DiffTotals
    attrs_compared: bool = False
    error_a: str | None = None
    error_b: str | None = None

    def _repr_html_(self) -> str:
        from nin_mx.render.html import diff_to_html  # it imports this module

        return diff_to_html(self, fragment=True)

    @property
    def has_differences(self) -> bool:
        """Whether any row is ``changed``, ``only_a`` or ``only_b`` (a "differences found" exit)."""
        return self.counts.same != len(self.rows)


def graph_attrs(graph: Any) -> GraphAttrs:
    """Operator attributes by node name, from anything with ``nodes`` (a :class:`nin_mx.Graph`).

    A dict by name (a name used by several nodes keeps the last one's attributes), which also
    holds them by position (:class:`~nin_mx.analysis.align.GraphAttrs`): :func:`diff_reports`
    compares each node of a repeated name with its own.
    """
    return GraphAttrs([(node.name, node.attrs) for node in graph.nodes if node.op != "null"])


def _compare(
    a: LayerRow,
    b: LayerRow,
    attrs_a: NormalAttrs,
    attrs_b: NormalAttrs,
    raw_a: Mapping[str, str],
    raw_b: Mapping[str, str],
) -> RowDiff:
    """The differences of one pair; ``attrs_*`` normalized (or None), ``raw_*`` as stored."""
    same_fields = _compared(a) == _compared(b)  # one tuple comparison for most pairs
    differences = [] if same_fields else [f for f in COMPARED_FIELDS if getattr(a, f) != getattr(b, f)]
    changes: list[AttrChange] = []
    if attrs_a is not None and attrs_b is not None and attrs_a != attrs_b:
        values_a, values_b = dict(attrs_a), dict(attrs_b)
        for key in sorted(values_a.keys() | values_b.keys()):
            if values_a.get(key) != values_b.get(key):
                differences.append(f"attrs.{key}")
                changes.append((key, raw_a.get(key), raw_b.get(key)))
    status = RowStatus.CHANGED if differences else RowStatus.SAME
    return RowDiff(status, a, b, tuple(differences), tuple(changes))


def diff_reports(
    a: Report, b: Report, /, *, attrs_a: Attrs | None = None, attrs_b: Attrs | None = None
) -> GraphDiff:
    """Compares two reports layer by layer (see the module docstring for how rows are paired).

    Args:
        a, b: two reports, of any graphs, input sizes and border modes.
        attrs_a, attrs_b: each graph's operator attributes by node name (plain strings, as
            MXNet stores them: :func:`graph_attrs` of a :class:`nin_mx.Graph`). Attributes are
            used to align and compared only when both are given; otherwise rows are compared
            by shapes, counts and windows alone, and a change such as ``global_pool=True`` vs a
            kernel of the same size is invisible.

    Returns:
        A :class:`GraphDiff`.
    """
    alignment = align_rows(a.layers, b.layers, attrs_a, attrs_b)
    moved = alignment.moved
    moved_b = set(moved.values())
    compare_attrs = attrs_a is not None and attrs_b is not None
    no_attrs: Mapping[str, str] = {}
    raw_a = row_attrs(attrs_a, a.layers) if compare_attrs else []  # type: ignore[arg-type]
    raw_b = row_attrs(attrs_b, b.layers) if compare_attrs else []  # type: ignore[arg-type]

    def pair(i: int, j: int) -> RowDiff:
        row_a, row_b = a.layers[i], b.layers[j]
        if not compare_attrs:
            return _compare(row_a, row_b, None, None, no_attrs, no_attrs)
        return _compare(
            row_a,
            row_b,
            alignment.attrs_a[i],
            alignment.attrs_b[j],
            raw_a[i] or no_attrs,
            raw_b[j] or no_attrs,
        )

    rows: list[RowDiff] = []
    next_i = next_j = 0
    for i, j in [*alignment.pairs, (len(a.layers), len(b.layers))]:
        for k in range(next_i, i):  # rows of a alone (or moved), then rows of b alone
            rows.append(pair(k, moved[k]) if k in moved else RowDiff(RowStatus.ONLY_A, a.layers[k], None))
        rows += [RowDiff(RowStatus.ONLY_B, None, b.layers[k]) for k in range(next_j, j) if k not in moved_b]
        if i < len(a.layers):
            rows.append(pair(i, j))
        next_i, next_j = i + 1, j + 1
    tally = dict.fromkeys(RowStatus, 0)
    for row in rows:
        tally[row.status] += 1
    return GraphDiff(
        model_a=a.model,
        model_b=b.model,
        border_mode_a=str(a.border_mode),
        border_mode_b=str(b.border_mode),
        input_shapes_a=dict(a.input_shapes),
        input_shapes_b=dict(b.input_shapes),
        rows=tuple(rows),
        counts=DiffCounts(*(tally[status] for status in RowStatus)),
        totals_a=DiffTotals(a.total_params, a.total_aux, a.total_macs),
        totals_b=DiffTotals(b.total_params, b.total_aux, b.total_macs),
        attrs_compared=compare_attrs,
        error_a=a.error,
        error_b=b.error,
    )
