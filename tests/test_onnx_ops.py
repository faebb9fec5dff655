"""One small graph per translated operator, exported to ONNX and judged by MXNet's forward.

Every graph is built here with ``mx.sym``, its weights seeded and saved with ``mx.nd.save``
(gammas stored away from 1, so that ``fix_gamma`` matters), exported through ``params=`` and
run by onnxruntime (tests/_onnx.py). A graph exported with symbolic height and width is also
run at two other sizes. Every operator the table knows has a translation or a stated reason.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnxruntime")

import mxnet as mx
from _onnx import check_shapes, judge, save_checkpoint

from nin_mx.core.errors import GraphError
from nin_mx.core.ops import OPS
from nin_mx.export import HANDLERS, REFUSED, export_onnx, to_onnx, translation_of

pytestmark = pytest.mark.mxnet

S = mx.sym
X = S.var("data")
SHAPE = (2, 4, 9, 12)
MORE = ({"data": (3, 4, 12, 14)}, {"data": (1, 4, 10, 9)})


def _op(name):
    return getattr(S, name, None) or getattr(S._internal, name)


def _np_concatenate(**attrs):
    """``_npi_concatenate`` of the data and its ReLU, as MXNet's numpy front end writes it (its
    Python symbol API does not show the operator: built from JSON)."""
    relu = json.loads(S.relu(X, name="r").tojson())
    nodes = relu["nodes"]
    nodes.append(
        {
            "op": "_npi_concatenate",
            "name": "cat",
            "attrs": {"num_args": "2", **attrs},
            "inputs": [[0, 0, 0], [1, 0, 0]],
        }
    )
    relu["heads"] = [[2, 0, 0]]
    relu["node_row_ptr"] = [0, 1, 2, 3]
    return S.load_json(json.dumps(relu))


def _pos(x):
    return S.abs(x) + 1.5


_COMPARE = ("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal")


def _pool(**kw):
    return S.Pooling(X, name="pool", **kw)


D = S.var("data")
_INTS = S.floor(X * 3)  # -3..2: comparisons that are often equal
_OTHER = S.floor(S.sin(X * 2) * 3)


def _face():
    """insightface's ResNet pattern (deepinsight/insightface recognition/ symbols, fresnet.py):
    (x - 127.5) * 0.0078125, conv, BatchNorm with fix_gamma=False, PReLU, a residual unit with
    BatchNorm fix_gamma=True, Dropout, FullyConnected, BatchNorm of the embedding, L2 normalised."""
    x = S._internal._mul_scalar(S._internal._minus_scalar(D, scalar=127.5), scalar=0.0078125)
    body = S.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=8, no_bias=True, name="conv0")
    body = S.BatchNorm(body, fix_gamma=False, eps=2e-5, momentum=0.9, name="bn0")
    body = S.LeakyReLU(body, act_type="prelu", name="relu0")
    unit = S.Convolution(body, kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=8, no_bias=True)
    unit = S.BatchNorm(unit, fix_gamma=False, eps=2e-5, name="unit_bn")
    short = S.Convolution(body, kernel=(1, 1), stride=(2, 2), num_filter=8, no_bias=True, name="sc")
    short = S.BatchNorm(short, fix_gamma=True, eps=2e-5, name="sc_bn")
    body = S.LeakyReLU(unit + short, act_type="prelu", name="relu1")
    body = S.BatchNorm(body, fix_gamma=False, eps=2e-5, name="bn1")
    body = S.Dropout(body, p=0.4)
    fc1 = S.FullyConnected(body, num_hidden=16, name="pre_fc1")
    fc1 = S.BatchNorm(fc1, fix_gamma=True, eps=2e-5, name="fc1")
    return S.L2Normalization(fc1, mode="instance", name="embedding")


_POOL3 = S.Pooling(D, kernel=(3, 3), stride=(3, 3))
NEW_CASES = {
    # normalisations
    "layernorm": S.LayerNorm(X, eps=1e-3, name="ln"),
    "layernorm_axis1_moments": S.LayerNorm(X, axis=1, output_mean_var=True, name="ln"),
    "instancenorm": S.InstanceNorm(X, eps=1e-4, name="in"),
    "groupnorm": S.GroupNorm(X, num_groups=2, name="gn"),
    "groupnorm_moments": S.GroupNorm(X, num_groups=4, eps=1e-3, output_mean_var=True, name="gn"),
    "sync_batchnorm": S.contrib.SyncBatchNorm(X, fix_gamma=False, eps=1e-4, key="bn", name="bn"),
    "face_recognition": (_face(), (2, 3, 16, 16)),
    # indices truncated toward zero and clipped at both ends (-3..3 into 0..2)
    "embedding": S.Embedding(X * 3, input_dim=3, output_dim=5, name="emb"),
    # broadcasting and borrowed shapes
    "broadcast_to": S.broadcast_to(S.slice_axis(X, axis=2, begin=0, end=1), shape=(0, 0, 5, 0)),
    "broadcast_axis": S.broadcast_axis(S.slice_axis(X, axis=3, begin=1, end=2), axis=3, size=4),
    "broadcast_like": S.broadcast_like(S.mean(X, axis=(2, 3), keepdims=True), X),
    "broadcast_like_axes": S.broadcast_like(
        S.mean(X, axis=(0, 2), keepdims=True), X, lhs_axes=(0, -2), rhs_axes=(0, 2)
    ),
    "broadcast_like_other_axis": S.broadcast_like(
        S.mean(X, axis=(0, 2), keepdims=True), S.SwapAxis(X, dim1=2, dim2=3), lhs_axes=(2,), rhs_axes=(-1,)
    ),
    "reshape_like": S.reshape_like(X, S.Reshape(X, shape=(0, 2, 2, -1))),
    "reshape_like_range": (
        S.reshape_like(D, S.Reshape(D, shape=(0, 2, 3, -1)), lhs_begin=1, lhs_end=2, rhs_begin=1, rhs_end=3),
        (2, 6, 3),
    ),
    "np_concatenate": _np_concatenate(),  # axis 0 when left out
    "np_concatenate_last": _np_concatenate(axis="-1"),
    "swapaxis": S.SwapAxis(X, dim1=1, dim2=3),
    "batch_dot": (S.batch_dot(D, S.relu(D), transpose_b=True), (2, 5, 7)),
    "batch_dot_ta": (S.batch_dot(D, S.relu(D), transpose_a=True), (2, 5, 7)),
    # comparisons: 1 or 0 in the input's type
    **{f"compare_{op}": _op(f"_{op}")(_INTS, _OTHER) for op in _COMPARE},
    **{
        f"compare_broadcast_{op}": getattr(S, f"broadcast_{op}")(
            _INTS, S.slice_axis(_OTHER, axis=2, begin=0, end=1)
        )
        for op in _COMPARE
    },
    **{f"compare_{op}_scalar": _op(f"_{op}_scalar")(_INTS, scalar=1.0) for op in _COMPARE},
    # casts, and what follows in that type
    # onnxruntime's CPU runs float16 arithmetic in float32 and drops the Cast pair around it,
    # so float16 is judged on values it holds exactly (the types must still check)
    **{
        f"cast_{t}": S.Cast(
            _op("_plus_scalar")(S.Cast(S.floor(X * 50) if t == "float16" else X * 50, dtype=t), scalar=3),
            dtype="float32",
        )
        for t in ("float16", "float64", "int32", "int64", "int8")
    },
    "cast_uint8": S.Cast(_op("_mul_scalar")(S.Cast(S.abs(X) * 120, dtype="uint8"), scalar=2), "float32"),
    "cast_int32_out": S.clip(S.Cast(X * 50, dtype="int32"), a_min=-20, a_max=20),
    "cast_int32_fraction": _op("_mul_scalar")(S.Cast(X * 50, dtype="int32"), scalar=1.5),
    "cast_int_compare": _op("_greater_scalar")(S.Cast(X * 5, dtype="int32"), scalar=1.5),
    "cast_bool": S.Cast(S.Cast(S.floor(X * 2), dtype="bool"), dtype="float32"),
    # UpSampling of several inputs, 'same' pooling, adaptive bins, resize like
    "upsampling_concat": (
        S.UpSampling(
            D, S.Pooling(D, kernel=(2, 2), stride=(2, 2)), scale=2, sample_type="nearest", num_args=2
        ),
        (2, 3, 6, 8),
        ({"data": (1, 3, 10, 12)},),
    ),
    "upsampling_sum": (
        S.UpSampling(D, _POOL3, scale=3, sample_type="nearest", num_args=2, multi_input_mode="sum"),
        (2, 3, 6, 9),
        ({"data": (1, 3, 3, 12)},),
    ),
    "avg_same": (
        S.Pooling(D, kernel=(3,), stride=(2,), pool_type="avg", pad=(0, 0, 0), pooling_convention="same"),
        (2, 3, 12),
    ),
    "adaptive_unequal": S.contrib.AdaptiveAvgPooling2D(X, output_size=(2, 5)),
    "adaptive_overlap": S.contrib.AdaptiveAvgPooling2D(X, output_size=(4, 7)),
    "resize_like": S.contrib.BilinearResize2D(X, S.Pooling(X, kernel=(2, 3), stride=(2, 3)), mode="like"),
    "resize_like_half_pixel": S.contrib.BilinearResize2D(
        X, S.Concat(X, X, dim=2), mode="like", align_corners=False
    ),
}
_BASE = S.Reshape(S.slice_axis(S.slice_axis(X, axis=2, begin=0, end=1), axis=3, begin=0, end=1), shape=(2, 4))


def _row(i):
    return S.slice_axis(_BASE, axis=0, begin=i, end=i + 1)


NEW_CASES.update(
    {
        "squeeze": S.squeeze(S.mean(X, axis=2, keepdims=True), axis=2),
        "stack": S.stack(X, S.relu(X), axis=2),
        "stack_last": S.stack(X, S.relu(X), S.tanh(X), axis=-1),
        "tile": S.tile(X, reps=(1, 2, 3)),
        "tile_more": (S.tile(D, reps=(2, 1, 2, 1)), (3, 4, 5)),
        "reverse": S.reverse(X, axis=(1, 3)),
        "where": S.where(_INTS, X, S.relu(X) - 1),
        "where_rows": (S.where(S.floor(S.slice_axis(S.slice_axis(D, axis=1, begin=0, end=1), axis=0,
                        begin=0, end=None) * 2).reshape((-1,)), D, -D), (4, 3)),
        "slice_like": S.slice_like(X, S.Pooling(X, kernel=(2, 2), stride=(2, 2)), axes=(2, 3)),
        "slice_like_all": S.slice_like(X, S.slice_axis(X, axis=1, begin=1, end=3)),
        "zeros_like": S.zeros_like(X) + X,
        "ones_like": S.ones_like(S.Cast(X * 9, dtype="int32")),
        "shape_array": S.shape_array(X),
        "repeat": S.repeat(X, repeats=3, axis=2),
        "repeat_last": S.repeat(X, repeats=2, axis=-1),
        "repeat_first": S.repeat(X, repeats=2, axis=0),
        "repeat_flat": S.repeat(X, repeats=2),
        # indices in [-2, 1] and [-4, 3] of the first two axes: negative ones wrap, fractions truncate
        # (MXNet's Reshape to (2, 4) is not checked at other sizes: judged at this one only)
        "gather_nd": (S.gather_nd(X, S.concat(_row(0) * 1.5 - 0.5, _row(1) * 3.5 - 0.5, dim=0)), SHAPE, ()),
        "gather_nd_free": S.gather_nd(
            S.transpose(X, axes=(1, 0, 2, 3)),
            S.Reshape(S.slice(X, begin=(0, 0, 0), end=(1, 1, 1)), shape=(1, -1)) * 3.5 - 0.5,
        ),
        # _arange: no input; added to a slice of the data to keep it in the graph
        "arange": S.broadcast_add(X, S.arange(start=0.5, stop=2.9, step=0.2, repeat=1)),
        "arange_repeat": S.broadcast_add(X, S.arange(start=12, stop=7.5, step=-0.75, repeat=2)),
        "arange_int": S.broadcast_add(S.Cast(X * 9, dtype="int32"), S.arange(3, 15, 1, dtype="int32")),
    }
)  # fmt: skip
_NORM_OPSETS = (13, 18, 21)

CASES = {
    # nn
    "conv": S.Convolution(X, kernel=(3, 3), num_filter=5, pad=(1, 1), stride=(2, 1), name="c"),
    "conv_group_dilate": S.Convolution(
        X, kernel=(3, 2), num_filter=6, num_group=2, dilate=(2, 1), no_bias=True
    ),
    "conv1d": (S.Convolution(S.var("data"), kernel=(3,), num_filter=3, pad=(1,)), (2, 4, 10)),
    "deconv": S.Deconvolution(X, kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 0), num_filter=3),
    "deconv_bias_group": S.Deconvolution(
        X, kernel=(2, 2), stride=(2, 2), num_filter=4, num_group=2, no_bias=False
    ),
    "max_valid": _pool(kernel=(3, 3), stride=(2, 2)),
    "max_full": _pool(kernel=(3, 3), stride=(2, 2), pooling_convention="full"),
    "max_full_pad_start": _pool(kernel=(2, 2), stride=(2, 2), pad=(1, 1), pooling_convention="full"),
    "max_pad": _pool(kernel=(3, 3), stride=(1, 1), pad=(1, 1)),
    "avg_full": _pool(kernel=(3, 3), stride=(2, 2), pool_type="avg", pooling_convention="full"),
    "avg_full_pad": _pool(
        kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full"
    ),
    "avg_full_pad_start": _pool(
        kernel=(2, 2), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full"
    ),
    "avg_no_pad_count": _pool(
        kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False
    ),
    "avg_no_pad_count_full": _pool(
        kernel=(3, 3),
        stride=(2, 2),
        pad=(1, 1),
        pool_type="avg",
        count_include_pad=False,
        pooling_convention="full",
    ),
    "avg_valid": _pool(kernel=(2, 3), stride=(2, 2), pool_type="avg"),
    "sum_valid": _pool(kernel=(2, 2), stride=(2, 2), pad=(1, 0), pool_type="sum"),
    "sum_full": _pool(kernel=(3, 3), stride=(2, 2), pool_type="sum", pooling_convention="full"),
    "lp2": _pool(kernel=(2, 2), stride=(1, 1), pool_type="lp", p_value=2),
    "global_max": _pool(kernel=(1, 1), global_pool=True),
    "global_avg": _pool(kernel=(5, 5), global_pool=True, pool_type="avg"),
    "global_sum": _pool(global_pool=True, pool_type="sum"),
    "global_lp2": _pool(global_pool=True, pool_type="lp", p_value=2),
    "fc": S.FullyConnected(X, num_hidden=7, name="fc"),
    "fc_no_bias": S.FullyConnected(X, num_hidden=7, no_bias=True),
    "fc_not_flat": S.FullyConnected(X, num_hidden=5, flatten=False),
    "bn_fix_gamma": S.BatchNorm(X, name="bn"),
    "bn": S.BatchNorm(X, fix_gamma=False, eps=1e-5, name="bn"),
    "bn_global_stats": S.BatchNorm(X, fix_gamma=False, use_global_stats=True, name="bn"),
    "bn_axis_last": S.BatchNorm(X, fix_gamma=False, axis=-1, name="bn"),
    "bn_2d": (S.BatchNorm(S.var("data"), fix_gamma=False, name="bn"), (3, 6)),
    **{f"act_{a}": S.Activation(X, act_type=a) for a in ("relu", "sigmoid", "tanh", "softrelu", "softsign")},
    **{f"leaky_{a}": S.LeakyReLU(X, act_type=a, slope=0.3) for a in ("leaky", "elu", "selu", "gelu")},
    "leaky_rrelu": S.LeakyReLU(X, act_type="rrelu")[0],  # its second output is the training mask
    "prelu": S.LeakyReLU(X, act_type="prelu", name="prelu"),
    "dropout": S.Dropout(X, p=0.5),
    "lrn": S.LRN(X, nsize=3, alpha=0.01, beta=0.7, knorm=1.5),
    "softmax_output": S.SoftmaxOutput(X, name="softmax"),
    "softmax_output_3d": (S.SoftmaxOutput(S.var("data"), name="softmax"), (2, 5, 7)),
    "softmax_output_multi": S.SoftmaxOutput(X, multi_output=True, name="softmax"),
    "softmax_output_preserve": S.SoftmaxOutput(X, preserve_shape=True, name="softmax"),
    "softmax_activation": S.SoftmaxActivation(X),
    "softmax_activation_channel": S.SoftmaxActivation(X, mode="channel"),
    "softmax_temperature": S.softmax(X, axis=1, temperature=2.5),
    "log_softmax": S.log_softmax(X, axis=2),
    "softmin": S.softmin(X),
    # tensor
    **{
        f"unary_{op}": getattr(S, op)(X)
        for op in "relu sigmoid tanh softsign abs exp negative sign ceil floor sin cos tan arctan sinh cosh "
        "arcsinh erf square hard_sigmoid".split()
    },
    "unary_copy": S.identity(X),
    "unary_block_grad": S.BlockGrad(X),
    **{
        f"unary_{op}": getattr(S, op)(_pos(X))
        for op in ("log", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "arccosh")
    },
    **{f"unary_{op}": getattr(S, op)(X * 0.5) for op in ("arcsin", "arccos", "arctanh")},
    **{
        f"scalar_{op}": _op(f"_{op}_scalar")(_pos(X), scalar=1.7)
        for op in ("plus", "minus", "rminus", "mul", "div", "rdiv", "power", "rpower", "maximum", "minimum")
    },
    **{
        f"binary_{op}": _op(op)(X, S.sigmoid(X) + 0.5)
        for op in ("elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "_maximum", "_minimum")
    },
    "binary_power": _op("_power")(_pos(X), S.sigmoid(X)),
    **{
        f"broadcast_{op}": getattr(S, f"broadcast_{op}")(X, S.slice_axis(X, axis=2, begin=0, end=1) + 1.5)
        for op in ("add", "sub", "mul", "div", "maximum", "minimum")
    },
    "broadcast_power": S.broadcast_power(_pos(X), S.slice_axis(X, axis=3, begin=1, end=2)),
    "add_n": S.add_n(X, S.relu(X), S.tanh(X)),
    "clip": S.clip(X, a_min=-0.3, a_max=0.4),
    "flatten": S.Flatten(X),
    "concat": S.Concat(X, S.relu(X), dim=1),
    "concat_axis3": S.Concat(X, S.relu(X), S.tanh(X), dim=3),
    "reshape_keep_batch": S.Reshape(X, shape=(0, -1)),
    "reshape_merge": S.Reshape(X, shape=(0, -3, 0)),
    "reshape_split": S.Reshape(X, shape=(0, -4, 2, -1, -2)),
    "reshape_fixed": S.Reshape(X, shape=(-1, 12)),
    "reshape_reverse": S.Reshape(X, shape=(-1, 0), reverse=True),
    "split": S.SliceChannel(X, num_outputs=2, axis=1),
    "split_squeeze": S.SliceChannel(X, num_outputs=4, axis=1, squeeze_axis=True),
    "slice_axis": S.slice_axis(X, axis=3, begin=2, end=None),
    "slice_axis_negative": S.slice_axis(X, axis=1, begin=-3, end=-1),
    "slice": S.slice(X, begin=(None, 1), end=(None, 3)),
    "slice_steps": S.slice(X, begin=(None, 1, 2, -1), end=(None, None, -1, None), step=(1, 1, 2, -2)),
    "slice_negative_step": S.slice(
        X, begin=(None, None, None, 8), end=(None, None, None, 2), step=(1, 1, 1, -3)
    ),
    "slice_whole": S.slice(X, begin=(None,), end=(None,)),
    **{
        f"reduce_{op}": getattr(S, op)(X, axis=(2, 3), keepdims=True)
        for op in ("sum", "mean", "prod", "max", "min")
    },
    "reduce_mean_axis1": S.mean(X, axis=1),
    "reduce_sum_all": S.sum(X),
    "reduce_max_exclude": S.max(X, axis=(0, 1), exclude=True),
    "transpose": S.transpose(X, axes=(0, 2, 3, 1)),
    "transpose_reverse": S.transpose(X),
    "expand_dims": S.expand_dims(X, axis=-1),
    "cast": S.Cast(X, dtype="float32"),
    "pad_constant": S.Pad(X, mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 3, 0), constant_value=0.5),
    "pad_edge": S.Pad(X, mode="edge", pad_width=(0, 0, 0, 0, 2, 1, 1, 2)),
    "pad_reflect": S.Pad(X, mode="reflect", pad_width=(0, 0, 0, 0, 2, 1, 1, 2)),
    "crop": S.Crop(X, num_args=1, h_w=(5, 6), offset=(1, 2)),
    "crop_center": S.Crop(X, num_args=1, h_w=(4, 7), center_crop=True),
    "crop_like": S.Crop(X, S.Pooling(X, kernel=(2, 2), stride=(2, 2)), num_args=2, center_crop=True),
    "upsampling_nearest": S.UpSampling(X, scale=2, sample_type="nearest", num_args=1),
    "upsampling_bilinear": S.UpSampling(
        X, S.var("up_weight"), scale=3, sample_type="bilinear", num_filter=4, num_args=2, name="up"
    ),
    **{f"l2_{m}": S.L2Normalization(X, mode=m) for m in ("instance", "channel", "spatial")},
    "adaptive_1": S.contrib.AdaptiveAvgPooling2D(X, output_size=1),
    "adaptive_3x4": S.contrib.AdaptiveAvgPooling2D(X, output_size=(3, 4)),
    "resize_align": S.contrib.BilinearResize2D(X, height=5, width=17),
    "resize_half_pixel": S.contrib.BilinearResize2D(X, height=13, width=7, align_corners=False),
    **NEW_CASES,
}
OPSETS = {
    "reduce_mean": (13, 18),
    "reduce_sum_all": (13, 18),
    "split": (13, 17, 18, 21),
    "split_squeeze": (13, 18),
    "leaky_gelu": (13, 20, 21),
    "l2_channel": (13, 18),
    **{name: _NORM_OPSETS for name in ("layernorm", "layernorm_axis1_moments", "groupnorm_moments")},
    "cast_float16": (13, 21),
}
_OWN_OUTPUT_NAMES = ("leaky_rrelu", "layernorm_axis1_moments", "groupnorm_moments")
PARAMS = [(name, opset) for name in CASES for opset in OPSETS.get(name, (17,))]


@pytest.mark.parametrize(("name", "opset"), PARAMS, ids=[f"{n}-{o}" for n, o in PARAMS])
def test_operator_export_matches_mxnet(name, opset, tmp_path):
    case = CASES[name]
    symbol, shape, sizes = (*case, MORE)[:3] if isinstance(case, tuple) else (case, SHAPE, MORE)
    _, params = save_checkpoint(symbol, tmp_path, "op", {"data": shape})
    exported = export_onnx(symbol, params=params, input_shapes=shape, opset=opset)
    more = sizes if "H" in exported.symbolic else ()
    judge(exported.model, symbol, params, {"data": shape}, more)
    static = to_onnx(symbol, params=params, input_shapes=shape, dynamic=False, opset=opset)
    # a node of several outputs names them `_output0`, `_output1`... here; MXNet by their own names
    # (rrelu: output, mask; LayerNorm, GroupNorm: output, mean, std)
    assert check_shapes(static, symbol, {"data": shape}) >= (name not in _OWN_OUTPUT_NAMES)


@pytest.mark.parametrize(("target", "pad", "adj"), [((18, 24), (1, 1), (0, 0)), ((17, 23), (2, 2), (1, 1))])
def test_deconvolution_target_shape(target, pad, adj, tmp_path):
    """MXNet's CPU build cannot run a Deconvolution with target_shape (MKL-DNN: "could not
    create a descriptor for a dilated deconvolution"), so the judge is the same layer with the
    pad and adj MXNet derives from it (src/operator/nn/deconvolution-inl.h, InferPad:
    total = stride*(x-1) + kernel - target, pad = ceil(total/2), adj = total % 2)."""
    kw = {"kernel": (4, 4), "stride": (2, 2), "num_filter": 2, "name": "d"}
    with_target = S.Deconvolution(X, target_shape=target, **kw)
    reference = S.Deconvolution(X, pad=pad, adj=adj, **kw)
    _, params = save_checkpoint(reference, tmp_path, "d", {"data": SHAPE})
    exported = export_onnx(with_target, params=params, input_shapes=SHAPE)
    assert exported.symbolic == ("N",) and "fixed-target-shape" in exported.notes[0]
    judge(exported.model, reference, params, {"data": SHAPE})
    assert onnx_shape(exported.model) == ["N", 2, *target]


def onnx_shape(model):
    from onnx import shape_inference

    out = shape_inference.infer_shapes(model).graph.output[0]
    return [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]


@pytest.mark.parametrize(("kernel", "stride", "width"), [(3, 2, 11), (4, 3, 10), (2, 3, 8)])
def test_max_pooling_same(kernel, stride, width, tmp_path):
    """MXNet's CPU build cannot run 1-D max pooling in 'same' convention (MKL-DNN: "could not
    create a descriptor for a pooling forward propagation primitive"), so the judge is what its
    native kernel computes (src/operator/nn/pool.h, pool_max_1d_ncw_cpu: ceil(x/s) windows from
    i*s, each ending at min(start + k, x)): valid max pooling of the data with columns of -1e30
    appended on the right, up to the last window's end. ('same' wants a pad of three zeros:
    pooling.cc reads pad[0..2].)"""
    same = S.Pooling(D, kernel=(kernel,), stride=(stride,), pad=(0, 0, 0), pooling_convention="same")
    out = -(-width // stride)
    extra = (out - 1) * stride + kernel - width
    filler = S.slice_axis(D, axis=2, begin=0, end=1) * 0 - 1e30
    padded = S.Concat(D, *[filler] * extra, dim=2) if extra else D
    reference = S.Pooling(padded, kernel=(kernel,), stride=(stride,))
    shape = (2, 3, width)
    _, params = save_checkpoint(reference, tmp_path, "p", {"data": shape})
    model = to_onnx(same, params=params, input_shapes=shape)
    judge(model, reference, params, {"data": shape})
    assert onnx_shape(model)[2] == out


def test_squeeze_without_axis_needs_fixed_sizes(tmp_path):
    """squeeze() drops every axis of size 1, a batch of 1 too (matrix_op-inl.h, SqueezeShape):
    refused with a symbolic batch, exact with fixed sizes."""
    symbol = S.squeeze(S.slice_axis(X, axis=3, begin=0, end=1), name="sq")
    _, params = save_checkpoint(symbol, tmp_path, "sq", {"data": SHAPE})
    with pytest.raises(GraphError, match=r"layer 'sq' \(squeeze\): .*dynamic=False"):
        to_onnx(symbol, params=params, input_shapes=SHAPE)
    for shape in (SHAPE, (1, *SHAPE[1:])):
        model = to_onnx(symbol, params=params, input_shapes=shape, dynamic=False)
        judge(model, symbol, params, {"data": shape})


def test_weights_with_data_of_another_type_are_refused():
    symbol = S.Convolution(S.Cast(X, dtype="float16"), kernel=(3, 3), num_filter=2, name="c16")
    with pytest.raises(GraphError, match=r"layer 'c16' \(Convolution\): .*float16 data"):
        to_onnx(symbol, input_shapes=SHAPE)


def test_embedding_in_float16(tmp_path):
    """Embedding(dtype='float16') reads a float16 weight (MXNet's infer_type), so MXNet is bound
    with that type here (simple_bind alone binds every argument as float32)."""
    import numpy as np
    from _onnx import run_ort

    symbol = S.Embedding(X * 3, input_dim=3, output_dim=5, dtype="float16", name="emb")
    _, params = save_checkpoint(symbol, tmp_path, "emb", {"data": SHAPE})
    model = to_onnx(symbol, params=params, input_shapes=SHAPE)
    assert model.graph.output[0].type.tensor_type.elem_type == 10  # FLOAT16
    data = np.random.RandomState(2).uniform(-1, 1, SHAPE).astype(np.float32)
    ex = symbol.simple_bind(
        mx.cpu(), grad_req="null", type_dict={"data": np.float32, "emb_weight": np.float16}, data=SHAPE
    )
    ex.arg_dict["data"][:] = data
    ex.arg_dict["emb_weight"][:] = mx.nd.load(str(params))["arg:emb_weight"].astype(np.float16)
    want = ex.forward(is_train=False)[0].asnumpy()
    (got,) = run_ort(model, {"data": data})
    assert want.dtype == got.dtype == np.float16 and (want == got).all()


def test_size_locked_graphs_say_which_layer():
    crop = CASES["crop"]
    exported = export_onnx(crop, input_shapes=SHAPE)
    assert exported.symbolic == ("N",)
    assert len(exported.notes) == 1 and "fixed-size-crop" in exported.notes[0]
    assert "--fix" not in exported.notes[0]  # --fix does not repair a crop
    conv = export_onnx(CASES["conv"], input_shapes=SHAPE)
    assert conv.symbolic == ("H", "N", "W") and conv.notes == ()


def test_fix_gamma_ignores_the_stored_gamma(tmp_path):
    """MXNet's forward with fix_gamma=True ignores the stored gamma (drawn in 0.5..1.5; judge
    compares), and the exported scale is all ones."""
    _, params = save_checkpoint(CASES["bn_fix_gamma"], tmp_path, "bn", {"data": SHAPE})
    model = to_onnx(CASES["bn_fix_gamma"], params=params, input_shapes=SHAPE)
    judge(model, CASES["bn_fix_gamma"], params, {"data": SHAPE}, MORE)
    import onnx.numpy_helper

    gamma = next(t for t in model.graph.initializer if t.name == "bn_gamma")
    assert (onnx.numpy_helper.to_array(gamma) == 1).all()


def test_labels_are_not_inputs():
    model = to_onnx(CASES["softmax_output"], input_shapes=SHAPE)
    assert [v.name for v in model.graph.input] == ["data"]
    assert "softmax_label" not in {t.name for t in model.graph.initializer}


def test_an_operator_without_translation_is_refused_by_name():
    boxes = S.contrib.box_nms(S.var("data"), name="nms")
    with pytest.raises(
        GraphError, match=r"layer 'nms' \(_contrib_box_nms\): cannot be exported to ONNX: .*detections"
    ):
        to_onnx(boxes, input_shapes=(1, 10, 6))


def test_a_flattening_numpy_concatenate_is_refused_with_its_reason():
    with pytest.raises(GraphError, match=r"layer 'cat' \(_npi_concatenate\): .*axis=None"):
        to_onnx(_np_concatenate(axis="None"), input_shapes=(2, 3))


def test_every_operator_has_a_translation_or_a_reason():
    canonical = sorted({info.name for info in OPS.values()})
    listing = {name: translation_of(name) for name in canonical}
    assert set(HANDLERS) | set(REFUSED) <= set(canonical)
    assert not set(HANDLERS) & set(REFUSED)
    for name, what in listing.items():
        assert what == "translated" if name in HANDLERS else what and what != "translated", name
    # every translated operator has a graph here, judged above
    tested = {node["op"] for case in CASES.values() for node in _nodes(case)}
    untested = sorted(n for n in HANDLERS if not {n, *[a for a, i in OPS.items() if i.name == n]} & tested)
    assert untested in ([], ["_rpower_scalar"]), untested


def _nodes(case):
    import json

    symbol = case[0] if isinstance(case, tuple) else case
    return json.loads(symbol.tojson())["nodes"]
