"""Reports: a Graph and input shapes -> rows -> a :class:`Report` per border mode; the smallest
input size; the pooling comparison."""

from __future__ import annotations

from nin_mx.report.rows import (
    InputShapes,
    LayerRow,
    Report,
    compare_border_modes,
    report_graph,
    resolve_inputs,
    shape_report,
)

__all__ = [
    "InputShapes",
    "LayerRow",
    "Report",
    "compare_border_modes",
    "report_graph",
    "resolve_inputs",
    "shape_report",
]
