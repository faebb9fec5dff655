"""The layers, blocks and stages views: grouping, collapsed blocks, fallbacks and totals.

Expected blocks and shapes come from the papers (Szegedy et al. 2016 for Inception-ResNet-v2,
Lin et al. 2013 for NIN, He et al. 2016 and Huang et al. 2017 for the Gluon exports), as
docs/reference.md states them; the totals of every view must equal the layer report's.
"""

from __future__ import annotations

import pytest
from _gluon import export_zoo

from nin_mx import Document, Graph, list_models
from nin_mx._mxnet import mx
from nin_mx.analysis.views import (
    BLOCK_ATTR,
    GroupBasis,
    View,
    block_map,
    gluon_block,
    group_rows,
    parse_view,
)
from nin_mx.report.rows import report_graph

MODES = ("valid", "same", "full")
SIDES = {"nin_cifar10": 32, "nin_imagenet": 224, "inception_resnet_v2": 299}


def _document(graphs, shape):
    reports = [report_graph(graph, shape) for graph in graphs]
    return Document(graphs[0].label, reports[0].input_shapes, reports, blocks=block_map(graphs[0].nodes))


def _model_doc(name, modes=MODES, side=None, **kwargs):
    side = side or SIDES[name]
    graphs = [Graph.from_model(name, border_mode=mode, **kwargs) for mode in modes]
    return _document(graphs, (1, 3, side, side))


@pytest.fixture(scope="module")
def model_docs():
    return {name: _model_doc(name) for name in list_models()}


@pytest.fixture(scope="module")
def gluon_docs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zoo")
    docs = {}
    for name in ("resnet18_v1", "densenet121", "mobilenet0.25"):
        export = export_zoo(name, folder)
        docs[name] = _document([Graph.from_file(export.path)], export.input_shape)
    return docs


def _net_prefix(doc):
    """Gluon's name of the network (``densenet0``): its counter runs over the process."""
    return doc.reports[0].layers[0].name.split("_")[0]


def _labels(rows):
    """Each row's unique label, as the views write it: its name, ``name#2`` for the second node
    of that name, ..."""
    seen = {}
    labels = []
    for row in rows:
        seen[row.name] = seen.get(row.name, 0) + 1
        labels.append(row.name if seen[row.name] == 1 else f"{row.name}#{seen[row.name]}")
    return labels


def _check_partition(doc, dv):
    """Every report's layers, each in exactly one row, in graph order; the totals equal."""
    for i, report in enumerate(doc.reports):
        assert dv.totals(i) == (report.total_params, report.total_aux, report.total_macs)
        assert sum(row.stats[i].layers for row in dv.rows if row.stats[i] is not None) == len(report.layers)
    names = _labels(max((r.layers for r in doc.reports), key=len))
    assert len(set(names)) == len(names)
    position = {name: k for k, name in enumerate(names)}
    spans = [(position[row.first], position[row.last], row.layers) for row in dv.rows]
    assert spans[0][0] == 0 and spans[-1][1] == len(names) - 1
    for (a_first, a_last, a_count), (b_first, _, _) in zip(spans, spans[1:]):
        assert a_last - a_first + 1 == a_count and b_first == a_last + 1


@pytest.mark.parametrize("view", list(View))
@pytest.mark.parametrize("name", list_models())
def test_views_of_every_model_partition_the_layers(model_docs, name, view):
    doc = model_docs[name]
    dv = group_rows(doc, view)
    assert dv.view is view and dv.modes == MODES
    _check_partition(doc, dv)
    if view is View.LAYERS:
        assert [row.name for row in dv.rows] == [row.name for row in doc.reports[0].layers]
        assert all(row.repeat == 1 and row.layers == 1 and row.op for row in dv.rows)
    else:
        assert len(dv.rows) < 12  # what the issue asks for: a short report


@pytest.mark.parametrize("name", list_models())
def test_every_operator_of_a_model_names_its_block(name):
    graph = Graph.from_model(name)
    untagged = [n.name for n in graph.nodes if n.op != "null" and BLOCK_ATTR not in n.attrs]
    assert not untagged
    assert graph.nodes[0].name == "data" and BLOCK_ATTR not in graph.nodes[0].attrs


def _cells(row, i=0):
    s = row.stats[i]
    return s.input_shape[1:], s.output_shape[1:]


def test_inception_resnet_v2_blocks_collapse_identical_repeats(model_docs):
    dv = group_rows(model_docs["inception_resnet_v2"], "blocks")
    assert dv.basis is GroupBasis.ATTRIBUTE
    assert [(row.name, row.repeat) for row in dv.rows] == [
        ("stem", 1),
        ("mixed_5b", 1),
        ("block35_1..10", 10),
        ("mixed_6a", 1),
        ("block17_1..20", 20),
        ("mixed_7a", 1),
        ("block8_1..9", 9),  # block8_10 has scale 1.0 and no ReLU: not identical
        ("block8_10", 1),
        ("head", 1),
    ]
    rows = {row.name: row for row in dv.rows}
    assert (
        rows["block35_1..10"].first == "block35_1_b0_1x1" and rows["block35_1..10"].last == "block35_10_relu"
    )
    # under valid (the reference, report 0), docs/reference.md's sizes
    assert _cells(rows["stem"]) == ((3, 299, 299), (192, 35, 35))
    assert _cells(rows["mixed_5b"]) == ((192, 35, 35), (320, 35, 35))
    assert _cells(rows["block35_1..10"]) == ((320, 35, 35), (320, 35, 35))
    assert _cells(rows["mixed_6a"]) == ((320, 35, 35), (1088, 17, 17))
    assert _cells(rows["block17_1..20"]) == ((1088, 17, 17), (1088, 17, 17))
    assert _cells(rows["mixed_7a"]) == ((1088, 17, 17), (2080, 8, 8))
    assert _cells(rows["block8_10"]) == ((2080, 8, 8), (2080, 8, 8))
    assert _cells(rows["head"]) == ((2080, 8, 8), (1000,))
    # a collapsed row sums its repeats: ten block35 of the same parameter count
    one = group_rows(_model_doc("inception_resnet_v2", ("valid",), repeats=(1, 1, 1)), "blocks")
    single = {row.name: row for row in one.rows}["block35_1"].stats[0].params
    assert rows["block35_1..10"].stats[0].params == 10 * single
    assert rows["block35_1..10"].layers == 10 * {r.name: r for r in one.rows}["block35_1"].layers


def test_repeats_change_the_collapsed_rows():
    dv = group_rows(_model_doc("inception_resnet_v2", ("valid",), side=139, repeats=(3, 2, 1)), "blocks")
    assert [(row.name, row.repeat) for row in dv.rows] == [
        ("stem", 1),
        ("mixed_5b", 1),
        ("block35_1..3", 3),
        ("mixed_6a", 1),
        ("block17_1..2", 2),
        ("mixed_7a", 1),
        ("block8_1", 1),
        ("head", 1),
    ]


def test_inception_resnet_v2_stages_follow_the_resolution(model_docs):
    dv = group_rows(_model_doc("inception_resnet_v2", ("reference",)), "stages")
    assert dv.basis is GroupBasis.SIZE
    sizes = [row.stats[0].output_shape[2:] for row in dv.rows]
    # docs/reference.md: 149, 147, (147), 73, (73), 71, 35 in the stem; 17, 8 at the reductions; 1x1 pool
    assert sizes == [(149, 149), (147, 147), (73, 73), (71, 71), (35, 35), (17, 17), (8, 8), (1, 1), ()]
    rows = {row.name: row for row in dv.rows}
    assert rows["stage5"].first == "stem_pool5a_3x3" and rows["stage5"].last == "block35_10_relu"
    # the 35x35 branch of Mixed_7a's input side stays in the 17x17 stage until the first 8x8 layer
    assert rows["stage7"].first == "mixed_7a_b0_3x3"
    # under three modes a stage is cut where any mode's size changes, the same cuts for all
    three = group_rows(model_docs["inception_resnet_v2"], "stages")
    assert [row.first for row in three.rows] == [row.first for row in dv.rows]


def test_nin_blocks_and_stages(model_docs):
    cifar = _model_doc("nin_cifar10", ("reference",))
    blocks = group_rows(cifar, "blocks")
    assert [row.name for row in blocks.rows] == ["mlpconv1", "mlpconv2", "mlpconv3", "head"]
    # Lin et al. / Caffe: 32 -> 16 -> 8 -> 1 with ceil pools, 96, 192, 10 channels
    assert [row.stats[0].output_shape[1:] for row in blocks.rows] == [
        (96, 16, 16),
        (192, 8, 8),
        (10, 8, 8),
        (10,),
    ]
    stages = group_rows(cifar, "stages")
    assert [row.stats[0].output_shape[2:] for row in stages.rows] == [(32, 32), (16, 16), (8, 8), (1, 1), ()]
    imagenet = group_rows(model_docs["nin_imagenet"], "blocks")
    assert [row.name for row in imagenet.rows] == ["mlpconv1", "mlpconv2", "mlpconv3", "mlpconv4", "head"]
    assert imagenet.rows[0].stats[0].receptive_field == (19, 19)  # conv1 11/4, then a 3/2 max pool


def test_resnet18_blocks_are_its_stages(gluon_docs):
    doc = gluon_docs["resnet18_v1"]
    dv = group_rows(doc, "blocks")
    assert dv.basis is GroupBasis.PREFIX
    net = _net_prefix(doc)  # resnetv10, or resnetv1<n> after other resnets in this process
    names = [net, *(f"{net}_stage{k}" for k in (1, 2, 3, 4)), net]
    assert [row.name for row in dv.rows] == names
    # He et al. 2016, Table 1: conv2_x .. conv5_x at 56, 28, 14, 7 with 64 .. 512 channels
    outputs = [row.stats[0].output_shape[1:] for row in dv.rows[1:5]]
    assert outputs == [(64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)]
    assert dv.rows[-1].stats[0].output_shape == (1, 1000)
    _check_partition(doc, dv)
    _check_partition(doc, group_rows(doc, "stages"))


def test_densenet121_blocks_alternate_dense_blocks_and_transitions(gluon_docs):
    doc = gluon_docs["densenet121"]
    dv = group_rows(doc, "blocks")
    net = _net_prefix(doc)
    assert [row.name for row in dv.rows] == [
        net,
        f"{net}_stage1",
        net,
        f"{net}_stage2",
        net,
        f"{net}_stage3",
        net,
        f"{net}_stage4",
        net,
    ]
    dense = dv.rows[1::2]
    # Huang et al. 2017, Table 1: 6, 12, 24, 16 layers of BN-ReLU-1x1-BN-ReLU-3x3 and a concat
    assert [row.layers for row in dense] == [7 * n for n in (6, 12, 24, 16)]
    assert [row.stats[0].output_shape[1:] for row in dense] == [
        (256, 56, 56),
        (512, 28, 28),
        (1024, 14, 14),
        (1024, 7, 7),
    ]
    _check_partition(doc, dv)


def test_a_graph_with_one_prefix_falls_back_to_stages(gluon_docs):
    doc = gluon_docs["mobilenet0.25"]
    assert doc.blocks is None  # every node is mobilenet0_<layer>
    dv = group_rows(doc, "blocks")
    assert dv.basis is GroupBasis.SIZE
    assert [row.name for row in dv.rows] == [row.name for row in group_rows(doc, "stages").rows]
    # Howard et al. 2017, Table 1: 112, 56, 28, 14, 7, then the 1x1 pool and the classifier
    sizes = [row.stats[0].output_shape[2:] for row in dv.rows]
    assert sizes == [(112, 112), (56, 56), (28, 28), (14, 14), (7, 7), (1, 1), ()]
    _check_partition(doc, dv)


def test_an_automatically_named_graph_falls_back_to_stages():
    x = mx.sym.var("data")
    for _ in range(2):
        x = mx.sym.Convolution(x, num_filter=4, kernel=(3, 3), pad=(1, 1))
        x = mx.sym.Activation(x, act_type="relu")
        x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    graph = Graph.from_symbol(x)
    assert block_map(graph.nodes) is None
    doc = _document([graph], (1, 3, 16, 16))
    dv = group_rows(doc, "blocks")
    assert dv.basis is GroupBasis.SIZE and dv.modes == ("as built",)
    assert [row.stats[0].output_shape[2:] for row in dv.rows] == [(16, 16), (8, 8), (4, 4)]
    assert [row.layers for row in dv.rows] == [2, 3, 1]
    _check_partition(doc, dv)


def test_operators_outside_any_block_get_their_own_rows():
    flat = mx.sym.Flatten(Graph.from_model("nin_cifar10").symbol, name="extra_flatten")
    graph = Graph.from_symbol(mx.sym.Activation(flat, act_type="relu", name="extra_relu"))
    dv = group_rows(_document([graph], (1, 3, 32, 32)), "blocks")
    assert [row.name for row in dv.rows][-2:] == ["head", "extra_flatten..extra_relu"]
    assert dv.rows[-1].layers == 2


def test_a_failing_report_keeps_its_rows_and_marks_the_block():
    doc = _model_doc("nin_cifar10", ("valid", "same"), side=8)
    assert not doc.reports[0].ok and doc.reports[1].ok
    dv = group_rows(doc, "blocks")
    _check_partition(doc, dv)
    failing = [row.name for row in dv.rows if row.fails[0]]
    assert len(failing) == 1 and not any(row.fails[1] for row in dv.rows)
    blocks = {n.name: n.attrs[BLOCK_ATTR] for n in Graph.from_model("nin_cifar10").nodes if n.op != "null"}
    assert failing == [blocks[doc.reports[0].failed_at]]
    after = dv.rows[[row.name for row in dv.rows].index(failing[0]) + 1 :]
    assert after and all(row.stats[0] is None and row.stats[1] is not None for row in after)


# --- two nodes of one name (a block called twice): rows by position, never by name -------------


def _twice_symbol():
    """Two nodes named 'conv' (a 1x1, then a 3x3/2 with more filters) and two named 'act', the
    weights named apart: by name, the second of each would stand for both."""
    x = mx.sym.var("data")
    x = mx.sym.Convolution(x, mx.sym.var("w1"), name="conv", num_filter=4, kernel=(1, 1), no_bias=True)
    x = mx.sym.Activation(x, act_type="relu", name="act")
    x = mx.sym.Convolution(
        x, mx.sym.var("w2"), name="conv", num_filter=8, kernel=(3, 3), stride=(2, 2), no_bias=True
    )
    return mx.sym.Activation(x, act_type="relu", name="act")


def test_a_symbol_with_two_nodes_of_one_name_keeps_both_rows():
    graph = Graph.from_symbol(_twice_symbol())
    assert [n.name for n in graph.nodes if n.op != "null"] == ["conv", "act", "conv", "act"]
    doc = _document([graph], (1, 3, 8, 8))
    report = doc.reports[0]
    # conv 1x1: 3 * 4 weights on 8x8; conv 3x3/2: 4 * 8 * 9 weights, output 3x3
    assert [row.params for row in report.layers] == [12, 0, 288, 0]
    assert report.total_params == 300 and report.total_macs == 1 * 4 * 64 * 3 + 1 * 8 * 9 * 4 * 9
    layers = group_rows(doc, "layers")
    assert [row.name for row in layers.rows] == ["conv", "act", "conv#2", "act#2"]
    assert [row.stats[0].params for row in layers.rows] == [12, 0, 288, 0]
    assert [row.stats[0].input_shape for row in layers.rows] == [
        (1, 3, 8, 8),
        (1, 4, 8, 8),
        (1, 4, 8, 8),
        (1, 8, 3, 3),
    ]
    _check_partition(doc, layers)
    stages = group_rows(doc, "stages")
    assert [(row.first, row.last) for row in stages.rows] == [("conv", "act"), ("conv#2", "act#2")]
    assert stages.rows[1].stats[0].input_shape == (1, 4, 8, 8) and stages.rows[1].stats[0].params == 288
    _check_partition(doc, stages)


class _Shared(mx.gluon.HybridBlock):
    """A Gluon block that calls its Conv2D and its Dense twice each (shared weights)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.conv = mx.gluon.nn.Conv2D(4, 3, padding=1, in_channels=4)
            self.dense = mx.gluon.nn.Dense(16, in_units=16)

    def hybrid_forward(self, F, x):
        x = self.conv(F.relu(self.conv(x)))  # 4x8x8
        x = F.flatten(F.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max"))  # 4x4x4 -> 64
        x = F.reshape(x, shape=(-1, 16))  # 4 rows of 16 features each
        return self.dense(F.relu(self.dense(x)))


def _shared_net():
    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Conv2D(4, 3, padding=1, in_channels=3), _Shared(prefix="shared_"))
        net.add(mx.gluon.nn.Dense(10, in_units=16))
    return net


def test_a_gluon_block_called_twice_keeps_every_row_and_every_parameter(tmp_path):
    net = _shared_net()
    net.collect_params().setattr("grad_req", "null")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.ones((1, 3, 8, 8)))
    net.export(str(tmp_path / "shared"))
    graph = Graph.from_file(tmp_path / "shared-symbol.json")
    names = [n.name for n in graph.nodes if n.op != "null"]
    assert names.count("net_shared_conv0_fwd") == 2 and names.count("net_shared_dense0_fwd") == 2
    doc = _document([graph], (1, 3, 8, 8))
    report = doc.reports[0]
    assert len(report.layers) == len(names)
    gluon_count = sum(p.data().size for p in net.collect_params().values())
    assert report.total_params + report.total_aux == gluon_count  # each shared weight once
    for view in View:
        dv = group_rows(doc, view)
        _check_partition(doc, dv)
    blocks = group_rows(doc, "blocks")
    shared = [row for row in blocks.rows if row.name == "net_shared"]
    assert len(shared) == 1 and shared[0].first == "net_shared_conv0_fwd"
    assert shared[0].last == "net_shared_dense0_fwd#2"
    conv, dense = net[1].conv, net[1].dense
    assert shared[0].stats[0].params == sum(
        p.data().size for p in (*conv.params.values(), *dense.params.values())
    )
    layers = group_rows(doc, "layers")
    assert [row.name for row in layers.rows].count("net_shared_conv0_fwd#2") == 1


@pytest.mark.parametrize(
    ("name", "block"),
    [
        ("resnetv10_stage1_conv0_fwd", "resnetv10_stage1"),
        ("resnetv10_stage1__plus0", "resnetv10_stage1"),
        ("resnetv10_stage4_activation1", "resnetv10_stage4"),
        ("resnetv10_dense0_fwd", "resnetv10"),
        ("alexnet0_conv0_relu_fwd", "alexnet0"),
        ("densenet0_flatten0_flatten0", "densenet0"),
        ("densenet0_stage3_concat10", "densenet0_stage3"),
        ("inception30_C2_pool0_fwd", "inception30_C2"),
        ("conv0_fwd", None),  # no block above the layer
        ("block35_1_b0_1x1", None),
        ("convolution3", None),
        ("fc", None),
    ],
)
def test_gluon_block_names(name, block):
    assert gluon_block(name) == block


def test_parse_view():
    assert parse_view(" Blocks ") is View.BLOCKS and parse_view(View.STAGES) is View.STAGES
    with pytest.raises(ValueError, match="layers, blocks, stages"):
        parse_view("modules")
