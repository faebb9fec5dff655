"""The shape report against references: MXNet's own infer_shape, mx.viz.print_summary,
hand-computed receptive fields and MACs, Keras' documented minimum input size.

Nothing here compares the report with an earlier run of itself.
"""

from __future__ import annotations

import json
import math

import mxnet as mx
import pytest
from _gluon import (
    aux_total,
    export,
    learnable_total,
    mxnet_shapes,
    output_of,
    print_summary_rows,
    small_net,
)

from nin_mx import compare_border_modes, get_symbol, list_models, min_input_size, shape_report
from nin_mx.models import get_model_entry
from nin_mx.report.rows import LayerRow

MODES = ("valid", "same", "full", "reference")


def _shape(name: str, side: int | None = None, batch: int = 1) -> tuple[int, ...]:
    c, h, w = get_model_entry(name).input_shape
    return (batch, c, side or h, side or w)


def _symbol(name: str, mode: str) -> mx.sym.Symbol:
    return get_symbol(name, border_mode=None if mode == "reference" else mode)


def _op_nodes(symbol: mx.sym.Symbol) -> list[dict]:
    return [n for n in json.loads(symbol.tojson())["nodes"] if n["op"] != "null"]


@pytest.fixture
def infer_calls(monkeypatch):
    """Spies on Symbol._infer_shape_impl (what infer_shape calls): one entry per call, with
    the output names of the symbol it ran on."""
    calls: list[list[str]] = []
    original = mx.symbol.Symbol._infer_shape_impl

    def spy(self, partial, *args, **kwargs):
        calls.append(self.list_outputs())
        return original(self, partial, *args, **kwargs)

    monkeypatch.setattr(mx.symbol.Symbol, "_infer_shape_impl", spy)
    return calls


# --- 1. every row against MXNet's infer_shape of the internals -----------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list_models())
def test_rows_match_mxnet_infer_shape(name, mode):
    shape = _shape(name)
    symbol = _symbol(name, mode)
    ref = mxnet_shapes(symbol, {"data": shape})
    report = shape_report(name, shape, border_mode=mode)

    assert report.ok and report.error is None and report.failed_at is None
    assert report.border_mode == mode
    assert report.input_shapes == {"data": shape}
    ops = _op_nodes(symbol)
    # operator nodes only, in graph order; no variables
    assert [r.name for r in report.layers] == [n["name"] for n in ops]
    assert [r.op for r in report.layers] == [n["op"] for n in ops]
    assert all(r.op != "null" for r in report.layers)
    for row in report.layers:
        assert row.output_shape == output_of(ref, row.name), row.name
    assert report.output_shape == ref.outputs[symbol.list_outputs()[0]]
    assert report.total_params == learnable_total(ref, {"data": shape})
    assert report.total_aux == aux_total(ref)
    assert report.activation_bytes == 4 * sum(math.prod(output_of(ref, n["name"])) for n in ops)


@pytest.mark.parametrize("name", list_models())
def test_each_row_owns_exactly_its_variables(name):
    """A row's params/aux are the MXNet shapes of the variables feeding that node."""
    shape = _shape(name)
    symbol = get_symbol(name)
    ref = mxnet_shapes(symbol, {"data": shape})
    graph = json.loads(symbol.tojson())["nodes"]
    expected = {}
    for node in graph:
        if node["op"] == "null":
            continue
        variables = [graph[i]["name"] for i, *_ in node["inputs"] if graph[i]["op"] == "null"]
        params = [v for v in variables if v in ref.args and v != "data" and not v.endswith("_label")]
        expected[node["name"]] = (
            sum(math.prod(ref.args[v]) for v in params),
            sum(math.prod(ref.aux[v]) for v in variables if v in ref.aux),
        )
    report = shape_report(name, shape)
    assert {r.name: (r.params, r.aux) for r in report.layers} == expected
    # the inputs column names the data input but never a weight
    assert report.layers[0].inputs == ("data",)
    assert not any(
        i.endswith(("_weight", "_bias", "_gamma", "_moving_var")) for r in report.layers for i in r.inputs
    )


def test_inception_resnet_v2_counts_match_keras():
    """Keras' InceptionResNetV2 summary: 55,873,736 total, 55,813,192 trainable, 60,544
    non-trainable (moving statistics). Keras has no BatchNorm gamma (scale=False); MXNet keeps
    a fixed gamma (fix_gamma=True) as an argument, one per moving mean."""
    report = shape_report("inception_resnet_v2", (1, 3, 299, 299))
    gammas = report.total_aux // 2
    assert report.total_aux == 60_544
    assert report.total_params - gammas == 55_813_192
    assert report.total_params + report.total_aux - gammas == 55_873_736


# --- shapes from nin_mx's engine: no MXNet infer_shape, unless an operator has no rule ------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list_models())
def test_a_report_makes_no_mxnet_infer_shape_call(name, mode, infer_calls):
    shape_report(name, _shape(name), border_mode=mode)
    assert infer_calls == []


def test_compare_border_modes_makes_no_mxnet_infer_shape_call(infer_calls):
    reports = compare_border_modes("inception_resnet_v2", (1, 3, 299, 299))
    assert [r.border_mode for r in reports] == ["valid", "same", "full"]
    assert infer_calls == []


def test_failed_report_is_not_one_call_per_layer(infer_calls):
    report = shape_report("inception_resnet_v2", (1, 3, 64, 64), border_mode="valid")
    assert not report.ok
    assert infer_calls == []
    assert len(report.layers) > 500


def test_symbol_file_report_makes_no_mxnet_infer_shape_call(tmp_path, infer_calls):
    path = tmp_path / "nin-symbol.json"
    get_symbol("nin_cifar10").save(str(path))
    report = shape_report(str(path), (2, 3, 32, 32))
    assert report.ok and report.border_mode == "as built" and report.model == "nin-symbol.json"
    assert infer_calls == []


def test_an_operator_without_a_rule_falls_back_to_one_mxnet_call(infer_calls):
    """smooth_l1 has no rule in nin_mx's operator table; MXNet infers that graph, once."""
    from nin_mx.core.ops import op_info

    assert op_info("smooth_l1") is None
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, name="conv", num_filter=4, kernel=(3, 3))
    sym = mx.sym.FullyConnected(mx.sym.smooth_l1(conv, scalar=1.0, name="loss"), name="fc", num_hidden=2)
    report = shape_report(sym, (1, 3, 8, 8))
    assert report.ok and len(infer_calls) == 1
    internals = sym.get_internals()
    _, outs, _ = internals.infer_shape(data=(1, 3, 8, 8))
    named = dict(zip(internals.list_outputs(), outs))
    expected = [named["conv_output"], named["loss_output"], named["fc_output"]]
    assert [row.output_shape for row in report.layers] == expected
    assert report.total_params == 4 * 3 * 9 + 4 + 2 * 4 * 6 * 6 + 2


# --- 2. mx.viz.print_summary: agreement where it is right, the differences where it is not --


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_print_summary_agrees_on_nin_cifar10(mode):
    shape = (1, 3, 32, 32)
    summary, total = print_summary_rows(_symbol("nin_cifar10", mode), {"data": shape})
    report = shape_report("nin_cifar10", shape, border_mode=mode)
    for row in report.layers:
        op, dims, params = summary[row.name]
        assert op == row.op
        assert dims == "x".join(map(str, row.output_shape[1:]))  # print_summary drops the batch axis
        assert params == row.params, row.name  # Convolution (weight + bias); 0 for the rest
    assert total == report.total_params == 966_986  # NIN has no BatchNorm, so no aux to miss
    # print_summary prints the data variable as a layer; the report has operator rows only
    assert summary["data"] == ("null", "3x32x32", 0)
    assert "data" not in {r.name for r in report.layers}


def test_print_summary_misses_batchnorm_aux_on_inception_resnet_v2():
    shape = (1, 3, 299, 299)
    summary, total = print_summary_rows(get_symbol("inception_resnet_v2"), {"data": shape})
    report = shape_report("inception_resnet_v2", shape)
    for row in report.layers:
        assert summary[row.name][1] == "x".join(map(str, row.output_shape[1:]))
        assert summary[row.name][2] == row.params, row.name
    bn = next(r for r in report.layers if r.op == "BatchNorm")
    channels = bn.output_shape[1]
    assert summary[bn.name][2] == 2 * channels == bn.params  # gamma + beta: right
    assert bn.aux == 2 * channels  # moving mean + variance: print_summary has no column for them
    assert total == report.total_params
    assert total + report.total_aux == total + 60_544


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    return export(small_net(), "small", tmp_path_factory.mktemp("small"), (1, 3, 16, 16))


def test_print_summary_differences_on_a_small_gluon_model(small_export):
    shape = small_export.input_shape
    symbol = mx.sym.load(str(small_export.path))
    summary, total = print_summary_rows(symbol, {"data": shape})
    report = shape_report(str(small_export.path), shape)
    rows = {r.op: r for r in report.layers}
    for row in report.layers:  # output shapes: print_summary is right for every op
        assert summary[row.name][1] == "x".join(map(str, row.output_shape[1:]))

    def printed(op: str) -> int:
        return summary[rows[op].name][2]

    # right: Convolution (8*3*3*3, no bias) and BatchNorm's gamma + beta
    assert printed("Convolution") == rows["Convolution"].params == 8 * 3 * 3 * 3
    assert printed("BatchNorm") == rows["BatchNorm"].params == 2 * 8
    # wrong: BatchNorm's moving mean/var are not counted at all
    assert rows["BatchNorm"].aux == 2 * 8
    # wrong: ops print_summary does not know count 0
    assert printed("Deconvolution") == 0 and rows["Deconvolution"].params == 8 * 4 * 2 * 2 + 4
    assert printed("LeakyReLU") == 0 and rows["LeakyReLU"].params == 1  # PReLU's alpha
    assert printed("InstanceNorm") == 0 and rows["InstanceNorm"].params == 2 * 4
    assert printed("LayerNorm") == 0 and rows["LayerNorm"].params == 2 * 16
    # wrong: FullyConnected on a 4-D input counts only the channel axis: (4 + 1) * 10
    assert printed("FullyConnected") == (4 + 1) * 10
    assert rows["FullyConnected"].params == (4 * 16 * 16 + 1) * 10
    assert total == 282
    assert report.total_params + report.total_aux == small_export.gluon_count == 10_671
    assert total != small_export.gluon_count


def test_print_summary_misses_the_weights_of_a_second_input():
    """print_summary sees a variable input only if it is node 0 (its ``heads`` parsing), so a
    convolution on any other data input is counted as its bias alone."""
    a, b = mx.sym.var("a"), mx.sym.var("b")
    ca = mx.sym.Convolution(a, num_filter=4, kernel=(3, 3), name="conv_a")
    cb = mx.sym.Convolution(b, num_filter=4, kernel=(3, 3), name="conv_b")
    symbol = mx.sym.Concat(ca, cb, dim=1, name="cat")
    shapes = {"a": (1, 3, 8, 8), "b": (1, 5, 8, 8)}
    summary, _ = print_summary_rows(symbol, shapes)
    report = shape_report(symbol, shapes)
    rows = {r.name: r for r in report.layers}
    assert summary["conv_a"][2] == rows["conv_a"].params == 4 * 3 * 9 + 4
    assert summary["conv_b"][2] == 4  # the bias only
    assert rows["conv_b"].params == 4 * 5 * 9 + 4
    assert rows["cat"].output_shape == (1, 8, 6, 6)


def test_print_summary_stops_where_the_report_explains(capsys):
    symbol = get_symbol("nin_cifar10", border_mode="valid")
    with pytest.raises(mx.base.MXNetError):
        mx.viz.print_summary(symbol, {"data": (1, 3, 8, 8)})
    capsys.readouterr()  # infer_shape prints its arguments on failure
    report = shape_report("nin_cifar10", (1, 3, 8, 8), border_mode="valid")
    assert report.failed_at == "conv2" and len(report.layers) == 8


# --- 4. receptive field, jump and MACs by hand ----------------------------------------------


def test_nin_cifar10_receptive_fields_by_hand():
    # rf_out = rf_in + (k - 1) * jump_in; jump_out = jump_in * stride (padding changes neither)
    # conv1 5x5: 1 + 4*1 = 5, jump 1; cccp 1x1 keep it
    # pool1 3/2: 5 + 2*1 = 7, jump 2
    # conv2 5x5: 7 + 4*2 = 15; pool2 3/2: 15 + 2*2 = 19, jump 4
    # conv3 3x3: 19 + 2*4 = 27
    # pool3 (global) covers the whole 8x8 map of conv3 (same padding): 27 + (8 - 1)*4 = 55
    expected = {
        "conv1": (5, 1),
        "cccp1": (5, 1),
        "cccp2_relu": (5, 1),
        "pool1": (7, 2),
        "drop1": (7, 2),
        "conv2": (15, 2),
        "cccp4": (15, 2),
        "pool2": (19, 4),
        "conv3": (27, 4),
        "cccp6_relu": (27, 4),
        "pool3": (55, 4),
    }
    rows = {r.name: r for r in shape_report("nin_cifar10", (1, 3, 32, 32)).layers}
    for name, (rf, jump) in expected.items():
        assert rows[name].receptive_field == (rf, rf), name
        assert rows[name].jump == (jump, jump), name
    assert rows["flatten"].receptive_field is None  # out of the spatial domain
    assert rows["softmax"].receptive_field is None
    # valid padding: conv3 gives 3x3, so the global pool covers 27 + 2*4 = 35; full: 13x13 -> 75
    valid, full = (
        {r.name: r for r in shape_report("nin_cifar10", (1, 3, 32, 32), border_mode=m).layers}
        for m in ("valid", "full")
    )
    assert valid["pool3"].receptive_field == (35, 35)
    assert full["pool3"].receptive_field == (75, 75)
    assert valid["conv3"].receptive_field == full["conv3"].receptive_field == (27, 27)


def test_nin_cifar10_macs_by_hand():
    # MACs = H_out * W_out * C_out * C_in * k * k (reference padding keeps 32, 16, 8)
    expected = {
        "conv1": 32 * 32 * 192 * 3 * 25,
        "cccp1": 32 * 32 * 160 * 192,
        "cccp2": 32 * 32 * 96 * 160,
        "conv2": 16 * 16 * 192 * 96 * 25,
        "cccp3": 16 * 16 * 192 * 192,
        "cccp4": 16 * 16 * 192 * 192,
        "conv3": 8 * 8 * 192 * 192 * 9,
        "cccp5": 8 * 8 * 192 * 192,
        "cccp6": 8 * 8 * 10 * 192,
    }
    report = shape_report("nin_cifar10", (1, 3, 32, 32))
    macs = {r.name: r.macs for r in report.layers if r.macs}
    assert macs == expected  # and every other op (ReLU, pooling, dropout) counts 0
    assert report.total_macs == sum(expected.values()) == 222_486_528
    # MACs are for the whole batch; valid padding shrinks conv1 to 28x28
    assert shape_report("nin_cifar10", (2, 3, 32, 32)).total_macs == 2 * 222_486_528
    valid = {r.name: r for r in shape_report("nin_cifar10", (1, 3, 32, 32), border_mode="valid").layers}
    assert valid["conv1"].macs == 28 * 28 * 192 * 3 * 25


def test_nin_imagenet_receptive_fields_and_macs_by_hand():
    # conv1 11x11/4 (valid): rf 11, jump 4, 224 -> (224 - 11) // 4 + 1 = 54
    # pool0 3/2: 11 + 2*4 = 19, jump 8;   conv2 5x5: 19 + 4*8 = 51
    # pool2 3/2: 51 + 2*8 = 67, jump 16;  conv3 3x3: 67 + 2*16 = 99
    # pool3 3/2: 99 + 2*16 = 131, jump 32; conv4 3x3: 131 + 2*32 = 195
    expected = {
        "conv1": (11, 4),
        "pool0": (19, 8),
        "conv2": (51, 8),
        "pool2": (67, 16),
        "conv3": (99, 16),
        "pool3": (131, 32),
        "conv4": (195, 32),
    }
    rows = {r.name: r for r in shape_report("nin_imagenet", (1, 3, 224, 224)).layers}
    for name, (rf, jump) in expected.items():
        assert (rows[name].receptive_field, rows[name].jump) == ((rf, rf), (jump, jump)), name
    assert rows["conv1"].macs == 54 * 54 * 96 * 3 * 11 * 11
    assert rows["cccp8"].macs == 6 * 6 * 1000 * 1024


def test_inception_resnet_v2_merge_takes_the_largest_receptive_field():
    # stem (valid), jump doubling at each stride 2:
    # conv1a 3/2: 3, j2; conv2a 3: 3 + 2*2 = 7; conv2b 3: 11; pool3a 3/2: 15, j4;
    # conv3b 1x1: 15; conv4a 3: 15 + 2*4 = 23; pool5a 3/2: 23 + 2*4 = 31, j8
    # Mixed_5b: b0 1x1 31 | b1 5x5 31 + 4*8 = 63 | b2 3x3, 3x3: 47, 63 | b3 avg 3x3, 1x1: 47
    # block35_1: b0 63 | b1 63 + 16 = 79 | b2 79, 95 -> concat 95; add(x = 63, up = 95) -> 95
    rows = {r.name: r for r in shape_report("inception_resnet_v2", (1, 3, 299, 299)).layers}

    def rf(name: str) -> int:
        value = rows[name].receptive_field
        assert value[0] == value[1], name
        return value[0]

    assert (rf("stem_pool5a_3x3"), rows["stem_pool5a_3x3"].jump) == (31, (8, 8))
    branches = [
        "mixed_5b_b0_1x1_relu",
        "mixed_5b_b1_5x5_relu",
        "mixed_5b_b2_3x3b_relu",
        "mixed_5b_b3_1x1_relu",
    ]
    assert [rf(b) for b in branches] == [31, 63, 63, 47]
    assert rows["mixed_5b_concat"].inputs == tuple(branches)
    assert rf("mixed_5b_concat") == 63
    assert rf("block35_1_concat") == 95
    assert rows["block35_1_add"].inputs == ("mixed_5b_concat", "block35_1_scale")
    assert rf("block35_1_add") == 95  # the max, not the first input's 63
    assert rows["stem_conv1a_3x3"].macs == 149 * 149 * 32 * 3 * 3 * 3
    assert rows["fc"].macs == 1536 * 1000
    assert rows["stem_conv1a_3x3_bn"].macs == 0


def test_grouped_convolution_macs_and_params():
    """Convolution with num_group=4: C_in/groups per output; params from MXNet's weight shape."""
    data = mx.sym.var("data")
    symbol = mx.sym.Convolution(data, num_filter=8, kernel=(3, 3), num_group=4, name="gconv")
    row = shape_report(symbol, (1, 8, 10, 10)).layers[0]
    assert row.output_shape == (1, 8, 8, 8)
    assert row.params == 8 * (8 // 4) * 3 * 3 + 8
    assert row.macs == 8 * 8 * 8 * (8 // 4) * 3 * 3


def test_macs_and_window_after_an_operator_the_walk_does_not_model():
    """After UpSampling the spatial walk stops (no receptive field), but MACs and the window
    still come from MXNet's shapes and the node's own attributes."""
    data = mx.sym.var("data")
    x = mx.sym.Convolution(data, num_filter=8, kernel=(3, 3), pad=(1, 1), name="c1")
    x = mx.sym.UpSampling(x, scale=2, sample_type="nearest", name="up")
    x = mx.sym.Convolution(x, num_filter=4, kernel=(3, 3), stride=(2, 2), name="c2")
    x = mx.sym.Pooling(x, global_pool=True, kernel=(1, 1), pool_type="avg", name="gp")
    rows = {r.name: r for r in shape_report(x, (1, 3, 16, 16)).layers}
    # 16 -> c1 16 -> up 32 -> c2 (32 - 3) // 2 + 1 = 15
    assert rows["c2"].output_shape == (1, 4, 15, 15)
    assert rows["c2"].macs == 15 * 15 * 4 * 8 * 3 * 3
    assert (rows["c2"].kernel, rows["c2"].stride, rows["c2"].pad) == ((3, 3), (2, 2), (0, 0))
    assert rows["c2"].receptive_field is None
    assert rows["gp"].kernel == (15, 15)


# --- min_input_size -------------------------------------------------------------------------


def test_min_input_inception_resnet_v2_is_keras_75():
    # Keras documents InceptionResNetV2's input as "no smaller than 75" (valid padding).
    assert min_input_size("inception_resnet_v2", border_mode="valid") == 75
    assert min_input_size("inception_resnet_v2") == 75  # reference padding is valid
    assert shape_report("inception_resnet_v2", (1, 3, 75, 75), border_mode="valid").ok
    too_small = shape_report("inception_resnet_v2", (1, 3, 74, 74), border_mode="valid")
    # 74 -> 36 -> 34 -> 34 -> 16 -> 16 -> 14 -> 6 -> Mixed_6a 2 -> Mixed_7a: 3x3 on 2
    assert not too_small.ok and too_small.failed_at == "mixed_7a_b0_3x3"


def test_min_input_nin_cifar10_by_hand():
    # valid: conv3 (3x3) needs 3 -> pool2 (3/2, ceil) output 3 needs ceil((m - 3) / 2) >= 2,
    # m >= 6 -> conv2 (5x5) input 10 -> pool1 output 10 needs ceil((c - 3) / 2) >= 9, c >= 20
    # -> conv1 (5x5) input 24.
    assert min_input_size("nin_cifar10", border_mode="valid") == 24
    # same: convolutions keep the size; pool2 needs 3 -> pool1 input 6
    assert min_input_size("nin_cifar10", border_mode="same") == 6
    assert min_input_size("nin_cifar10") == 6  # reference = same
    assert min_input_size("nin_cifar10", border_mode="full") == 1
    # 23: conv1 19, pool1 9, conv2 5, pool2 2, conv3 fails
    assert shape_report("nin_cifar10", (1, 3, 23, 23), border_mode="valid").failed_at == "conv3"
    assert shape_report("nin_cifar10", (1, 3, 5, 5), border_mode="same").failed_at == "pool2"
    assert shape_report("nin_cifar10", (1, 3, 1, 1), border_mode="valid").failed_at == "conv1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list_models())
def test_min_input_is_tight(name, mode):
    """MXNet accepts the size found and rejects one less."""
    border_mode = None if mode == "reference" else mode
    side = min_input_size(name, border_mode=border_mode)
    assert shape_report(name, _shape(name, side), border_mode=mode).ok
    if side > 1:
        smaller = shape_report(name, _shape(name, side - 1), border_mode=mode)
        assert not smaller.ok and smaller.failed_at


# --- 5. failure reports ----------------------------------------------------------------------


def test_nin_cifar10_at_8_fails_at_conv2():
    report = shape_report("nin_cifar10", (1, 3, 8, 8), border_mode="valid")
    assert not report.ok
    assert report.failed_at == "conv2"
    assert "\n" not in report.error and "conv2" in report.error
    assert report.output_shape is None
    # 8 -> conv1 5x5: 4 -> pool1 3/2 ceil: ceil(1/2) + 1 = 2 -> conv2 5x5 cannot fit
    expected = [
        ("conv1", (1, 192, 4, 4)),
        ("conv1_relu", (1, 192, 4, 4)),
        ("cccp1", (1, 160, 4, 4)),
        ("cccp1_relu", (1, 160, 4, 4)),
        ("cccp2", (1, 96, 4, 4)),
        ("cccp2_relu", (1, 96, 4, 4)),
        ("pool1", (1, 96, 2, 2)),
        ("drop1", (1, 96, 2, 2)),
    ]
    assert [(r.name, r.output_shape) for r in report.layers] == expected
    assert report.total_params == (192 * 3 * 25 + 192) + (160 * 192 + 160) + (96 * 160 + 96)
    assert report.total_macs == 4 * 4 * (192 * 3 * 25 + 160 * 192 + 96 * 160)


def test_failure_at_the_first_layer_has_no_rows():
    report = shape_report("nin_cifar10", (1, 3, 4, 4), border_mode="valid")
    assert not report.ok and report.failed_at == "conv1" and report.layers == ()
    assert "conv1" in report.error and report.total_params == 0


def test_inception_resnet_v2_at_64_fails_in_mixed_7a():
    shape = (1, 3, 64, 64)
    report = shape_report("inception_resnet_v2", shape, border_mode="valid")
    assert not report.ok
    assert report.failed_at.startswith("mixed_7a")
    assert "\n" not in report.error and report.failed_at in report.error
    symbol = get_symbol("inception_resnet_v2", border_mode="valid")
    ops = [n["name"] for n in _op_nodes(symbol)]
    assert [r.name for r in report.layers] == ops[: ops.index(report.failed_at)]
    # the rows' shapes are MXNet's, over exactly those outputs
    internals = symbol.get_internals()
    before = mx.sym.Group([internals[f"{r.name}_output"] for r in report.layers])
    ref = mxnet_shapes(before, {"data": shape})
    for row in report.layers:
        assert row.output_shape == ref.outputs[f"{row.name}_output"], row.name
    rows = {r.name: r for r in report.layers}
    # stem 64 -> 31 -> 29 -> 29 -> 14 -> 14 -> 12 -> 5; Mixed_6a (3x3/2 valid): 2
    assert rows["mixed_5b_concat"].output_shape == (1, 320, 5, 5)
    assert rows["mixed_6a_concat"].output_shape == (1, 1088, 2, 2)


def test_a_failing_mode_beside_working_ones():
    reports = compare_border_modes("nin_cifar10", (1, 3, 8, 8), modes=("valid", "same", "full", None))
    assert [r.border_mode for r in reports] == ["valid", "same", "full", "reference"]
    assert [r.ok for r in reports] == [False, True, True, True]
    assert reports[0].failed_at == "conv2"
    # same: 8 -> pool1 4 -> pool2 2; full: 8 + 4 = 12 -> 6 -> conv2 10 -> 5 -> conv3 7
    assert all(r.output_shape == (1, 10) for r in reports[1:])
    same = {r.name: r.output_shape for r in reports[1].layers}
    full = {r.name: r.output_shape for r in reports[2].layers}
    assert same["pool2"] == (1, 192, 2, 2)
    assert full["conv3"] == (1, 192, 7, 7)


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="did you mean 'nin_cifar10'"):
        shape_report("nin_cifar", (1, 3, 32, 32))
    with pytest.raises(ValueError, match="border_mode"):
        shape_report("nin_cifar10", (1, 3, 32, 32), border_mode="circular")
    with pytest.raises(ValueError, match="positive"):
        shape_report("nin_cifar10", (1, 3, 0, 32))
    with pytest.raises(ValueError, match="border_mode must be one of"):
        compare_border_modes("nin_cifar10", (1, 3, 32, 32), modes=("valid", "wrap"))


def test_layer_row_is_an_immutable_named_tuple():
    row = LayerRow("c", "Convolution", ("data",), (1, 4, 8, 8), 108, 0, 6912, (3, 3), (1, 1))
    assert row.pad is None and row.receptive_field is None  # the optional fields default to None
    assert row._replace(params=0) == LayerRow(
        "c", "Convolution", ("data",), (1, 4, 8, 8), 0, 0, 6912, (3, 3), (1, 1)
    )
    assert hash(row) == hash(row._replace())
    with pytest.raises(AttributeError):
        row.params = 0  # type: ignore[misc]


def test_macs_of_a_layer_fed_by_a_later_output_use_that_output():
    """split_v2 of 5 channels at index 1: output 0 has 1 channel, output 1 has 4."""
    data = mx.sym.var("data")
    parts = mx.sym._internal._split_v2(data, indices=(0, 1), axis=1, sections=0, name="split")
    conv = mx.sym.Convolution(parts[1], num_filter=4, kernel=(3, 3), no_bias=True, name="conv")
    fc = mx.sym.FullyConnected(parts[0], num_hidden=5, no_bias=True, name="fc")
    report = shape_report(mx.sym.Group([conv, fc]), (1, 5, 8, 8))
    rows = {row.name: row for row in report.layers}
    ref = mxnet_shapes(mx.sym.Group([conv, fc]), {"data": (1, 5, 8, 8)})
    assert ref.outputs["split_output1"] == (1, 4, 8, 8)
    # conv: 4 output channels x 6 x 6 positions x 4 input channels x 3 x 3
    assert rows["conv"].macs == 4 * 6 * 6 * 4 * 9 == 5184
    assert rows["conv"].params == math.prod(ref.args["conv_weight"]) == 144
    # fc: the 1 x 8 x 8 values of output 0, times 5 units
    assert rows["fc"].macs == 64 * 5
