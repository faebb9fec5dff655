"""Everything one run shows, assembled once: a :class:`Document`.

The CLI, the walkthrough and library users build one with :func:`build_document` from resolved
graphs (one per border mode), and :func:`nin_mx.render.render` formats it. Pure data; the
reports, the pooling comparison, the minimum input sizes and the findings come from the
layers below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nin_mx.analysis.views import BlockMap, block_map
from nin_mx.checks.findings import Finding
from nin_mx.checks.params import StoredArray
from nin_mx.core.validate import Shape
from nin_mx.graph.source import Graph
from nin_mx.report.comparison import PoolingComparison
from nin_mx.report.rows import InputShapes, Report, report_graph

__all__ = ["Document", "build_document"]


@dataclass(frozen=True)
class Document:
    """Everything one ``nin-shape-report`` run shows; :func:`nin_mx.render.render` formats it.

    Attributes:
        model: the model's name or the symbol file's name.
        input_shapes: the input shape(s), by input name, batch axis included.
        reports: one :class:`~nin_mx.report.Report` per border mode, all of the same graph.
        pooling_comparison: a :class:`~nin_mx.report.comparison.PoolingComparison`, or ``None``.
        min_input: border mode -> smallest square input side, or ``None``.
        findings: with ``--check`` or ``--params``: the findings of each report, in the
            reports' order (:func:`nin_mx.checks.check.diagnose`), or ``None``.
        blocks: the graph's blocks (:func:`nin_mx.analysis.views.block_map` of its nodes), for
            the ``blocks`` view; ``None``: that view falls back to stages.

    In Jupyter a document shows as HTML (:func:`nin_mx.render.html.render_html`).
    """

    model: str
    input_shapes: Mapping[str, Shape]
    reports: Sequence[Report]
    pooling_comparison: PoolingComparison | None = None
    min_input: Mapping[str, int] | None = None
    findings: Sequence[Sequence[Finding]] | None = None
    blocks: BlockMap | None = None

    def _repr_html_(self) -> str:
        from nin_mx.render.html import render_html  # the one upward import: _repr_html_ only

        return render_html(self, fragment=True)


def build_document(
    graphs: Sequence[Graph],
    shapes: InputShapes,
    *,
    compare_pooling: bool = False,
    min_input: bool = False,
    check: bool = False,
    params: Mapping[str, StoredArray] | None = None,
    reports: Sequence[Report] | None = None,
    model_args: Mapping[str, Any] | None = None,
) -> Document:
    """The reports of one graph under one or more border modes, and what else was asked for.

    Args:
        graphs: the graph, resolved once per border mode (the same graph for a file).
        shapes: the input shape(s), as :func:`nin_mx.report.shape_report` takes them.
        compare_pooling: add the pooling comparison (a registered model only), under the one
            border mode of ``graphs``, else under the model's published padding.
        min_input: add the smallest square input side per border mode.
        check: add the graph rules' findings.
        params: a checkpoint's arrays (:func:`nin_mx.checks.params.load_params`): add the
            checkpoint rules' findings.
        reports: the reports of ``graphs``, when already made.
        model_args: the factory arguments the model was built with (``num_classes``, ...),
            for the pooling comparison, which builds it again.

    Raises:
        ValueError: for a bad shape, or an option that does not apply (named in the message).
    """
    from nin_mx.checks.check import diagnose
    from nin_mx.report.min_input import min_input_size

    if reports is None:
        reports = [report_graph(graph, shapes) for graph in graphs]
    comparison = None
    if compare_pooling:
        from nin_mx.export.compare import compare_pooling as compare

        mode = graphs[0].mode.border_mode if len(graphs) == 1 else None
        try:
            comparison = compare(
                graphs[0].model or graphs[0].label,
                reports[0].input_shape,
                border_mode=mode,
                **dict(model_args or {}),
            )
        except ValueError as exc:  # say which option failed: the reports themselves may be fine
            raise ValueError(f"--compare-pooling: {exc}") from exc
    sizes = None
    if min_input:
        first = reports[0].input_shape
        try:
            sizes = {
                graph.mode.value: min_input_size(graph, channels=first[1], batch=first[0]) for graph in graphs
            }
        except ValueError as exc:
            raise ValueError(f"--min-input: {exc}") from exc
    findings = None
    if check or params is not None:
        findings = [
            diagnose(graph, report, pitfalls=check, params=params) for graph, report in zip(graphs, reports)
        ]
    return Document(
        graphs[0].label,
        reports[0].input_shapes,
        list(reports),
        comparison,
        sizes,
        findings,
        block_map(graphs[0].nodes),
    )
