"""Shape rules of the tensor operators (MXNet 1.9.1 ``src/operator/tensor/`` and kin).

Rules take ``(attrs, ins, outs)`` and return ``(ins, outs)``, see :mod:`nin_mx.core.ops.nn`.
"""

from __future__ import annotations

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops._base import REQUIRED, Attrs, assign, axis_of, fmt, known, merge, parser, size
from nin_mx.core.ops.nn import flattened, same
from nin_mx.core.validate import INT32_MAX


def unary(attrs, ins, outs):
    """``ElemwiseShape<1, 1>`` (elemwise_unary_op_basic.cc: _copy, BlockGrad, relu, exp, ...)."""
    return same(attrs, ins, outs)


@parser
def _scalar_params(a: Attrs) -> float:
    a.bool("is_int", True)
    return a.float("scalar", 1.0)


def scalar(attrs, ins, outs):
    """elemwise_binary_scalar_op_basic.cc: ``_mul_scalar`` and kin, the data's shape."""
    _scalar_params(attrs)
    return same(attrs, ins, outs)


@parser
def _clip_params(a: Attrs) -> tuple:
    return a.float("a_min", REQUIRED), a.float("a_max", REQUIRED)


def clip(attrs, ins, outs):
    """matrix_op.cc (clip): the data's shape."""
    _clip_params(attrs)
    return same(attrs, ins, outs)


# -- Flatten: matrix_op-inl.h (FlattenShape) -------------------------------------------------------


def flatten(attrs, ins, outs):
    data = ins[0]
    if not known(data):
        return ins, outs
    if len(data) == 0:
        return ins, outs
    return ins, [merge(outs[0], (data[0], flattened(data)))]


# -- Concat: src/operator/nn/concat.cc (ConcatShape) -----------------------------------------------


@parser
def _concat_params(a: Attrs) -> tuple:
    num_args = a.int("num_args", REQUIRED)
    if num_args < 1:
        raise GraphError(f"num_args must be at least 1, got {num_args}")
    return num_args, a.int("dim", 1)


def concat_inputs(attrs) -> tuple[str, ...]:
    return tuple(f"arg{i}" for i in range(_concat_params(attrs)[0]))


def concat(attrs, ins, outs):
    num_args, dim = _concat_params(attrs)
    return _concat_along(num_args, dim, ins, outs)


# _npi_concatenate: src/operator/numpy/np_matrix_op.cc (NumpyConcatenateShape). MXNet 1.9.1 lists
# Concat's arguments for it (num_args, dim) but parses NumpyConcatenateParam (np_matrix_op-inl.h):
# num_args, and axis, an optional<int> of default 0; with axis None every input is flattened
# (MXNet rewrites the input shapes so) and the flat inputs are joined.


@parser
def _np_concat_params(a: Attrs) -> tuple:
    num_args = a.int("num_args", REQUIRED)
    if num_args < 1:
        raise GraphError(f"num_args must be at least 1, got {num_args}")
    return num_args, a.opt_int("axis", 0)


def np_concat_inputs(attrs) -> tuple[str, ...]:
    return tuple(f"data{i}" for i in range(_np_concat_params(attrs)[0]))


def np_concatenate(attrs, ins, outs):
    num_args, axis = _np_concat_params(attrs)
    if axis is None:
        for i, shape in enumerate(ins[:num_args]):
            if shape is None:
                raise ShapeError("Shape is unknown")
            if not known(shape):
                raise ShapeError(f"Shape dim size cannot be a negative value -1: {fmt(shape)}")
            ins[i] = (size(shape),)
        axis = 0
    return _concat_along(num_args, axis, ins, outs)


def _concat_along(num_args: int, dim: int, ins, outs):
    """ConcatShape (and NumpyConcatenateShape) along ``dim``."""
    if len(ins) != num_args:
        raise ShapeError(f"num_args={num_args} but {len(ins)} inputs")
    common = None
    total = 0
    unknown_size = False
    axis = -1
    for s in ins:
        if s is not None:
            axis = axis_of(dim, len(s), "dim")
            unknown_size = unknown_size or not s[axis]
            total += s[axis]
            masked = (*s[:axis], 0, *s[axis + 1 :])
            try:
                common = merge(common, masked)
            except ShapeError:
                pass  # MXNet ignores this merge's result; the checks below fail instead
    out = outs[0]
    if out is not None:
        axis = axis_of(dim, len(out), "dim")
        try:
            common = merge(common, (*out[:axis], 0, *out[axis + 1 :]))
        except ShapeError:
            pass
    if common is None:
        return ins, outs
    if not common:
        raise ShapeError("zero-dimensional arrays cannot be concatenated")
    for i, s in enumerate(ins):
        try:
            ins[i] = merge(s, common)
        except ShapeError:
            raise ShapeError(f"incompatible input shape: expected {fmt(common)}, got {fmt(s)}") from None
    result = common if unknown_size else (*common[:axis], total, *common[axis + 1 :])
    try:
        out = merge(out, result)
    except ShapeError:
        raise ShapeError(f"incompatible output shape: expected {fmt(result)}, got {fmt(out)}") from None
    return ins, [out]


# -- elementwise binary: elemwise_binary_op_basic.cc, ElementWiseSum (elemwise_sum.cc) -------------


def binary(attrs, ins, outs):
    """``ElemwiseShape<2, 1>``: both inputs and the output have one shape."""
    try:
        return same(attrs, ins, outs)
    except ShapeError as exc:
        raise ShapeError(f"the inputs' shapes differ ({', '.join(fmt(s) for s in ins)}): {exc}") from None


def add_n_inputs(attrs) -> tuple[str, ...]:
    return tuple(f"arg{i}" for i in range(_add_n_params(attrs)))


@parser
def _add_n_params(a: Attrs) -> int:
    return a.int("num_args", REQUIRED)


def add_n(attrs, ins, outs):
    _add_n_params(attrs)
    return binary(attrs, ins, outs)


# -- broadcast binary: elemwise_binary_broadcast_op.h (BinaryBroadcastShape) ----------------------


def broadcast(attrs, ins, outs):
    lhs, rhs = ins[0], ins[1]
    if lhs is None or rhs is None:
        return ins, outs
    if lhs == rhs:
        return ins, [merge(outs[0], lhs)]
    n = max(len(lhs), len(rhs))
    a = (1,) * (n - len(lhs)) + lhs
    b = (1,) * (n - len(rhs)) + rhs
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif not x or not y:
            out.append(0)
        else:
            raise ShapeError(f"operands could not be broadcast together with shapes {fmt(lhs)} {fmt(rhs)}")
    return ins, [merge(outs[0], tuple(out))]


# -- Reshape: matrix_op-inl.h (InferReshapeShape, ReverseReshapeInferShape, ReshapeShape) ---------


@parser
def _reshape_params(a: Attrs) -> tuple:
    shape = a.tuple("shape", ())
    reverse = a.bool("reverse", False)
    # MXNet's default is a 0-d shape, not an unknown one (matrix_op-inl.h, ReshapeParam:
    # set_default(mxnet::TShape(0, -1))): with neither shape nor target_shape, the output is ()
    target = a.opt_tuple("target_shape", ())
    keep_highest = a.bool("keep_highest", False)
    return shape, reverse, target, keep_highest


def _reshape_target(spec: tuple, data: tuple, reverse: bool) -> tuple:
    src = list(reversed(data)) if reverse else list(data)
    params = list(reversed(spec)) if reverse else list(spec)
    out: list[int] = []
    src_i, inf = 0, -1
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            if src_i >= len(src):
                raise ShapeError(f"shape {spec}: 0 copies an axis that {fmt(data)} does not have")
            out.append(src[src_i])
            src_i += 1
        elif p == -1:
            if inf >= 0:
                raise ShapeError(f"shape {spec}: one and only one dim can be inferred")
            inf = len(out)
            out.append(1)
            src_i += 1
        elif p == -2:
            out.extend(src[src_i:])
            src_i = len(src)
        elif p == -3:
            if src_i >= len(src) - 1:
                raise ShapeError(f"shape {spec}: -3 merges two axes that {fmt(data)} does not have")
            d1, d2 = src[src_i], src[src_i + 1]
            src_i += 2
            out.append(d1 * d2 if d1 and d2 else 0)
        elif p == -4:
            if i + 2 >= len(params) or src_i >= len(src):
                raise ShapeError(f"shape {spec}: -4 needs two dims after it and an axis to split")
            d0 = src[src_i]
            src_i += 1
            d1, d2 = params[i + 1], params[i + 2]
            i += 2
            if d1 == -1 and d2 == -1:
                raise ShapeError(f"shape {spec}: split dims cannot both be -1")
            d0m = d0 if d0 else -1
            if d1 == -1 and d0m >= 0:
                d1 = int(d0m / d2)
            if d2 == -1 and d0m >= 0:
                d2 = int(d0m / d1)
            if d1 * d2 != d0m and d0m != -1:
                raise ShapeError(f"shape {spec}: split dims {d1}, {d2} do not divide original dim {d0}")
            out.extend((max(d1, 0), max(d2, 0)))
        elif p < -4:
            raise ShapeError(f"shape {spec}: {p} is not a valid dimension")
        else:
            out.append(p)
            src_i += 1
        i += 1
    if inf >= 0:
        if known(data):
            rest = size(out)
            if rest == 0:
                raise ShapeError(f"shape {spec} cannot be inferred from {fmt(data)}")
            out[inf] = size(data) // rest
        else:
            out[inf] = 0
    return tuple(reversed(out)) if reverse else tuple(out)


def _reverse_fill(data: tuple, out: tuple) -> tuple:
    """ReverseReshapeInferShape: one unknown input dim from the output's size."""
    if known(data) or not known(out):
        return data
    unknown = [i for i, d in enumerate(data) if not d]
    if len(unknown) != 1:
        return data
    rest = size(d for d in data if d)
    filled = list(data)
    filled[unknown[0]] = size(out) // rest
    return tuple(filled)


def reshape(attrs, ins, outs):
    spec, reverse, target, keep_highest = _reshape_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if spec:
        new = _reshape_target(spec, data, reverse)
    elif target is not None:
        new = list(target)
        start = 1 if keep_highest else 0
        if keep_highest:
            new[0] = data[0]
        zeros = [i for i in range(start, len(new)) if new[i] == 0]
        if len(zeros) == 1:
            new[zeros[0]] = 1
            new[zeros[0]] = size(data) // size(new)
        new = tuple(new)
    else:
        out = outs[0]
        if known(out):
            ins[0] = _reverse_fill(data, out)
        return ins, outs
    if any(d > INT32_MAX for d in new):
        raise ShapeError(f"shape {fmt(new)} is beyond 2^31 - 1")
    out = merge(outs[0], new)
    ins[0] = _reverse_fill(data, out)
    return ins, [out]


# -- split / SliceChannel: src/operator/slice_channel-inl.h (InferShape) ---------------------------


@parser
def _split_params(a: Attrs) -> tuple:
    num = a.int("num_outputs", REQUIRED)
    if num < 1:
        raise GraphError(f"num_outputs must be at least 1, got {num}")
    if num > _MAX_OUTPUTS:  # MXNet names every output first (and runs out of memory doing so)
        raise GraphError(f"num_outputs={num} is more outputs than MXNet 1.9.1 can make")
    return num, a.int("axis", 1), a.bool("squeeze_axis", False)


_MAX_OUTPUTS = 2**24


def split_outputs(attrs) -> int:
    return _split_params(attrs)[0]


def split(attrs, ins, outs):
    num, axis, squeeze = _split_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    axis = axis_of(axis, len(data))
    n = data[axis]
    if n and n % num:
        raise ShapeError(f"{num} does not evenly divide axis {axis} of {fmt(data)}")
    if squeeze and n and n != num:
        raise ShapeError(f"squeeze_axis needs axis {axis} of {fmt(data)} to be num_outputs={num}")
    part = list(data)
    part[axis] = n // num if n else 0
    if squeeze and (part[axis] == 1 or not n):
        del part[axis]
    shape = tuple(part)
    return ins, [merge(o, shape) for o in outs]


# -- slice_axis, slice: matrix_op-inl.h (SliceAxisShape, SliceOpShape / GetIndexRange) -------------


@parser
def _slice_axis_params(a: Attrs) -> tuple:
    return a.int("axis", REQUIRED), a.int("begin", REQUIRED, bits=64), a.opt_int("end")


def slice_axis(attrs, ins, outs):
    axis, begin, end = _slice_axis_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    ax = axis_of(axis, len(data))
    n = data[ax]
    if not n:
        return ins, outs
    b = begin + n if begin < 0 else begin
    e = n if end is None else (end + n if end < 0 else end)
    if not (0 <= b < n and 0 < e <= n and b < e):
        raise ShapeError(f"slice [{begin}:{end}] along axis {axis} is out of range for {fmt(data)}")
    out = list(data)
    out[ax] = e - b
    return ins, [merge(outs[0], tuple(out))]


# -- transpose, expand_dims, SwapAxis: matrix_op-inl.h, swapaxis-inl.h ---------------------------


@parser
def _transpose_params(a: Attrs) -> tuple:
    return a.tuple("axes", ())


def transpose(attrs, ins, outs):
    axes = _transpose_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if not axes:
        return ins, [merge(outs[0], tuple(reversed(data)))]
    if len(axes) != len(data):
        raise ShapeError(f"axes {axes} do not fit {fmt(data)}")
    order = [axis_of(a, len(data), "axes") for a in axes]
    return ins, [merge(outs[0], tuple(data[a] for a in order))]


@parser
def _expand_params(a: Attrs) -> int:
    return a.int("axis", REQUIRED)


def expand_dims(attrs, ins, outs):
    axis = _expand_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    ax = axis_of(axis, len(data) + 1)
    return ins, [merge(outs[0], (*data[:ax], 1, *data[ax:]))]


@parser
def _swap_params(a: Attrs) -> tuple:
    return a.int("dim1", 0), a.int("dim2", 0)


def swapaxis(attrs, ins, outs):
    d1, d2 = _swap_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    a, b = axis_of(d1, len(data)), axis_of(d2, len(data))
    out = list(data)
    out[a], out[b] = out[b], out[a]
    return ins, [merge(outs[0], tuple(out))]


# -- reductions: broadcast_reduce_op.h (ReduceAxesShape, ReduceAxesShapeImpl) --------------------


@parser
def _reduce_params(a: Attrs) -> tuple:
    axis = a.opt_tuple("axis", None)
    return axis, a.bool("keepdims", False), a.bool("exclude", False)


def reduce(attrs, ins, outs):
    axis, keepdims, exclude = _reduce_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    nd = len(data)
    if axis is None or axis == ():  # ReduceAxesShapeImpl: no axis, or none, reduces them all
        out = (1,) * nd if keepdims else (1,)
        return ins, [merge(outs[0], out)]
    chosen = {axis_of(a, nd) for a in axis}
    if exclude:
        chosen = set(range(nd)) - chosen
    if keepdims:
        out = tuple(1 if i in chosen else d for i, d in enumerate(data))
    else:
        out = tuple(d for i, d in enumerate(data) if i not in chosen) or (1,)
    return ins, [merge(outs[0], out)]


# -- Cast, broadcast_to, broadcast_axis, broadcast_like, reshape_like -----------------------------


@parser
def _cast_params(a: Attrs) -> str:
    return a.enum(
        "dtype",
        ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool", "bfloat16"),
        REQUIRED,
    )


def cast(attrs, ins, outs):
    _cast_params(attrs)
    return same(attrs, ins, outs)


@parser
def _broadcast_like_axes(a: Attrs) -> tuple:
    return a.opt_tuple("lhs_axes", None), a.opt_tuple("rhs_axes", None)


def broadcast_like(attrs, ins, outs):
    """broadcast_reduce_op.h (BroadcastLikeShape): without both ``lhs_axes`` and ``rhs_axes``,
    lhs broadcast to rhs's shape (same rank, each axis equal or 1; rhs's unknown axes lhs's);
    with both, lhs's shape with each listed lhs axis (which must be 1) taken from the paired rhs
    axis."""
    lhs, rhs = ins[0], ins[1]
    if lhs is None or rhs is None:
        return ins, outs
    lhs_axes, rhs_axes = _broadcast_like_axes(attrs)
    if lhs_axes is None or rhs_axes is None:
        if len(lhs) != len(rhs):
            raise ShapeError(f"operand of shape {fmt(lhs)} cannot be broadcast to {fmt(rhs)}")
        for x, y in zip(lhs, rhs):
            if x != y and x != 1 and x and y:
                raise ShapeError(f"array cannot be broadcast from {fmt(lhs)} to {fmt(rhs)}")
        return ins, [merge(outs[0], tuple(y or x for x, y in zip(lhs, rhs)))]
    if len(lhs_axes) != len(rhs_axes):
        raise ShapeError("lhs_axes and rhs_axes differ in size")
    if not lhs_axes:
        raise ShapeError("empty axes tuple is not allowed")
    out = list(lhs)
    for i, (src, dst) in enumerate(zip(lhs_axes, rhs_axes)):
        frm = src + len(lhs) if src < 0 else src
        if not 0 <= frm < len(lhs):
            raise ShapeError(f"invalid dimension specified in lhs_axes: {src}")
        to = dst + len(rhs) if dst < 0 else dst
        if not 0 <= to < len(rhs):
            raise ShapeError(f"invalid dimension specified in rhs_axes: {dst}")
        if lhs[frm] != 1:
            raise ShapeError(f"input axis {src} at dimension {i} cannot be broadcast to {rhs[to]}")
        out[frm] = rhs[to]
    return ins, [merge(outs[0], tuple(out))]


@parser
def _reshape_like_params(a: Attrs) -> tuple:
    return a.opt_int("lhs_begin"), a.opt_int("lhs_end"), a.opt_int("rhs_begin"), a.opt_int("rhs_end")


def _reshape_like_range(ndims: int, side: str, begin: int | None, end: int | None) -> tuple[int, int]:
    """elemwise_unary_op_basic.cc (ReshapeLikeRangeCanonicalize): ``[begin, end)`` of one side, on
    its rank (-1 when unknown: MXNet asks no question first)."""
    b = 0 if begin is None else begin
    if b < 0:
        b += ndims
    e = ndims if end is None else (end + ndims if end < 0 else end)
    if e > ndims:
        raise ShapeError(f"Invalid end for {side}_end={end} as dimension number is {ndims}")
    if not b < e:
        raise ShapeError(f"Invalid begin, end, get {side}_begin={begin}, {side}_end={end}")
    if e < 0:
        raise ShapeError(f"Invalid end for {side}_end={end}")
    if b < 0:
        raise ShapeError(f"Invalid begin for {side}_begin={begin}")
    return b, e


def _known_size(shape) -> int:
    """``TShape::Size()``: every dimension must be known."""
    if not known(shape):
        raise ShapeError(f"Shape dim size cannot be a negative value -1: {fmt(shape)}")
    return size(shape)


def reshape_like(attrs, ins, outs):
    """elemwise_unary_op_basic.cc (ReshapeLikeShapeCompute): lhs with its dimensions
    ``[lhs_begin, lhs_end)`` replaced by rhs's ``[rhs_begin, rhs_end)``, of the same size. MXNet
    runs it on unknown shapes too, and refuses them."""
    lb, le, rb, re_ = _reshape_like_params(attrs)
    lhs, rhs = ins[0], ins[1]
    lhs_begin, lhs_end = _reshape_like_range(-1 if lhs is None else len(lhs), "lhs", lb, le)
    rhs_begin, rhs_end = _reshape_like_range(-1 if rhs is None else len(rhs), "rhs", rb, re_)
    out = (*lhs[:lhs_begin], *rhs[rhs_begin:rhs_end], *lhs[lhs_end:])
    if _known_size(lhs) != _known_size(out):
        raise ShapeError(f"cannot reshape lhs with shape {fmt(lhs)} to new shape {fmt(out)}: different size")
    return ins, [merge(outs[0], out)]


@parser
def _broadcast_to_params(a: Attrs) -> tuple:
    return a.tuple("shape", ())


def broadcast_to(attrs, ins, outs):
    target = _broadcast_to_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if len(target) != len(data):
        raise ShapeError(f"operand of shape {fmt(data)} cannot be broadcast to {target}")
    out = []
    for x, t in zip(data, target):
        if t == 0:
            out.append(x)
        elif x == t or x == 1:
            out.append(t)
        else:
            raise ShapeError(f"array cannot be broadcast from {fmt(data)} to {target}")
    return ins, [merge(outs[0], tuple(out))]


# == operators added with the detection and segmentation rules (registered by ops.contrib) ========
# MXNet runs these on NumPy-style shapes: -1 for an unknown dimension (our 0), unknown rank for an
# unknown shape (our None). ``_m`` and ``_p`` convert; ``_dim`` is TShape's bounds-checked index.


def _m(d: int) -> int:
    return d if d else -1


def _p(d: int) -> int:
    if d == -1:
        return 0
    if d < 0:
        raise ShapeError(f"shape dim size must be >= -1, while received {d}")
    return d


def _dim(shape, i: int) -> int:
    n = -1 if shape is None else len(shape)
    if not 0 <= i < n:
        raise ShapeError(f"index = {i} must be in range [0, {n})")
    return _m(shape[i])


# -- slice: matrix_op-inl.h (SliceOpShape, GetIndexRange, SetSliceOpOutputDimSize) ---------------


@parser
def _slice_params(a: Attrs) -> tuple:
    """``SliceParam`` (src/operator/tensor/slice-inl.h): begin, end and step are
    ``mxnet::Tuple<dmlc::optional<index_t>>``, read by :mod:`nin_mx.core.attrs`."""
    if "begin" not in a.raw or "end" not in a.raw:
        raise GraphError("required attributes begin and end are missing")
    begin, end = a.opt_int_tuple("begin"), a.opt_int_tuple("end")
    step = a.opt_int_tuple("step", ())  # set_default(mxnet::Tuple<dmlc::optional<index_t>>())
    if begin is None or end is None:  # 'None': a tuple of unknown length (ndim -1)
        raise GraphError("attributes begin and end must be tuples, not None")
    return begin, end, step or ()


def slice_op(attrs, ins, outs):
    begin, end, step = _slice_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    nd = len(data)
    if nd == 0:
        raise ShapeError("slice only works for ndim > 0")
    if len(begin) > nd or len(end) > nd:
        raise ShapeError(f"slicing axis exceeds data dimensions: begin={begin}, end={end}, data {fmt(data)}")
    if len(begin) != len(end):
        raise ShapeError(f"begin {begin} and end {end} must have the same length")
    if step and len(step) != len(begin):
        raise ShapeError(f"step {step} and begin {begin} must have the same length")
    out = list(data)
    for i in range(len(begin)):
        s = step[i] if step and step[i] is not None else 1
        if s == 0:
            raise ShapeError(f"slice op step[{i}] cannot be 0")
        n = data[i]
        if not n:
            continue  # unknown stays unknown
        b = begin[i] if begin[i] is not None else (n - 1 if s < 0 else 0)
        e = end[i] if end[i] is not None else (-1 if s < 0 else n)
        if b < 0:
            b += n
        if e < 0 and end[i] is not None:
            e += n
        b = 0 if b < 0 and s > 0 else b
        b = n - 1 if b > n - 1 and s < 0 else b
        b = -1 if b < 0 or b > n - 1 else b
        e = max(e, -1)
        e = min(e, n)
        if e != b and b >= 0:
            if s > 0:
                out[i] = (e - b - 1) // s + 1 if e > b else 0
            else:
                out[i] = (b - e - 1) // (-s) + 1 if e < b else 0
        else:
            out[i] = 0
    return ins, [merge(outs[0], tuple(out))]


# -- slice_like: matrix_op-inl.h (SliceLikeShape) -------------------------------------------------


@parser
def _slice_like_params(a: Attrs) -> tuple:
    return a.tuple("axes", ())


def slice_like(attrs, ins, outs):
    axes = _slice_like_params(attrs)
    data, like = ins[0], ins[1]
    if data is None or like is None:
        return ins, outs
    if not axes:
        if len(data) != len(like):
            raise ShapeError(
                f"by default slice_like slices all axes, but {fmt(data)} and {fmt(like)} differ in rank"
            )
        for i in range(len(data)):
            if _m(data[i]) < _m(like[i]):
                raise ShapeError(f"slice axis {i} with size {like[i]} exceeds the input's size {data[i]}")
        return ins, [merge(outs[0], like)]
    shape = list(data)
    for ax in axes:
        axis = ax + len(data) if ax < 0 else ax
        if axis < 0:
            raise ShapeError(f"slice axis: {ax} too small")
        if axis >= len(data):
            raise ShapeError(f"slice axis: {axis} exceeds first input: {len(data)}")
        if axis >= len(like):
            raise ShapeError(f"slice axis: {axis} exceeds second input: {len(like)}")
        shape[axis] = like[axis]
        if _m(data[axis]) < _m(like[axis]):
            raise ShapeError(
                f"slice axis {axis} with size {like[axis]} exceeds the input's size {data[axis]}"
            )
    return ins, [merge(outs[0], tuple(shape))]


# -- squeeze: matrix_op-inl.h (SqueezeShape) ------------------------------------------------------


@parser
def _squeeze_params(a: Attrs) -> tuple | None:
    return a.opt_tuple("axis", None)


def squeeze(attrs, ins, outs):
    axes = _squeeze_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    nd = len(data)
    drop = [False] * nd
    if axes is not None:
        for ax in axes:
            axis = ax + nd if ax < 0 else ax
            if axis < 0 or axis >= nd:
                raise ShapeError(f"axis {ax} is out of bounds for array of dimension {nd}")
            if data[axis] != 1:
                raise ShapeError(
                    f"cannot select an axis to squeeze out which has size={data[axis]} not equal to one"
                )
            if drop[axis]:
                raise ShapeError("duplicate value in axis")
            drop[axis] = True
    else:
        drop = [d == 1 for d in data]
    out = tuple(d for d, x in zip(data, drop) if not x) or (1,)
    return ins, [merge(outs[0], out)]


# -- stack: matrix_op-inl.h (StackOpShape) --------------------------------------------------------


@parser
def _stack_params(a: Attrs) -> tuple:
    num = a.int("num_args", REQUIRED)
    if num < 1:
        raise GraphError(f"attribute num_args={num} must be at least 1")
    return a.int("axis", 0), num


def stack_inputs(attrs) -> tuple[str, ...]:
    return tuple(f"arg{i}" for i in range(_stack_params(attrs)[1]))


def _shape_assign_partial(x, y):
    """``shape_assign(&x, y)`` whose failure MXNet ignores: dims merge until the first conflict."""
    if y is None:
        return x
    if x is None:
        return y
    if len(x) != len(y):
        return x
    out = list(x)
    for i, (a, b) in enumerate(zip(x, y)):
        if not a:
            out[i] = b
        elif b and a != b:
            break
    return tuple(out)


def stack(attrs, ins, outs):
    axis, num = _stack_params(attrs)
    common = None
    for s in ins:
        common = _shape_assign_partial(common, s)
    if not known(common):
        return ins, outs
    ax = axis_of(axis, len(common) + 1)
    return ins, [merge(outs[0], (*common[:ax], num, *common[ax:]))]


# -- tile, repeat: matrix_op-inl.h (TileOpShape, RepeatOpShape) -----------------------------------


@parser
def _tile_params(a: Attrs) -> tuple:
    if "reps" not in a.raw:
        raise GraphError("required attribute reps is missing")
    return a.opt_tuple("reps") or ()  # 'None' (ndim -1) tiles as () does: TileOpShape


def tile(attrs, ins, outs):
    reps = _tile_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    if not reps:
        return ins, [merge(outs[0], data)]
    n = max(len(data), len(reps))
    d = (1,) * (n - len(data)) + tuple(data)
    r = (1,) * (n - len(reps)) + tuple(reps)
    out = tuple(max(x * y, 0) for x, y in zip(d, r))  # a negative or zero size stays unknown
    return ins, [merge(outs[0], out)]


@parser
def _repeat_params(a: Attrs) -> tuple:
    return a.int("repeats", REQUIRED), a.opt_int("axis")


def repeat(attrs, ins, outs):
    repeats, axis = _repeat_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if repeats < 0:
        raise ShapeError("repeats cannot be a negative number")
    nd = len(data)
    if axis is not None:
        ax = axis + nd if axis < 0 else axis
        if not 0 <= ax < nd:
            raise ShapeError(f"axis = {axis} out of bounds")
    if repeats == 0:
        return ins, [(0,)]
    if axis is not None:
        out = tuple(_p(_m(d) * repeats) if i == ax else d for i, d in enumerate(data))
    else:
        out = (size(data) * repeats if known(data) else 0,)
    return ins, [merge(outs[0], out)]


# -- where: control_flow_op.h (WhereOpShape) ------------------------------------------------------


def where(attrs, ins, outs):
    cond = ins[0]
    if not known(cond):
        return ins, outs
    try:
        shape = merge(merge(ins[1], ins[2]), outs[0])
    except ShapeError:
        return ins, outs  # MXNet gives up silently when x, y and the output disagree
    if shape is None:
        return ins, outs
    ins[1] = ins[2] = shape
    outs = [shape]
    if len(cond) == len(shape):
        try:
            ins[0] = merge(cond, shape)
        except ShapeError:
            return ins, outs
        ins[0] = ins[1] = ins[2] = ins[0]
        return ins, [ins[0]]
    if len(cond) == 1 and cond[0] != _m(shape[0]):
        raise ShapeError(f"condition {fmt(cond)} must have as many entries as x's first axis {fmt(shape)}")
    return ins, outs


# -- batch_dot: dot-inl.h (BatchDotShape) --------------------------------------------------------


@parser
def _dot_params(a: Attrs) -> tuple:
    a.opt_enum("forward_stype", ("default", "row_sparse", "csr"))
    return a.bool("transpose_a", False), a.bool("transpose_b", False)


def batch_dot(attrs, ins, outs):
    ta, tb = _dot_params(attrs)
    lhs, rhs = ins[0], ins[1]
    if lhs is None or rhs is None:
        return ins, outs
    nd = len(lhs)
    if not (nd >= 3 and len(rhs) >= 3 and nd == len(rhs)):
        raise ShapeError(
            f"batch_dot currently only support N-D*N-D array (N >= 3): {fmt(lhs)} vs. {fmt(rhs)}"
        )
    if not lhs[nd - 1] or not rhs[nd - 2]:
        return ins, outs
    for i in range(nd - 2):
        if _m(lhs[i]) != _m(rhs[i]):
            raise ShapeError(f"the leading batch dimensions must be equal: {fmt(lhs)} X {fmt(rhs)}")
    m, k1 = (lhs[-1], lhs[-2]) if ta else (lhs[-2], lhs[-1])
    n, k2 = (rhs[-2], rhs[-1]) if tb else (rhs[-1], rhs[-2])
    if _m(k1) != _m(k2):
        raise ShapeError(f"shape mismatch: {fmt(lhs)} X {fmt(rhs)} transpose_a={ta} transpose_b={tb}")
    return ins, [merge(outs[0], (*lhs[:-2], m, n))]


# -- shape_array, size_array: elemwise_unary_op_basic.cc ------------------------------------------


def shape_array(attrs, ins, outs):
    data = ins[0]
    return ins, [merge(outs[0], (_p(-1 if data is None else len(data)),))]


def size_array(attrs, ins, outs):
    return ins, [merge(outs[0], (1,))]


# -- _arange: init_op.h (RangeParam, RangeParamParser, RangeShape) -----------------------------


@parser
def _range_params(a: Attrs) -> tuple:
    """``RangeParam`` as MXNet's ``RangeParamParser`` leaves it (src/operator/tensor/init_op.h):
    without ``infer_range`` and without ``stop``, ``start`` is the stop and 0 the start, as
    Gluon's ``F.arange(80)`` writes ``start=80, stop=None``. (``start`` a double, ``stop`` an
    ``optional<double>``, ``step`` a double, ``repeat`` an int, ``infer_range`` a bool.)"""
    start = a.float("start", REQUIRED)
    stop = a.opt_float("stop")
    step = a.float("step", 1.0)
    repeat_ = a.int("repeat", 1)
    infer = a.bool("infer_range", False)
    if not infer and stop is None:
        start, stop = 0.0, start
    return start, stop, step, repeat_, infer


def arange(attrs, ins, outs):
    import math

    start, stop, step, repeat_, _ = _range_params(attrs)
    if step == 0:
        raise GraphError(f"attribute step={step}: Range does not support step=0")
    if repeat_ <= 0:
        raise GraphError(f"attribute repeat={repeat_}: Range only supports repeat > 0")
    if stop is None:  # infer_range without a stop: the output tells (RangeShape returns false)
        return ins, outs
    if (step > 0 and not start < stop) or (step < 0 and not start > stop):
        raise ShapeError(f"invalid range (start, stop, step) = ({start}, {stop}, {step})")
    n = int(math.ceil((stop - start) / step) * repeat_)
    if n >= 2**31 - 1:
        raise ShapeError(f"size of tensor {n} is larger than 2^31 elements")
    return ins, [merge(outs[0], (n,))]


# -- topk, argsort, sort: ordering_op-inl.h (TopKShapeImpl, ParseTopKParam) -----------------------


@parser
def _topk_params(a: Attrs) -> tuple:
    a.bool("is_ascend", False)
    a.enum("dtype", ("float16", "float32", "float64", "int32", "int64", "uint8"), "float32")
    return (
        a.opt_int("axis", -1),
        a.int("k", 1),
        a.enum("ret_typ", ("value", "indices", "mask", "both"), "indices"),
    )


def topk_outputs(attrs) -> int:
    return 1 if _topk_params(attrs)[2] in ("indices", "mask") else 2


def topk_visible(attrs) -> int:
    return 2 if _topk_params(attrs)[2] == "both" else 1


def _topk_shape(data, axis, k, ret):
    if data is None:
        raise ShapeError("the input's shape is unknown")
    nd = len(data)
    if axis is None:
        element = size(data) if known(data) else -1
    else:
        ax = axis + nd if axis < 0 else axis
        if not 0 <= ax < nd:
            raise ShapeError(f"invalid axis! axis should be between 0 and {nd}, found axis={ax}")
        element = _m(data[ax])
    if k <= 0:
        k = element
    if not 0 <= k <= element:
        raise ShapeError(f"k must be smaller than {element}, get k = {k}")
    if ret == "mask":
        return tuple(data)
    if axis is None:
        return (k,)
    return tuple(k if i == ax else d for i, d in enumerate(data))


def topk(attrs, ins, outs):
    axis, k, ret = _topk_params(attrs)
    target = _topk_shape(ins[0], axis, k, ret)
    return ins, [merge(o, target) for o in outs]


@parser
def _argsort_params(a: Attrs) -> int | None:
    a.bool("is_ascend", True)
    a.enum("dtype", ("float16", "float32", "float64", "int32", "int64", "uint8"), "float32")
    return a.opt_int("axis", -1)


def argsort(attrs, ins, outs):
    axis = _argsort_params(attrs)
    return ins, [merge(outs[0], _topk_shape(ins[0], axis, 0, "indices"))]


@parser
def _sort_params(a: Attrs) -> int | None:
    a.bool("is_ascend", True)
    return a.opt_int("axis", -1)


def sort(attrs, ins, outs):
    axis = _sort_params(attrs)
    target = _topk_shape(ins[0], axis, 0, "value")
    return ins, [merge(o, target) for o in outs]


# -- argmax, argmin, pick: broadcast_reduce_op.h (ReduceAxisShape, ReduceAxisShapeImpl, PickOpShape)


@parser
def _reduce_axis_params(a: Attrs) -> tuple:
    return a.opt_int("axis"), a.bool("keepdims", False)


def _reduce_axis_shape(data, axis, keepdims):
    nd = len(data)
    if axis is None or nd == 1:
        return (1,) * nd if keepdims else (1,)
    ax = axis_of(axis, nd)
    if keepdims:
        return tuple(1 if i == ax else d for i, d in enumerate(data))
    return tuple(d for i, d in enumerate(data) if i != ax)


def argmax(attrs, ins, outs):
    axis, keepdims = _reduce_axis_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    return ins, [merge(outs[0], _reduce_axis_shape(data, axis, keepdims))]


@parser
def _pick_params(a: Attrs) -> tuple:
    a.enum("mode", ("clip", "wrap"), "clip")
    return a.opt_int("axis", -1), a.bool("keepdims", False)


def pick(attrs, ins, outs):
    axis, keepdims = _pick_params(attrs)
    data = ins[0]
    if data is None:
        return ins, outs
    if axis is None:
        raise GraphError("axis=None is not supported by pick yet. Must specify an axis.")
    out = merge(outs[0], _reduce_axis_shape(data, axis, keepdims))
    index = ins[1]
    assign(ins, 1, _reduce_axis_shape(data, axis, index is not None and len(index) == len(data)), "index")
    return ins, [out]


# == operators of the GluonCV 0.10.5 zoo (registered by ops.contrib) ==============================

# -- gather_nd: indexing_op.h (GatherNDShape) ----------------------------------------------------


def gather_nd(attrs, ins, outs):
    """``(M, Y_0.., Y_K-1)`` indices into ``(X_0.., X_N-1)`` data: ``(Y_0.., Y_K-1, X_M.., X_N-1)``.

    Both shapes must be known (MXNet's ``shape_is_none`` on either returns before any check).
    """
    data, index = ins
    if not known(data) or not known(index):
        return ins, outs
    if len(index) <= 1:
        raise ShapeError(f"gather_nd requires index tensor to have at least 2 dimensions, got {fmt(index)}")
    m = index[0]
    if m > len(data):
        raise ShapeError(f"Number of indices exceeds data dimension: {m} > {len(data)} ({fmt(data)})")
    if m > 10:
        raise ShapeError(f"gather_nd supports indexing along at most 10 dimensions, got {m}")
    outs = list(outs)
    assign(outs, 0, (*index[1:], *data[m:]), "output")
    return ins, outs


# -- reverse (flip): matrix_op.cc (ElemwiseShape<1, 1>; ReverseParam in matrix_op-inl.h) ----------


@parser
def _reverse_params(a: Attrs) -> tuple:
    return a.tuple("axis", REQUIRED)


def reverse(attrs, ins, outs):
    """The data's shape; the axes are not checked against it until the operator runs."""
    _reverse_params(attrs)
    return same(attrs, ins, outs)


# -- broadcast_axis: broadcast_reduce_op.h (BroadcastAxesShape, BroadcastAxesParam) ----------------


@parser
def _broadcast_axes_params(a: Attrs) -> tuple:
    return a.opt_tuple("axis", ()), a.opt_tuple("size", ())


def broadcast_axis(attrs, ins, outs):
    """Each axis of ``axis`` (of size 1, indexed as given: no negative axes) becomes its ``size``."""
    axes, sizes = _broadcast_axes_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    if (-1 if axes is None else len(axes)) != (-1 if sizes is None else len(sizes)):
        raise ShapeError(f"axis {axes} and size {sizes} must have as many entries")
    out = list(data)
    for axis, new in zip(axes or (), sizes or ()):
        if not 0 <= axis < len(out):
            raise ShapeError(f"index = {axis} must be in range [0, {len(out)})")
        if out[axis] != 1:
            raise ShapeError(f"Broadcasting axis must have size 1: axis {axis} of {fmt(data)}")
        out[axis] = new
    outs = list(outs)
    assign(outs, 0, tuple(out), "output")
    return ins, outs


# -- _random_*: random/sample_op.{h,cc} (InitShape<ParamType>), _random_*_like (ElemwiseShape) ---

# The distribution parameters of each sampler (sample_op.h: Sample*Param), by operator.
RANDOM_SAMPLERS = {
    "_random_uniform": (("low", "float", 0.0), ("high", "float", 1.0)),
    "_random_normal": (("loc", "float", 0.0), ("scale", "float", 1.0)),
    "_random_gamma": (("alpha", "float", 1.0), ("beta", "float", 1.0)),
    "_random_exponential": (("lam", "float", 1.0),),
    "_random_poisson": (("lam", "float", 1.0),),
    "_random_negative_binomial": (("k", "int", 1), ("p", "float", 1.0)),
    "_random_generalized_negative_binomial": (("mu", "float", 1.0), ("alpha", "float", 1.0)),
    "_random_randint": (("low", "int64", REQUIRED), ("high", "int64", REQUIRED)),
}
_FLOAT_DTYPES = ("None", "float32", "float64", "float16")


def _sampler_params(op: str):
    @parser
    def params(a: Attrs) -> tuple | None:
        for key, kind, default in RANDOM_SAMPLERS[op]:
            if kind == "float":
                a.float(key, default)
            else:
                a.int(key, default, bits=64 if kind == "int64" else 32)
        dtypes = ("None", "int32", "int64") if op == "_random_randint" else _FLOAT_DTYPES
        a.enum("dtype", dtypes, "None")
        return a.opt_tuple("shape", None)  # sample_op.h: set_default(mxnet::TShape()), ndim -1

    return params


_SAMPLER_PARAMS = {op: _sampler_params(op) for op in RANDOM_SAMPLERS}


def random_sampler(op: str):
    """The shape rule of one sampler: its ``shape`` attribute, MXNet's 0 dims unknown (legacy
    shapes: ``ConvertToNumpyShape``), merged with what the graph already knows of its output."""
    read = _SAMPLER_PARAMS[op]

    def rule(attrs, ins, outs):
        shape = read(attrs)
        if known(shape) and size(shape) >= INT32_MAX:
            raise ShapeError(
                f"[InitShape-input] Size of tensor you are trying to allocate is larger than 2^31 elements: "
                f"{fmt(shape)}"
            )
        outs = list(outs)
        if known(outs[0]) and not known(shape or None):
            if size(outs[0]) >= INT32_MAX:
                raise ShapeError(
                    f"[InitShape-output] Size of tensor {fmt(outs[0])} is larger than 2^31 elements"
                )
            return ins, outs
        assign(outs, 0, shape or None, "output")
        return ins, outs

    rule.__name__ = rule.__qualname__ = op.lstrip("_")
    rule.__doc__ = f"``{op}``: sample_op.h (InitShape<Sample...Param>)."
    return rule


def _like_params(op: str):
    @parser
    def params(a: Attrs) -> None:
        for key, kind, default in RANDOM_SAMPLERS[op]:
            if kind == "float":
                a.float(key, default)
            else:
                a.int(key, default)

    return params


def random_like(op: str):
    """``{op}_like``: the data's shape (ElemwiseShape<1, 1>), the same distribution parameters."""
    read = _like_params(op)

    def rule(attrs, ins, outs):
        read(attrs)
        return same(attrs, ins, outs)

    rule.__name__ = rule.__qualname__ = op.lstrip("_") + "_like"
    return rule
