"""Shape rules of the neural-network operators (MXNet 1.9.1 ``src/operator/nn/`` and kin).

Each rule takes ``(attrs, ins, outs)``: the node's attributes, the current shapes of its inputs
(a list it may change) and of its outputs; it returns ``(ins, outs)`` with what it could infer.
``None`` is a shape of unknown rank, a 0 an unknown dimension.
"""

from __future__ import annotations

import math
import struct

from nin_mx.core import border
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops._base import REQUIRED, Attrs, AxisError, assign, axis_of, fmt, known, merge, parser, size
from nin_mx.core.validate import INT32_MAX

_LAYOUTS = ("NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC")
_FLOAT32_EXACT = 2**23  # below this, MXNet's float32 quotient in 'full' pooling is exact


def _to_nc(shape: tuple, layout: str | None) -> tuple:
    """A shape in ``layout`` as N, C, spatial... (MXNet's ConvertLayout to NC*)."""
    if layout is None or layout.startswith("NC"):
        return shape
    return (shape[0], shape[-1], *shape[1:-1])


def _from_nc(shape: tuple, layout: str | None) -> tuple:
    if layout is None or layout.startswith("NC"):
        return shape
    return (shape[0], *shape[2:], shape[1])


def _window_error(exc: Exception, axis: int, nd: int) -> AxisError:
    return AxisError(str(exc), axis, nd)


def _check_int32(what: str, value: int) -> None:
    if value > INT32_MAX:
        raise ShapeError(
            f"{what} {value} is beyond 2^31 - 1, which overflows MXNet's 32-bit shape arithmetic"
        )


# -- Convolution: src/operator/nn/convolution.cc (ConvolutionParamParser, ConvolutionShape) --------


def _window_params(a: Attrs, what: str, extra: tuple[tuple[str, int], ...] = ()) -> tuple:
    """kernel, stride, dilate, pad (and ``extra`` per-axis tuples with their defaults), each
    as many entries as the kernel, then num_filter and num_group: what Convolution and
    Deconvolution read alike (their parameter parsers in MXNet's nn/ sources)."""
    kernel = a.tuple("kernel", REQUIRED)
    nd = len(kernel)
    if nd not in (1, 2, 3):
        raise GraphError(f"{nd}D {what} not supported")
    axes = (("stride", 1), ("dilate", 1), ("pad", 0), *extra)
    values = [a.tuple(key, ()) or (default,) * nd for key, default in axes]
    for (key, _), value in zip(axes, values):
        if len(value) != nd:
            raise GraphError(f"attribute {key}={value} must have as many entries as kernel={kernel}")
    num_filter = a.int("num_filter", REQUIRED, unsigned=True)
    num_group = a.int("num_group", 1, unsigned=True)
    if num_group < 1:
        raise GraphError("num_group must be at least 1")
    return (kernel, *values, num_filter, num_group)


@parser
def _conv_params(a: Attrs) -> tuple:
    kernel, stride, dilate, pad, num_filter, num_group = _window_params(a, "convolution")
    a.int("workspace", 1024, bits=64)
    a.opt_enum("cudnn_tune", ("fastest", "limited_workspace", "off"))
    a.bool("cudnn_off", False)
    no_bias = a.bool("no_bias", False)
    layout = a.opt_enum("layout", _LAYOUTS)
    return kernel, stride, dilate, pad, num_filter, num_group, no_bias, layout


def conv_inputs(attrs) -> tuple[str, ...]:
    return ("data", "weight") if _no_bias(attrs) else ("data", "weight", "bias")


def _no_bias(attrs) -> bool:
    return Attrs(attrs).bool("no_bias", False)


def convolution(attrs, ins, outs):
    kernel, stride, dilate, pad, num_filter, groups, no_bias, layout = _conv_params(attrs)
    nd = len(kernel)
    data = ins[0]
    if data is None:
        return ins, outs
    if len(data) != nd + 2:
        raise ShapeError(f"input data should be {nd + 2}-D, got {fmt(data)}")
    d = _to_nc(data, layout)
    channels = d[1] // groups if d[1] else 0
    weight = (num_filter, channels, *kernel)
    assign(ins, 1, _from_nc(weight, layout), "weight")
    if not no_bias:
        assign(ins, 2, (num_filter,), "bias")
    if d[1] and d[1] % groups:
        raise ShapeError(f"input channels {d[1]} are not a multiple of num_group {groups}")
    if num_filter % groups:
        raise ShapeError(f"num_filter {num_filter} is not a multiple of num_group {groups}")
    spatial = []
    for axis in range(nd):
        n = d[2 + axis]
        if not n:
            spatial.append(0)
            continue
        _check_int32("padded input", n + 2 * pad[axis])
        try:
            spatial.append(border.conv_output_size(n, kernel[axis], stride[axis], pad[axis], dilate[axis]))
        except border.EmptyOutputError as exc:
            raise _window_error(exc, axis, nd) from None
        except ValueError as exc:
            raise GraphError(str(exc)) from None
    out = merge(outs[0], _from_nc((d[0], num_filter, *spatial), layout))
    o = _to_nc(out, layout)
    # back-fill the data: the batch always, a spatial size where the stride is 1
    back = [o[0], d[1]]
    for axis in range(nd):
        if o[2 + axis] and stride[axis] == 1 and not d[2 + axis]:
            ke = dilate[axis] * (kernel[axis] - 1) + 1
            back.append(o[2 + axis] + ke - 1 - 2 * pad[axis])
        else:
            back.append(d[2 + axis])
    assign(ins, 0, _from_nc(tuple(back), layout), "data")
    return ins, [out]


# -- Deconvolution: src/operator/nn/deconvolution-inl.h (InferPad) and deconvolution.cc -----------


@parser
def _deconv_params(a: Attrs) -> tuple:
    kernel, stride, dilate, pad, adj, num_filter, num_group = _window_params(
        a, "deconvolution", (("adj", 0),)
    )
    target = a.tuple("target_shape", ()) or (0,) * len(kernel)
    no_bias = a.bool("no_bias", True)
    layout = a.opt_enum("layout", _LAYOUTS)
    a.int("workspace", 512, bits=64)
    return kernel, stride, dilate, pad, adj, target, num_filter, num_group, no_bias, layout


def deconv_inputs(attrs) -> tuple[str, ...]:
    no_bias = Attrs(attrs).bool("no_bias", True)  # Deconvolution's default (deconvolution-inl.h)
    return ("data", "weight") if no_bias else ("data", "weight", "bias")


def deconvolution(attrs, ins, outs):
    kernel, stride, dilate, pad, adj, target, num_filter, groups, no_bias, layout = _deconv_params(attrs)
    nd = len(kernel)
    data = ins[0]
    if data is None:
        return ins, outs
    if len(data) != nd + 2:
        raise ShapeError(f"input data should be {nd + 2}-D, got {fmt(data)}")
    d = _to_nc(data, layout)
    if d[1] and d[1] % groups:
        raise ShapeError(f"input channels {d[1]} are not a multiple of num_group {groups}")
    assign(ins, 1, _from_nc((d[1], num_filter // groups, *kernel), layout), "weight")
    if not no_bias:
        assign(ins, 2, (num_filter,), "bias")
    spatial = []
    use_target = any(target)
    for axis in range(nd):
        n = d[2 + axis]
        if not n:
            spatial.append(0)
            continue
        if use_target:
            # InferPad: the full output, cropped to target_shape; the remainder becomes adj
            try:
                _, extra = border.deconv_target_pad(n, kernel[axis], stride[axis], dilate[axis], target[axis])
            except ValueError:
                full = stride[axis] * (n - 1) + border.effective_kernel(kernel[axis], dilate[axis])
                raise ShapeError(f"target_shape {target} exceeds the largest output {full}") from None
            if extra >= stride[axis] and extra:
                raise ShapeError(f"target_shape {target} needs an odd crop, impossible with stride 1")
            spatial.append(target[axis])
            continue
        if adj[axis] >= stride[axis]:
            raise GraphError(f"adj {adj} must be smaller than stride {stride}")
        try:
            spatial.append(
                border.deconv_output_size(n, kernel[axis], stride[axis], pad[axis], dilate[axis], adj[axis])
            )
        except border.EmptyOutputError as exc:
            raise _window_error(exc, axis, nd) from None
        except ValueError as exc:
            raise GraphError(str(exc)) from None
    out = merge(outs[0], _from_nc((d[0], num_filter, *spatial), layout))
    return ins, [out]


# -- Pooling: src/operator/nn/pooling.cc (PoolingParamParser, PoolingShape), pooling-inl.h -------


@parser
def _pool_params(a: Attrs) -> tuple:
    kernel = a.tuple("kernel", ())
    pool_type = a.enum("pool_type", ("max", "avg", "sum", "lp"), "max")
    global_pool = a.bool("global_pool", False)
    a.bool("cudnn_off", False)
    convention = a.enum("pooling_convention", ("full", "valid", "same"), "valid")
    stride = a.tuple("stride", ())
    pad = a.tuple("pad", ())
    p_value = a.opt_int("p_value")
    a.opt_bool("count_include_pad")
    layout = a.opt_enum("layout", _LAYOUTS)
    nd = len(kernel)
    if nd not in (1, 2) and not global_pool and nd != 3:
        raise GraphError(f"{nd}D pooling not supported")
    if nd in (1, 2, 3):
        stride = stride or (1,) * nd
        pad = pad or (0,) * nd
    else:
        stride = stride or (1, 1, 1)
        pad = pad or (0, 0, 0)
    # MXNet reads the first nd entries of a longer stride or pad; a shorter one is not read safely
    for key, value in (("stride", stride), ("pad", pad)):
        if nd and len(value) < nd:
            raise GraphError(f"attribute {key}={value} has fewer entries than kernel={kernel}")
    return kernel, pool_type, global_pool, convention, stride[: max(nd, 1)], pad, p_value, layout


def pool_outputs(attrs) -> int:
    """MKLDNN builds (pip's) keep a workspace for max pooling: a second, hidden output
    (pooling.cc GetNumOutputs; mkldnn_pooling-inl.h SupportMKLDNNPooling, MKLDNNRequireWorkspace)."""
    kernel, pool_type, _, _, _, _, _, layout = _pool_params(attrs)
    if pool_type != "max" or len(kernel) not in (1, 2, 3) or layout not in (None, "NCW", "NCHW", "NCDHW"):
        return 1
    return 2


def _full_f32(padded_minus_kernel: int, stride: int) -> int:
    """``1 + (int)ceil((float)(n + 2p - k) / stride)`` exactly as MXNet computes it in float32."""
    num = struct.unpack("f", struct.pack("f", float(padded_minus_kernel)))[0]
    den = struct.unpack("f", struct.pack("f", float(stride)))[0]
    quotient = struct.unpack("f", struct.pack("f", num / den))[0]
    return 1 + math.ceil(quotient)


def pooling(attrs, ins, outs):
    kernel, pool_type, global_pool, convention, stride, pad, p_value, layout = _pool_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if pool_type == "lp" and p_value is None:
        raise GraphError("lp pooling needs p_value")
    nd_data = len(data)
    if convention == "same":
        if nd_data != 3:
            raise ShapeError(f"pooling_convention 'same' needs a 3-D input, got {fmt(data)}")
        # MXNet checks pad[0], pad[1] and pad[2] whatever the kernel: a 1-D pad fails the index check
        if len(pad) < 3:
            raise GraphError(f"pooling_convention 'same' needs pad=(0, 0, 0), got pad={pad}")
        if any(pad[:3]):
            raise GraphError("pooling_convention 'same' disables pad")
    if not 3 <= nd_data <= 5:
        raise ShapeError(f"input data should be 3-D, 4-D or 5-D, got {fmt(data)}")
    nd = nd_data - 2
    if layout is None:
        layout = ("NCW", "NCHW", "NCDHW")[nd - 1] if not kernel or global_pool else None
        if layout is None:
            layout = ("NCW", "NCHW", "NCDHW")[len(kernel) - 1]
    elif len(layout) != nd_data:
        raise GraphError(f"layout {layout} does not fit a {nd_data}-D input")
    n = len(outs)
    if global_pool:
        c = 1 if layout.startswith("NC") else nd_data - 1
        out = tuple(dim if i in (0, c) else 1 for i, dim in enumerate(data))
        return ins, [out] * n
    if not kernel:
        return ins, outs
    if len(kernel) != nd:
        raise ShapeError(f"kernel {kernel} does not fit a {nd_data}-D input {fmt(data)}")
    d = _to_nc(data, layout)
    spatial = []
    for axis in range(nd):
        size_in = d[2 + axis]
        if not size_in:
            spatial.append(0)
            continue
        padded = size_in + 2 * pad[axis]
        _check_int32("padded input", padded)
        if kernel[axis] > padded:
            msg = (
                f"kernel {kernel[axis]} exceeds input {size_in} padded to {padded}"
                if pad[axis]
                else f"kernel {kernel[axis]} exceeds input {size_in}"
            )
            raise AxisError(msg, axis, nd)
        if convention == "same":
            # 1-D only: ceil((float)(n + 2p) / stride)
            spatial.append(-(-padded // stride[axis]))
        elif convention == "valid":
            spatial.append(border.pool_output_size(size_in, kernel[axis], stride[axis], pad[axis], "valid"))
        elif padded - kernel[axis] < _FLOAT32_EXACT:
            spatial.append(border.pool_output_size(size_in, kernel[axis], stride[axis], pad[axis], "full"))
        else:
            spatial.append(_full_f32(padded - kernel[axis], stride[axis]))
    out = _from_nc((d[0], d[1], *spatial), layout)
    return ins, [out] * n


# -- FullyConnected: src/operator/nn/fully_connected.cc (FullyConnectedShape) -------------------


@parser
def _fc_params(a: Attrs) -> tuple:
    num_hidden = a.int("num_hidden", REQUIRED)
    if num_hidden < 1:
        raise GraphError(f"num_hidden must be at least 1, got {num_hidden}")
    return num_hidden, a.bool("no_bias", False), a.bool("flatten", True)


def fc_inputs(attrs) -> tuple[str, ...]:
    return ("data", "weight") if _no_bias(attrs) else ("data", "weight", "bias")


def flattened(shape: tuple) -> int:
    """``prod(shape[1:])``, refused beyond 2^31 - 1 (MXNet's 32-bit product wraps around)."""
    total = size(shape[1:])
    if total > INT32_MAX:
        raise ShapeError(
            f"its input {'x'.join(map(str, shape[1:]))} holds {total:,} values per sample, beyond "
            "2^31 - 1, which overflows MXNet's 32-bit shape arithmetic"
        )
    return total


def fully_connected(attrs, ins, outs):
    num_hidden, no_bias, flatten = _fc_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    num_input = flattened(data) if flatten else data[-1]
    if flatten and 0 in data[1:]:
        num_input = 0
    assign(ins, 1, (num_hidden, num_input), "weight")
    if not no_bias:
        bias = ins[2]
        try:
            ins[2] = merge(bias, (num_hidden,))
        except ShapeError:
            try:
                ins[2] = merge(bias, (num_hidden, 1))
            except ShapeError:
                raise ShapeError(f"unexpected shape for bias {fmt(bias)}") from None
    out = (*data[:-1], num_hidden) if not flatten else (data[0], num_hidden)
    out = merge(outs[0], out)
    if out[0] != data[0]:
        assign(ins, 0, (out[0], *data[1:]), "data")
    return ins, [out]


# -- BatchNorm: src/operator/nn/batch_norm.cc (BatchNormShape) ----------------------------------


@parser
def _bn_params(a: Attrs) -> tuple:
    a.float("eps", 0.0010000000474974513)  # a double set to 1e-3f (nn/batch_norm-inl.h, BatchNormParam)
    a.float("momentum", 0.9)
    a.bool("fix_gamma", True)
    a.bool("use_global_stats", False)
    a.bool("cudnn_off", False)
    return a.int("axis", 1), a.bool("output_mean_var", False)


def bn_visible(attrs) -> int:
    return 3 if _bn_params(attrs)[1] else 1


def batch_norm(attrs, ins, outs):
    axis, _ = _bn_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    channel = axis + len(data) if axis < 0 else axis
    if not 0 <= channel < len(data):
        raise ShapeError(f"channel axis {axis} is out of range for {fmt(data)}")
    c = (data[channel],)
    # MXNet sets (not checks) the four parameter shapes
    for i in range(1, len(ins)):
        ins[i] = c
    return ins, [data, c, c]


# -- LayerNorm: src/operator/nn/layer_norm.cc; GroupNorm, InstanceNorm ----------------------------


@parser
def _ln_params(a: Attrs) -> tuple:
    a.float("eps", 1e-5)
    return a.int("axis", -1), a.bool("output_mean_var", False)


@parser
def _mean_var(a: Attrs) -> bool:
    return a.bool("output_mean_var", False)


def ln_visible(attrs) -> int:
    """LayerNorm's and GroupNorm's visible outputs: the moments too with ``output_mean_var``."""
    return 3 if _mean_var(attrs) else 1


def layer_norm(attrs, ins, outs):
    axis, _ = _ln_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    axis = axis_of(axis, len(data), "axis")
    c = data[axis]
    if not c:
        return ins, outs
    assign(ins, 1, (c,), "gamma")
    assign(ins, 2, (c,), "beta")
    moments = tuple(1 if i == axis else dim for i, dim in enumerate(data))
    return ins, [data, moments, moments]


@parser
def _gn_params(a: Attrs) -> tuple:
    a.float("eps", 1e-5)
    return a.int("num_groups", 1), a.bool("output_mean_var", False)


def group_norm(attrs, ins, outs):
    """src/operator/nn/group_norm.cc (GroupNormShape): gamma and beta are set to (num_groups,)."""
    groups, _ = _gn_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if len(data) < 3:
        raise ShapeError(f"input data should be at least 3-D, got {fmt(data)}")
    if data[1] % groups:
        raise ShapeError(f"channels {data[1]} are not divisible by num_groups {groups}")
    ins[1] = ins[2] = (groups,)
    moments = (data[0], groups)
    return ins, [data, moments, moments]


def instance_norm(attrs, ins, outs):
    data = ins[0]
    if data is None:
        return ins, outs
    assign(ins, 1, (data[1],), "gamma")
    assign(ins, 2, (data[1],), "beta")
    moments = (data[0], data[1])
    return ins, [data, moments, moments][: len(outs)]


# -- activations, Dropout, LRN, softmax family ----------------------------------------------------


@parser
def _act_params(a: Attrs) -> str:
    return a.enum("act_type", ("relu", "sigmoid", "softrelu", "softsign", "tanh"), REQUIRED)


def activation(attrs, ins, outs):
    _act_params(attrs)
    return same(attrs, ins, outs)


_LEAKY = ("elu", "gelu", "leaky", "prelu", "rrelu", "selu")


@parser
def _leaky_params(a: Attrs) -> str:
    a.float("slope", 0.25)
    a.float("lower_bound", 0.125)
    a.float("upper_bound", 0.334)
    return a.enum("act_type", _LEAKY, "leaky")


def leaky_outputs(attrs) -> int:
    return 2 if _leaky_params(attrs) == "rrelu" else 1


def leaky_inputs(attrs) -> tuple[str, ...]:
    return ("data", "gamma") if _leaky_params(attrs) == "prelu" else ("data",)


def leaky_relu(attrs, ins, outs):
    """src/operator/leaky_relu.cc (LeakyReLUShape): prelu's gamma is (C,) when unknown."""
    act = _leaky_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if act == "prelu" and ins[1] is None:
        ins[1] = (data[1],)
    return ins, [data] * len(outs)


@parser
def _dropout_params(a: Attrs) -> tuple:
    p = a.float("p", 0.5, single=True)  # a float field: '1.00000001' is 1.0f, inside [0, 1]
    if p < 0 or p > 1:  # set_range(0, 1): a NaN passes
        raise GraphError(f"p={p} is outside [0, 1]")
    a.enum("mode", ("always", "training"), "training")
    a.opt_bool("cudnn_off", False)  # dropout-inl.h: set_default(dmlc::optional<bool>(false))
    return a.tuple("axes", ())


def dropout(attrs, ins, outs):
    """src/operator/nn/dropout.cc: output and mask; the mask is 1 along ``axes``."""
    axes = _dropout_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    mask = list(data)
    for ax in axes:
        if not -len(data) <= ax < len(data):
            raise ShapeError(f"axes {axes} out of range for {fmt(data)}")
        mask[ax] = 1
    return ins, [data, tuple(mask)]


@parser
def _lrn_params(a: Attrs) -> int:
    a.float("alpha", 1e-4)
    a.float("beta", 0.75)
    a.float("knorm", 2.0)
    return a.int("nsize", REQUIRED, unsigned=True)


def lrn(attrs, ins, outs):
    """src/operator/nn/lrn.cc (LRNShape): needs the whole shape; a hidden second output."""
    _lrn_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    return ins, [data, data]


@parser
def _softmax_output_params(a: Attrs) -> tuple:
    a.float("grad_scale", 1.0)
    a.float("ignore_label", -1.0)
    a.bool("use_ignore", False)
    a.enum("normalization", ("batch", "null", "valid"), "null")
    a.bool("out_grad", False)
    a.float("smooth_alpha", 0.0)
    return a.bool("multi_output", False), a.bool("preserve_shape", False)


def softmax_output(attrs, ins, outs):
    """src/operator/softmax_output.cc (SoftmaxOutputShape): the label is data without its last
    axis; with multi_output (N, prod/N/C) when unknown, or one of three accepted shapes."""
    multi, _ = _softmax_output_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    label = ins[1]
    if label != data:
        if multi:
            shape1 = (data[0], size(data) // data[0] // data[1]) if data[0] and data[1] else (data[0], 0)
            shape2 = (data[0], *data[2:])
            shape3 = (data[0], 1, *data[2:])
            if label is None:
                ins[1] = shape1
            elif label not in (shape1, shape2, shape3):
                raise ShapeError(f"expecting {fmt(shape1)} or {fmt(shape2)}, but got label {fmt(label)}")
        else:
            assign(ins, 1, data[:-1], "label")
    return ins, [data]


def regression_output(attrs, ins, outs):
    """src/operator/regression_output-inl.h (RegressionOpShape): an unknown label is the data's
    shape, or (N,) for an (N, 1) data; a given one needs the same batch and size."""
    data = ins[0]
    if not known(data):
        return ins, outs
    label = ins[1]
    if label is None:
        ins[1] = (data[0],) if len(data) == 2 and data[1] == 1 else data
    elif label[0] != data[0] or size(label) != size(data):
        raise ShapeError(f"shape inconsistent, provided={fmt(label)}, inferred shape={fmt(data)}")
    return ins, [data]


@parser
def _softmax_params(a: Attrs) -> int:
    a.bool("use_length", False)
    return a.int("axis", -1)


def softmax(attrs, ins, outs):
    """src/operator/nn/softmax-inl.h: the data's shape (the length input, if any, (N,...))."""
    axis = _softmax_params(attrs)
    data = ins[0]
    if data is not None:
        axis_of(axis, len(data))
    first, outs = same(attrs, ins[:1], outs)
    return first + ins[1:], outs


@parser
def _softmax_act_params(a: Attrs) -> str:
    return a.enum("mode", ("channel", "instance"), "instance")


def softmax_activation(attrs, ins, outs):
    _softmax_act_params(attrs)
    return same(attrs, ins, outs)


# -- shared elementwise rule ------------------------------------------------------------------------


def same(attrs, ins, outs):
    """``ElemwiseShape``: every input and output has one shape (src/operator/elemwise_op_common.h)."""
    shape = None
    for s in ins:
        shape = merge(shape, s) if s is not None else shape
    for s in outs:
        shape = merge(shape, s) if s is not None else shape
    if shape is None:
        return ins, outs
    return [shape] * len(ins), [shape] * len(outs)


# == operators added with the detection and segmentation rules (registered by ops.contrib) ========


def _mxd(d: int) -> int:
    """Our unknown dimension (0) as MXNet's -1."""
    return d if d else -1


def _pyd(d: int) -> int:
    if d == -1:
        return 0
    if d < 0:
        raise ShapeError(f"shape dim size must be >= -1, while received {d}")
    return d


def _at(shape, i: int, what: str = "input") -> int:
    """``TShape::operator[]`` with its bounds check, as MXNet's -1 for an unknown dimension."""
    n = -1 if shape is None else len(shape)
    if not 0 <= i < n:
        raise ShapeError(f"{what}: index = {i} must be in range [0, {n})")
    return _mxd(shape[i])


# -- Embedding: src/operator/tensor/indexing_op.h (EmbeddingOpShape) -----------------------------


@parser
def _embedding_params(a: Attrs) -> tuple:
    input_dim = a.int("input_dim", REQUIRED, bits=64)
    output_dim = a.int("output_dim", REQUIRED, bits=64)
    for key, value in (("input_dim", input_dim), ("output_dim", output_dim)):
        if value < 1:
            raise GraphError(f"attribute {key}={value} must be at least 1")
    a.bool("sparse_grad", False)
    return input_dim, output_dim


def embedding(attrs, ins, outs):
    input_dim, output_dim = _embedding_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    assign(ins, 1, (input_dim, output_dim), "weight")
    return ins, [(*data, output_dim)]


# -- UpSampling: src/operator/nn/upsampling.cc (UpSamplingShape), upsampling-inl.h ----------------


@parser
def _upsampling_params(a: Attrs) -> tuple:
    scale = a.int("scale", REQUIRED)
    if scale < 1:
        raise GraphError(f"attribute scale={scale} must be at least 1")
    a.int("num_filter", 0)
    sample = a.enum("sample_type", ("nearest", "bilinear"), REQUIRED)
    mode = a.enum("multi_input_mode", ("concat", "sum"), "concat")
    num_args = a.int("num_args", REQUIRED)
    if num_args < 1:
        raise GraphError(f"attribute num_args={num_args} must be at least 1")
    a.int("workspace", 512, bits=64)
    return scale, sample, mode, num_args


def upsampling_inputs(attrs) -> tuple[str, ...]:
    _, sample, _, num_args = _upsampling_params(attrs)
    if sample == "bilinear":
        return ("data", "weight")
    return tuple(f"arg{i}" for i in range(num_args))


def upsampling(attrs, ins, outs):
    scale, sample, mode, _ = _upsampling_params(attrs)
    data = ins[0]
    if sample == "nearest":
        channels = 0
        for shape in ins:
            if (-1 if shape is None else len(shape)) != 4:
                raise ShapeError(
                    f"UpSamplingNearest: input data should be 4D in (batch, channel, y, x), got {fmt(shape)}"
                )
            oh, ow = _mxd(data[2]) * scale, _mxd(data[3]) * scale
            if oh % _mxd(shape[2]) if shape[2] else oh % -1:
                raise ShapeError(
                    f"UpSamplingNearest: input height of {shape[2]} does not divide output height of {oh}"
                )
            if ow % _mxd(shape[3]) if shape[3] else ow % -1:
                raise ShapeError(
                    f"UpSamplingNearest: input width of {shape[3]} does not divide output width of {ow}"
                )
            c = _mxd(shape[1])
            if mode == "sum":
                if channels not in (0, c):
                    raise ShapeError("number of channels must be the same when multi_input_mode==sum")
                channels = c
            else:
                channels += c
        out = (data[0], _pyd(channels), _pyd(_mxd(data[2]) * scale), _pyd(_mxd(data[3]) * scale))
        return ins, [out]
    if (-1 if data is None else len(data)) != 4:
        raise ShapeError(
            f"UpSamplingBilinear: input data should be 4D in (batch, channel, y, x), got {fmt(data)}"
        )
    if not known(data):
        return ins, outs
    kernel = 2 * scale - scale % 2
    assign(ins, 1, (data[1], 1, kernel, kernel), "weight")
    return ins, [(data[0], data[1], data[2] * scale, data[3] * scale)]


# -- Pad: src/operator/pad-inl.h (InferShape) -----------------------------------------------------


@parser
def _pad_params(a: Attrs) -> tuple:
    mode = a.enum("mode", ("constant", "edge", "reflect"), "constant")
    a.float("constant_value", 0.0)
    return mode, a.tuple("pad_width", REQUIRED)


def pad(attrs, ins, outs):
    mode, width = _pad_params(attrs)
    data = ins[0]
    rank = -1 if data is None else len(data)
    if rank == 0:
        return ins, outs
    if rank not in (4, 5):
        raise ShapeError(f"current implementation only supports 4-D or 5-D input, got {fmt(data)}")
    if len(width) < 4 or any(width[:4]):
        raise ShapeError(f"pad_width={width}: padding on the first two axes must be zero")
    if len(width) != 2 * rank:
        raise ShapeError(f"input shape {fmt(data)} vs padding spec {width} mismatch")
    d = [_mxd(x) for x in data]
    if mode == "reflect" and (width[4] >= d[2] or width[5] >= d[2] or width[6] >= d[3] or width[7] >= d[3]):
        raise ShapeError(f"reflection padding {width} must be smaller than the input size {fmt(data)}")
    return ins, [tuple(_pyd(width[2 * i] + width[2 * i + 1] + d[i]) for i in range(rank))]


# -- Crop: src/operator/crop-inl.h (InferShape) ---------------------------------------------------


@parser
def _crop_params(a: Attrs) -> tuple:
    num_args = a.int("num_args", REQUIRED)
    if not 1 <= num_args <= 3:
        raise GraphError(f"attribute num_args={num_args} is outside [1, 3]")
    a.tuple("offset", (0, 0))
    h_w = a.tuple("h_w", (0, 0))
    a.bool("center_crop", False)
    return num_args, h_w


def crop_inputs(attrs) -> tuple[str, ...]:
    return tuple(f"arg{i}" for i in range(_crop_params(attrs)[0]))


def crop(attrs, ins, outs):
    num_args, h_w = _crop_params(attrs)
    data = ins[0]
    if (-1 if data is None else len(data)) != 4:
        raise ShapeError(f"input data should be 4D in batch-num_filter-y-x, got {fmt(data)}")
    if num_args == 1:
        if len(h_w) < 2:
            _at(h_w, 1, "h_w")
        h, w = h_w[0], h_w[1]
        if h < 1:
            raise ShapeError(f"the crop height h_w[0]={h} should be at least 1")
        if h > _mxd(data[2]):
            raise ShapeError(f"the crop height h_w[0]={h} exceeds the input's height {data[2]}")
        if w < 1:
            raise ShapeError(f"the crop width h_w[1]={w} should be at least 1")
        if w > _mxd(data[3]):
            raise ShapeError(f"the crop width h_w[1]={w} exceeds the input's width {data[3]}")
    elif num_args == 2:
        h, w = _at(ins[1], 2, "crop_like"), _at(ins[1], 3, "crop_like")
    else:
        return ins, outs
    return ins, [(data[0], data[1], _pyd(h), _pyd(w))]


# -- L2Normalization: src/operator/l2_normalization-inl.h (InferShape); output and norm (hidden) ---


@parser
def _l2_params(a: Attrs) -> str:
    a.float("eps", 1e-10)
    return a.enum("mode", ("channel", "instance", "spatial"), "instance")


def l2_normalization(attrs, ins, outs):
    mode = _l2_params(attrs)
    data = ins[0]
    if data is None:
        _at(data, 0, "data")  # MXNet indexes the unknown shape
    if len(data) == 0:
        return ins, outs
    if mode == "instance":
        norm = (data[0],)
    else:
        if len(data) < 3:
            raise ShapeError(f"at least 3 dimensions required in {mode} mode, got {fmt(data)}")
        norm = (data[0], 1, *data[2:]) if mode == "channel" else (data[0], data[1])
    return ins, [data, norm]
