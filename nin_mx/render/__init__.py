"""Rendering: a Document, a GraphDiff or findings -> table, markdown, CSV, JSON or HTML.

:func:`render` is the one entry. Below it: :mod:`~nin_mx.render.cells` (what every format
shares), :mod:`~nin_mx.render.text` (a document's layer report), :mod:`~nin_mx.render.view`
(blocks and stages), :mod:`~nin_mx.render.diff` and :mod:`~nin_mx.render.html`, which uses the
cells of the others. Pure functions; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence

from nin_mx.analysis.diff import GraphDiff
from nin_mx.analysis.views import BlockMap
from nin_mx.checks.findings import Finding
from nin_mx.core.enums import OutputFormat, View
from nin_mx.document import Document
from nin_mx.render.cells import SCHEMA_VERSION, encode, finding_lines, finding_to_dict
from nin_mx.render.diff import (
    diff_to_dict,
    render_diff_csv,
    render_diff_json,
    render_diff_markdown,
    render_diff_table,
)
from nin_mx.render.fix import fix_to_dict, render_fix
from nin_mx.render.html import diff_to_html, findings_to_html, render_html
from nin_mx.render.text import (
    parse_format,
    render_csv,
    render_json,
    render_markdown,
    render_table,
    to_dict,
)
from nin_mx.render.view import (
    render_view_csv,
    render_view_json,
    render_view_markdown,
    render_view_table,
    view_cells,
    view_to_dict,
)

__all__ = [
    "SCHEMA_VERSION",
    "OutputFormat",
    "diff_to_dict",
    "diff_to_html",
    "finding_to_dict",
    "findings_to_html",
    "fix_to_dict",
    "parse_format",
    "render",
    "render_csv",
    "render_diff",
    "render_diff_csv",
    "render_diff_json",
    "render_diff_markdown",
    "render_diff_table",
    "render_fix",
    "render_html",
    "render_json",
    "render_markdown",
    "render_table",
    "render_view",
    "render_view_csv",
    "render_view_json",
    "render_view_markdown",
    "render_view_table",
    "to_dict",
    "view_cells",
    "view_to_dict",
]

_VIEWS = {
    OutputFormat.TABLE: render_view_table,
    OutputFormat.MARKDOWN: render_view_markdown,
    OutputFormat.CSV: render_view_csv,
    OutputFormat.JSON: render_view_json,
}
_DIFFS = {
    OutputFormat.TABLE: render_diff_table,
    OutputFormat.MARKDOWN: render_diff_markdown,
    OutputFormat.CSV: render_diff_csv,
    OutputFormat.HTML: diff_to_html,
}


def render(
    obj: Document | GraphDiff | Sequence[Finding],
    fmt: OutputFormat | str = OutputFormat.TABLE,
    view: View | str | None = None,
    *,
    blocks: BlockMap | None = None,
    all_rows: bool = False,
) -> str:
    """Renders a document, a diff or a list of findings in a format.

    Args:
        obj: a :class:`~nin_mx.document.Document`, a :class:`~nin_mx.analysis.diff.GraphDiff`,
            or findings (table, JSON or HTML).
        fmt: ``table`` (default), ``markdown``, ``csv``, ``json`` or ``html``.
        view: for a document: ``layers`` (default; for HTML: ``blocks`` first), ``blocks`` or
            ``stages``.
        blocks: for a document, overrides its own blocks.
        all_rows: for a diff: every pair, not only the differences (JSON always has every pair).

    Raises:
        ValueError: for an unknown format or view, or a format a list of findings has no form in.
    """
    fmt = OutputFormat.parse(fmt)
    if isinstance(obj, GraphDiff):
        return render_diff_json(obj) if fmt is OutputFormat.JSON else _DIFFS[fmt](obj, all_rows)
    if isinstance(obj, Document):
        if fmt is OutputFormat.HTML:
            return render_html(obj, view=view, blocks=blocks)
        return _VIEWS[fmt](obj, View.LAYERS if view is None else View.parse(view), blocks=blocks)
    findings = list(obj)
    if fmt is OutputFormat.HTML:
        return findings_to_html(findings)
    if fmt is OutputFormat.JSON:
        return encode([finding_to_dict(f) for f in findings]) + "\n"
    if fmt is OutputFormat.TABLE:
        return "\n".join(finding_lines(None, findings)) + "\n"
    raise ValueError(f"findings render as table, json or html, not {fmt}")


def render_view(
    doc: Document,
    fmt: OutputFormat | str = OutputFormat.TABLE,
    view: View | str = View.LAYERS,
    *,
    blocks: BlockMap | None = None,
) -> str:
    """A document in a format and a view (:func:`render` with ``view``)."""
    return render(doc, fmt, View.parse(view), blocks=blocks)


def render_diff(diff: GraphDiff, fmt: OutputFormat | str = OutputFormat.TABLE, all_rows: bool = False) -> str:
    """A diff in a format (:func:`render` of a GraphDiff)."""
    return render(diff, fmt, all_rows=all_rows)
