"""Documents, findings and diffs -> self-contained HTML. Pure functions; nothing here prints.

A page has its CSS inline and loads nothing (no scripts, fonts or images), so a report can
be mailed or opened offline. Every name and message from a graph is escaped. The page of a
:class:`~nin_mx.report.Document` holds, in this order: a header with the count of findings per
severity, its totals, its findings (messages wrap), its notes, and one table per view (the view
asked for first and open, the others folded in ``<details>``). Numbers are right-aligned; in a
diff the status colours of the rows win over the striping. Jupyter shows
documents, findings and diffs through their ``_repr_html_``, which calls the functions here
with ``fragment=True``: the same markup without ``<html>``, its CSS scoped to ``.nin-mx``.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Sequence

from nin_mx.analysis.diff import GraphDiff, RowStatus
from nin_mx.analysis.views import BlockMap, group_rows
from nin_mx.checks.findings import Finding
from nin_mx.core.enums import View
from nin_mx.document import Document
from nin_mx.render.cells import dims, finding_lines, layer_cells, mib, summary_lines, title
from nin_mx.render.diff import diff_cells, diff_summary, diff_title
from nin_mx.render.view import view_cells

__all__ = ["diff_to_html", "findings_to_html", "render_html"]

_CSS = """
.nin-mx { font-family: system-ui, sans-serif; font-size: 14px; color: #1b1b1b; }
.nin-mx h1 { font-size: 1.3em; } .nin-mx h2 { font-size: 1.1em; margin-top: 1.2em; }
.nin-mx table { border-collapse: collapse; margin: 0.4em 0 1em; }
.nin-mx th, .nin-mx td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; white-space: nowrap; }
.nin-mx th { background: #f0f0f0; position: sticky; top: 0; }
.nin-mx th.num, .nin-mx td.num { text-align: right; font-variant-numeric: tabular-nums; }
.nin-mx td.message { white-space: normal; overflow-wrap: anywhere; min-width: 20em; }
.nin-mx tr:nth-child(even) td { background: #fafafa; }
.nin-mx tbody tr.changed td { background: #fff6d6; } .nin-mx tbody tr.only_a td { background: #fde2e2; }
.nin-mx tbody tr.only_b td { background: #e2f5e2; }
.nin-mx .fails, .nin-mx .error { color: #b00020; font-weight: bold; }
.nin-mx .warning { color: #8a5300; } .nin-mx .info { color: #245; }
.nin-mx .finding-counts { margin: 0.2em 0; }
.nin-mx summary { cursor: pointer; font-weight: bold; margin: 0.6em 0; }
"""

_ESC = html.escape
# Columns of numbers (right-aligned), by the end of their header: counts, sizes, receptive fields.
_NUMERIC_HEADS = ("MACs", "params", "layers", "aux", "activations", "RF")
# Columns of prose (wrapped), by header.
_PROSE_HEADS = ("message",)


def _table(headers: Sequence[str], body: Iterable[Sequence[str]], row_class: Sequence[str] = ()) -> str:
    numeric = [any(h.endswith(word) for word in _NUMERIC_HEADS) for h in headers]
    prose = [h in _PROSE_HEADS for h in headers]
    lines = [
        "<table>",
        "<thead><tr>"
        + "".join(
            f'<th class="num">{_ESC(h)}</th>' if n else f"<th>{_ESC(h)}</th>"
            for h, n in zip(headers, numeric)
        )
        + "</tr></thead>",
        "<tbody>",
    ]
    for k, cells in enumerate(body):
        cls = f' class="{_ESC(row_class[k])}"' if k < len(row_class) and row_class[k] else ""
        tds = []
        for cell, is_num, is_prose in zip(cells, numeric, prose):
            classes = ["num"] if is_num else ["message"] if is_prose else []
            if "FAILS" in cell:
                classes.append("fails")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            tds.append(f"<td{attr}>{_ESC(cell)}</td>")
        lines.append(f"<tr{cls}>" + "".join(tds) + "</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _wrap(title: str, body: str, fragment: bool) -> str:
    inner = f'<div class="nin-mx">\n<style>{_CSS}</style>\n{body}\n</div>'
    if fragment:
        return inner
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_ESC(title)}</title>\n</head>\n<body>\n{inner}\n</body>\n</html>\n"
    )


def findings_to_html(findings: Sequence[Finding], mode: str | None = None) -> str:
    """A table of findings: severity, rule, layer and message (one row each; messages wrap),
    under their count per severity when ``mode`` names the border mode."""
    headers = ["severity", "rule", "layer", "message"]
    body = [[f.severity.value, f.rule, f.layer or "", f.message] for f in findings]
    caption = f"<p>{_ESC(finding_lines(mode, findings)[0])}</p>\n" if mode is not None else ""
    return caption + _table(headers, body, [f.severity.value for f in findings])


def _totals(doc: Document) -> str:
    headers = ["mode", "output", "params", "aux", "MACs", "activations", "status"]
    body = [
        [
            str(r.border_mode),
            dims(r.output_shape),
            f"{r.total_params:,}",
            f"{r.total_aux:,}",
            f"{r.total_macs:,}",
            mib(r.activation_bytes),
            "ok" if r.ok else f"FAILS: {r.error}",
        ]
        for r in doc.reports
    ]
    return _table(headers, body)


def _view_section(doc: Document, view: View, blocks: BlockMap | None, open_: bool) -> str:
    if view is View.LAYERS:
        headers, body = layer_cells(doc.reports, with_costs=True)
        label = f"Layers ({len(body)} rows)"
    else:
        dv = group_rows(doc, view, blocks=blocks)
        headers, body = view_cells(dv, with_costs=True)
        label = f"{view.value.capitalize()} ({len(body)} rows, by {dv.basis})"
    return (
        f'<details{" open" if open_ else ""} class="view-{view.value}">\n<summary>{_ESC(label)}</summary>\n'
        f"{_table(headers, body)}\n</details>"
    )


def render_html(
    doc: Document, view: View | str | None = None, *, blocks: BlockMap | None = None, fragment: bool = False
) -> str:
    """A self-contained HTML page of a document (see the module docstring).

    Args:
        doc: the document.
        view: the view shown first and open; default ``blocks``. Every view is on the page.
        blocks: overrides the document's blocks (:func:`nin_mx.views.block_map`).
        fragment: the markup without ``<html>``/``<head>``, for Jupyter.

    Raises:
        ValueError: for an unknown view.
    """
    first = View.parse(view) if view is not None else View.BLOCKS
    order = [first, *(v for v in (View.BLOCKS, View.STAGES, View.LAYERS) if v is not first)]
    heading = f"<h1>{_ESC(title(doc))}</h1>"
    if doc.findings is not None:  # the count per severity, in the header
        counts = [_finding_counts(str(r.border_mode), f) for r, f in zip(doc.reports, doc.findings)]
        heading = "\n".join(["<header>", heading, *counts, "</header>"])
    parts = [heading, "<h2>Totals</h2>", _totals(doc)]
    if doc.findings is not None:  # right under the totals, before the long tables
        parts.append("<h2>Findings</h2>")
        parts += [findings_to_html(f, str(r.border_mode)) for r, f in zip(doc.reports, doc.findings)]
    notes = [f"{r.border_mode}: {note}" for r in doc.reports for note in r.notes]
    notes += summary_lines(dataclasses.replace(doc, reports=(), findings=None))  # pooling, min input
    if notes:
        parts += ["<h2>Notes</h2>", "<ul>", *(f"<li>{_ESC(line)}</li>" for line in notes), "</ul>"]
    parts.append("<h2>Views</h2>")
    parts += [_view_section(doc, v, blocks, v is first) for v in order]
    return _wrap(f"{doc.model} - nin_mx report", "\n".join(parts), fragment)


def _finding_counts(mode: str, findings: Sequence[Finding]) -> str:
    """``findings under valid: 3 (1 error, 2 info)``, in the colour of the worst severity."""
    worst = max((f.severity for f in findings), default=None)
    cls = f"finding-counts {worst.value}" if worst is not None else "finding-counts"
    return f'<p class="{cls}">{_ESC(finding_lines(mode, findings)[0])}</p>'


def diff_to_html(diff: GraphDiff, all_rows: bool = False, *, fragment: bool = False) -> str:
    """A self-contained HTML page of a diff: the changed and one-sided rows (every pair with
    ``all_rows``), coloured by status, then the summary lines."""
    headers, body = diff_cells(diff, all_rows)
    statuses = [row.status.value for row in diff.rows if all_rows or row.status is not RowStatus.SAME]
    heading = diff_title(diff)
    table = _table(headers, body, statuses) if body else "<p>No differences.</p>"
    summary = "\n".join(f"<li>{_ESC(line)}</li>" for line in diff_summary(diff))
    return _wrap(
        f"{diff.model_a} vs {diff.model_b} - nin_mx diff",
        f"<h1>{_ESC(heading)}</h1>\n{table}\n<ul>\n{summary}\n</ul>",
        fragment,
    )
