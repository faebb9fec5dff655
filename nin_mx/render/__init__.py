"""Rendering: a Document, a GraphDiff or findings -> table, markdown, CSV, JSON or HTML.

``render(doc, fmt)`` is the entry; the format modules are below it.
"""

from __future__ import annotations

from nin_mx.render.text import (
    SCHEMA_VERSION,
    OutputFormat,
    finding_to_dict,
    parse_format,
    render,
    render_csv,
    render_json,
    render_markdown,
    render_table,
    to_dict,
)

__all__ = [
    "SCHEMA_VERSION",
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
