"""Rendering: a Document, a GraphDiff or findings -> table, markdown, CSV, JSON or HTML.

:func:`render` is the one entry. Below it: :mod:`~nin_mx.render.cells` (what every format
shares), :mod:`~nin_mx.render.text` (a document's layer report), :mod:`~nin_mx.render.view`
(blocks and stages), :mod:`~nin_mx.render.diff`, :mod:`~nin_mx.render.fix` and
:mod:`~nin_mx.render.html`, which uses the cells of the others. Pure functions; nothing here
prints. The format modules are imported when first used (a JSON report loads no HTML code);
every public name below is importable from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nin_mx.core.enums import OutputFormat, View

if TYPE_CHECKING:
    from nin_mx.analysis.diff import GraphDiff
    from nin_mx.analysis.views import BlockMap
    from nin_mx.checks.findings import Finding
    from nin_mx.document import Document

# Public name -> the module of this package that defines it.
_NAMES = {
    "SCHEMA_VERSION": "cells",
    "finding_to_dict": "cells",
    "diff_to_dict": "diff",
    "render_diff_csv": "diff",
    "render_diff_json": "diff",
    "render_diff_markdown": "diff",
    "render_diff_table": "diff",
    "fix_to_dict": "fix",
    "render_fix": "fix",
    "diff_to_html": "html",
    "findings_to_html": "html",
    "render_html": "html",
    "parse_format": "text",
    "render_csv": "text",
    "render_json": "text",
    "render_markdown": "text",
    "render_table": "text",
    "to_dict": "text",
    "render_view_csv": "view",
    "render_view_json": "view",
    "render_view_markdown": "view",
    "render_view_table": "view",
    "view_cells": "view",
    "view_to_dict": "view",
}

__all__ = sorted([*_NAMES, "OutputFormat", "render", "render_diff", "render_view"])


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'nin_mx.render' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nin_mx.render.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _module(name: str) -> Any:
    return importlib.import_module(f"nin_mx.render.{name}")


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
    from nin_mx.analysis.diff import GraphDiff
    from nin_mx.document import Document

    fmt = OutputFormat.parse(fmt)
    if isinstance(obj, GraphDiff):
        if fmt is OutputFormat.HTML:
            return _module("html").diff_to_html(obj, all_rows)
        diff = _module("diff")
        if fmt is OutputFormat.JSON:
            return diff.render_diff_json(obj)
        return getattr(diff, f"render_diff_{fmt.value}")(obj, all_rows)
    if isinstance(obj, Document):
        if fmt is OutputFormat.HTML:
            return _module("html").render_html(obj, view=view, blocks=blocks)
        chosen = View.LAYERS if view is None else View.parse(view)
        return getattr(_module("view"), f"render_view_{fmt.value}")(obj, chosen, blocks=blocks)
    findings = list(obj)
    cells = _module("cells")
    if fmt is OutputFormat.HTML:
        return _module("html").findings_to_html(findings)
    if fmt is OutputFormat.JSON:
        return cells.encode([cells.finding_to_dict(f) for f in findings]) + "\n"
    if fmt is OutputFormat.TABLE:
        return "\n".join(cells.finding_lines(None, findings)) + "\n"
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
