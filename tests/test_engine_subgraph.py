"""MKLDNN subgraph operators (``_sg_mkldnn_conv``, ``_sg_mkldnn_fully_connected``): a node whose
JSON holds the graph it fuses (``subgraphs``), read and inferred by nin_mx as MXNet 1.9.1 does.

Against MXNet's ``infer_shape`` (marked mxnet): hand-made nodes, one per combination of the
attributes that change the inputs, outputs and auxiliary states (no_bias, with_bn, with_act,
with_sum, with_postsum_act, quantized; enable_float_output, channel_wise_quantize,
with_eltwise), GluonCV's int8 files as gluoncv ships them (``with_relu``, saved by MXNet 1.5),
and MXNet's own loader on malformed subgraphs. Without MXNet: the stored GluonCV int8 graph of
``tests/data/subgraph`` (``scripts/make_subgraph_fixture.py``) against MXNet's recorded shapes,
and hostile subgraphs refused in one line.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest

from nin_mx.core.errors import GraphError
from nin_mx.graph.engine import infer_graph, named_shapes
from nin_mx.graph.files import load_symbol_file
from nin_mx.graph.mxnet_json import mxnet_load_refusal
from nin_mx.graph.nodes import check_operators, parse_nodes
from nin_mx.graph.shapes import infer
from nin_mx.graph.source import Graph

FIXTURE = Path(__file__).resolve().parent / "data" / "subgraph"
NAME = "resnet18_v1b_kinetics400_int8"

# -- graphs made by hand ----------------------------------------------------------------------------


def _var(name):
    return {"op": "null", "name": name, "inputs": []}


class _Builder:
    def __init__(self):
        self.nodes = []

    def add(self, node):
        self.nodes.append(node)
        return len(self.nodes) - 1

    def var(self, name):
        return self.add(_var(name))

    def op(self, op, name, inputs, **attrs):
        entry = {"op": op, "name": name, "inputs": [[i, 0, 0] for i in inputs]}
        if attrs:
            entry["attrs"] = {k: str(v) for k, v in attrs.items()}
        return self.add(entry)

    def graph(self, head):
        args = [i for i, n in enumerate(self.nodes) if n["op"] == "null"]
        return {"nodes": self.nodes, "arg_nodes": args, "heads": [[head, 0, 0]]}


def conv_graph(*, no_bias=False, bn=False, act=False, add=False, post_act=False, quantized=False):
    """A _sg_mkldnn_conv on variables, its subgraph Convolution [BatchNorm] [relu] [+ sum [relu]]."""
    inner = _Builder()
    ins = [inner.var("data"), inner.var("weight"), *(() if no_bias else (inner.var("bias"),))]
    x = inner.op("Convolution", "conv", ins, kernel="(3, 3)", pad="(1, 1)", num_filter=8, no_bias=no_bias)
    if bn:
        stats = [inner.var(n) for n in ("gamma", "beta", "moving_mean", "moving_var")]
        x = inner.op("BatchNorm", "bn", [x, *stats], fix_gamma="False")
    if act:
        x = inner.op("Activation", "relu", [x], act_type="relu")
    if add:
        x = inner.op("elemwise_add", "add", [x, inner.var("sum")])
        if post_act:
            x = inner.op("Activation", "relu2", [x], act_type="relu")
    flags = {"with_bn": bn, "with_act": act, "with_sum": add, "with_postsum_act": post_act}
    attrs = {k: str(v).lower() for k, v in flags.items() if v}
    names = ["data", "weight", *(() if no_bias else ("bias",))]
    names += ["gamma", "beta", "mean", "var"] if bn else []
    names += ["sum"] if add else []
    if quantized:
        attrs.update(quantized="true", min_calib_range="-1.5", max_calib_range="2.5")
        names += ["data_min", "data_max", *(("sum_min", "sum_max") if add else ())]
    outer = _Builder()
    ins = [outer.var(f"sg_{n}") for n in names]
    node = {"op": "_sg_mkldnn_conv", "name": "sg", "inputs": [[i, 0, 0] for i in ins], "attrs": attrs}
    node["subgraphs"] = [inner.graph(x)]
    return {**outer.graph(outer.add(node)), "attrs": {"mxnet_version": ["int", 10901]}}


def fc_graph(*, no_bias=False, quantized=False, float_out=False, channel_wise=None, eltwise=None):
    """A _sg_mkldnn_fully_connected on variables, its subgraph FullyConnected [eltwise]."""
    inner = _Builder()
    ins = [inner.var("data"), inner.var("weight"), *(() if no_bias else (inner.var("bias"),))]
    x = inner.op("FullyConnected", "fc", ins, num_hidden=5, no_bias=no_bias)
    attrs = {}
    if eltwise:
        x = inner.op(eltwise, "elt", [x], **({"act_type": "relu"} if eltwise == "Activation" else {}))
        attrs["with_eltwise"] = "true"
    names = ["data", "weight", *(() if no_bias else ("bias",))]
    if quantized:
        attrs.update(quantized="true", enable_float_output=str(float_out).lower())
        names += ["min_data", "max_data"]
        if channel_wise is not None:
            attrs["channel_wise_quantize"] = str(channel_wise).lower()
        if not channel_wise:
            names += ["min_weight", "max_weight", *(() if no_bias else ("min_bias", "max_bias"))]
    outer = _Builder()
    ins = [outer.var(f"sg_{n}") for n in names]
    node = {"op": "_sg_mkldnn_fully_connected", "name": "sg", "inputs": [[i, 0, 0] for i in ins]}
    if attrs:
        node["attrs"] = attrs
    node["subgraphs"] = [inner.graph(x)]
    return {**outer.graph(outer.add(node)), "attrs": {"mxnet_version": ["int", 10901]}}


CONV_CASES = [
    dict(zip(("no_bias", "bn", "act", "add", "post_act", "quantized"), flags))
    for flags in itertools.product((False, True), repeat=6)
    if not (flags[4] and not flags[3])  # a post-sum activation needs a sum
]
FC_CASES = [
    {"no_bias": nb, "quantized": q, "float_out": f, "channel_wise": cw, "eltwise": e}
    for nb, q, f, cw, e in itertools.product(
        (False, True), (False, True), (False, True), (None, False, True), (None, "Activation", "sqrt")
    )
    if q or (not f and cw is None)
]


def _case_id(case):
    return "-".join(f"{k}={v}" for k, v in case.items() if v) or "plain"


def _ours(text, shapes):
    nodes = parse_nodes(text)
    check_operators(nodes)
    return named_shapes(nodes, infer_graph(nodes, shapes))


def _listed(shape):
    return () if shape is None else tuple(shape)


def _against_mxnet(text, shapes):
    from nin_mx._mxnet import mx

    internals = mx.sym.load_json(text).get_internals()
    args, outs, auxs = internals.infer_shape_partial(**shapes)
    ours, our_args, our_aux = _ours(text, shapes)
    assert [_listed(s) for _, s in ours] == [tuple(s) for s in outs]
    assert {k: _listed(v) for k, v in our_args.items()} == dict(
        zip(internals.list_arguments(), map(tuple, args))
    )
    assert {k: _listed(v) for k, v in our_aux.items()} == dict(
        zip(internals.list_auxiliary_states(), map(tuple, auxs))
    )
    return dict(zip(internals.list_arguments(), map(tuple, args))), [tuple(s) for s in outs]


@pytest.mark.mxnet
@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_sg_conv_is_inferred_as_mxnet_does(case):
    text = json.dumps(conv_graph(**case))
    args, outs = _against_mxnet(text, {"sg_data": (2, 3, 10, 10)})
    assert outs[-1 if not case["quantized"] else -3] == (2, 8, 10, 10)
    if case["quantized"]:
        assert outs[-2:] == [(1,), (1,)] and args["sg_data_min"] == (1,)
    # backward too: the output's shape alone gives the sum operand's
    if case["add"]:
        _against_mxnet(text, {"sg_data": (2, 3, 10, 10), "sg_sum": (2, 8, 10, 10)})


@pytest.mark.mxnet
@pytest.mark.parametrize("case", FC_CASES, ids=_case_id)
def test_sg_fully_connected_is_inferred_as_mxnet_does(case):
    text = json.dumps(fc_graph(**case))
    _, outs = _against_mxnet(text, {"sg_data": (4, 3, 2)})
    assert (4, 5) in outs
    assert len(outs) == len(parse_nodes(text)) + (2 if case["quantized"] and not case["float_out"] else 0)


def test_sg_nodes_take_the_inputs_and_aux_states_mxnet_lists():
    """The input names of SgMKLDNNConvListInputNames; BatchNorm's moving statistics are the
    node's auxiliary states (DefaultSubgraphOpMutableInputs), named by the outer variables."""
    text = json.dumps(conv_graph(bn=True, add=True, post_act=True, quantized=True))
    nodes = parse_nodes(text)
    _, args, aux = named_shapes(nodes, infer_graph(nodes, {"sg_data": (1, 3, 6, 6)}))
    assert sorted(aux) == ["sg_mean", "sg_var"] and aux["sg_mean"] == (8,)
    assert args["sg_weight"] == (8, 3, 3, 3) and args["sg_sum_max"] == (1,)


# -- GluonCV's int8 graphs ----------------------------------------------------------------------------


def _fixture():
    text = (FIXTURE / f"{NAME}-symbol.json").read_text()
    return text, json.loads((FIXTURE / f"{NAME}-shapes.json").read_text())


def test_stored_int8_graph_is_inferred_with_mxnets_shapes_by_the_engine_alone():
    """Runs on every Python: MXNet's shapes as recorded, the engine's alone (no fallback)."""
    _text, answers = _fixture()
    shapes = {k: tuple(v) for k, v in answers["inputs"].items()}
    graph = Graph.from_file(FIXTURE / f"{NAME}-symbol.json")
    ops = {n.op for n in graph.nodes}
    assert {"_sg_mkldnn_conv", "_sg_mkldnn_fully_connected"} <= ops
    inferred = infer_graph(graph.nodes, shapes)
    ours, args, aux = named_shapes(graph.nodes, inferred)
    assert [_listed(s) for _, s in ours] == [tuple(s) for _, s in answers["outputs"]]
    assert {k: _listed(v) for k, v in args.items()} == {k: tuple(v) for k, v in answers["args"].items()}
    assert {k: _listed(v) for k, v in aux.items()} == {k: tuple(v) for k, v in answers["aux"].items()}
    found = infer(graph, shapes)  # the report's path: the engine, no MXNet
    assert not found.by_mxnet


@pytest.mark.mxnet
def test_stored_int8_graph_still_has_mxnets_shapes():
    """The recorded answers are MXNet's own, asked again."""
    text, answers = _fixture()
    _args, outs = _against_mxnet(text, {k: tuple(v) for k, v in answers["inputs"].items()})
    assert outs == [tuple(s) for _, s in answers["outputs"]]


@pytest.mark.mxnet
@pytest.mark.parametrize("name", ["mobilenet1.0_int8", "resnet50_v1_int8"])
def test_gluoncv_int8_files_as_shipped(name):
    """The files gluoncv ships (saved by MXNet 1.5, ``with_relu`` for ``with_act``), read by nin_mx
    as a user's file and inferred as MXNet infers them."""
    if importlib.util.find_spec("gluoncv") is None:
        pytest.skip("gluoncv is not installed")
    path = Path(importlib.util.find_spec("gluoncv").origin).parent / "model_zoo" / "quantized"
    path = path / f"{name}-symbol.json"
    text = path.read_text()
    assert '"with_relu"' in text
    found = load_symbol_file(path)
    assert found.notes == ("saved by MXNet v1.5.0, upgraded on load",)
    _against_mxnet(text, {"data": (1, 3, 224, 224)})


# -- what MXNet refuses, and hostile input -------------------------------------------------------------


def _refusal(graph):
    with pytest.raises(GraphError) as info:
        check_operators(parse_nodes(json.dumps(graph)))
    message = str(info.value)
    assert "\n" not in message
    return message


def _mxnet_refuses(graph):
    from nin_mx._mxnet import mx

    with pytest.raises(mx.base.MXNetError):
        mx.sym.load_json(json.dumps(graph))


def _no_subgraph(graph):
    del graph["nodes"][-1]["subgraphs"]
    return graph


def _two_subgraphs(graph):
    graph["nodes"][-1]["subgraphs"] *= 2
    return graph


def _bn_without_flag(graph):
    del graph["nodes"][-1]["attrs"]["with_bn"]
    return graph


def _unknown_flag(graph):
    graph["nodes"][-1]["attrs"]["with_colour"] = "true"
    return graph


def _bad_flag(graph):
    graph["nodes"][-1]["attrs"]["with_bn"] = "yes"
    return graph


def _bad_inner(graph):
    graph["nodes"][-1]["subgraphs"][0]["nodes"][3]["attrs"]["num_filter"] = "0"
    return graph


@pytest.mark.mxnet
@pytest.mark.parametrize(
    ("mend", "words"),
    [
        (_no_subgraph, "holds 0 subgraphs"),
        (_two_subgraphs, "holds 2 subgraphs"),
        (_bn_without_flag, "BatchNorm, but with_bn is not set"),
        (_unknown_flag, "no attribute 'with_colour'"),
        (_bad_flag, "with_bn='yes'"),
        (_bad_inner, "subgraph 0: node 'conv' (Convolution): attribute num_filter='0'"),
    ],
)
def test_what_mxnets_loader_refuses_nin_mx_refuses_in_one_line(mend, words):
    graph = mend(conv_graph(bn=True))
    _mxnet_refuses(graph)
    assert words in _refusal(graph)


def test_a_fully_connected_without_subgraph_is_refused():
    """MXNet's SgMKLDNNFCParamParser reads subgraphs[0] unchecked: MXNet crashes (not asked here)."""
    assert "holds no subgraph" in _refusal(_no_subgraph(fc_graph()))


@pytest.mark.parametrize(
    ("subgraphs", "words"),
    [
        ({"nodes": []}, "'subgraphs' is not a list of graphs"),
        ([[1, 2]], "subgraph 0: the top level is not an object"),
        ([{"nodes": [_var("a")]}], "subgraph 0: no 'heads' list"),
        ([{"nodes": [_var("a")], "heads": [[3, 0, 0]]}], "subgraph 0: a head references node 3"),
        ([{"nodes": [{"op": "Frob", "name": "f", "inputs": []}], "heads": [[0, 0, 0]]}], "no operator Frob"),
    ],
)
def test_malformed_subgraphs_are_refused_in_one_line(subgraphs, words):
    graph = conv_graph()
    graph["nodes"][-1]["subgraphs"] = subgraphs
    assert words in _refusal(graph)


def test_subgraphs_nested_without_end_are_refused_in_one_line():
    graph = {"nodes": [_var("a")], "arg_nodes": [0], "heads": [[0, 0, 0]]}
    for _ in range(40):
        graph = {"nodes": [{**_var("a"), "subgraphs": [graph]}], "arg_nodes": [0], "heads": [[0, 0, 0]]}
    assert "nested more than 32 deep" in _refusal(graph)


@pytest.mark.mxnet
def test_a_subgraph_mxnets_reader_refuses_is_noted():
    """A subgraph without ``arg_nodes``: MXNet's JSONGraph declares it; nin_mx reads the file and
    notes that MXNet would not."""
    graph = conv_graph()
    del graph["nodes"][-1]["subgraphs"][0]["arg_nodes"]
    _mxnet_refuses(graph)
    why = mxnet_load_refusal(json.dumps(graph), graph)
    assert why == "node 'sg', subgraph 0: the field 'arg_nodes' is missing"
    _ours(json.dumps(graph), {"sg_data": (1, 3, 5, 5)})
    assert mxnet_load_refusal(json.dumps(conv_graph()), conv_graph()) is None


@pytest.mark.mxnet
def test_a_symbol_with_subgraphs_keeps_them():
    """``Graph.from_symbol`` reads MXNet's own JSON by the trusted path: a node with subgraphs goes
    through the checked reader, so the engine has them."""
    from nin_mx._mxnet import mx

    text, answers = _fixture()
    graph = Graph.from_symbol(mx.sym.load_json(text))
    assert all(n.subgraphs for n in graph.nodes if n.op.startswith("_sg_"))
    ours, _, _ = named_shapes(graph.nodes, infer_graph(graph.nodes, {"data": (7, 3, 224, 224)}))
    assert [_listed(s) for _, s in ours] == [tuple(s) for _, s in answers["outputs"]]
