"""Graphs nobody here wrote, reproduced in the test: what GluonCV, insightface and MXNet's examples
build (SSD anchors and learned scales, Faster R-CNN's ROI heads, DPN's channel slices, residual
attention's fixed resizes, segmentation heads, MobileFaceNet's GDC, FCN's target shapes and
crops, a Gluon block called twice), and Gluon model-zoo exports.

Expected sizes are computed by hand in the comments and checked against MXNet's own
``infer_shape``; nothing here compares nin_mx with an earlier run of itself.
"""

from __future__ import annotations

import json

import pytest
from _cli import run_cli

from nin_mx import Document, Graph, list_models
from nin_mx._mxnet import mx
from nin_mx.analysis.diff import diff_reports, graph_attrs
from nin_mx.analysis.views import View, block_map, group_rows
from nin_mx.checks.rules import RULES, Finding, _Graph, find_pitfalls
from nin_mx.graph.nodes import data_inputs
from nin_mx.graph.walk import spatial_walk
from nin_mx.models import get_model_entry
from nin_mx.render.cells import aligned_rows, layer_cells
from nin_mx.report.rows import report_graph

pytestmark = pytest.mark.mxnet

SIZE_LOCKED = ("fixed-size-resize", "fixed-target-shape", "fixed-size-crop", "global-depthwise-conv")
BORDER_MODES = ("valid", "same", "full", None)


def _findings(symbol, shapes, rule=None) -> list[Finding]:
    graph = Graph.from_symbol(symbol)
    report = report_graph(graph, shapes)
    assert report.ok, report.error
    findings = find_pitfalls(graph.nodes, report)
    for finding in findings:
        assert "\n" not in finding.message and finding.message.strip()
        assert json.loads(json.dumps(finding.detail)) == finding.detail
        assert finding.severity is RULES[finding.rule].severity
    return [f for f in findings if rule is None or f.rule == rule]


def _shapes(symbol, **shapes):
    """MXNet's internal output shapes by node name (first output), and its argument shapes."""
    internals = symbol.get_internals()
    args, outs, _ = internals.infer_shape(**shapes)
    outputs = {}
    for name, shape in zip(internals.list_outputs(), outs):
        key = name.rsplit("_output", 1)[0]
        outputs.setdefault(key, tuple(shape))
    return outputs, dict(zip(internals.list_arguments(), map(tuple, args)))


def _fails(symbol, **shapes) -> bool:
    try:
        symbol.get_internals().infer_shape(**shapes)
    except mx.base.MXNetError:
        return True
    return False


def _conv(x, name, kernel=3, stride=1, pad=1, filters=8, **kwargs):
    return mx.sym.Convolution(
        x, name=name, num_filter=filters, kernel=(kernel,) * 2, stride=(stride,) * 2, pad=(pad,) * 2, **kwargs
    )


DATA = mx.sym.var("data")


# --- 1. data inputs: anchors, offsets and learned scales are not inputs ------------------------


def _ssd_like():
    """SSD's conv4_3 L2 scale (a learned (1, C, 1, 1) parameter) and its anchors (a constant with
    a __shape__), both fed to broadcast operators at data slots."""
    x = mx.sym.relu(_conv(DATA, "conv4_3"), name="relu4_3")
    scale = mx.sym.var("relu4_3_scale", shape=(1, 8, 1, 1), init=mx.init.Constant(20), wd_mult=0.1)
    x = mx.sym.broadcast_mul(x, scale, name="relu4_3_scaled")
    loc = _conv(x, "loc", filters=16)
    loc = mx.sym.reshape(
        mx.sym.transpose(loc, axes=(0, 2, 3, 1), name="loc_t"), shape=(0, -1, 4), name="loc_r"
    )
    anchors = mx.sym.var("anchors", shape=(1, 4 * 8 * 8, 4))
    offsets = mx.sym.var("offsets", shape=(1, 1, 4))  # a constant without initializer
    return mx.sym.broadcast_add(mx.sym.broadcast_add(loc, anchors, name="boxes"), offsets, name="shifted")


def test_ssd_anchors_and_learned_scales_are_not_data_inputs(tmp_path):
    symbol = _ssd_like()
    assert data_inputs(Graph.from_symbol(symbol).nodes) == ["data"]
    outputs, _ = _shapes(symbol, data=(1, 3, 8, 8))  # MXNet needs no other shape either
    report = report_graph(Graph.from_symbol(symbol), (1, 3, 8, 8))
    assert report.ok and report.output_shape == outputs["shifted"] == (1, 256, 4)
    # the scale and the constants are parameters of the rows that read them, as MXNet's arguments
    assert report.total_params == 8 * 3 * 9 + 8 + 8 + 16 * 8 * 9 + 16 + 256 * 4 + 4
    path = tmp_path / "ssd-symbol.json"
    symbol.save(str(path))
    assert Graph.from_file(path).inputs == ("data",)


def _faster_rcnn_like(pool="roialign"):
    """A Faster R-CNN test graph: a stride-16 backbone, the RPN's Proposal (which infers
    im_info's shape from the batch), ROI pooling of 7x7 and a FullyConnected head."""
    feat = _conv(DATA, "feat", stride=16, filters=98)
    cls = _conv(feat, "rpn_cls", kernel=1, pad=0, filters=2)
    bbox = _conv(feat, "rpn_bbox", kernel=1, pad=0, filters=4)
    rois = mx.sym.contrib.Proposal(
        cls, bbox, mx.sym.var("im_info"), feature_stride=16, scales=(8,), ratios=(1,), rpn_post_nms_top_n=10
    )
    if pool == "roialign":
        pooled = mx.sym.contrib.ROIAlign(feat, rois, pooled_size=(7, 7), spatial_scale=1 / 16, name="pool")
    elif pool == "roipooling":
        pooled = mx.sym.ROIPooling(feat, rois, pooled_size=(7, 7), spatial_scale=1 / 16, name="pool")
    elif pool == "psroipooling":
        pooled = mx.sym.contrib.PSROIPooling(
            feat, rois, spatial_scale=1 / 16, output_dim=2, pooled_size=7, group_size=7, name="pool"
        )
    elif pool == "deformable":
        pooled = mx.sym.contrib.DeformablePSROIPooling(
            feat,
            rois,
            spatial_scale=1 / 16,
            output_dim=2,
            group_size=7,
            pooled_size=7,
            no_trans=True,
            name="pool",
        )
    else:
        pooled = mx.sym.contrib.AdaptiveAvgPooling2D(feat, output_size=(7, 7), name="pool")
    return mx.sym.FullyConnected(mx.sym.Flatten(pooled, name="flatten"), num_hidden=16, name="fc6")


def test_faster_rcnn_im_info_is_inferred_not_an_input():
    symbol = _faster_rcnn_like()
    graph = Graph.from_symbol(symbol)
    assert graph.inputs == ("data",)
    outputs, args = _shapes(symbol, data=(1, 3, 224, 224))  # MXNet infers im_info too
    assert args["im_info"] == (1, 3)
    report = report_graph(graph, (1, 3, 224, 224))  # one shape: --input fills data
    assert report.ok and report.output_shape == outputs["fc6"] == (10, 16)


def test_the_command_line_takes_input_for_such_graphs(tmp_path):
    # before: "the graph has 3 data inputs (data, im_info, ...)": --input was refused
    path = tmp_path / "rcnn-symbol.json"
    _faster_rcnn_like().save(str(path))
    ssd = tmp_path / "ssd-symbol.json"
    _ssd_like().save(str(ssd))
    for file, side in ((path, 224), (ssd, 8)):
        done = run_cli(str(file), "--input", f"3,{side},{side}", "--check", "--format", "json")
        assert done.returncode == 0, done.stderr
        [report] = json.loads(done.stdout)["reports"]
        assert report["ok"] and not [f for f in report["findings"] if f["severity"] != "info"]


def test_rois_given_by_the_caller_are_an_input():
    # Fast R-CNN's test graph: the proposals come from outside, as a (num_rois, 5) input
    feat = _conv(DATA, "feat", stride=16)
    pooled = mx.sym.contrib.ROIAlign(feat, mx.sym.var("rois"), pooled_size=(7, 7), spatial_scale=1 / 16)
    symbol = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(pooled, num_hidden=4, name="cls"), name="softmax")
    assert Graph.from_symbol(symbol).inputs == ("data", "rois")  # not the label, not the weights


def test_a_data_input_with_a_shape_of_its_own_stays_the_input():
    symbol = _conv(mx.sym.var("data", shape=(1, 3, 16, 16)), "conv")
    assert Graph.from_symbol(symbol).inputs == ("data",)
    unknown = _conv(mx.sym.var("data", shape=(0, 3, 0, 0)), "conv")  # 0: unknown, so an input
    assert Graph.from_symbol(unknown).inputs == ("data",)


@pytest.mark.parametrize("zoo", ["resnet18_v1", "densenet121", "mobilenetv2_0.25", "squeezenet1.1"])
def test_gluon_exports_have_one_data_input(zoo):
    net = mx.gluon.model_zoo.vision.get_model(zoo, pretrained=False)
    assert Graph.from_symbol(net(mx.sym.var("data"))).inputs == ("data",)


# --- 2. two nodes of one name: rows by position ----------------------------------------------


def _twice():
    """Two Convolutions named 'conv' (a 1x1, then a 3x3/2) and two Activations named 'act'."""
    x = mx.sym.Convolution(DATA, mx.sym.var("w1"), name="conv", num_filter=4, kernel=(1, 1), no_bias=True)
    x = mx.sym.Activation(x, act_type="relu", name="act")
    x = mx.sym.Convolution(
        x, mx.sym.var("w2"), name="conv", num_filter=8, kernel=(3, 3), stride=(2, 2), no_bias=True
    )
    return mx.sym.Activation(x, act_type="relu", name="act")


def test_the_rules_read_each_node_of_a_repeated_name_by_position():
    symbol = _twice()
    graph = Graph.from_symbol(symbol)
    report = report_graph(graph, (1, 3, 8, 8))
    operators = [n for n in graph.nodes if n.op != "null"]
    g = _Graph(graph.nodes, report)
    assert [g.rows[n.index] for n in operators] == list(report.layers)
    resume = {n.index: row.output_shape for n, row in zip(operators, report.layers)}
    assert list(g.infos) == spatial_walk(graph.nodes, report.input_shapes, resume=resume)
    # only the second 'conv' (3x3/2 on 8x8: out 3, row 7 never read) has an unread border
    [finding] = find_pitfalls(graph.nodes, report)
    assert (finding.rule, finding.layer, finding.detail["unread"]) == ("unread-border", "conv", [1, 1])
    assert "of its 8x8 input" in finding.message


def test_the_table_and_the_diff_keep_both_nodes_of_a_name():
    graph = Graph.from_symbol(_twice())
    report = report_graph(graph, (1, 3, 8, 8))
    rows = aligned_rows([report])
    assert [(name, op) for name, op, _ in rows] == [
        ("conv", "Convolution"),
        ("act", "Activation"),
        ("conv", "Convolution"),
        ("act", "Activation"),
    ]
    assert [cells[0] for _, _, cells in rows] == list(report.layers)
    diff = diff_reports(report, report, attrs_a=graph_attrs(graph), attrs_b=graph_attrs(graph))
    assert diff.counts.same == 4 and not diff.has_differences
    assert [(row.a, row.b) for row in diff.rows] == [(row, row) for row in report.layers]
    # a second graph where the second 'conv' has 16 filters: that one row changes
    x = mx.sym.Convolution(DATA, mx.sym.var("w1"), name="conv", num_filter=4, kernel=(1, 1), no_bias=True)
    x = mx.sym.Activation(x, act_type="relu", name="act")
    x = mx.sym.Convolution(
        x, mx.sym.var("w2"), name="conv", num_filter=16, kernel=(3, 3), stride=(2, 2), no_bias=True
    )
    other = Graph.from_symbol(mx.sym.Activation(x, act_type="relu", name="act"))
    changed = diff_reports(report, report_graph(other, (1, 3, 8, 8)))
    assert [row.status.value for row in changed.rows] == ["same", "same", "changed", "changed"]


def test_a_diff_compares_each_node_of_a_name_with_its_own_attributes():
    # The two graphs differ only in the first 'conv' (cudnn_off, which changes no shape): that
    # row, and only that one, is changed, with its own attribute named.
    def twice(first_attrs):
        x = mx.sym.Convolution(
            DATA, mx.sym.var("w1"), name="conv", num_filter=4, kernel=(1, 1), no_bias=True, **first_attrs
        )
        x = mx.sym.Activation(x, act_type="relu", name="act")
        x = mx.sym.Convolution(
            x, mx.sym.var("w2"), name="conv", num_filter=8, kernel=(3, 3), stride=(2, 2), no_bias=True
        )
        return Graph.from_symbol(mx.sym.Activation(x, act_type="relu", name="act"))

    a, b = twice({}), twice({"cudnn_off": True})
    diff = diff_reports(
        report_graph(a, (1, 3, 8, 8)),
        report_graph(b, (1, 3, 8, 8)),
        attrs_a=graph_attrs(a),
        attrs_b=graph_attrs(b),
    )
    assert [row.status.value for row in diff.rows] == ["changed", "same", "same", "same"]
    assert diff.rows[0].differences == ("attrs.cudnn_off",)
    assert diff.rows[0].attr_changes == (("cudnn_off", None, "True"),)
    # graph_attrs is still a dict by name, as before (a repeated name keeps the last node's)
    assert graph_attrs(b)["conv"]["kernel"] == "(3, 3)"


def test_a_failure_at_the_second_node_of_a_name_keeps_the_rows_before_it():
    # 3x3/2 on the 2x2 map fails at the second 'conv': the rows before it are the first
    # 'conv' and the first 'act' (located by the failing node, not by its name)
    report = report_graph(Graph.from_symbol(_twice()), (1, 3, 2, 2))
    assert not report.ok and report.failed_at == "conv"
    assert "kernel 3 exceeds input 2 along height" in report.error
    assert [(row.name, row.output_shape) for row in report.layers] == [
        ("conv", (1, 4, 2, 2)),
        ("act", (1, 4, 2, 2)),
    ]


def test_the_table_marks_the_failing_node_of_a_repeated_name_once():
    # three convolutions named 'conv'; at 2x2 the second (3x3/2) fails: FAILS marks that row,
    # not the third 'conv' after it, which the failed report never reached either
    x = DATA
    for i, (kernel, stride) in enumerate([((1, 1), (1, 1)), ((3, 3), (2, 2)), ((1, 1), (1, 1))]):
        x = mx.sym.Convolution(
            x, mx.sym.var(f"w{i}"), name="conv", num_filter=4, kernel=kernel, stride=stride, no_bias=True
        )
    graph = Graph.from_symbol(x)
    reports = [report_graph(graph, (1, 3, 8, 8)), report_graph(graph, (1, 3, 2, 2))]
    _, body = layer_cells(reports, with_costs=False)
    assert [row[:4] for row in body] == [
        ["conv", "Convolution", "4x8x8", "4x2x2"],
        ["conv", "Convolution", "4x3x3", "FAILS"],
        ["conv", "Convolution", "4x3x3", ""],
    ]


def _shared_block_net():
    """A HybridBlock that applies one Conv2D twice and one Dense twice (shared weights)."""

    class Twice(mx.gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.conv = mx.gluon.nn.Conv2D(8, 3, padding=1, in_channels=8)
                self.dense = mx.gluon.nn.Dense(32, in_units=32)

        def hybrid_forward(self, F, x):
            x = self.conv(F.relu(self.conv(x)))
            return self.dense(F.relu(self.dense(F.reshape(x, shape=(-1, 32)))))

    net = mx.gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(mx.gluon.nn.Conv2D(8, 3, strides=2, padding=1, in_channels=3), Twice(prefix="twice_"))
        net.add(mx.gluon.nn.Dense(10, in_units=32))
    return net


def test_a_gluon_block_called_twice_exported_reports_every_row(tmp_path):
    net = _shared_block_net()
    net.collect_params().setattr("grad_req", "null")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    out = net(mx.nd.ones((1, 3, 16, 16)))
    net.export(str(tmp_path / "twice"))
    graph = Graph.from_file(tmp_path / "twice-symbol.json")
    names = [n.name for n in graph.nodes if n.op != "null"]
    assert names.count("net_twice_conv0_fwd") == 2 and names.count("net_twice_dense0_fwd") == 2
    report = report_graph(graph, (1, 3, 16, 16))
    assert report.ok and report.output_shape == out.shape and len(report.layers) == len(names)
    assert report.total_params == sum(p.data().size for p in net.collect_params().values())
    doc = Document(graph.label, report.input_shapes, [report], blocks=block_map(graph.nodes))
    for view in View:
        dv = group_rows(doc, view)
        assert dv.totals(0) == (report.total_params, report.total_aux, report.total_macs)
        assert sum(row.layers for row in dv.rows) == len(report.layers)
        labels = [label for row in dv.rows for label in (row.first, row.last)]
        assert "net_twice_dense0_fwd#2" in labels or view is not View.LAYERS
    blocks = {row.name: row for row in group_rows(doc, "blocks").rows}
    twice = net[1]
    assert blocks["net_twice"].stats[0].params == sum(p.data().size for p in twice.collect_params().values())
    assert blocks["net_twice"].last == "net_twice_dense0_fwd#2"
    # the in-memory export gives the same rows
    assert report_graph(Graph.from_block(net), (1, 3, 16, 16)).layers == report.layers


# --- 3. nothing after ROI, adaptive or global pooling depends on the input size ----------------


@pytest.mark.parametrize("pool", ["roialign", "roipooling", "psroipooling", "deformable", "adaptive"])
def test_roi_and_adaptive_pooling_heads_are_size_free(pool):
    symbol = _faster_rcnn_like(pool)
    shapes = {"data": (1, 3, 224, 224)} if pool == "adaptive" else (1, 3, 224, 224)
    assert _findings(symbol, shapes, "input-size-dependent-params") == []
    # MXNet: the head's weight is the same at two input sizes
    weights = {side: _shapes(symbol, data=(1, 3, side, side))[1]["fc6_weight"] for side in (224, 320)}
    assert weights[224] == weights[320]


def test_a_fixed_pool_after_roi_pooling_is_size_free():
    # ResNet's C5 head on 14x14 ROI features: a 7x7 pool of stride 1 on the 7x7 map of a 3x3/2
    feat = _conv(DATA, "feat", stride=16)
    rois = mx.sym.var("rois")
    pooled = mx.sym.contrib.ROIAlign(feat, rois, pooled_size=(14, 14), spatial_scale=1 / 16, name="roi")
    head = mx.sym.Pooling(_conv(pooled, "c5", stride=2), kernel=(7, 7), pool_type="avg", name="pool5")
    fc = mx.sym.FullyConnected(head, num_hidden=4, name="fc")
    shapes = {"data": (1, 3, 224, 224), "rois": (5, 5)}
    assert _shapes(fc, **shapes)[0]["pool5"][2:] == (1, 1)
    assert {f.rule for f in _findings(fc, shapes)} <= {"unread-border"}  # the 3x3/16 backbone


def test_a_flattened_backbone_map_still_is_size_dependent():
    symbol = mx.sym.FullyConnected(mx.sym.Flatten(_conv(DATA, "feat", stride=16)), num_hidden=10, name="fc")
    [finding] = _findings(symbol, (1, 3, 224, 224), "input-size-dependent-params")
    # map = (S + 2 - 3) // 16 + 1 = 14 iff S - 1 in 208..223
    assert finding.detail["input_ranges"] == [[209, 224], [209, 224]]


# --- 4. exact ranges through operators the walk does not follow ------------------------------


def _dpn_like():
    """DPN's dual-path block: slice_axis splits channels into a residual and a dense path, the
    residual added, the dense concatenated; a stride-32 network and a 7x7 pool of stride 1."""
    x = _conv(DATA, "conv1", stride=2, filters=16)
    for i in range(4):
        res = mx.sym.slice_axis(x, axis=1, begin=0, end=8, name=f"res{i}")
        dense = mx.sym.slice_axis(x, axis=1, begin=8, end=None, name=f"dense{i}")
        out = _conv(x, f"block{i}", filters=12)
        y_res = mx.sym.slice_axis(out, axis=1, begin=0, end=8, name=f"out_res{i}")
        y_dense = mx.sym.slice_axis(out, axis=1, begin=8, end=None, name=f"out_dense{i}")
        x = mx.sym.Concat(res + y_res, dense, y_dense, name=f"cat{i}")
        x = _conv(x, f"down{i}", stride=2, filters=16)
    return mx.sym.Pooling(x, kernel=(7, 7), pool_type="avg", name="pool5")


def _attention_like():
    """Residual attention: the mask branch pools the trunk down and resizes it back to a fixed
    112x112 (the trunk's size at 224), multiplied with the trunk; then a 7x7 pool."""
    trunk = _conv(DATA, "trunk", stride=2)
    mask = mx.sym.Pooling(trunk, kernel=(2, 2), stride=(2, 2), pool_type="max", name="down")
    mask = mx.sym.contrib.BilinearResize2D(_conv(mask, "mask"), height=112, width=112, name="interp")
    x = mx.sym.elemwise_mul(trunk, mx.sym.sigmoid(mask, name="sigmoid"), name="attention")
    for i in range(4):
        x = _conv(x, f"c{i}", stride=2)
    return mx.sym.Pooling(x, kernel=(7, 7), pool_type="avg", name="pool5")


@pytest.mark.parametrize(
    ("build", "low", "high", "below", "above"),
    [
        # five 3x3/2 pad 1 halvings: map = ceil(S / 32) == 7 iff S in 193..224
        (_dpn_like, 193, 224, "pool5", None),
        # the trunk is 112x112 iff (S - 1) // 2 + 1 == 112, S in 223..224; the graph fails elsewhere
        (_attention_like, 223, 224, "attention", "attention"),
    ],
)
def test_fixed_global_pool_ranges_are_exact_through_slices_and_resizes(build, low, high, below, above):
    symbol = build()
    [finding] = _findings(symbol, (1, 3, 224, 224), "fixed-global-pool")
    assert finding.detail["input_ranges"] == finding.detail["global_ranges"] == [[low, high]] * 2
    assert "not at every size" not in finding.message
    assert finding.detail["fails_below_at"] == below and finding.detail["fails_above_at"] == above
    assert f"only for square inputs {low}..{high} (7x7 map)" in finding.message
    pool = symbol.get_internals()["pool5_output"]
    assert _shapes(pool, data=(1, 3, low, low))[0]["pool5"][2:] == (1, 1)
    assert _shapes(pool, data=(1, 3, high, high))[0]["pool5"][2:] == (1, 1)
    assert _fails(pool, data=(1, 3, low - 1, low - 1))
    if above is None:
        assert _shapes(pool, data=(1, 3, high + 1, high + 1))[0]["pool5"][2:] == (2, 2)
    else:
        assert _fails(pool, data=(1, 3, high + 1, high + 1))


# Gluon's hand-computed final pools (stride = kernel): where the pool's input map equals the
# kernel (global), where it is larger but still pools to 1x1 (ignoring rows and columns).
ZOO_POOLS = [
    ("densenet121", 224, (221, 252), (253, 444)),
    ("squeezenet1.1", 224, (209, 224), (225, 416)),
    ("inceptionv3", 299, (299, 330), (331, 554)),
]


@pytest.mark.parametrize(("zoo", "side", "whole", "ignoring"), ZOO_POOLS, ids=[z[0] for z in ZOO_POOLS])
def test_gluon_zoo_global_and_ignoring_ranges_by_mxnet(zoo, side, whole, ignoring):
    symbol = mx.gluon.model_zoo.vision.get_model(zoo, pretrained=False)(mx.sym.var("data"))
    [finding] = _findings(symbol, (1, 3, side, side), "fixed-global-pool")
    kernel = finding.detail["kernel"]
    assert finding.detail["stride"] == kernel and finding.detail["here"] == "global"
    assert finding.detail["global_ranges"] == [list(whole)] * 2
    assert finding.detail["ignoring_ranges"] == [list(ignoring)] * 2
    assert finding.detail["input_ranges"] == [[whole[0], ignoring[1]]] * 2
    graph = Graph.from_symbol(symbol)
    pool = next(n for n in graph.nodes if n.name == finding.layer)
    source = graph.nodes[pool.inputs[0]].name
    internals = symbol.get_internals()
    feeding = internals[f"{source}_output"]

    def map_at(s):
        return _shapes(feeding, data=(1, 3, s, s))[0][source][2:]

    assert map_at(whole[0]) == map_at(whole[1]) == tuple(kernel)  # global: the map is the kernel
    assert map_at(whole[0] - 1) < tuple(kernel) and map_at(ignoring[0]) > tuple(kernel)
    pooled = internals[f"{finding.layer}_output"]
    assert _shapes(pooled, data=(1, 3, ignoring[1], ignoring[1]))[0][finding.layer][2:] == (1, 1)
    assert _shapes(pooled, data=(1, 3, ignoring[1] + 1, ignoring[1] + 1))[0][finding.layer][2:] == (2, 2)


# --- 5. size-locked layers ---------------------------------------------------------------------


def _psp_like():
    """PSPNet's head at 480: a stride-8 map (60x60), its 1x1 pyramid level resized back to a
    fixed 60x60 and concatenated, then the prediction resized to a fixed 480x480."""
    feat = _conv(DATA, "feat", stride=8)
    level = _conv(
        mx.sym.contrib.AdaptiveAvgPooling2D(feat, output_size=1), "level", kernel=1, pad=0, filters=4
    )
    up = mx.sym.contrib.BilinearResize2D(level, height=60, width=60, name="pyramid_up")
    head = _conv(mx.sym.Concat(feat, up, name="concat"), "head", filters=2)
    return mx.sym.contrib.BilinearResize2D(head, height=480, width=480, name="final_up")


def test_fixed_size_resize_in_a_segmentation_head():
    pyramid, final = _findings(_psp_like(), (1, 3, 480, 480), "fixed-size-resize")
    # the feature map (S + 2 - 3) // 8 + 1 is 60 iff S in 473..480; the concat fails elsewhere
    assert (pyramid.layer, pyramid.severity.value) == ("pyramid_up", "warning")
    assert pyramid.detail["input_ranges"] == [[473, 480]] * 2 and pyramid.detail["matches"] == "feat"
    assert pyramid.detail["below"] == pyramid.detail["above"] == {"fails_at": "concat", "output": None}
    assert pyramid.detail["scale"] is None  # a 1x1 level: scaling does not follow the input size
    assert "fits square inputs 473..480 only (where feat is 60x60)" in pyramid.message
    assert "use mode='like' with feat" in pyramid.message
    # the last resize matches the input: 480 only; a smaller input still gets 480x480
    assert final.layer == "final_up" and final.detail["matches"] == "data"
    assert final.detail["input_ranges"] == [[480, 480]] * 2
    assert final.detail["below"] == {"fails_at": None, "output": [480, 480]}
    assert "larger ones fail at concat; use mode='like' with data to follow the input size" in final.message
    # (the head's map is not computed at other sizes, the pyramid's concat fails first: no scale)
    symbol = _psp_like()
    assert _shapes(symbol, data=(1, 3, 473, 473))[0]["final_up"] == (1, 2, 480, 480)
    assert _fails(symbol, data=(1, 3, 472, 472)) and _fails(symbol, data=(1, 3, 481, 481))


def test_a_segmentation_head_resized_to_the_input_size():
    # DeepLab's last step alone: the 60x60 prediction resized to a fixed 480x480 (8x)
    head = _conv(_conv(DATA, "feat", stride=8), "head", filters=2)
    symbol = mx.sym.contrib.BilinearResize2D(head, height=480, width=480, name="up")
    [finding] = _findings(symbol, (1, 3, 480, 480), "fixed-size-resize")
    assert finding.detail["scale"] == [8, 8] and finding.detail["matches"] == "data"
    assert finding.detail["below"] == finding.detail["above"] == {"fails_at": None, "output": [480, 480]}
    assert "fits square inputs 480 only (where data is 480x480): smaller ones still get 480x480 here" in (
        finding.message
    )
    assert "use mode='like' with data or scale_height=8, scale_width=8" in finding.message
    assert _shapes(symbol, data=(1, 3, 512, 512))[0]["up"][2:] == (480, 480)  # MXNet: a 480x480 mask


def test_a_resize_by_scale_or_like_is_size_free():
    head = _conv(_conv(DATA, "feat", stride=8), "head", filters=2)
    scaled = mx.sym.contrib.BilinearResize2D(head, scale_height=8, scale_width=8, name="up")
    like = mx.sym.contrib.BilinearResize2D(head, DATA, mode="like", name="up")
    for symbol in (scaled, like):
        assert _findings(symbol, (1, 3, 480, 480), "fixed-size-resize") == []


def test_residual_attention_fixed_resize():
    [finding] = _findings(_attention_like(), (1, 3, 224, 224), "fixed-size-resize")
    assert finding.detail["matches"] == "trunk" and finding.detail["input_ranges"] == [[223, 224]] * 2
    assert finding.detail["scale"] == [2, 2]
    assert "use mode='like' with trunk or scale_height=2, scale_width=2" in finding.message


def _mobilefacenet_like():
    """insightface's MobileFaceNet: a stride-16 body on 112x112 (7x7, 32 channels), then the GDC
    (a 7x7 depthwise convolution, no pad) and a linear embedding."""
    body = _conv(DATA, "body", stride=16, filters=32)
    gdc = mx.sym.Convolution(body, num_filter=32, num_group=32, kernel=(7, 7), no_bias=True, name="gdc")
    return mx.sym.FullyConnected(mx.sym.Flatten(gdc), num_hidden=8, name="fc1")


def test_global_depthwise_conv():
    symbol = _mobilefacenet_like()
    [finding] = _findings(symbol, (1, 3, 112, 112), "global-depthwise-conv")
    assert finding.severity.value == "info" and finding.layer == "gdc"
    # map = (S + 2 - 3) // 16 + 1 == 7 iff S - 1 in 96..111
    assert finding.detail["input_ranges"] == [[97, 112]] * 2
    assert (
        finding.detail["weight"]
        == [32, 1, 7, 7]
        == list(_shapes(symbol, data=(1, 3, 112, 112))[1]["gdc_weight"])
    )
    assert (
        "fits square inputs 97..112 (7x7 map) only, smaller ones fail here, larger ones give 2x2"
        in finding.message
    )
    gdc = symbol.get_internals()["gdc_output"]
    assert _shapes(gdc, data=(1, 3, 113, 113))[0]["gdc"][2:] == (2, 2)
    assert _fails(gdc, data=(1, 3, 96, 96))
    # a depthwise 3x3 in the body, and a dense convolution covering its map, are not flagged
    dense = _conv(_conv(DATA, "body", stride=16, filters=32), "fc_conv", kernel=7, pad=0)
    depthwise = mx.sym.Convolution(DATA, num_filter=3, num_group=3, kernel=(3, 3), pad=(1, 1), name="dw")
    for other in (dense, depthwise):
        assert _findings(other, (1, 3, 112, 112), "global-depthwise-conv") == []


def test_fixed_target_shape():
    # conv 3x3/2 pad 1: 32 -> 16; deconvolution 4x4/2 of 16 is 34 in full, cropped to 32: pad 1
    down = _conv(DATA, "down", stride=2)
    up = mx.sym.Deconvolution(
        down, num_filter=8, kernel=(4, 4), stride=(2, 2), target_shape=(32, 32), name="up"
    )
    symbol = mx.sym.elemwise_add(up, _conv(DATA, "skip"), name="fuse")
    [finding] = _findings(symbol, (1, 3, 32, 32), "fixed-target-shape")
    assert finding.detail["target"] == [32, 32] and finding.detail["map"] == [16, 16]
    assert finding.detail["pad"] == [1, 1] and finding.detail["adj"] == [0, 0]
    assert finding.detail["matches"] == "skip" and finding.detail["input_ranges"] == [[32, 32]] * 2
    assert finding.detail["below"]["fails_at"] == finding.detail["above"]["fails_at"] == "fuse"
    assert "use pad (1, 1) and adj (0, 0) instead" in finding.message
    # MXNet: the same 32x32 with pad 1 and no target, and the fixed target fails at 31 and 33
    padded = mx.sym.Deconvolution(down, num_filter=8, kernel=(4, 4), stride=(2, 2), pad=(1, 1), name="up")
    assert _shapes(padded, data=(1, 3, 32, 32))[0]["up"] == _shapes(symbol, data=(1, 3, 32, 32))[0]["up"]
    assert _shapes(padded, data=(1, 3, 64, 64))[0]["up"][2:] == (64, 64)
    assert _fails(symbol, data=(1, 3, 31, 31)) and _fails(symbol, data=(1, 3, 33, 33))
    assert _findings(padded, (1, 3, 32, 32), "fixed-target-shape") == []


def test_fixed_size_crop():
    # conv 3x3 valid: 32 -> 30, center-cropped to a fixed 24x24; the map is 30 at 32 only
    cropped = mx.sym.Crop(_conv(DATA, "conv", pad=0), num_args=1, h_w=(24, 24), center_crop=True, name="crop")
    [finding] = _findings(cropped, (1, 3, 32, 32), "fixed-size-crop")
    assert finding.detail["h_w"] == [24, 24] and finding.detail["input_ranges"] == [[32, 32]] * 2
    assert finding.detail["above"] == {"fails_at": None, "output": [24, 24]}
    assert (
        "crop of its 30x30 map to a fixed 24x24 at its center fits square inputs 32 only" in finding.message
    )
    assert _shapes(cropped, data=(1, 3, 40, 40))[0]["crop"][2:] == (24, 24)
    assert _fails(cropped, data=(1, 3, 25, 25))
    like = mx.sym.Crop(_conv(DATA, "conv", pad=1), DATA, num_args=2, name="crop")  # to the input: size-free
    assert _findings(like, (1, 3, 32, 32), "fixed-size-crop") == []


@pytest.mark.parametrize("mode", BORDER_MODES)
@pytest.mark.parametrize("name", list_models())
def test_our_models_have_no_size_locked_layer(name, mode):
    graph = Graph.from_model(name, border_mode=mode)
    report = report_graph(graph, (1, *get_model_entry(name).input_shape))
    assert not [f for f in find_pitfalls(graph.nodes, report, rules=SIZE_LOCKED)]


@pytest.mark.parametrize(
    "zoo", ["resnet18_v1", "densenet121", "mobilenet0.25", "inceptionv3", "mobilenetv2_0.25", "squeezenet1.1"]
)
def test_gluon_zoo_has_no_size_locked_layer(zoo):
    side = 299 if zoo == "inceptionv3" else 224
    graph = Graph.from_symbol(mx.gluon.model_zoo.vision.get_model(zoo, pretrained=False)(mx.sym.var("data")))
    report = report_graph(graph, (1, 3, side, side))
    assert not find_pitfalls(graph.nodes, report, rules=SIZE_LOCKED)
    assert not find_pitfalls(graph.nodes, report, rules=["input-size-dependent-params"])  # pooled globally
