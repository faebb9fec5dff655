"""What every renderer shares: cells, numbers, summary lines, the JSON writer and the page.

A layer, a total or a finding reads the same in every format and in a diff as in a report,
because each is written here once. Pure functions; nothing here prints.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from nin_mx.checks.findings import Finding
from nin_mx.core.enums import OutputFormat
from nin_mx.core.text import csv_cell, terminal_safe
from nin_mx.document import Document
from nin_mx.report.rows import LayerRow, Report

__all__ = [
    "SCHEMA_VERSION",
    "CsvWriter",
    "OneLine",
    "aligned_rows",
    "dims",
    "encode",
    "fields",
    "finding_lines",
    "finding_to_dict",
    "layer_cells",
    "mib",
    "page",
    "per_mode",
    "rf_cell",
    "si",
    "summary_lines",
    "title",
]

# The version of the JSON layout (README, "JSON output"): changes whenever a field is renamed
# or removed.
SCHEMA_VERSION = 1


def dims(shape: Sequence[int] | None) -> str:
    return "x".join(map(str, shape)) if shape else "-"


def si(value: int) -> str:
    """1234567 -> '1.23M': compact, for table cells."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return str(value)


def mib(nbytes: int) -> str:
    """Bytes in binary units, one decimal: '352.3 MiB'; from 1 GiB on '1.5 GiB', then TiB and PiB
    (a huge input's activations read '47.5 TiB', not '49784847.6 MiB')."""
    value = nbytes / 2**20
    for unit in ("MiB", "GiB", "TiB"):
        if round(abs(value), 1) < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def aligned_rows(reports: Sequence[Report]) -> list[tuple[str, str, list[LayerRow | None]]]:
    """(name, op, [row per report or None]) in graph order, across reports of one graph.

    Rows are paired by position, never by name (a Gluon block called twice makes two nodes of
    one name, each its own row): every report of one graph has the same rows in the same
    order, a failed one a prefix of them; ``None`` where a report stops before the row.
    """
    longest = max((report.layers for report in reports), key=len, default=())
    return [
        (row.name, row.op, [report.layers[p] if p < len(report.layers) else None for report in reports])
        for p, row in enumerate(longest)
    ]


def _first(rows: Sequence[LayerRow | None]) -> LayerRow:
    return next(row for row in rows if row is not None)


def layer_cells(reports: Sequence[Report], with_costs: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["layer", "op"]
    for report in reports:
        headers.append(f"{report.border_mode} (CxHxW)")
        if with_costs:
            headers.append(f"{report.border_mode} MACs")
    headers += ["params", "RF"]
    body = []
    marked = [False] * len(reports)  # FAILS marks one row a report lacks: the first of that name
    for name, op, rows in aligned_rows(reports):
        cells = [name, op]
        for i, (report, row) in enumerate(zip(reports, rows)):
            if row is not None:
                cells.append(dims(row.output_shape[1:]))
            elif name == report.failed_at and not marked[i]:
                marked[i] = True
                cells.append("FAILS")
            else:
                cells.append("")
            if with_costs:
                cells.append(si(row.macs) if row is not None and row.macs else "")
        first = _first(rows)
        cells.append(si(first.params) if first.params else "")
        cells.append(rf_cell([row.receptive_field if row is not None else None for row in rows]))
        body.append(cells)
    return headers, body


def per_mode(values: Sequence[str]) -> str:
    """One value, or one per mode (``1.5M/1.6M/1.7M``) where the modes differ; ``-`` for a mode
    without one."""
    known = [v for v in values if v]
    if len(set(known)) <= 1:
        return known[0] if known else ""
    return "/".join(v or "-" for v in values)


def rf_cell(fields: Sequence[Sequence[int] | None]) -> str:
    """The receptive-field cell of every view, from each mode's field: one field where the modes
    agree (``5x5``); where they differ, one per mode, a square by its side (``35/55/75``: a
    global pool's window is the whole map, so its receptive field depends on the border mode),
    any other field in full (``35x39/...``)."""
    known = {tuple(rf) for rf in fields if rf}
    if len(known) <= 1:
        return dims(known.pop()) if known else ""
    return "/".join("-" if not rf else str(rf[0]) if len(set(rf)) == 1 else dims(rf) for rf in fields)


def summary_lines(doc: Document) -> list[str]:
    lines = []
    for report in doc.reports:
        if report.ok:
            lines.append(
                f"{report.border_mode}: output {dims(report.output_shape)}, "
                f"params {report.total_params:,}, aux {report.total_aux:,}, "
                f"MACs {report.total_macs:,}, activations {mib(report.activation_bytes)}"
            )
        else:
            lines.append(f"{report.border_mode}: FAILS: {report.error}")
        lines += [f"  note: {note}" for note in report.notes]
    comparison = doc.pooling_comparison
    if comparison is not None:
        lines.append(
            f"pooling ({comparison.border_mode}): manual kernel {dims(comparison.manual_kernel)} "
            f"at input {dims(comparison.data_shape)}; "
            f"global {dims(comparison.global_output_shape)} "
            f"vs manual {dims(comparison.manual_output_shape)}, "
            f"shapes equal: {comparison.shapes_equal}, max |diff| {comparison.max_abs_diff:.3g} "
            f"({comparison.runtime})"
        )
        probe = comparison.probe_manual_error or f"manual gives {dims(comparison.probe_manual_output_shape)}"
        global_probe = (
            comparison.probe_global_error or f"global gives {dims(comparison.probe_global_output_shape)}"
        )
        lines.append(f"pooling at input {dims(comparison.probe_shape)}: {global_probe}; manual: {probe}")
    if doc.min_input is not None:
        rank = max(1, len(next(iter(doc.input_shapes.values()))) - 2)  # 1-D, 2-D or 3-D input
        sizes = ", ".join(f"{mode} {dims((side,) * rank)}" for mode, side in doc.min_input.items())
        lines.append(f"smallest square input: {sizes}")
    if doc.findings is not None:
        lines += _findings_by_mode(doc)
    return lines


def _findings_by_mode(doc: Document) -> list[str]:
    """The findings of each border mode; a checkpoint's findings that are the same under every
    mode (a wrong class count) once, after the modes' own."""
    per_mode = [list(findings) for findings in doc.findings or ()]
    checkpoint = [[f for f in findings if f.rule.startswith("params-")] for findings in per_mode]
    shared = len(per_mode) > 1 and checkpoint[0] and all(c == checkpoint[0] for c in checkpoint)
    lines = []
    for report, findings in zip(doc.reports, per_mode):
        if shared:
            findings = [f for f in findings if not f.rule.startswith("params-")]
        lines += finding_lines(str(report.border_mode), findings)
    if shared:
        head, *rest = finding_lines(None, checkpoint[0])
        lines += [
            "checkpoint " + head.replace("findings:", "findings, the same under every border mode:"),
            *rest,
        ]
    return lines


def finding_lines(mode: str | None, findings: Sequence[Finding]) -> list[str]:
    """``findings under valid: 4 (2 warnings, 2 info)`` (``findings: ...`` without a mode) and
    one line per finding."""
    head = "findings" if mode is None else f"findings under {mode}"
    if not findings:
        return [f"{head}: none"]
    counts = Counter(f.severity.value for f in findings)
    # 'info' is a mass noun: '2 info', but '2 errors', '2 warnings'
    summary = ", ".join(
        f"{counts[s]} {s}{'s' if counts[s] > 1 and s != 'info' else ''}"
        for s in ("error", "warning", "info")
        if counts[s]
    )
    lines = [f"{head}: {len(findings)} ({summary})"]
    for f in findings:
        where = f" at {f.layer}" if f.layer else ""
        lines.append(f"  {f.severity.value} {f.rule}{where}: {f.message}")
    return lines


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """A finding as JSON: ``rule``, ``severity``, ``layer``, ``message``, ``detail``."""
    return OneLine(
        rule=finding.rule,
        severity=finding.severity.value,
        layer=finding.layer,
        message=finding.message,
        detail=dict(finding.detail),
    )


def title(doc: Document) -> str:
    shapes = ", ".join(f"{name} {dims(shape)}" for name, shape in doc.input_shapes.items())
    return f"{doc.model} - input {shapes} (output shapes without the batch axis; RF = receptive field)"


def fields(obj: Any) -> dict[str, Any]:
    """A dataclass' fields as a dict, shallow (``dataclasses.asdict`` deep-copies every leaf)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


class OneLine(dict):  # type: ignore[type-arg]
    """An object the JSON writer puts on one line whatever it holds (a finding)."""


def _is_leaf(value: Any) -> bool:
    """Scalars, and lists of scalars, go on one line."""
    if isinstance(value, (list, tuple)):
        return all(not isinstance(v, (dict, list, tuple)) for v in value)
    return not isinstance(value, dict)


def encode(value: Any, indent: str = "") -> str:
    """JSON with two-space indentation, except that an object or array whose members are all
    leaves (a layer row, a shape) is written on one line."""
    compact = (", ", ": ")
    if isinstance(value, OneLine):
        return json.dumps(value, separators=compact)
    if isinstance(value, dict) and value and not all(_is_leaf(v) for v in value.values()):
        inner = indent + "  "
        members = (f"{inner}{json.dumps(str(k))}: {encode(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)) and value and not _is_leaf(value):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + encode(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, separators=compact)


class CsvWriter:
    """A CSV writer of untrusted cells: rows end as the csv module's dialect says (CRLF), so a
    CR or LF inside a cell is quoted; a cell that a spreadsheet would read as a formula gets a
    leading ``'`` (:func:`nin_mx.core.text.csv_cell`, OWASP's advice)."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._writer = csv.writer(self._out)

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])

    def getvalue(self) -> str:
        return self._out.getvalue()


def page(
    fmt: OutputFormat,
    heading: str,
    headers: Sequence[str],
    body: Sequence[Sequence[str]],
    summary: Sequence[str],
    *,
    subtitle: str | None = None,
    empty: str | None = None,
) -> str:
    """A text page: the heading, a table and the summary lines, as a plain table or markdown.

    Args:
        fmt: ``OutputFormat.TABLE`` (tabulate's ``simple``) or ``OutputFormat.MARKDOWN``
            (GitHub-flavoured; the heading as ``###``, the summary as a list).
        heading: the first line.
        headers, body: the table.
        summary: the lines under the table.
        subtitle: a line under the heading (in markdown, the summary's first item).
        empty: what stands in for the table when ``body`` is empty (``None``: an empty table);
            capitalized and ended with a full stop in markdown.
    """
    from tabulate import tabulate  # imported here: the JSON and CSV paths do not need it

    # Names come from files: control characters and bidi overrides are shown escaped.
    heading, subtitle = terminal_safe(heading), subtitle and terminal_safe(subtitle)
    headers = [terminal_safe(h) for h in headers]
    body = [[terminal_safe(cell) for cell in row] for row in body]
    summary = [terminal_safe(line) for line in summary]
    empty = empty and terminal_safe(empty)
    markdown = fmt is OutputFormat.MARKDOWN
    if body or empty is None:
        table = tabulate(
            body, headers=headers, tablefmt="github" if markdown else "simple", disable_numparse=True
        )
    else:
        table = f"{empty[:1].upper()}{empty[1:]}." if markdown else empty
    if markdown:
        items = "\n".join(f"- {line.strip()}" for line in ([subtitle] if subtitle else []) + list(summary))
        return f"### {heading}\n\n{table}\n\n{items}\n"
    return "\n".join([heading, *([subtitle] if subtitle else []), "", table, "", *summary]) + "\n"
