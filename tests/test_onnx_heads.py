"""The exported model's outputs are MXNet's heads: what ``executor.forward`` returns, in order,
named as ``list_outputs()`` names them (a repeated name made unique), with MXNet's values.

MXNet is the judge of every case: its ``list_outputs()``, its forward pass with the
checkpoint's weights, and the JSON ``heads`` it writes; onnxruntime runs the exported model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import mxnet as mx
import onnx
from _onnx import RTOL, mxnet_forward, run_ort, save_checkpoint

from nin_mx import Graph
from nin_mx.core.errors import GraphError
from nin_mx.core.ops import OPS
from nin_mx.export import export_onnx
from nin_mx.export.builder import mxnet_output_name
from nin_mx.models import symbol as nsym

pytestmark = pytest.mark.mxnet

SHAPE = (2, 3, 8, 8)
S, C = mx.sym, mx.sym.contrib


def _data():
    return S.var("data")


def _conv(x, name="conv", filters=4):
    return S.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=filters, name=name)


def _head_read_by_another():  # conv is a head, and relu reads it
    conv = _conv(_data())
    return S.Group([conv, S.relu(conv, name="relu")])


def _repeated_head():  # MXNet lists fc_output twice
    fc = S.FullyConnected(_data(), num_hidden=5, name="fc")
    return S.Group([fc, S.relu(fc, name="relu"), fc])


def _split_heads():  # outputs of a SliceChannel as heads, out of order, one of them read too
    split = S.SliceChannel(_conv(_data()), num_outputs=2, axis=1, name="split")
    return S.Group([split[1], S.relu(split[1], name="relu"), split[0]])


def _whole_split():  # the SliceChannel itself: every output a head
    return S.SliceChannel(_conv(_data()), num_outputs=4, axis=1, name="split")


def _bn_mean_var_not_heads():  # BatchNorm's mean and variance: outputs no one reads, not heads
    bn = S.BatchNorm(_conv(_data()), fix_gamma=False, output_mean_var=True, name="bn")
    return bn[0]


def _data_as_head():  # a variable (the data input) as a head
    data = _data()
    return S.Group([S.relu(_conv(data), name="relu"), data])


CASES = {
    "head-read-by-another": _head_read_by_another,
    "repeated-head": _repeated_head,
    "split-heads": _split_heads,
    "whole-split": _whole_split,
    "bn-mean-var-not-heads": _bn_mean_var_not_heads,
    "data-as-head": _data_as_head,
}


def _unique(names, inputs=("data",)):
    """MXNet's names with the export's rule for a repeat, and for an input that is a head (ONNX
    names its outputs uniquely, and apart from its inputs): ``<name>__<position>``."""
    seen, out = set(), []
    for position, name in enumerate(names):
        out.append(name if name not in seen and name not in inputs else f"{name}__{position}")
        seen.add(name)
    return out


def _judge(symbol, sym_path, params, tmp_path):
    inputs = {"data": np.random.RandomState(1).uniform(-1, 1, SHAPE).astype(np.float32)}
    exported = export_onnx(str(sym_path), params=params, input_shapes=SHAPE)
    model = exported.model
    onnx.checker.check_model(model, full_check=True)
    names = mx.sym.load(str(sym_path)).list_outputs()
    assert [o.name for o in model.graph.output] == _unique(names)
    want = mxnet_forward(symbol, params, inputs)
    got = run_ort(model, inputs)
    assert len(got) == len(want) == len(names)
    for name, g, w in zip(names, got, want):
        assert g.shape == w.shape, name
        assert np.abs(g - w).max() <= RTOL * max(np.abs(w).max(), 1e-12), name
    return exported


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_are_mxnets_heads_in_order_with_its_values(case, tmp_path):
    symbol = CASES[case]()
    sym_path, params = save_checkpoint(symbol, tmp_path, case, {"data": SHAPE})
    _judge(symbol, sym_path, params, tmp_path)


def test_a_dangling_node_in_a_file_is_not_an_output(tmp_path):
    """A node no head reads (hand-written into the JSON) is dropped, as MXNet drops it on load."""
    symbol = S.relu(_conv(_data()), name="relu")
    sym_path, params = save_checkpoint(symbol, tmp_path, "dangling", {"data": SHAPE})
    raw = json.loads(sym_path.read_text())
    relu = raw["heads"][0][0]
    raw["nodes"].insert(relu, {"op": "sigmoid", "name": "dangling", "inputs": [[relu - 1, 0, 0]]})
    raw["nodes"][relu + 1]["inputs"] = [[relu - 1, 0, 0]]
    raw["heads"] = [[relu + 1, 0, 0]]
    raw["arg_nodes"] = [i for i, n in enumerate(raw["nodes"]) if n["op"] == "null"]
    raw.pop("node_row_ptr", None)
    sym_path.write_text(json.dumps(raw))
    assert mx.sym.load(str(sym_path)).list_outputs() == ["relu_output"]
    exported = _judge(symbol, sym_path, params, tmp_path)
    assert all(n.op_type != "Sigmoid" for n in exported.model.graph.node)


def test_the_heads_of_a_symbol_a_block_and_nin_mxs_builder(tmp_path):
    symbol = _split_heads()
    heads = json.loads(symbol.tojson())["heads"]
    want = tuple((h[0], h[1]) for h in heads)
    assert Graph.from_symbol(symbol).heads == want
    symbol.save(str(tmp_path / "s-symbol.json"))
    assert Graph.from_file(tmp_path / "s-symbol.json").heads == want
    x = nsym.var("data")
    conv = nsym.op("Convolution", x, name="conv", kernel=(3, 3), num_filter=4)
    split = nsym.op("SliceChannel", conv, name="split", num_outputs=2)
    built = nsym.group([nsym.Symbol(split.node, 1), conv, nsym.Symbol(split.node, 1)])
    mx_built = mx.sym.load_json(built.tojson())
    graph = Graph.from_built(built)
    assert graph.heads == tuple((h[0], h[1]) for h in json.loads(mx_built.tojson())["heads"])
    names = [
        mxnet_output_name(graph.nodes[i], k, 2 if graph.nodes[i].op == "SliceChannel" else 1)
        for i, k in graph.heads
    ]
    assert names == mx_built.list_outputs()


def test_a_weight_as_head_is_refused_in_one_line(tmp_path):
    conv = _conv(_data())
    weight = conv.get_internals()["conv_weight"]
    symbol = S.Group([conv, weight])
    sym_path, params = save_checkpoint(symbol, tmp_path, "w", {"data": SHAPE})
    with pytest.raises(GraphError, match="head 1 of the graph is the variable 'conv_weight'"):
        export_onnx(str(sym_path), params=params, input_shapes=SHAPE)


NAMED = {
    "BatchNorm": lambda d: S.BatchNorm(d, output_mean_var=True, name="x"),
    "LayerNorm": lambda d: S.LayerNorm(d, output_mean_var=True, name="x"),
    "GroupNorm": lambda d: S.GroupNorm(d, output_mean_var=True, name="x"),
    "InstanceNorm": lambda d: S.InstanceNorm(d, name="x"),
    "L2Normalization": lambda d: S.L2Normalization(d, name="x"),
    "LRN": lambda d: S.LRN(d, nsize=3, name="x"),
    "LeakyReLU": lambda d: S.LeakyReLU(d, act_type="rrelu", name="x"),
    "Dropout": lambda d: S.Dropout(d, name="x"),
    "Pooling": lambda d: S.Pooling(d, kernel=(2, 2), name="x"),
    "ROIPooling": lambda d: S.ROIPooling(d, S.var("r"), pooled_size=(2, 2), spatial_scale=1.0, name="x"),
    "SliceChannel": lambda d: S.SliceChannel(d, num_outputs=3, name="x"),
    "_contrib_MultiProposal": lambda d: C.MultiProposal(
        d, S.var("b"), S.var("i"), output_score=True, name="x"
    ),
    "_contrib_Proposal": lambda d: C.Proposal(d, S.var("b"), S.var("i"), output_score=True, name="x"),
    "_contrib_MultiBoxTarget": lambda d: C.MultiBoxTarget(d, S.var("l"), S.var("c"), name="x"),
    "_contrib_bipartite_matching": lambda d: C.bipartite_matching(d, threshold=0.5, name="x"),
    "_contrib_box_nms": lambda d: C.box_nms(d, name="x"),
    "sort": lambda d: S.sort(d, name="x"),
    "topk": lambda d: S.topk(d, ret_typ="both", name="x"),
}


@pytest.mark.parametrize("op", list(NAMED))
def test_output_names_are_mxnets(op):
    """``mxnet_output_name`` against MXNet's ``list_outputs()``, for the operators of several
    outputs: those that name them (BatchNorm's ``mean``) and those that number them."""
    symbol = NAMED[op](_data())
    node = Graph.from_symbol(symbol).nodes[-1]
    assert node.op == op
    count = OPS[op].num_outputs(node.attrs)
    ours = [mxnet_output_name(node, k, count) for k in range(len(symbol.list_outputs()))]
    assert ours == symbol.list_outputs()


def test_the_heads_of_a_gluon_block_returning_two_outputs():
    """A HybridBlock that returns a tuple: both outputs are heads, in the block's order."""

    class Two(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="two_")
            with self.name_scope():
                self.conv = mx.gluon.nn.Conv2D(4, 3, padding=1)

        def hybrid_forward(self, F, x):
            y = self.conv(x)
            return F.relu(y), y

    block = Two()
    block.initialize()
    graph = Graph.from_block(block)
    symbol = mx.sym.Group(list(block(mx.sym.var("data"))))
    names = [mxnet_output_name(graph.nodes[i], k, 1) for i, k in graph.heads]
    assert names == symbol.list_outputs() == ["two_relu0_output", "two_conv0_fwd_output"]
    model = export_onnx(block, input_shapes=SHAPE).model
    assert [o.name for o in model.graph.output] == names


DATA = Path(__file__).parent / "data"
FILES = sorted([*DATA.glob("legacy/*.json"), *DATA.glob("oracle/*-symbol.json")])


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_heads_of_the_stored_files_are_mxnets(path):
    """Every stored symbol file, the MXNet 0.8 one too (whose auxiliary states MXNet adds on
    load, moving every node): the heads name what ``mx.sym.load(...).list_outputs()`` names."""
    graph = Graph.from_file(path)
    names = []
    for index, k in graph.heads:
        node = graph.nodes[index]
        count = OPS[node.op].num_outputs(node.attrs) if node.op in OPS else 1
        names.append(mxnet_output_name(node, k, count))
    assert names == mx.sym.load(str(path)).list_outputs()
