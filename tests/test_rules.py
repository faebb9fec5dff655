"""The pitfall rules against references: sizes computed by hand (in the comments) and MXNet's own
answers for the same graphs (infer_shape, and autograd for which input rows a window reads).

Every rule has a graph that must trigger it and one that must not. Nothing here compares the
findings with an earlier run of themselves.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import mxnet as mx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nin_mx import get_symbol, list_models
from nin_mx.checks.rules import RULES, Finding, Severity, find_pitfalls
from nin_mx.graph.nodes import parse_nodes
from nin_mx.graph.sides import side_interval
from nin_mx.models import get_model_entry
from nin_mx.report.comparison import manual_pool_kernel
from nin_mx.report.rows import shape_report

MODES = ("valid", "same", "full", "reference")


def _pitfalls(symbol: mx.sym.Symbol, shape: tuple[int, ...], rule: str | None = None) -> list[Finding]:
    findings = find_pitfalls(parse_nodes(symbol.tojson()), shape_report(symbol, shape))
    for finding in findings:  # every finding, of every test: one line, JSON-ready, the table's severity
        assert "\n" not in finding.message and finding.message.strip()
        assert json.loads(json.dumps(finding.detail)) == finding.detail  # lists and plain values only
        assert finding.severity is RULES[finding.rule].severity
    return [f for f in findings if rule is None or f.rule == rule]


def _spatial(symbol: mx.sym.Symbol, shape: tuple[int, ...]) -> tuple[int, ...]:
    """MXNet's output size (spatial axes) of ``symbol`` at ``shape``."""
    _, outs, _ = symbol.infer_shape(data=shape)
    return tuple(outs[0][2:])


def _fails(symbol: mx.sym.Symbol, shape: tuple[int, ...]) -> bool:
    try:
        symbol.get_internals()._infer_shape_impl(False, data=shape)
    except mx.base.MXNetError:
        return True
    return False


def _manual(name: str, shape: tuple[int, ...], kernel: tuple[int, int]) -> mx.sym.Symbol:
    """A registered model whose final pool has the fixed ``kernel``, the map size at ``shape``
    (what ``nin_mx.manual_symbol`` computes from ``infer_shape``, checked here too)."""
    assert manual_pool_kernel(name, shape) == kernel
    return get_symbol(name, pool_kernel=kernel)


DATA = mx.sym.var("data")


def _conv(x, name="conv", kernel=(3, 3), stride=(1, 1), pad=(0, 0), dilate=(1, 1), filters=4):
    return mx.sym.Convolution(
        x, name=name, num_filter=filters, kernel=kernel, stride=stride, pad=pad, dilate=dilate
    )


def _pool(x, name="pool", **kwargs):
    kwargs.setdefault("pool_type", "avg")
    return mx.sym.Pooling(x, name=name, **kwargs)


# --- fixed-global-pool -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool_stride", "low", "high", "whole"),
    [
        # conv 3x3/2 valid: map = (S - 3) // 2 + 1; at S = 17 the map is 8.
        # kernel 8 stride 1 gives 1 iff map == 8, i.e. S in 17..18: global pooling throughout;
        ((1, 1), 17, 18, 18),
        # kernel 8 stride 2 gives 1 iff 8 <= map <= 9, i.e. S in 17..20; global (map 8) at 17..18
        # only, a 9x9 map (S 19..20) is pooled to 1x1 without its last row and column.
        ((2, 2), 17, 20, 18),
    ],
)
def test_fixed_global_pool_range_by_hand_and_by_mxnet(pool_stride, low, high, whole):
    symbol = _pool(_conv(DATA, stride=(2, 2)), kernel=(8, 8), stride=pool_stride)
    [finding] = _pitfalls(symbol, (1, 3, 17, 17), "fixed-global-pool")
    assert finding.layer == "pool" and finding.severity is Severity.WARNING
    assert finding.detail["input_ranges"] == [[low, high], [low, high]]
    assert finding.detail["global_ranges"] == [[low, whole], [low, whole]]
    assert finding.detail["here"] == "global"
    assert finding.detail["fails_below_at"] == "pool"
    assert finding.detail["above"] == [2, 2]
    assert f"equals global pooling only for square inputs {low}..{whole} (8x8 map)" in finding.message
    assert "global_pool=True" in finding.message
    if whole < high:
        assert finding.detail["ignoring_ranges"] == [[whole + 1, high]] * 2
        assert (
            f"square inputs {whole + 1}..{high} pool to 1x1 but ignore their last rows and columns (9x9 map)"
            in finding.message
        )
        assert _spatial(_conv(DATA, stride=(2, 2)), (1, 3, whole + 1, whole + 1)) == (9, 9)
    else:
        assert finding.detail["ignoring_ranges"] == [None, None]
    # MXNet: 1x1 at both ends, an error just below, 2x2 just above
    assert _spatial(symbol, (1, 3, low, low)) == _spatial(symbol, (1, 3, high, high)) == (1, 1)
    assert _spatial(_conv(DATA, stride=(2, 2)), (1, 3, whole, whole)) == (8, 8)  # the kernel: global
    assert _fails(symbol, (1, 3, low - 1, low - 1))
    assert _spatial(symbol, (1, 3, high + 1, high + 1)) == (2, 2)


def test_fixed_global_pool_on_a_non_square_input_per_axis():
    # at 17 x 40 the map is 8 x 19: heights (S - 3) // 2 + 1 == 8 -> 17..18, widths == 19 -> 39..40
    symbol = _pool(_conv(DATA, stride=(2, 2)), kernel=(8, 19), stride=(1, 1))
    [finding] = _pitfalls(symbol, (1, 3, 17, 40), "fixed-global-pool")
    assert finding.detail["input_ranges"] == [[17, 18], [39, 40]]
    assert "inputs of height 17..18 and width 39..40" in finding.message
    assert _spatial(symbol, (1, 3, 18, 39)) == (1, 1)
    assert _spatial(symbol, (1, 3, 17, 41)) == (1, 2)
    assert _spatial(symbol, (1, 3, 19, 40)) == (2, 1)
    assert _fails(symbol, (1, 3, 17, 38))


def test_fixed_global_pool_below_fails_at_an_earlier_layer():
    # conv 3x3 valid needs S >= 3 and gives S - 2; the deconvolution 2x2/2 doubles it; the 2x2/2 pool
    # gives (2(S - 2) - 2) // 2 + 1 = S - 2: 1x1 at S = 3 only, and S = 2 fails at the conv already.
    up = mx.sym.Deconvolution(_conv(DATA), name="up", num_filter=4, kernel=(2, 2), stride=(2, 2))
    symbol = _pool(up, kernel=(2, 2), stride=(2, 2))
    [finding] = _pitfalls(symbol, (1, 3, 3, 3), "fixed-global-pool")
    assert finding.detail["input_ranges"] == [[3, 3], [3, 3]]
    assert finding.detail["fails_below_at"] == "conv"
    assert "only for square inputs 3 (2x2 map), smaller ones fail at conv" in finding.message
    assert _spatial(symbol, (1, 3, 3, 3)) == (1, 1) and _spatial(symbol, (1, 3, 4, 4)) == (2, 2)
    assert _fails(_conv(DATA), (1, 3, 2, 2))


def test_fixed_global_pool_after_an_operator_the_walk_does_not_model():
    # UpSampling doubles 4x4 to 8x8: the walk does not follow it, the engine does, so the range
    # is exact: 1x1 at 4 only (3 upsamples to 6 < 8, 5 to 10 -> 3x3)
    up = mx.sym.UpSampling(DATA, name="up", scale=2, sample_type="nearest", num_args=1)
    symbol = _pool(up, kernel=(8, 8))
    assert _spatial(symbol, (1, 3, 4, 4)) == (1, 1) and _spatial(symbol, (1, 3, 5, 5)) == (3, 3)
    assert _fails(symbol, (1, 3, 3, 3))
    [finding] = _pitfalls(symbol, (1, 3, 4, 4), "fixed-global-pool")
    assert finding.detail["input_ranges"] == [[4, 4], [4, 4]]
    assert finding.detail["above"] == [3, 3] and finding.detail["fails_below_at"] == "pool"
    assert (
        "equals global pooling only for square inputs 4 (8x8 map), smaller ones fail here, larger ones pool "
        "to 3x3 and more" in finding.message
    )


def test_fixed_global_pool_whose_stride_is_its_kernel_at_a_larger_input():
    # Gluon's AvgPool2D(7) (stride 7) after five 3x3/2 pad 1 convolutions: map = ceil(S / 32).
    # Global (7x7 map) for S in 193..224; 1x1 without the last rows and columns for 8..13, i.e.
    # S in 225..416; at 256 the map is 8x8: one window, rows and column 7 never read.
    x = DATA
    for i in range(5):
        x = _conv(x, f"c{i}", stride=(2, 2), pad=(1, 1))
    symbol = _pool(x, kernel=(7, 7), stride=(7, 7))
    for side in (224, 256):
        [finding] = _pitfalls(symbol, (1, 3, side, side), "fixed-global-pool")
        assert finding.detail["input_ranges"] == [[193, 416]] * 2
        assert finding.detail["global_ranges"] == [[193, 224]] * 2
        assert finding.detail["ignoring_ranges"] == [[225, 416]] * 2
        assert finding.detail["here"] == ("global" if side == 224 else "ignores")
        assert "equals global pooling only for square inputs 193..224 (7x7 map)" in finding.message
        assert (
            "square inputs 225..416 pool to 1x1 but ignore their last rows and columns (8x8 to 13x13 maps)"
            in (finding.message)
        )
    assert "pools its 8x8 map to 1x1 but ignores its last 1 row and 1 column at this input" in finding.message
    # MXNet: the map at the ends of each range, and the pool's output around them
    assert [_spatial(x, (1, 3, s, s)) for s in (193, 224, 225, 416, 417)] == [
        (7, 7),
        (7, 7),
        (8, 8),
        (13, 13),
        (14, 14),
    ]
    assert _spatial(symbol, (1, 3, 416, 416)) == (1, 1) and _spatial(symbol, (1, 3, 417, 417)) == (2, 2)
    assert _fails(symbol, (1, 3, 192, 192))

    def pool(v):
        return mx.nd.Pooling(v, kernel=(7, 7), stride=(7, 7), pool_type="avg")

    assert _unread_by_gradient(pool, 8) == 1 and _unread_by_gradient(pool, 7) == 0


def test_an_ordinary_pool_on_a_tiny_map_is_no_global_pool():
    # 3x3/2 on 4x4 outputs 1x1 and never reads row 3, but it is no hand-computed global pool
    assert _pitfalls(_pool(DATA, kernel=(3, 3), stride=(2, 2)), (1, 3, 4, 4), "fixed-global-pool") == []


@pytest.mark.parametrize(
    "symbol",
    [
        _pool(_conv(DATA, stride=(2, 2)), global_pool=True, kernel=(1, 1)),  # the fix
        _pool(_conv(DATA, stride=(2, 2)), kernel=(3, 3), stride=(2, 2)),  # a pooling, not a global one
        _pool(_pool(DATA, global_pool=True, kernel=(1, 1), name="g"), kernel=(1, 1)),  # 1x1 on 1x1
        _pool(_conv(DATA, kernel=(17, 17)), kernel=(1, 1)),  # 1x1 on 1x1 here, but it pools nothing
    ],
)
def test_fixed_global_pool_negative(symbol):
    assert _pitfalls(symbol, (1, 3, 17, 17), "fixed-global-pool") == []


# Hand-computed ranges of the models' manual final pool (stride 1: 1x1 iff the map is the kernel):
# nin_cifar10 at 32: two ceil pools 3/2, c(n) = ceil((n - 3) / 2) + 1, need c(c(S)) == 8:
#   c(n) == 8 iff n in 16..17; c(S) in 16..17 iff S in 32..35.
# nin_imagenet at 224: a = (S - 11) // 4 + 1, then three ceil pools to 6: c^3(a) == 6 iff a in
#   48..55, iff S in 199..230.
# inception_resnet_v2 at 299: S -> (S - 3) // 2 + 1 - 2 -> v -> (v - 3) // 2 + 1 - 2 -> four
#   floor 3/2 reductions to 8; the map is 8 iff the stem's first output is 149..164, iff S in 299..330.
# The kernels: docs/reference.md's map sizes (8x8 at 32, 6x6 at 224 with ceil pools, 8x8 at 299).
MANUAL = {
    "nin_cifar10": ((1, 3, 32, 32), (8, 8), 32, 35),
    "nin_imagenet": ((1, 3, 224, 224), (6, 6), 199, 230),
    "inception_resnet_v2": ((1, 3, 299, 299), (8, 8), 299, 330),
}


def test_every_model_has_a_manual_case():
    assert sorted(MANUAL) == list_models()


@pytest.mark.parametrize("name", sorted(MANUAL))
def test_our_manual_pool_gets_fixed_global_pool(name):
    shape, kernel, low, high = MANUAL[name]
    symbol = _manual(name, shape, kernel)
    [finding] = _pitfalls(symbol, shape, "fixed-global-pool")
    pool = [n for n in parse_nodes(symbol.tojson()) if n.op == "Pooling"][-1]
    assert pool.tuple_attr("kernel") == kernel and not pool.bool_attr("global_pool")
    assert finding.layer == pool.name and finding.detail["kernel"] == list(kernel)
    assert finding.detail["input_ranges"] == [[low, high]] * 2
    assert f"only for square inputs {low}..{high}" in finding.message
    assert "smaller ones fail here, larger ones pool to 2x2 and more" in finding.message
    internals = symbol.get_internals()
    pooled = internals[f"{pool.name}_output"]
    assert _spatial(pooled, (1, 3, low, low)) == _spatial(pooled, (1, 3, high, high)) == (1, 1)
    assert _spatial(pooled, (1, 3, high + 1, high + 1)) == (2, 2)
    assert _fails(pooled, (1, 3, low - 1, low - 1))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list_models())
def test_our_models_with_defaults_get_no_warning(name, mode):
    c, h, w = get_model_entry(name).input_shape
    symbol = get_symbol(name, border_mode=None if mode == "reference" else mode)
    findings = _pitfalls(symbol, (1, c, h, w))
    assert [f for f in findings if f.severity >= Severity.WARNING] == []
    assert {f.rule for f in findings} <= {"pooling-convention-sensitive", "unread-border"}


# --- padded-global-pool ----------------------------------------------------------------------


def test_padded_global_pool_the_8x8_pad_1_case():
    # kernel 8, pad 1 on 8x8: (8 + 2 - 8) // 1 + 1 = 3 -> 3x3, 9x the 1536 values
    symbol = _pool(DATA, kernel=(8, 8), pad=(1, 1))
    assert _spatial(symbol, (1, 1536, 8, 8)) == (3, 3)
    [finding] = _pitfalls(symbol, (1, 1536, 8, 8), "padded-global-pool")
    assert finding.detail == {"kernel": [8, 8], "pad": [1, 1], "map": [8, 8], "output": [3, 3]}
    assert (
        "output 3x3, not 1x1" in finding.message
        and "9x the values (13,824 instead of 1,536" in finding.message
    )
    assert _pitfalls(symbol, (1, 1536, 8, 8), "fixed-global-pool") == []


@pytest.mark.parametrize(
    "symbol",
    [
        _pool(DATA, kernel=(8, 8)),  # no pad: a fixed global pool, not a padded one
        _pool(DATA, kernel=(3, 3), pad=(1, 1)),  # does not cover the map
        _pool(DATA, global_pool=True, kernel=(8, 8), pad=(1, 1)),  # MXNet ignores the pad
    ],
)
def test_padded_global_pool_negative(symbol):
    assert _pitfalls(symbol, (1, 4, 8, 8), "padded-global-pool") == []


# --- ignored-pool-attrs ------------------------------------------------------------------------


def test_ignored_pool_attrs():
    symbol = _pool(DATA, global_pool=True, kernel=(3, 3), stride=(2, 2), pad=(1, 1))
    plain = _pool(DATA, global_pool=True)
    # MXNet: the same 1x1 output as without them, where a 3x3/2 pad 1 window would give 4x4
    assert _spatial(symbol, (1, 4, 8, 8)) == _spatial(plain, (1, 4, 8, 8)) == (1, 1)
    assert _spatial(_pool(DATA, kernel=(3, 3), stride=(2, 2), pad=(1, 1)), (1, 4, 8, 8)) == (4, 4)
    [finding] = _pitfalls(symbol, (1, 4, 8, 8), "ignored-pool-attrs")
    assert finding.detail == {"ignored": {"kernel": [3, 3], "stride": [2, 2], "pad": [1, 1]}, "map": [8, 8]}
    assert "ignores kernel (3, 3), stride (2, 2) and pad (1, 1): the layer pools the whole 8x8 map" in (
        finding.message
    )


@pytest.mark.parametrize(
    "symbol",
    [
        _pool(DATA, global_pool=True),
        _pool(DATA, global_pool=True, kernel=(1, 1)),  # what nin_mx's factories write
        # what Gluon's GlobalAvgPool2D exports
        _pool(DATA, global_pool=True, kernel=(1, 1), stride=(1, 1), pad=(0, 0), pooling_convention="full"),
        _pool(DATA, kernel=(3, 3), stride=(2, 2), pad=(1, 1)),  # not global
    ],
)
def test_ignored_pool_attrs_negative(symbol):
    assert _pitfalls(symbol, (1, 4, 8, 8), "ignored-pool-attrs") == []


# --- custom-padding ----------------------------------------------------------------------------


def test_custom_padding_the_published_block17_pads():
    # A published Inception-ResNet-v2 pads its 1x7 and 7x1 convolutions by (1, 2) and (2, 1):
    # 1x7 on 17x17: (17 + 2 - 1 + 1, 17 + 4 - 7 + 1) = 19x15; 7x1 on that: back to 17x17.
    first = _conv(DATA, "conv_1x7", kernel=(1, 7), pad=(1, 2))
    symbol = _conv(first, "conv_7x1", kernel=(7, 1), pad=(2, 1))
    assert _spatial(first, (1, 8, 17, 17)) == (19, 15) and _spatial(symbol, (1, 8, 17, 17)) == (17, 17)
    one, two = _pitfalls(symbol, (1, 8, 17, 17), "custom-padding")
    assert (one.layer, two.layer) == ("conv_1x7", "conv_7x1")
    assert one.detail["axes"] == [
        {"axis": "height", "pad": 1, "needs": "same", "needs_pad": 0},
        {"axis": "width", "pad": 2, "needs": "same", "needs_pad": 3},
    ]
    assert one.detail["output"] == [19, 15] and one.detail["instead"] == [17, 17]
    assert _spatial(_conv(DATA, kernel=(1, 7), pad=(0, 3)), (1, 8, 17, 17)) == (17, 17)  # MXNet agrees
    assert "outputs 19x15 from 17x17, pad (0, 3) gives 17x17" in one.message
    # the second sees 19x15; pad (3, 0) keeps it: (19 + 6 - 7 + 1, 15 + 0 - 1 + 1)
    assert (
        two.detail["instead"]
        == [19, 15]
        == list(_spatial(_conv(DATA, kernel=(7, 1), pad=(3, 0)), (1, 8, 19, 15)))
    )


def test_custom_padding_dilated_and_pooled():
    # dilate 2: ke = 5, modes pad 0 / 2 / 4; pad 1 is as near to valid as to same: same wins
    [conv] = _pitfalls(_conv(DATA, pad=(1, 1), dilate=(2, 2)), (1, 3, 9, 9), "custom-padding")
    assert [a["needs_pad"] for a in conv.detail["axes"]] == [2, 2] and conv.detail["instead"] == [9, 9]
    # a 5x5 pool with pad 3: modes 0 / 2 / 4, pad 3 is nearest to same (tie with full)
    [pool] = _pitfalls(_pool(DATA, kernel=(5, 5), pad=(3, 3)), (1, 3, 9, 9), "custom-padding")
    assert pool.detail["axes"][0]["needs"] == "same" and pool.detail["output"] == [11, 11]


@pytest.mark.parametrize(
    "symbol",
    [
        _conv(DATA, kernel=(1, 7), pad=(0, 3)),  # same
        _conv(DATA, kernel=(5, 5)),  # valid
        _conv(DATA, kernel=(3, 3), pad=(2, 2)),  # full
        _conv(DATA, pad=(2, 2), dilate=(2, 2)),  # same of ke = 5
        _pool(DATA, kernel=(3, 3), stride=(2, 2), pad=(1, 1)),
    ],
)
def test_custom_padding_negative(symbol):
    assert _pitfalls(symbol, (1, 3, 17, 17), "custom-padding") == []


# --- even-kernel-same --------------------------------------------------------------------------


def _asymmetric(kernel, stride, shape):
    """MXNet's output of a convolution after padding (k/2 - 1) before and k/2 after."""
    kh, kw = kernel
    padded = mx.sym.pad(
        DATA, mode="constant", pad_width=(0, 0, 0, 0, kh // 2 - 1, kh // 2, kw // 2 - 1, kw // 2)
    )
    return _spatial(_conv(padded, kernel=kernel, stride=stride), shape)


def test_even_kernel_same_grows_the_map():
    # 4x4 pad 2 at stride 1: 16 + 4 - 4 + 1 = 17; padded (1, 2) instead: 16
    symbol = _conv(DATA, kernel=(4, 4), pad=(2, 2))
    assert _spatial(symbol, (1, 3, 16, 16)) == (17, 17)
    [finding] = _pitfalls(symbol, (1, 3, 16, 16), "even-kernel-same")
    assert finding.detail == {"axes": ["height", "width"], "output": [17, 17], "asymmetric": [16, 16]}
    assert list(_asymmetric((4, 4), (1, 1), (1, 3, 16, 16))) == finding.detail["asymmetric"]
    assert "outputs 17x17 from 16x16, where an asymmetric pad (1, 2) gives 16x16" in finding.message


def test_even_kernel_same_at_a_stride_where_the_size_happens_to_agree():
    # 4x4/2 pad 2 on 15: (15 + 4 - 4) // 2 + 1 = 8, and ceil(15 / 2) = 8 with the (1, 2) pad
    symbol = _conv(DATA, kernel=(4, 4), stride=(2, 2), pad=(2, 2))
    [finding] = _pitfalls(symbol, (1, 3, 15, 15), "even-kernel-same")
    assert finding.detail["output"] == finding.detail["asymmetric"] == [8, 8]
    assert list(_asymmetric((4, 4), (2, 2), (1, 3, 15, 15))) == [8, 8]
    assert "shifted by one pixel" in finding.message


def test_even_kernel_same_per_axis():
    [finding] = _pitfalls(_conv(DATA, kernel=(4, 3), pad=(2, 1)), (1, 3, 16, 16), "even-kernel-same")
    assert finding.detail == {"axes": ["height"], "output": [17, 16], "asymmetric": [16, 16]}


@pytest.mark.parametrize(
    "symbol",
    [
        _conv(DATA, kernel=(3, 3), pad=(1, 1)),
        _conv(DATA, kernel=(4, 4)),  # valid
        _conv(DATA, kernel=(4, 4), pad=(3, 3)),  # full
        _pool(DATA, kernel=(2, 2), stride=(2, 2)),
    ],
)
def test_even_kernel_same_negative(symbol):
    assert _pitfalls(symbol, (1, 3, 16, 16), "even-kernel-same") == []


# --- input-size-dependent-params ---------------------------------------------------------------


def _classifier(x):
    return mx.sym.FullyConnected(mx.sym.Flatten(x, name="flatten"), name="fc", num_hidden=10)


def test_input_size_dependent_params():
    # conv 3x3/2 pad 1: map = (S - 1) // 2 + 1 = 16 at S in 31..32; fc weight (10, 4 * 16 * 16)
    symbol = _classifier(mx.sym.Activation(_conv(DATA, stride=(2, 2), pad=(1, 1)), act_type="relu"))
    [finding] = _pitfalls(symbol, (1, 3, 32, 32), "input-size-dependent-params")
    assert finding.layer == "fc"
    assert finding.detail == {"map": [4, 16, 16], "weight": [10, 1024], "input_ranges": [[31, 32], [31, 32]]}
    assert "weight (10, 1024) fits square inputs 31..32 only" in finding.message
    weights = {
        s: dict(zip(symbol.list_arguments(), symbol.infer_shape(data=(1, 3, s, s))[0]))["fc_weight"]
        for s in (30, 31, 32, 33)
    }
    assert weights[31] == weights[32] == (10, 1024) != weights[30] and weights[33] != (10, 1024)


@pytest.mark.parametrize(
    ("symbol", "shape"),
    [
        (_classifier(_pool(_conv(DATA, stride=(2, 2)), global_pool=True)), (1, 3, 32, 32)),  # pooled first
        (mx.sym.FullyConnected(DATA, name="fc", num_hidden=10), (1, 100)),  # no spatial map
    ],
)
def test_input_size_dependent_params_negative(symbol, shape):
    assert _pitfalls(symbol, shape, "input-size-dependent-params") == []


def test_global_pool_makes_the_weight_independent_by_mxnet():
    symbol = _classifier(_pool(_conv(DATA, stride=(2, 2)), global_pool=True))
    shapes = {
        s: symbol.infer_shape(data=(1, 3, s, s))[0][symbol.list_arguments().index("fc_weight")]
        for s in (17, 64)
    }
    assert shapes[17] == shapes[64] == (10, 4)


# --- pooling-convention-sensitive --------------------------------------------------------------


def test_pooling_convention_sensitive():
    # 3x3/2 on 16: floor 13 / 2 + 1 = 7, ceil 8
    valid = _pool(DATA, kernel=(3, 3), stride=(2, 2), pooling_convention="valid")
    full = _pool(DATA, kernel=(3, 3), stride=(2, 2), pooling_convention="full")
    assert _spatial(valid, (1, 3, 16, 16)) == (7, 7) and _spatial(full, (1, 3, 16, 16)) == (8, 8)
    expected = {
        "valid": "outputs 7x7 with floor rounding ('valid'), 8x8 with ceil ('full')",
        "full": "outputs 8x8 with ceil rounding ('full'), 7x7 with floor ('valid')",
    }
    for symbol, convention in ((valid, "valid"), (full, "full")):
        [finding] = _pitfalls(symbol, (1, 3, 16, 16), "pooling-convention-sensitive")
        assert finding.detail == {"convention": convention, "valid": [7, 7], "full": [8, 8]}
        assert expected[convention] in finding.message


@pytest.mark.parametrize(
    "symbol",
    [
        _pool(DATA, kernel=(3, 3), stride=(2, 2), pooling_convention="full"),  # 15: 12 / 2 exactly, both 7
        _pool(DATA, kernel=(3, 3), pooling_convention="full"),  # stride 1 rounds nothing
        _pool(DATA, global_pool=True, kernel=(3, 3), stride=(2, 2)),
    ],
)
def test_pooling_convention_sensitive_negative(symbol):
    assert _pitfalls(symbol, (1, 3, 15, 15), "pooling-convention-sensitive") == []


# --- unread-border -----------------------------------------------------------------------------


def _unread_by_gradient(symbol_fn, n: int) -> int:
    """Trailing input rows whose gradient is zero (no window reads them), by MXNet's autograd."""
    x = mx.nd.ones((1, 1, n, n))
    x.attach_grad()
    with mx.autograd.record():
        y = symbol_fn(x)
    y.backward(mx.nd.ones_like(y))
    rows = x.grad[0, 0].asnumpy().sum(axis=1)
    count = 0
    for value in rows[::-1]:
        if value != 0:
            break
        count += 1
    return count


def _nd_conv(kernel, stride, pad):
    return lambda x: mx.nd.Convolution(
        x, mx.nd.ones((1, 1, *kernel)), num_filter=1, kernel=kernel, stride=stride, pad=pad, no_bias=True
    )


def test_unread_border_convolution():
    # 3x3/2 on 8: out 3, the last window reads rows 4..6, so row 7 is never read; 7 and 9 are read to the end
    symbol = _conv(DATA, stride=(2, 2))
    [finding] = _pitfalls(symbol, (1, 1, 8, 8), "unread-border")
    assert finding.detail == {"unread": [1, 1], "read_whole": [[7, 9], [7, 9]], "skips_inside": False}
    assert (
        "never reads the last 1 row and 1 column of its 8x8 input; a 7x7 or 9x9 input is read to its last row"
        in (finding.message)
    )
    conv = _nd_conv((3, 3), (2, 2), (0, 0))
    assert [_unread_by_gradient(conv, n) for n in (8, 7, 9)] == [1, 0, 0]


def test_unread_border_11x11_stride_4_on_224():
    # nin_imagenet's conv1: (224 - 11) % 4 = 1 row left over
    [finding] = _pitfalls(_conv(DATA, kernel=(11, 11), stride=(4, 4)), (1, 1, 224, 224), "unread-border")
    assert finding.detail["unread"] == [1, 1] and finding.detail["read_whole"] == [[223, 227], [223, 227]]
    assert _unread_by_gradient(_nd_conv((11, 11), (4, 4), (0, 0)), 224) == 1


def test_unread_border_with_padding():
    # 3x3/4 pad 1 on 8: out (8 + 2 - 3) // 4 + 1 = 2, the last window ends on padded row 6, i.e.
    # row 5: rows 6 and 7 are left; 6 (out 2, ends on row 5) and 10 (out 3, to row 9) are read to the end
    symbol = _conv(DATA, stride=(4, 4), pad=(1, 1))
    [finding] = _pitfalls(symbol, (1, 1, 8, 8), "unread-border")
    # (and windows 3 wide, 4 apart, skip row 2 = padded row 3 inside)
    assert finding.detail == {"unread": [2, 2], "read_whole": [[6, 10], [6, 10]], "skips_inside": True}
    assert "(a window smaller than its stride also skips rows inside)" in finding.message
    assert "the last 2 rows and 2 columns" in finding.message
    conv = _nd_conv((3, 3), (4, 4), (1, 1))
    assert [_unread_by_gradient(conv, n) for n in (8, 6, 10)] == [2, 0, 0]


def test_unread_border_pooling():
    # avg 2x2/2 on 7 (floor): out 3 reads rows 0..5, row 6 is left; with ceil ('full') out 4 reads it
    floor = _pool(DATA, kernel=(2, 2), stride=(2, 2))
    [finding] = _pitfalls(floor, (1, 1, 7, 7), "unread-border")
    assert finding.detail["unread"] == [1, 1]

    def pool(x):
        return mx.nd.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="avg")

    assert _unread_by_gradient(pool, 7) == 1
    full = _pool(DATA, kernel=(2, 2), stride=(2, 2), pooling_convention="full")
    assert _pitfalls(full, (1, 1, 7, 7), "unread-border") == []


@pytest.mark.parametrize(
    ("kernel", "stride", "pad", "n"),
    [
        ((3, 3), (2, 2), (1, 1), 8),  # out 4, the last window ends on padded row 8, i.e. row 7
        ((3, 3), (1, 1), (0, 0), 8),  # stride 1
        ((3, 3), (2, 2), (0, 0), 9),  # (9 - 3) % 2 == 0
    ],
)
def test_unread_border_negative(kernel, stride, pad, n):
    symbol = _conv(DATA, kernel=kernel, stride=stride, pad=pad)
    assert _pitfalls(symbol, (1, 1, n, n), "unread-border") == []
    assert _unread_by_gradient(_nd_conv(kernel, stride, pad), n) == 0


@settings(deadline=None, database=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    kernel=st.integers(1, 5),
    stride=st.integers(2, 5),
    pad=st.integers(0, 2),
    dilate=st.integers(1, 3),
    extra=st.integers(0, 12),
)
def test_unread_border_agrees_with_mxnet_gradients(kernel, stride, pad, dilate, extra):
    n = max(1, dilate * (kernel - 1) + 1 - 2 * pad) + extra
    window = {"kernel": (kernel,) * 2, "stride": (stride,) * 2, "pad": (pad,) * 2, "dilate": (dilate,) * 2}
    findings = _pitfalls(_conv(DATA, **window), (1, 1, n, n), "unread-border")
    unread = findings[0].detail["unread"][0] if findings else 0

    def conv(x):
        return mx.nd.Convolution(x, mx.nd.ones((1, 1, kernel, kernel)), num_filter=1, no_bias=True, **window)

    assert unread == _unread_by_gradient(conv, n)


@settings(deadline=None, database=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    layers=st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(0, 1)), min_size=1, max_size=3
    ),
    pool_stride=st.integers(1, 3),
    side=st.integers(8, 40),
)
def test_fixed_global_pool_range_agrees_with_mxnet(layers, pool_stride, side):
    x = DATA
    for i, (kernel, stride, pad) in enumerate(layers):
        x = _conv(x, f"conv{i}", kernel=(kernel, kernel), stride=(stride, stride), pad=(pad, pad))
    try:
        spatial = _spatial(x, (1, 1, side, side))
    except mx.base.MXNetError:
        return  # too small for these layers
    if spatial == (1, 1):
        return  # a 1x1 kernel is no pooling
    symbol = _pool(x, kernel=spatial, stride=(pool_stride, pool_stride))
    [finding] = _pitfalls(symbol, (1, 1, side, side), "fixed-global-pool")
    [[low, high], _] = finding.detail["input_ranges"]
    assert low <= side <= high
    assert _spatial(symbol, (1, 1, low, low)) == _spatial(symbol, (1, 1, high, high)) == (1, 1)
    assert _fails(symbol, (1, 1, low - 1, low - 1))
    assert _spatial(symbol, (1, 1, high + 1, high + 1)) != (1, 1)


# --- the engine ------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [1, 5, 6, 7, 8, 9, 40])
def test_side_interval_by_hand(start):
    # s // 3 - 2 is -1 below 6, 0 at 6..8, >= 1 from 9: the interval 6..8 from wherever it starts
    assert side_interval(lambda s: max(-1, min(1, s // 3 - 2)), start) == (6, 8)


def test_side_interval_edges():
    assert side_interval(lambda s: 0, 5) == (1, None)  # every side, up to the limit
    assert side_interval(lambda s: 0 if s <= 3 else 1, 10) == (1, 3)
    assert side_interval(lambda s: -1, 5, limit=64) is None  # no side is big enough
    assert side_interval(lambda s: -1 if s < 7 else 1, 5) is None  # it jumps over 0
    assert side_interval(lambda s: -1 if s < 100 else 0, 5, limit=64) is None
    calls = []
    side_interval(lambda s: calls.append(s) or (-1 if s < 300 else 0 if s < 331 else 1), 299)
    assert len(calls) <= 2 * 12  # bisection, not a scan


def test_sizes_are_searched_with_the_engine_through_a_crop():
    # conv 3x3 valid (S - 2), then a Crop to a fixed 9x9 (the walk does not follow it, the engine
    # does), then an 8x8 pool of stride 8: the crop fails below S = 11, and from there the pool
    # sees 9x9 whatever the input: 1x1 at every size the graph takes, nothing breaks
    crop = mx.sym.Crop(_conv(DATA, "c"), num_args=1, h_w=(9, 9), name="crop")
    symbol = _pool(crop, kernel=(8, 8), stride=(8, 8))
    assert _spatial(symbol, (1, 3, 11, 11)) == _spatial(symbol, (1, 3, 40, 40)) == (1, 1)
    assert _fails(symbol, (1, 3, 10, 10))
    assert _pitfalls(symbol, (1, 3, 16, 16), "fixed-global-pool") == []  # the same at every size


def test_branches_that_agree_at_even_sizes_only_give_no_range():
    # 3x3/2 pad 1 gives (S - 1) // 2 + 1, 2x2/2 gives (S - 2) // 2 + 1: equal for even S only. The
    # 8x8 pool is 1x1 at S = 16 (15 is odd: the sum fails), so no interval can be trusted: none.
    left = _conv(DATA, "left", stride=(2, 2), pad=(1, 1))
    right = _conv(DATA, "right", kernel=(2, 2), stride=(2, 2))
    symbol = _pool(left + right, kernel=(8, 8))
    assert _fails(symbol, (1, 3, 15, 15)) and _spatial(symbol, (1, 3, 16, 16)) == (1, 1)
    [finding] = _pitfalls(symbol, (1, 3, 16, 16), "fixed-global-pool")
    assert finding.detail["input_ranges"] is None
    assert "equals global pooling at this input (8x8 map), not at every size" in finding.message


def test_rule_table():
    assert list(RULES) == [
        "fixed-global-pool",
        "padded-global-pool",
        "ignored-pool-attrs",
        "custom-padding",
        "even-kernel-same",
        "input-size-dependent-params",
        "pooling-convention-sensitive",
        "unread-border",
        "fixed-size-resize",
        "fixed-target-shape",
        "fixed-size-crop",
        "global-depthwise-conv",
    ]
    warnings = {
        "fixed-global-pool",
        "padded-global-pool",
        "custom-padding",
        "fixed-size-resize",
        "fixed-target-shape",
        "fixed-size-crop",
    }
    assert {r for r, rule in RULES.items() if rule.severity is Severity.WARNING} == warnings
    assert all(rule.severity is Severity.INFO for r, rule in RULES.items() if r not in warnings)


def test_failed_report_checks_the_layers_before_the_failure():
    # at 8: conv 3x3/2 -> 3x3 (row 7 unread), then the 5x5 pool fails
    symbol = _pool(_conv(DATA, stride=(2, 2)), kernel=(5, 5))
    report = shape_report(symbol, (1, 1, 8, 8))
    assert not report.ok and report.failed_at == "pool"
    findings = find_pitfalls(parse_nodes(symbol.tojson()), report)
    assert [(f.rule, f.layer) for f in findings] == [("unread-border", "conv")]


def test_rule_selection_and_order():
    symbol = _pool(_conv(DATA, kernel=(4, 4), stride=(2, 2), pad=(2, 2)), kernel=(9, 9))
    nodes, report = parse_nodes(symbol.tojson()), shape_report(symbol, (1, 1, 16, 16))
    # conv: (16 + 4 - 4) // 2 + 1 = 9 (even kernel, same) -> the 9x9 pool is a fixed global one
    assert [(f.layer, f.rule) for f in find_pitfalls(nodes, report)] == [
        ("conv", "even-kernel-same"),
        ("pool", "fixed-global-pool"),
    ]
    assert [f.rule for f in find_pitfalls(nodes, report, rules=["fixed-global-pool"])] == [
        "fixed-global-pool"
    ]
    with pytest.raises(ValueError, match="unknown rule 'nope'; the rules are fixed-global-pool"):
        find_pitfalls(nodes, report, rules=["nope"])


def test_severity_is_ordered_and_a_string():
    assert Severity.INFO < Severity.WARNING < Severity.ERROR
    assert Severity.ERROR >= "warning" and Severity.INFO <= "info" and not Severity.WARNING > "error"
    assert sorted(["error", Severity.INFO, Severity.WARNING], key=Severity) == ["info", "warning", "error"]
    assert Severity("warning") is Severity.WARNING and Severity.ERROR == "error"
    with pytest.raises(TypeError):
        _ = Severity.INFO < 3


def test_finding_is_frozen_data():
    finding = Finding("custom-padding", "warning", "conv", "one line", {"pad": [1, 2]})
    assert finding.severity is Severity.WARNING
    assert json.loads(json.dumps(dataclasses.asdict(finding))) == {
        "rule": "custom-padding",
        "severity": "warning",
        "layer": "conv",
        "message": "one line",
        "detail": {"pad": [1, 2]},
    }
    assert hash(finding) == hash(Finding("custom-padding", "warning", "conv", "one line", {"pad": [3]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.layer = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="one non-empty line"):
        Finding("r", "info", None, "two\nlines")
    with pytest.raises(ValueError):
        Finding("r", "fatal", None, "a line")


def test_check_does_not_import_mxnet():
    code = "import sys, nin_mx.checks.rules; print('mxnet.base' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("mode", ["valid", "same", "full", None])
@pytest.mark.parametrize("name", list_models())
def test_the_rules_read_the_reports_own_walk(name, mode):
    """The rules take each node's window and size from the report's rows instead of walking the
    graph again: the same SpatialInfo the walk (resumed from MXNet's shapes) gives."""
    from nin_mx.checks.rules import _Graph
    from nin_mx.graph.walk import spatial_walk

    symbol = get_symbol(name, border_mode=mode)
    nodes = parse_nodes(symbol.tojson())
    report = shape_report(symbol, (1, *get_model_entry(name).input_shape))
    resume = {
        n.index: row.output_shape for n, row in zip([n for n in nodes if n.op != "null"], report.layers)
    }
    assert list(_Graph(nodes, report).infos) == spatial_walk(nodes, report.input_shapes, resume=resume)


@pytest.mark.parametrize("zoo", ["densenet121", "inceptionv3", "mobilenetv2_0.25"])
def test_the_rules_read_the_walk_of_gluon_graphs_too(zoo):
    from mxnet.gluon.model_zoo import vision

    from nin_mx.checks.rules import _Graph
    from nin_mx.graph.walk import spatial_walk

    symbol = vision.get_model(zoo, pretrained=False)(mx.sym.var("data"))
    side = 299 if zoo == "inceptionv3" else 224
    nodes = parse_nodes(symbol.tojson())
    report = shape_report(symbol, (1, 3, side, side))
    resume = {
        n.index: row.output_shape for n, row in zip([n for n in nodes if n.op != "null"], report.layers)
    }
    assert list(_Graph(nodes, report).infos) == spatial_walk(nodes, report.input_shapes, resume=resume)
