"""A GraphDiff -> text: a table, markdown, CSV or JSON. Pure functions; nothing here prints.

The cells, numbers and JSON writer are :mod:`nin_mx.render.text`'s, so a layer reads the same in a
diff as in a report; the JSON layout is documented in the README ("Diff").
"""

from __future__ import annotations

from typing import Any

from nin_mx.analysis.diff import GraphDiff, RowDiff, RowStatus
from nin_mx.core.enums import OutputFormat
from nin_mx.render.cells import SCHEMA_VERSION, CsvWriter, dims, encode, page
from nin_mx.report.rows import LayerRow

__all__ = [
    "diff_cells",
    "diff_summary",
    "diff_title",
    "diff_to_dict",
    "render_diff_csv",
    "render_diff_json",
    "render_diff_markdown",
    "render_diff_table",
]


def _attr_value(value: str | None) -> str:
    return "unset" if value is None else value


def _differences_cell(row: RowDiff) -> str:
    """Field names; each attribute with its two values (``attrs.num_filter 32->48``)."""
    changes = {f"attrs.{key}": (a, b) for key, a, b in row.attr_changes}
    return ", ".join(
        f"{item} {_attr_value(changes[item][0])}->{_attr_value(changes[item][1])}"
        if item in changes
        else item
        for item in row.differences
    )


def diff_cells(diff: GraphDiff, all_rows: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["status", "layer a", "layer b", "op", "a (CxHxW)", "b (CxHxW)", "differences"]
    body = []
    for row in diff.rows:
        if row.status is RowStatus.SAME and not all_rows:
            continue
        a, b = row.a, row.b
        ops = {r.op for r in (a, b) if r is not None}
        body.append(
            [
                row.status.value,
                a.name if a is not None else "",
                b.name if b is not None else "",
                "->".join(r.op for r in (a, b) if r is not None) if len(ops) > 1 else ops.pop(),
                dims(a.output_shape[1:]) if a is not None else "",
                dims(b.output_shape[1:]) if b is not None else "",
                _differences_cell(row),
            ]
        )
    return headers, body


def _side(model: str, mode: str, shapes: Any) -> str:
    inputs = ", ".join(f"{name} {dims(shape)}" for name, shape in shapes.items())
    return f"{model} ({mode}, input {inputs})"


def diff_title(diff: GraphDiff) -> str:
    a = _side(diff.model_a, diff.border_mode_a, diff.input_shapes_a)
    b = _side(diff.model_b, diff.border_mode_b, diff.input_shapes_b)
    return f"diff: a = {a}; b = {b} (output shapes without the batch axis)"


def _delta(label: str, a: int, b: int) -> str:
    return f"{label} {a:,} -> {b:,} ({b - a:+,})"


def diff_summary(diff: GraphDiff) -> list[str]:
    counts, ta, tb = diff.counts, diff.totals_a, diff.totals_b
    tally = (
        f"{counts.changed} changed, {counts.only_a} only in a, {counts.only_b} only in b, {counts.same} same"
    )
    deltas = (
        _delta("params", ta.params, tb.params),
        _delta("aux", ta.aux, tb.aux),
        _delta("MACs", ta.macs, tb.macs),
    )
    lines = [f"{tally}; {'; '.join(deltas)}"]
    if not diff.attrs_compared:
        lines.append("note: operator attributes not compared (shapes, counts and windows only)")
    lines += [
        f"{side}: FAILS: {error}" for side, error in (("a", diff.error_a), ("b", diff.error_b)) if error
    ]
    return lines


def render_diff_table(diff: GraphDiff, all_rows: bool = False) -> str:
    """A plain-text table of the changed and one-sided rows (every pair with ``all_rows``),
    then a summary line: counts by status and the params, aux and MACs of both sides."""
    headers, body = diff_cells(diff, all_rows)
    return page(
        OutputFormat.TABLE, diff_title(diff), headers, body, diff_summary(diff), empty="no differences"
    )


def render_diff_markdown(diff: GraphDiff, all_rows: bool = False) -> str:
    """The table of :func:`render_diff_table` in GitHub-flavoured markdown."""
    headers, body = diff_cells(diff, all_rows)
    return page(
        OutputFormat.MARKDOWN, diff_title(diff), headers, body, diff_summary(diff), empty="no differences"
    )


_DIFF_CSV_SIDES = ("name", "op", "output_shape", "params", "aux", "macs", "kernel", "stride", "pad", "dilate")
_DIFF_CSV_FIELDS = (
    "status",
    "differences",
    *(f"{field}_{side}" for field in _DIFF_CSV_SIDES for side in ("a", "b")),
    "attr_changes",
)


def _csv_value(row: LayerRow | None, field: str) -> Any:
    if row is None:
        return ""
    value = getattr(row, field)
    return dims(value) if isinstance(value, tuple) or value is None else value


def render_diff_csv(diff: GraphDiff, all_rows: bool = False) -> str:
    """One CSV row per pair (changed and one-sided ones unless ``all_rows``); each field of
    both sides (``params_a``, ``params_b``), tuples as ``AxB``, empty for a missing side."""
    writer = CsvWriter()
    writer.writerow(_DIFF_CSV_FIELDS)
    for row in diff.rows:
        if row.status is RowStatus.SAME and not all_rows:
            continue
        changes = "; ".join(f"{key}: {_attr_value(a)} -> {_attr_value(b)}" for key, a, b in row.attr_changes)
        sides = [_csv_value(r, field) for field in _DIFF_CSV_SIDES for r in (row.a, row.b)]
        writer.writerow([row.status.value, " ".join(row.differences), *sides, changes])
    return writer.getvalue()


def diff_to_dict(diff: GraphDiff) -> dict[str, Any]:
    """The JSON-ready dict of a diff: ``{"schema_version": ..., "diff": {...}}``; every pair,
    its layers as in ``reports[].layers[]`` (or ``None``)."""
    body: dict[str, Any] = {
        "model_a": diff.model_a,
        "model_b": diff.model_b,
        "border_mode_a": diff.border_mode_a,
        "border_mode_b": diff.border_mode_b,
        "input_shapes_a": {name: list(shape) for name, shape in diff.input_shapes_a.items()},
        "input_shapes_b": {name: list(shape) for name, shape in diff.input_shapes_b.items()},
        "error_a": diff.error_a,
        "error_b": diff.error_b,
        "attrs_compared": diff.attrs_compared,
        "has_differences": diff.has_differences,
        "counts": diff.counts._asdict(),
        "totals_a": diff.totals_a._asdict(),
        "totals_b": diff.totals_b._asdict(),
        "rows": [
            {
                "status": row.status.value,
                "a": row.a._asdict() if row.a is not None else None,
                "b": row.b._asdict() if row.b is not None else None,
                "differences": list(row.differences),
                "attr_changes": {key: [a, b] for key, a, b in row.attr_changes},
            }
            for row in diff.rows
        ],
    }
    return {"schema_version": SCHEMA_VERSION, "diff": body}


def render_diff_json(diff: GraphDiff) -> str:
    """Stable JSON (as :func:`render_json`): one layer per line, trailing newline."""
    return encode(diff_to_dict(diff)) + "\n"
