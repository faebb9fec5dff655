"""The two refusals of issue 29 on whole graphs, without MXNet: Gluon's ``F.arange(80)`` (an
``_arange`` with ``start=80, stop=None``, which MXNet's ``RangeParamParser`` reads as 0..80:
src/operator/tensor/init_op.h) in every GluonCV SSD/CenterNet/YOLO export, and NASNet's
``slice`` with ``end='(None, None, None, None)'`` (a ``Tuple<optional<int>>``:
src/operator/tensor/slice-inl.h). The shapes are MXNet 1.9.1's (``test_mxnet_agrees``)."""

from __future__ import annotations

import json

import pytest

from nin_mx.graph.source import Graph
from nin_mx.report.rows import shape_report


def _graph(tmp_path, name, nodes, heads):
    path = tmp_path / f"{name}-symbol.json"
    graph = {
        "nodes": nodes,
        "arg_nodes": [i for i, n in enumerate(nodes) if n["op"] == "null"],
        "heads": heads,
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path


DATA = {"op": "null", "name": "data", "inputs": []}
ARANGE = {
    "op": "_arange",
    "name": "arange0",
    "attrs": {"start": "80", "stop": "None", "infer_range": "False"},
}
SLICE = {
    "op": "slice",
    "name": "cellstem10_slice0",
    "attrs": {"begin": "(None, None, 1, 1)", "end": "(None, None, None, None)"},
    "inputs": [[0, 0, 0]],
}
CASES = {
    # name: (nodes, heads, input shape, the output MXNet 1.9.1 infers)
    "arange": (
        [
            DATA,
            {**ARANGE, "inputs": []},
            {"op": "broadcast_add", "name": "add", "inputs": [[0, 0, 0], [1, 0, 0]]},
        ],
        [[2, 0, 0]],
        (1, 80),
        (1, 80),
    ),
    "slice": ([DATA, SLICE], [[1, 0, 0]], (1, 3, 8, 8), (1, 3, 7, 7)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inferred_without_mxnet(tmp_path, name):
    nodes, heads, shape, expected = CASES[name]
    report = shape_report(str(_graph(tmp_path, name, nodes, heads)), shape)
    assert report.error is None, report.error
    assert report.output_shape == expected


@pytest.mark.mxnet
@pytest.mark.parametrize("name", sorted(CASES))
def test_mxnet_agrees(tmp_path, name):
    nodes, heads, shape, expected = CASES[name]
    graph = Graph.from_file(_graph(tmp_path, name, nodes, heads))
    _, outs, _ = graph.symbol.infer_shape(data=shape)
    assert outs == [expected]
