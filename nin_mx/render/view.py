"""A Document's blocks or stages view -> a table, markdown, CSV or JSON. Pure functions.

The ``layers`` view is the default report, and renders exactly as :func:`nin_mx.render.render`
does. Other views (:func:`nin_mx.views.group_rows`) have one row per group: its name (with
``xN`` for N identical blocks), its number of layers, ``input -> output`` shape per border
mode, parameters, MACs and the receptive field of its output. The summary lines (totals,
notes, findings) are the report's: a view's totals equal them.

JSON: the report's JSON plus ``view`` (``blocks`` or ``stages``), ``view_basis`` (what the
groups were made from) and, in each report, ``view_rows``: one object per row with ``name``,
``repeat``, ``first``, ``last``, ``layers``, ``input_shape``, ``output_shape``, ``params``,
``aux``, ``macs``, ``receptive_field`` and ``fails`` (``null`` shapes and zero counts for a row
the report does not reach). A ``layers`` view is the report's JSON unchanged.
"""

from __future__ import annotations

from typing import Any

from nin_mx.analysis.views import BlockMap, DocumentView, GroupStats, ViewRow, group_rows
from nin_mx.core.enums import OutputFormat, View
from nin_mx.document import Document
from nin_mx.render.cells import CsvWriter, dims, encode, page, per_mode, rf_cell, si, summary_lines, title
from nin_mx.render.text import render_csv, render_markdown, render_table, to_dict

__all__ = [
    "render_view_csv",
    "render_view_json",
    "render_view_markdown",
    "render_view_table",
    "view_cells",
    "view_line",
    "view_to_dict",
]

_HEADS = {View.LAYERS: "layer", View.BLOCKS: "block", View.STAGES: "stage"}


def _name_cell(row: ViewRow) -> str:
    return f"{row.name} x{row.repeat}" if row.repeat > 1 else row.name


def _shape_cell(stats: GroupStats | None, fails: bool) -> str:
    if stats is None:
        return "FAILS" if fails else ""
    cell = f"{dims(stats.input_shape[1:] if stats.input_shape else None)} -> {dims(stats.output_shape[1:])}"
    return f"{cell} FAILS" if fails else cell


def view_cells(dv: DocumentView, with_costs: bool) -> tuple[list[str], list[list[str]]]:
    """Headers and one row of cells per group: name, layers, in -> out per mode, MACs, params, RF."""
    headers = [_HEADS[dv.view], "layers"]
    for mode in dv.modes:
        headers.append(f"{mode} in -> out (CxHxW)")
        if with_costs:
            headers.append(f"{mode} MACs")
    headers += ["params", "RF"]
    body = []
    for row in dv.rows:
        cells = [_name_cell(row), str(row.layers)]
        for stats, fails in zip(row.stats, row.fails):
            cells.append(_shape_cell(stats, fails))
            if with_costs:
                cells.append(si(stats.macs) if stats is not None and stats.macs else "")
        cells.append(per_mode([si(s.params) if s is not None and s.params else "" for s in row.stats]))
        cells.append(rf_cell([s.receptive_field if s is not None else None for s in row.stats]))
        body.append(cells)
    return headers, body


def view_line(doc: Document, dv: DocumentView) -> str:
    layers = max((len(report.layers) for report in doc.reports), default=0)
    return f"view: {dv.view} by {dv.basis}, {len(dv.rows)} rows for {layers} layers"


def render_view_table(
    doc: Document, view: View | str = View.BLOCKS, *, blocks: BlockMap | None = None
) -> str:
    """A plain-text table of the view (MACs per mode when there is one mode), then totals."""
    if View.parse(view) is View.LAYERS:  # the layer report itself: no groups to make
        return render_table(doc)
    dv = group_rows(doc, view, blocks=blocks)
    headers, body = view_cells(dv, with_costs=len(doc.reports) == 1)
    return page(
        OutputFormat.TABLE, title(doc), headers, body, summary_lines(doc), subtitle=view_line(doc, dv)
    )


def render_view_markdown(
    doc: Document, view: View | str = View.BLOCKS, *, blocks: BlockMap | None = None
) -> str:
    """The view in GitHub-flavoured markdown, with MACs per mode, then totals."""
    if View.parse(view) is View.LAYERS:  # the layer report itself: no groups to make
        return render_markdown(doc)
    dv = group_rows(doc, view, blocks=blocks)
    headers, body = view_cells(dv, with_costs=True)
    return page(
        OutputFormat.MARKDOWN, title(doc), headers, body, summary_lines(doc), subtitle=view_line(doc, dv)
    )


_CSV_FIELDS = (
    "border_mode",
    "ok",
    "view",
    "name",
    "repeat",
    "first",
    "last",
    "layers",
    "input_shape",
    "output_shape",
    "params",
    "aux",
    "macs",
    "receptive_field",
    "fails",
)


def _row_dict(row: ViewRow, index: int) -> dict[str, Any]:
    stats = row.stats[index]
    return {
        "name": row.name,
        "repeat": row.repeat,
        "first": row.first,
        "last": row.last,
        "layers": row.layers,
        "input_shape": list(stats.input_shape) if stats is not None and stats.input_shape else None,
        "output_shape": list(stats.output_shape) if stats is not None else None,
        "params": stats.params if stats is not None else 0,
        "aux": stats.aux if stats is not None else 0,
        "macs": stats.macs if stats is not None else 0,
        "receptive_field": list(stats.receptive_field)
        if stats is not None and stats.receptive_field
        else None,
        "fails": row.fails[index],
    }


def render_view_csv(doc: Document, view: View | str = View.BLOCKS, *, blocks: BlockMap | None = None) -> str:
    """One CSV row per group and border mode (shapes as ``AxB``); the report's CSV for ``layers``."""
    if View.parse(view) is View.LAYERS:  # the layer report itself: no groups to make
        return render_csv(doc)
    dv = group_rows(doc, view, blocks=blocks)
    writer = CsvWriter()
    writer.writerow(_CSV_FIELDS)
    for i, report in enumerate(doc.reports):
        for row in dv.rows:
            values = _row_dict(row, i)
            cells = [
                dims(v) if isinstance(v, list) or v is None else str(v).lower() if isinstance(v, bool) else v
                for v in values.values()
            ]
            writer.writerow([report.border_mode, str(report.ok).lower(), dv.view.value, *cells])
    return writer.getvalue()


def view_to_dict(
    doc: Document, view: View | str = View.BLOCKS, *, blocks: BlockMap | None = None
) -> dict[str, Any]:
    """The report's JSON dict, plus ``view``, ``view_basis`` and ``reports[].view_rows``
    (see the module docstring); :func:`nin_mx.render.to_dict` itself for ``layers``."""
    result = to_dict(doc)
    if View.parse(view) is View.LAYERS:
        return result
    dv = group_rows(doc, view, blocks=blocks)
    result["view"] = dv.view.value
    result["view_basis"] = dv.basis.value
    for i, entry in enumerate(result["reports"]):
        entry["view_rows"] = [_row_dict(row, i) for row in dv.rows]
    return result


def render_view_json(doc: Document, view: View | str = View.BLOCKS, *, blocks: BlockMap | None = None) -> str:
    """Stable JSON, as :func:`nin_mx.render.render_json`, one view row per line."""
    return encode(view_to_dict(doc, view, blocks=blocks)) + "\n"
