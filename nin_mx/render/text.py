"""Reports -> text: a table, markdown, CSV or JSON. Pure functions; nothing here prints.

The JSON layout is a contract (see the README, "JSON output"); ``SCHEMA_VERSION`` changes
whenever a field is renamed or removed.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from nin_mx.checks.findings import Finding
from nin_mx.document import Document
from nin_mx.report.rows import LayerRow, Report

__all__ = [
    "SCHEMA_VERSION",
    "Document",
    "OutputFormat",
    "finding_to_dict",
    "parse_format",
    "render",
    "render_csv",
    "render_json",
    "render_markdown",
    "render_table",
    "to_dict",
]

SCHEMA_VERSION = 1


class OutputFormat(str, enum.Enum):
    """The output formats of ``nin-shape-report``."""

    TABLE = "table"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"  # nin_mx.render.html


def parse_format(value: OutputFormat | str) -> OutputFormat:
    """Converts a user's string to an OutputFormat.

    Raises:
        ValueError: naming the valid formats.
    """
    try:
        return OutputFormat(value)
    except ValueError:
        valid = ", ".join(f.value for f in OutputFormat)
        raise ValueError(f"format must be one of {valid}, got {value!r}") from None


def _dims(shape: Sequence[int] | None) -> str:
    return "x".join(map(str, shape)) if shape else "-"


def _si(value: int) -> str:
    """1234567 -> '1.23M': compact, for table cells."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return str(value)


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MiB"


def _aligned_rows(reports: Sequence[Report]) -> list[tuple[str, str, list[LayerRow | None]]]:
    """(name, op, [row per report or None]) in graph order, across reports of one graph."""
    order: dict[str, str] = {}
    for report in reports:
        for row in report.layers:
            order.setdefault(row.name, row.op)
    by_report = [{row.name: row for row in report.layers} for report in reports]
    return [(name, op, [rows.get(name) for rows in by_report]) for name, op in order.items()]


def _first(rows: Sequence[LayerRow | None]) -> LayerRow:
    return next(row for row in rows if row is not None)


def _layer_cells(reports: Sequence[Report], with_costs: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["layer", "op"]
    for report in reports:
        headers.append(f"{report.border_mode} (CxHxW)")
        if with_costs:
            headers.append(f"{report.border_mode} MACs")
    headers += ["params", "RF"]
    body = []
    for name, op, rows in _aligned_rows(reports):
        cells = [name, op]
        for report, row in zip(reports, rows):
            if row is not None:
                cells.append(_dims(row.output_shape[1:]))
            else:
                cells.append("FAILS" if name == report.failed_at else "")
            if with_costs:
                cells.append(_si(row.macs) if row is not None and row.macs else "")
        first = _first(rows)
        cells.append(_si(first.params) if first.params else "")
        cells.append(_rf_cell(rows))
        body.append(cells)
    return headers, body


def _rf_cell(rows: Sequence[LayerRow | None]) -> str:
    """One receptive field, or one per mode ('35/55/75') where they differ (a global pool's
    window is the whole map, so its receptive field depends on the border mode)."""
    fields = [row.receptive_field if row is not None else None for row in rows]
    known = {rf for rf in fields if rf}
    if len(known) <= 1:
        return _dims(known.pop()) if known else ""
    return "/".join("-" if not rf else str(rf[0]) if len(set(rf)) == 1 else _dims(rf) for rf in fields)


def _summary_lines(doc: Document) -> list[str]:
    lines = []
    for report in doc.reports:
        if report.ok:
            lines.append(
                f"{report.border_mode}: output {_dims(report.output_shape)}, "
                f"params {report.total_params:,}, aux {report.total_aux:,}, "
                f"MACs {report.total_macs:,}, activations {_mib(report.activation_bytes)}"
            )
        else:
            lines.append(f"{report.border_mode}: FAILS: {report.error}")
        lines += [f"  note: {note}" for note in report.notes]
    comparison = doc.pooling_comparison
    if comparison is not None:
        lines.append(
            f"pooling: manual kernel {_dims(comparison.manual_kernel)} "
            f"at input {_dims(comparison.data_shape)}; "
            f"global {_dims(comparison.global_output_shape)} "
            f"vs manual {_dims(comparison.manual_output_shape)}, "
            f"shapes equal: {comparison.shapes_equal}, max |diff| {comparison.max_abs_diff:.3g}"
        )
        probe = comparison.probe_manual_error or f"manual gives {_dims(comparison.probe_manual_output_shape)}"
        global_probe = (
            comparison.probe_global_error or f"global gives {_dims(comparison.probe_global_output_shape)}"
        )
        lines.append(f"pooling at input {_dims(comparison.probe_shape)}: {global_probe}; manual: {probe}")
    if doc.min_input is not None:
        rank = max(1, len(next(iter(doc.input_shapes.values()))) - 2)  # 1-D, 2-D or 3-D input
        sizes = ", ".join(f"{mode} {_dims((side,) * rank)}" for mode, side in doc.min_input.items())
        lines.append(f"smallest square input: {sizes}")
    if doc.findings is not None:
        for report, findings in zip(doc.reports, doc.findings):
            lines += _finding_lines(str(report.border_mode), findings)
    return lines


def _finding_lines(mode: str, findings: Sequence[Finding]) -> list[str]:
    """``findings under valid: 2 (1 warning, 1 info)`` and one line per finding."""
    if not findings:
        return [f"findings under {mode}: none"]
    counts = Counter(f.severity.value for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info") if counts[s])
    lines = [f"findings under {mode}: {len(findings)} ({summary})"]
    for f in findings:
        where = f" at {f.layer}" if f.layer else ""
        lines.append(f"  {f.severity.value} {f.rule}{where}: {f.message}")
    return lines


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """A finding as JSON: ``rule``, ``severity``, ``layer``, ``message``, ``detail``."""
    return _OneLine(
        rule=finding.rule,
        severity=finding.severity.value,
        layer=finding.layer,
        message=finding.message,
        detail=dict(finding.detail),
    )


def _title(doc: Document) -> str:
    shapes = ", ".join(f"{name} {_dims(shape)}" for name, shape in doc.input_shapes.items())
    return f"{doc.model} - input {shapes} (output shapes without the batch axis; RF = receptive field)"


def render_table(doc: Document) -> str:
    """A plain-text table (one row per layer, a column group per border mode) and totals."""
    headers, body = _layer_cells(doc.reports, with_costs=len(doc.reports) == 1)
    from tabulate import tabulate  # imported here: the JSON and CSV paths do not need it

    table = tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True)
    return "\n".join([_title(doc), "", table, "", *_summary_lines(doc)]) + "\n"


def render_markdown(doc: Document) -> str:
    """A GitHub-flavoured markdown document: the table with MACs per mode, then totals."""
    headers, body = _layer_cells(doc.reports, with_costs=True)
    from tabulate import tabulate

    table = tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)
    summary = "\n".join(f"- {line.strip()}" for line in _summary_lines(doc))
    return f"### {_title(doc)}\n\n{table}\n\n{summary}\n"


_CSV_FIELDS = (
    "border_mode",
    "ok",
    "error",
    "name",
    "op",
    "inputs",
    "output_shape",
    "params",
    "aux",
    "macs",
    "kernel",
    "stride",
    "pad",
    "dilate",
    "receptive_field",
    "jump",
)


def render_csv(doc: Document) -> str:
    """One CSV row per layer and border mode; tuples are written as ``AxB``.

    Each row also says whether its mode's report succeeded (``ok``) and why not (``error``); a
    mode that fails before its first layer gets one row with empty layer fields.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_FIELDS)
    layer_fields = _CSV_FIELDS[3:]
    for report in doc.reports:
        status = [report.border_mode, str(report.ok).lower(), report.error or ""]
        if not report.layers:
            writer.writerow(status + [""] * len(layer_fields))
        for row in report.layers:
            values = row._asdict()
            writer.writerow(
                status
                + [
                    " ".join(values[key])
                    if key == "inputs"
                    else _dims(values[key])
                    if isinstance(values[key], (tuple, list)) or values[key] is None
                    else values[key]
                    for key in layer_fields
                ]
            )
    return out.getvalue()


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass' fields as a dict, shallow (``dataclasses.asdict`` deep-copies every leaf)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def to_dict(doc: Document) -> dict[str, Any]:
    """The JSON-ready dict of a document (the README documents every field)."""
    first = next(iter(doc.input_shapes.values()))
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model": doc.model,
        "input_shape": list(first),
        "input_shapes": {name: list(shape) for name, shape in doc.input_shapes.items()},
        "reports": [],
    }
    for i, report in enumerate(doc.reports):
        entry = _fields(report)
        del entry["model"], entry["input_shapes"]
        entry["layers"] = [row._asdict() for row in report.layers]
        if doc.findings is not None:
            entry["findings"] = [finding_to_dict(f) for f in doc.findings[i]]
        result["reports"].append(entry)
    if doc.pooling_comparison is not None:
        result["pooling_comparison"] = _fields(doc.pooling_comparison)
    if doc.min_input is not None:
        result["min_input"] = dict(doc.min_input)
    return result


class _OneLine(dict):  # type: ignore[type-arg]
    """An object the JSON writer puts on one line whatever it holds (a finding)."""


def _is_leaf(value: Any) -> bool:
    """Scalars, and lists of scalars, go on one line."""
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (dict, list, tuple)) for v in value)
    return not isinstance(value, dict)


def _encode(value: Any, indent: str = "") -> str:
    """JSON with two-space indentation, except that an object or array whose members are all
    leaves (a layer row, a shape) is written on one line."""
    compact = (", ", ": ")
    if isinstance(value, _OneLine):
        return json.dumps(value, separators=compact)
    if isinstance(value, dict) and value and not all(_is_leaf(v) for v in value.values()):
        inner = indent + "  "
        members = (f"{inner}{json.dumps(str(k))}: {_encode(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)) and value and not _is_leaf(value):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _encode(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, separators=compact)


def render_json(doc: Document) -> str:
    """Stable JSON: fixed key order, two-space indent, one layer per line, trailing newline."""
    return _encode(to_dict(doc)) + "\n"


_RENDERERS = {
    OutputFormat.TABLE: render_table,
    OutputFormat.MARKDOWN: render_markdown,
    OutputFormat.CSV: render_csv,
    OutputFormat.JSON: render_json,
}


def render(doc: Document, fmt: OutputFormat | str = OutputFormat.TABLE) -> str:
    """Renders a document in the given format (``html``: :func:`nin_mx.render_html.render_html`)."""
    fmt = parse_format(fmt)
    if fmt is OutputFormat.HTML:
        from nin_mx.render.html import render_html  # it imports this module

        return render_html(doc)
    return _RENDERERS[fmt](doc)
