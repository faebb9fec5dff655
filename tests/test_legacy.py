"""Files of MXNet before 0.9 (``param``/``attr`` keys, BatchNorm stored without its moving
statistics), read by nin_mx as MXNet 1.9.1 upgrades them (``src/nnvm/legacy_json_util.cc``),
and files saved by other versions: the same nodes, shapes and notes as MXNet, without MXNet."""

from __future__ import annotations

import json

import pytest

from nin_mx import Graph, shape_report

LEGACY = {
    "nodes": [
        {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "conv_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "conv_bias", "inputs": [], "backward_source_id": -1},
        {
            "op": "Convolution",
            "param": {"kernel": "(3, 3)", "num_filter": "8", "pad": "(1, 1)"},
            "name": "conv",
            "inputs": [[0, 0], [1, 0], [2, 0]],
            "backward_source_id": -1,
        },
        {"op": "null", "param": {}, "name": "bn_gamma", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "bn_beta", "inputs": [], "backward_source_id": -1},
        {
            "op": "BatchNorm",
            "param": {"eps": "0.001", "fix_gamma": "False"},
            "attr": {"lr_mult": "0.5"},
            "name": "bn",
            "inputs": [[3, 0], [4, 0], [5, 0]],
            "backward_source_id": -1,
        },
    ],
    "arg_nodes": [0, 1, 2, 4, 5],
    "heads": [[6, 0]],
}


def _write(tmp_path, graph):
    path = tmp_path / "old-symbol.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path


def test_batchnorm_of_a_legacy_file_gets_its_moving_statistics(tmp_path):
    graph = Graph.from_file(_write(tmp_path, LEGACY))
    names = [node.name for node in graph.nodes]
    assert names == [
        "data", "conv_weight", "conv_bias", "conv", "bn_gamma", "bn_beta",
        "bn_moving_mean", "bn_moving_var", "bn",
    ]  # fmt: skip
    assert graph.notes == ("saved by MXNet v0.8.0, upgraded on load",)
    report = shape_report(graph, (1, 3, 8, 8))
    assert report.ok and report.total_aux == 16 and report.total_params == 8 * 27 + 8 + 16


@pytest.mark.parametrize(
    ("version", "note"), [(10500, "saved by MXNet v1.5.0, upgraded on load"), (10901, None)]
)
def test_version_notes_are_mxnets(tmp_path, version, note):
    graph = {**LEGACY, "attrs": {"mxnet_version": ["int", version]}}
    assert Graph.from_file(_write(tmp_path, graph)).notes == ((note,) if note else ())


@pytest.mark.mxnet
@pytest.mark.parametrize("version", [None, 10500])
def test_mxnet_agrees(tmp_path, version):
    """MXNet's own load of the same file: its nodes, its internal shapes, its notes."""
    from nin_mx._mxnet import mx
    from nin_mx.graph.nodes import parse_nodes

    raw = LEGACY if version is None else {**LEGACY, "attrs": {"mxnet_version": ["int", version]}}
    path = _write(tmp_path, raw)
    symbol = mx.sym.load(str(path))
    theirs = [n.name for n in parse_nodes(symbol.tojson())]
    ours = Graph.from_file(path)
    assert [n.name for n in ours.nodes] == theirs
    report = shape_report(ours, (1, 3, 8, 8))
    if version is not None:  # from 0.9 on MXNet adds no statistics: BatchNorm lacks two inputs
        with pytest.raises(mx.base.MXNetError, match="Input:"):
            symbol.get_internals().infer_shape(data=(1, 3, 8, 8))
        assert not report.ok and "'bn'" in report.error
        return
    _, outs, auxs = symbol.get_internals().infer_shape(data=(1, 3, 8, 8))
    assert report.output_shape == outs[-1]
    assert report.total_aux == sum(a[0] for a in auxs)
