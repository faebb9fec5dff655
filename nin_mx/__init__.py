"""nin_mx: MXNet symbols of NIN and Inception-ResNet-v2, and their shapes under every border mode.

The public API is re-exported here and imported on first use, so that importing nin_mx
(and running ``nin-shape-report --help``) does not import MXNet. Rendering lives in
:mod:`nin_mx.render` (``render(document, fmt)``); a function of that name is not re-exported
here, because the submodule's import would shadow it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BorderMode": "nin_mx.core.border",
    "PoolingConvention": "nin_mx.core.border",
    "ReportMode": "nin_mx.core.border",
    "conv_output_size": "nin_mx.core.border",
    "pad_for": "nin_mx.core.border",
    "pool_output_size": "nin_mx.core.border",
    "check": "nin_mx.checks.check",
    "Finding": "nin_mx.checks.findings",
    "Severity": "nin_mx.checks.findings",
    "GraphError": "nin_mx.core.errors",
    "ShapeError": "nin_mx.core.errors",
    "get_symbol": "nin_mx.models",
    "list_models": "nin_mx.models",
    "symbol_json": "nin_mx.models",
    "PoolingComparison": "nin_mx.report.comparison",
    "compare_pooling": "nin_mx.export.compare",
    "manual_symbol": "nin_mx.report.comparison",
    "manual_pool_kernel": "nin_mx.report.comparison",
    "Graph": "nin_mx.graph.source",
    "Document": "nin_mx.document",
    "LayerRow": "nin_mx.report",
    "Report": "nin_mx.report",
    "compare_border_modes": "nin_mx.report",
    "shape_report": "nin_mx.report",
    "min_input_size": "nin_mx.report.min_input",
    "GraphDiff": "nin_mx.analysis.diff",
    "RowDiff": "nin_mx.analysis.diff",
    "RowStatus": "nin_mx.analysis.diff",
    "diff_reports": "nin_mx.analysis.diff",
    "graph_attrs": "nin_mx.analysis.diff",
    "OutputFormat": "nin_mx.render",
    "build_document": "nin_mx.document",
    "fix": "nin_mx.checks.fix",
    "FixResult": "nin_mx.checks.fix",
    "to_onnx": "nin_mx.export.model",
}

__all__ = sorted(_EXPORTS)

# Module paths of earlier versions, which the README and the walkthrough showed, and where the
# module now lives (docs/architecture.md). ``import nin_mx.pooling`` gives the module itself.
_MOVED = {
    "nin_mx.border": "nin_mx.core.border",
    "nin_mx.errors": "nin_mx.core.errors",
    "nin_mx.layers": "nin_mx.models.layers",
    "nin_mx.source": "nin_mx.graph.source",
    "nin_mx.infer": "nin_mx.graph.infer",
    "nin_mx.walk": "nin_mx.graph.walk",
    "nin_mx.min_input": "nin_mx.report.min_input",
    "nin_mx.pooling": "nin_mx.report.comparison",
    "nin_mx.views": "nin_mx.analysis.views",
    "nin_mx.align": "nin_mx.analysis.align",
    "nin_mx.diff": "nin_mx.analysis.diff",
    "nin_mx.findings": "nin_mx.checks.findings",
    "nin_mx.rules": "nin_mx.checks.rules",
    "nin_mx.params": "nin_mx.checks.params",
    "nin_mx.diagnose": "nin_mx.checks.check",
    "nin_mx.render_view": "nin_mx.render",
    "nin_mx.render_diff": "nin_mx.render",
    "nin_mx.render_html": "nin_mx.render",
    "nin_mx.request": "nin_mx.cli.request",
}


class _MovedModules:
    """Imports a module by its old path: the module at its new path, under both names (a meta
    path finder and its loader; not ``importlib.abc``'s, whose import would cost ``--help``)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module: Any) -> None:
        pass


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nin_mx' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
