"""nin_mx.core.border against the reference: MXNet 1.9.1's own shape inference.

Every property builds the layer in MXNet, asks MXNet for the output shape and compares it
with the pure-Python arithmetic: when MXNet rejects the layer, border must raise
EmptyOutputError; when MXNet accepts it, the sizes must match exactly.
"""

from __future__ import annotations

import mxnet as mx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet.base import MXNetError

from nin_mx.core import border
from nin_mx.core.border import BorderMode, EmptyOutputError, PoolingConvention

PROPERTY = settings(max_examples=400, deadline=None, database=None)
FEW = settings(max_examples=150, deadline=None, database=None)

REJECTED = None  # what both sides report for a layer MXNet will not build


def mxnet_spatial(op, spatial, **attrs):
    """Output spatial shape MXNet infers for one layer on a (1, 1, *spatial) input, or REJECTED."""
    layer = op(mx.sym.var("data"), name="layer", **attrs)
    try:
        _, outs, _ = layer._infer_shape_impl(False, data=(1, 1, *spatial))
    except MXNetError:
        return REJECTED
    if outs is None or outs[0] is None or 0 in outs[0]:
        return REJECTED
    return tuple(outs[0][2:])


def border_spatial(fn, spatial, **per_axis):
    """The same layer through border's per-axis arithmetic, or REJECTED on EmptyOutputError."""
    try:
        return tuple(
            fn(n, **{key: values[axis] for key, values in per_axis.items()}) for axis, n in enumerate(spatial)
        )
    except EmptyOutputError:
        return REJECTED


@st.composite
def conv_layers(draw, ndim):
    axes = [
        {
            "n": draw(st.integers(1, 40)),
            "kernel": draw(st.integers(1, 7)),
            "stride": draw(st.integers(1, 4)),
            "pad": draw(st.integers(0, 4)),
            "dilate": draw(st.integers(1, 3)),
        }
        for _ in range(ndim)
    ]
    return {key: tuple(axis[key] for axis in axes) for key in axes[0]}


def _check_conv(layer):
    expected = mxnet_spatial(
        mx.sym.Convolution,
        layer["n"],
        num_filter=1,
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        dilate=layer["dilate"],
    )
    got = border_spatial(
        border.conv_output_size,
        layer["n"],
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        dilate=layer["dilate"],
    )
    assert got == expected, layer


@PROPERTY
@given(conv_layers(1))
def test_conv_1d_matches_mxnet(layer):
    _check_conv(layer)


@PROPERTY
@given(conv_layers(2))
def test_conv_2d_matches_mxnet(layer):
    _check_conv(layer)


@FEW
@given(conv_layers(3))
def test_conv_3d_matches_mxnet(layer):
    _check_conv(layer)


@st.composite
def pool_layers(draw, ndim):
    axes = [
        {
            "n": draw(st.integers(1, 40)),
            "kernel": draw(st.integers(1, 7)),
            "stride": draw(st.integers(1, 4)),
            "pad": draw(st.integers(0, 3)),
        }
        for _ in range(ndim)
    ]
    layer = {key: tuple(axis[key] for axis in axes) for key in axes[0]}
    layer["pool_type"] = draw(st.sampled_from(["max", "avg"]))
    layer["convention"] = draw(st.sampled_from(["valid", "full"]))
    return layer


def _check_pool(layer):
    expected = mxnet_spatial(
        mx.sym.Pooling,
        layer["n"],
        pool_type=layer["pool_type"],
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        pooling_convention=layer["convention"],
    )
    ndim = len(layer["n"])
    got = border_spatial(
        border.pool_output_size,
        layer["n"],
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        convention=(layer["convention"],) * ndim,
    )
    assert got == expected, layer


@PROPERTY
@given(pool_layers(2))
def test_pool_2d_valid_and_full_match_mxnet(layer):
    _check_pool(layer)


@FEW
@given(pool_layers(1))
def test_pool_1d_valid_and_full_match_mxnet(layer):
    _check_pool(layer)


# What MXNet 1.9.1 does with pooling_convention='same' (found by experiment, and in
# src/operator/nn/pooling.cc, PoolingShape):
# * the input must be 3-D (N, C, W): 1-D pooling only; a 2-D input is rejected;
# * it checks pad[0] == pad[1] == pad[2] == 0, so the pad must be given with three zero
#   entries — a 1-D kernel's default pad has one entry and the check fails on an index error;
# * the window must fit the input (kernel <= n), as for the other conventions;
# * the output is ceil(n / stride), for any stride; shape inference accepts avg as well as max.
def mxnet_same_pool(n, kernel, stride, pool_type="max"):
    return mxnet_spatial(
        mx.sym.Pooling,
        (n,),
        pool_type=pool_type,
        kernel=(kernel,),
        stride=(stride,),
        pad=(0, 0, 0),
        pooling_convention="same",
    )


@PROPERTY
@given(n=st.integers(1, 60), kernel=st.integers(1, 8), stride=st.integers(1, 6))
def test_pool_same_matches_mxnet_1d_max(n, kernel, stride):
    expected = mxnet_same_pool(n, kernel, stride)
    got = border_spatial(
        border.pool_output_size, (n,), kernel=(kernel,), stride=(stride,), convention=("same",)
    )
    assert got == expected


def test_mxnet_same_pool_accepts_only_the_unpadded_1d_form():
    assert mxnet_same_pool(10, 3, 2) == (5,)  # ceil(10 / 2)
    assert mxnet_same_pool(10, 3, 3) == (4,)  # ceil(10 / 3)
    assert mxnet_same_pool(2, 3, 1) is REJECTED  # window larger than the input
    same_2d = {"pool_type": "max", "kernel": (3, 3), "stride": (2, 2), "pooling_convention": "same"}
    assert mxnet_spatial(mx.sym.Pooling, (10, 10), pad=(0, 0, 0), **same_2d) is REJECTED
    same_1d = {"pool_type": "max", "kernel": (3,), "stride": (2,), "pooling_convention": "same"}
    assert mxnet_spatial(mx.sym.Pooling, (10,), **same_1d) is REJECTED  # default 1-entry pad
    assert mxnet_spatial(mx.sym.Pooling, (10,), pad=(1, 0, 0), **same_1d) is REJECTED


def test_pool_same_rejects_padding_like_mxnet():
    with pytest.raises(ValueError, match="pad"):
        border.pool_output_size(10, 3, 2, pad=1, convention="same")


def test_pool_same_rejects_a_window_larger_than_the_input():
    with pytest.raises(EmptyOutputError, match="exceeds"):
        border.pool_output_size(2, 3, 1, convention="same")


@st.composite
def deconv_layers(draw):
    stride = draw(st.integers(1, 4))
    return {
        "n": (draw(st.integers(1, 20)),),
        "kernel": (draw(st.integers(1, 6)),),
        "stride": (stride,),
        "pad": (draw(st.integers(0, 6)),),
        "dilate": (draw(st.integers(1, 3)),),
        "adj": (draw(st.integers(0, stride - 1)),),
    }


@FEW
@given(deconv_layers())
def test_deconv_1d_matches_mxnet(layer):
    expected = mxnet_spatial(
        mx.sym.Deconvolution,
        layer["n"],
        num_filter=1,
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        dilate=layer["dilate"],
        adj=layer["adj"],
    )
    got = border_spatial(
        border.deconv_output_size,
        layer["n"],
        kernel=layer["kernel"],
        stride=layer["stride"],
        pad=layer["pad"],
        dilate=layer["dilate"],
        adj=layer["adj"],
    )
    assert got == expected, layer


def test_deconv_adj_must_be_smaller_than_stride_like_mxnet():
    layer = {"num_filter": 1, "kernel": (3,), "stride": (2,), "pad": (1,)}
    assert mxnet_spatial(mx.sym.Deconvolution, (5,), adj=(2,), **layer) is REJECTED
    with pytest.raises(ValueError, match="adj"):
        border.deconv_output_size(5, 3, stride=2, pad=1, adj=2)


# Exact boundaries, so that both outcomes are always exercised whatever hypothesis draws.
@pytest.mark.parametrize(
    ("n", "kernel", "pad", "dilate"),
    [(5, 5, 0, 1), (3, 5, 1, 1), (2, 4, 1, 1), (7, 4, 0, 2), (3, 4, 2, 2), (3, 9, 3, 1)],
)
@pytest.mark.parametrize("extra", [0, 1])
def test_conv_kernel_equal_to_padded_input_fits_and_one_more_does_not(n, kernel, pad, dilate, extra):
    ke = dilate * (kernel - 1) + 1
    assert ke == n + 2 * pad  # the cases sit exactly on the boundary
    expected = mxnet_spatial(
        mx.sym.Convolution, (n - extra,), num_filter=1, kernel=(kernel,), pad=(pad,), dilate=(dilate,)
    )
    assert expected == ((1,) if extra == 0 else REJECTED)
    got = border_spatial(
        border.conv_output_size, (n - extra,), kernel=(kernel,), pad=(pad,), dilate=(dilate,)
    )
    assert got == expected


@pytest.mark.parametrize("convention", ["valid", "full"])
@pytest.mark.parametrize("extra", [0, 1])
def test_pool_kernel_equal_to_padded_input_fits_and_one_more_does_not(convention, extra):
    n, kernel, pad = 4, 6, 1
    expected = mxnet_spatial(
        mx.sym.Pooling,
        (n - extra, n),
        pool_type="max",
        kernel=(kernel, kernel),
        pad=(pad, pad),
        pooling_convention=convention,
    )
    assert expected == ((1, 1) if extra == 0 else REJECTED)
    got = border_spatial(
        border.pool_output_size,
        (n - extra, n),
        kernel=(kernel,) * 2,
        pad=(pad,) * 2,
        convention=(convention,) * 2,
    )
    assert got == expected


# --- pad_for: the border-mode table of docs/reference.md (Dumoulin & Visin, arXiv 1603.07285) ---


def stride1_reference(mode, n, ke):
    """Stride-1 output size that each border mode is defined to give (None: empty)."""
    if mode == "valid":
        return n - ke + 1 if n >= ke else None
    if mode in ("same", "half"):
        return n if ke % 2 == 1 else n + 1
    return n + ke - 1


@PROPERTY
@given(
    mode=st.sampled_from(["valid", "same", "half", "full"]),
    n=st.integers(1, 40),
    kernel=st.integers(1, 9),
    dilate=st.integers(1, 3),
)
def test_pad_for_gives_the_border_mode_output_size(mode, n, kernel, dilate):
    ke = dilate * (kernel - 1) + 1
    pad = border.pad_for(mode, kernel, dilate)
    reference = stride1_reference(mode, n, ke)
    ours = border_spatial(border.conv_output_size, (n,), kernel=(kernel,), pad=(pad,), dilate=(dilate,))
    theirs = mxnet_spatial(
        mx.sym.Convolution, (n,), num_filter=1, kernel=(kernel,), pad=(pad,), dilate=(dilate,)
    )
    expected = REJECTED if reference is None else (reference,)
    assert ours == expected
    assert theirs == expected


@pytest.mark.parametrize(
    ("mode", "kernel", "dilate", "pad"),
    [
        ("valid", 3, 1, 0),
        ("same", 3, 1, 1),
        ("same", 5, 1, 2),
        ("same", 4, 1, 2),
        ("half", 7, 1, 3),
        ("same", 3, 2, 2),
        ("full", 3, 1, 2),
        ("full", 5, 1, 4),
        ("full", 3, 3, 6),
        (BorderMode.FULL, 1, 1, 0),
    ],
)
def test_pad_for_table(mode, kernel, dilate, pad):
    assert border.pad_for(mode, kernel, dilate) == pad


@pytest.mark.parametrize("spelling", ["half", "HALF", " Same ", "same", BorderMode.SAME])
def test_half_is_same(spelling):
    assert border.parse_border_mode(spelling) is BorderMode.SAME


@pytest.mark.parametrize("spelling", ["valid", "Valid", "FULL", BorderMode.FULL, BorderMode.VALID])
def test_parse_border_mode_accepts_case_variants(spelling):
    assert border.parse_border_mode(spelling).value in ("valid", "full")


def test_parse_pooling_convention():
    assert border.parse_pooling_convention("full") is PoolingConvention.FULL
    assert border.parse_pooling_convention(PoolingConvention.SAME) is PoolingConvention.SAME


# --- receptive field: VGG (Simonyan & Zisserman, arXiv 1409.1556, sec. 2.3): a stack of two
# 3x3 stride-1 convolutions sees 5x5, three see 7x7. ---


def test_receptive_field_of_stacked_3x3_convolutions():
    rf, jump = 1, 1
    sizes = []
    for _ in range(3):
        rf, jump = border.receptive_field_step(rf, jump, 3)
        sizes.append(rf)
    assert sizes == [3, 5, 7]  # one 3x3 sees 3x3
    assert jump == 1


def test_receptive_field_after_a_stride():
    # 3x3/2 then 3x3/1: the second layer's taps are 2 input pixels apart: 3 + 2 * 2 = 7.
    rf, jump = border.receptive_field_step(1, 1, 3, stride=2)
    assert (rf, jump) == (3, 2)
    assert border.receptive_field_step(rf, jump, 3) == (7, 2)


def test_effective_kernel():
    assert border.effective_kernel(3, 2) == 5
    assert border.effective_kernel(1, 4) == 1


def test_per_axis():
    assert border.per_axis(3, 2, "kernel") == (3, 3)
    assert border.per_axis((1, 7), 2, "kernel") == (1, 7)
    with pytest.raises(ValueError, match="kernel"):
        border.per_axis((1, 7, 3), 2, "kernel")


# --- invalid arguments: ValueError naming the argument, one line ---


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: border.conv_output_size(0, 3), "n"),
        (lambda: border.conv_output_size(10, 0), "kernel"),
        (lambda: border.conv_output_size(10, 3, stride=0), "stride"),
        (lambda: border.conv_output_size(10, 3, pad=-1), "pad"),
        (lambda: border.conv_output_size(10, 3, dilate=0), "dilate"),
        (lambda: border.conv_output_size(10, 3, stride=1.5), "stride"),
        (lambda: border.conv_output_size(10, 3, stride=True), "stride"),
        (lambda: border.conv_output_size("10", 3), "n"),
        (lambda: border.pool_output_size(10, 3, stride=0), "stride"),
        (lambda: border.pool_output_size(10, 0), "kernel"),
        (lambda: border.pool_output_size(10, 3, pad=-2), "pad"),
        (lambda: border.pool_output_size(10, 3, convention="ceil"), "pooling_convention"),
        (lambda: border.pad_for("tight", 3), "border_mode"),
        (lambda: border.pad_for("same", 0), "kernel"),
        (lambda: border.pad_for("same", 3, dilate=0), "dilate"),
        (lambda: border.deconv_output_size(4, 3, stride=0), "stride"),
        (lambda: border.deconv_output_size(4, 3, adj=-1), "adj"),
        (lambda: border.receptive_field_step(1, 1, 3, stride=0), "stride"),
        (lambda: border.parse_border_mode("halfish"), "border_mode"),
    ],
)
def test_invalid_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError) as info:
        call()
    assert not isinstance(info.value, EmptyOutputError)
    message = str(info.value)
    assert message.startswith(f"{name} "), message
    assert "\n" not in message


def test_empty_output_error_is_one_line_and_gives_the_sizes():
    with pytest.raises(EmptyOutputError) as info:
        border.conv_output_size(2, 5, pad=1)
    assert str(info.value) == "kernel 5 exceeds input 2 padded to 4"
    with pytest.raises(EmptyOutputError) as info:
        border.pool_output_size(2, 3)
    assert str(info.value) == "kernel 3 exceeds input 2"


def test_deconv_target_pad_is_mxnets_infer_pad():
    # total = stride*(n-1) + ke - target; pad = ceil(total/2), adj = total % 2 (deconvolution-inl.h)
    assert border.deconv_target_pad(10, 4, 2, 1, 20) == (1, 0)  # total 2
    assert border.deconv_target_pad(10, 3, 2, 1, 20) == (1, 1)  # total 1
    assert border.deconv_target_pad(5, 3, 1, 2, 9) == (0, 0)  # ke 5, total 0
    with pytest.raises(ValueError, match="exceeds the largest output 22"):
        border.deconv_target_pad(10, 4, 2, 1, 23)
