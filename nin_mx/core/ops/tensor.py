"""Shape rules of the tensor operators (MXNet 1.9.1 ``src/operator/tensor/`` and kin).

Rules take ``(attrs, ins, outs)`` and return ``(ins, outs)``, see :mod:`nin_mx.core.ops.nn`.
"""

from __future__ import annotations

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops._base import REQUIRED, Attrs, axis_of, fmt, known, merge, parser, size
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
    target = a.opt_tuple("target_shape", None)
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
    return num, a.int("axis", 1), a.bool("squeeze_axis", False)


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
    if axis is None:
        out = (1,) * nd if keepdims else (1,)
        return ins, [merge(outs[0], out)]
    if axis == ():
        return ins, [merge(outs[0], data)]
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


def broadcast_like(attrs, ins, outs):
    """broadcast_reduce_op.h (BroadcastLikeShape), without lhs_axes/rhs_axes: rhs's shape."""
    lhs, rhs = ins[0], ins[1]
    if lhs is None or rhs is None:
        return ins, outs
    if len(lhs) != len(rhs):
        raise ShapeError(f"operand of shape {fmt(lhs)} cannot be broadcast to {fmt(rhs)}")
    for x, y in zip(lhs, rhs):
        if x != y and x != 1 and x and y:
            raise ShapeError(f"array cannot be broadcast from {fmt(lhs)} to {fmt(rhs)}")
    return ins, [merge(outs[0], rhs)]


def reshape_like(attrs, ins, outs):
    """matrix_op.cc (ReshapeLikeShapeCompute), whole shapes: rhs's shape, same size."""
    lhs, rhs = ins[0], ins[1]
    if lhs is None or rhs is None:
        return ins, outs
    if known(lhs) and known(rhs) and size(lhs) != size(rhs):
        raise ShapeError(f"cannot reshape lhs with shape {fmt(lhs)} to rhs with shape {fmt(rhs)}")
    return ins, [merge(outs[0], rhs)]


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
