"""``nin_mx.check``: what is wrong with a graph at one input size, and with its checkpoint.

The graph rules (:mod:`nin_mx.checks.rules`) read the shape report and the border arithmetic; the
checkpoint rules (:mod:`nin_mx.checks.params`) compare a ``.params`` file with the shapes MXNet infers.
Both return :class:`~nin_mx.findings.Finding` values; a finding of severity ``warning`` or
``error`` is what makes ``nin-shape-report --check`` exit with 3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

from nin_mx.checks.findings import Finding, Severity
from nin_mx.checks.params import StoredArray, check_params
from nin_mx.checks.rules import find_pitfalls
from nin_mx.core.errors import ShapeError
from nin_mx.graph.source import Graph
from nin_mx.report.rows import InputShapes, Report, report_graph

__all__ = ["check", "diagnose", "has_problems"]

Params = Union[str, "os.PathLike[str]", Mapping[str, StoredArray]]


def diagnose(
    graph: Graph, report: Report, *, pitfalls: bool = True, params: Params | None = None
) -> list[Finding]:
    """The findings of a graph's report: its pitfalls, then its checkpoint's mismatches.

    Args:
        graph: the graph the report was made of.
        report: its shape report; of a failed report, the layers before the failure are
            checked, and the checkpoint is not (its shapes cannot be inferred).
        pitfalls: run the graph rules (``False``: the checkpoint only).
        params: a ``.params`` path, or what :func:`nin_mx.params.load_params` returned.

    Raises:
        nin_mx.errors.GraphError: for a file that is not an MXNet NDArray file.
    """
    findings = find_pitfalls(graph.nodes, report) if pitfalls else []
    if pitfalls:  # a file MXNet's own loader refuses (nin_mx.graph.mxnet_json.mxnet_load_refusal)
        findings += [
            Finding("mxnet-cannot-load", Severity.ERROR, None, note)
            for note in graph.notes
            if note.startswith("MXNet 1.9.1 cannot load this file: ")
        ]
    if params is not None and report.ok:
        findings += check_params(graph, report.input_shapes, params)
    return findings


def check(
    model: Any,
    data_shape: InputShapes,
    /,
    *,
    border_mode: str | None = None,
    params: Params | None = None,
    **factory_kwargs: Any,
) -> list[Finding]:
    """Diagnoses a graph at one input size: the global-pooling and border-mode pitfalls.

    Args:
        model: a registered model name, a ``-symbol.json`` path, an ``mx.sym.Symbol``, a Gluon
            ``HybridBlock`` or a :class:`~nin_mx.source.Graph`.
        data_shape: the input's full shape ``(N, C, H, W)``, or shapes by input name.
        border_mode: for registered models, as in :func:`nin_mx.report.shape_report`.
        params: also check this checkpoint (a ``.params`` path) against the graph.
        **factory_kwargs: other factory arguments (``pool_kernel``, ``num_classes``, ...).

    Returns:
        The findings, in graph order (the checkpoint's after the graph's).

    Raises:
        ValueError: for an unknown model, a bad shape or argument.
        nin_mx.errors.GraphError: for a file that cannot be loaded.
        nin_mx.errors.ShapeError: if the graph cannot take ``data_shape`` at all (the report's
            one-line error, naming the layer).
    """
    graph = Graph.resolve(model, border_mode=border_mode, **factory_kwargs)
    report = report_graph(graph, data_shape)
    if not report.ok:
        raise ShapeError(report.error or "shapes cannot be inferred", layer=report.failed_at)
    return diagnose(graph, report, params=params)


def has_problems(findings: Sequence[Finding]) -> bool:
    """Whether any finding is a warning or an error (``--check`` then exits with 3)."""
    return any(f.severity >= Severity.WARNING for f in findings)
