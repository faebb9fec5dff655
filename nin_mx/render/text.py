"""A Document's layer report -> a table, markdown, CSV or JSON. Pure functions; nothing here prints.

The JSON layout is a contract (see the README, "JSON output"); ``SCHEMA_VERSION`` changes
whenever a field is renamed or removed.
"""

from __future__ import annotations

from typing import Any

from nin_mx.core.enums import OutputFormat
from nin_mx.document import Document
from nin_mx.render.cells import (
    SCHEMA_VERSION,
    CsvWriter,
    dims,
    encode,
    fields,
    finding_to_dict,
    layer_cells,
    page,
    summary_lines,
    title,
)

__all__ = [
    "SCHEMA_VERSION",
    "OutputFormat",
    "finding_to_dict",
    "parse_format",
    "render_csv",
    "render_json",
    "render_markdown",
    "render_table",
    "to_dict",
]


parse_format = OutputFormat.parse  # the name of earlier versions


def render_table(doc: Document) -> str:
    """A plain-text table (one row per layer, a column group per border mode) and totals."""
    headers, body = layer_cells(doc.reports, with_costs=len(doc.reports) == 1)
    return page(OutputFormat.TABLE, title(doc), headers, body, summary_lines(doc))


def render_markdown(doc: Document) -> str:
    """A GitHub-flavoured markdown document: the table with MACs per mode, then totals."""
    headers, body = layer_cells(doc.reports, with_costs=True)
    return page(OutputFormat.MARKDOWN, title(doc), headers, body, summary_lines(doc))


_CSV_FIELDS = ("border_mode", "ok", "error")
_LAYER_FIELDS = (
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
    writer = CsvWriter()
    writer.writerow(_CSV_FIELDS + _LAYER_FIELDS)
    for report in doc.reports:
        status = [report.border_mode, str(report.ok).lower(), report.error or ""]
        if not report.layers:
            writer.writerow(status + [""] * len(_LAYER_FIELDS))
        for row in report.layers:
            values = row._asdict()
            writer.writerow(
                status
                + [
                    " ".join(values[key])
                    if key == "inputs"
                    else dims(values[key])
                    if isinstance(values[key], (tuple, list)) or values[key] is None
                    else values[key]
                    for key in _LAYER_FIELDS
                ]
            )
    return writer.getvalue()


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
        entry = fields(report)
        del entry["model"], entry["input_shapes"]
        entry["layers"] = [row._asdict() for row in report.layers]
        if doc.findings is not None:
            entry["findings"] = [finding_to_dict(f) for f in doc.findings[i]]
        result["reports"].append(entry)
    if doc.pooling_comparison is not None:
        result["pooling_comparison"] = fields(doc.pooling_comparison)
    if doc.min_input is not None:
        result["min_input"] = dict(doc.min_input)
    return result


def render_json(doc: Document) -> str:
    """Stable JSON: fixed key order, two-space indent, one layer per line, trailing newline."""
    return encode(to_dict(doc)) + "\n"
