"""nin_mx: MXNet symbols of NIN and Inception-ResNet-v2, and their shapes under every border mode.

The public API is re-exported here and imported on first use, so that importing nin_mx
(and running ``nin-shape-report --help``) does not import MXNet. Rendering lives in
:mod:`nin_mx.render` (``render(document, fmt)``); a function of that name is not re-exported
here, because the submodule's import would shadow it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BorderMode": "nin_mx.border",
    "PoolingConvention": "nin_mx.border",
    "ReportMode": "nin_mx.border",
    "conv_output_size": "nin_mx.border",
    "pad_for": "nin_mx.border",
    "pool_output_size": "nin_mx.border",
    "check": "nin_mx.diagnose",
    "Finding": "nin_mx.findings",
    "Severity": "nin_mx.findings",
    "GraphError": "nin_mx.errors",
    "ShapeError": "nin_mx.errors",
    "get_symbol": "nin_mx.models",
    "list_models": "nin_mx.models",
    "PoolingComparison": "nin_mx.pooling",
    "compare_pooling": "nin_mx.pooling",
    "manual_symbol": "nin_mx.pooling",
    "Graph": "nin_mx.source",
    "Document": "nin_mx.report",
    "LayerRow": "nin_mx.report",
    "Report": "nin_mx.report",
    "compare_border_modes": "nin_mx.report",
    "shape_report": "nin_mx.report",
    "min_input_size": "nin_mx.min_input",
    "GraphDiff": "nin_mx.diff",
    "RowDiff": "nin_mx.diff",
    "RowStatus": "nin_mx.diff",
    "diff_reports": "nin_mx.diff",
    "graph_attrs": "nin_mx.diff",
    "OutputFormat": "nin_mx.render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nin_mx' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
