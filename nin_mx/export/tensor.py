"""Translations of MXNet's tensor operators (apache/mxnet 1.9.1 src/operator/tensor/, and the
legacy SliceChannel): elementwise, scalar and broadcast arithmetic, reshaping, splitting, slicing."""

from __future__ import annotations

import math

from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.core.ops.tensor import _np_concat_params, _reduce_params, _slice_params
from nin_mx.export.builder import INT64_MAX, INT64_MIN, Builder, NeedsStatic, untranslatable
from nin_mx.export.dtypes import const_type, dtype_of, onnx_type, out_dtype
from nin_mx.export.handlers import mx_op
from nin_mx.graph.nodes import Node

__all__: list[str] = []

_UNARY = {
    "_copy": "Identity",
    "BlockGrad": "Identity",
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softsign": "Softsign",
    "abs": "Abs",
    "exp": "Exp",
    "log": "Log",
    "sqrt": "Sqrt",
    "negative": "Neg",
    "reciprocal": "Reciprocal",
    "sign": "Sign",
    "ceil": "Ceil",
    "floor": "Floor",
    "sin": "Sin",
    "cos": "Cos",
    "tan": "Tan",
    "arcsin": "Asin",
    "arccos": "Acos",
    "arctan": "Atan",
    "sinh": "Sinh",
    "cosh": "Cosh",
    "arcsinh": "Asinh",
    "arccosh": "Acosh",
    "arctanh": "Atanh",
    "erf": "Erf",
}


@mx_op(*_UNARY)
class Unary:
    """One ONNX operator of the same elementwise function (elemwise_unary_op_*.cc)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.op(node, _UNARY[op], [b.input(node, 0)], b.outputs(node))


@mx_op("square", "rsqrt", "hard_sigmoid", "log2", "log10")
class UnaryComposed:
    """square = x*x; rsqrt = 1/sqrt(x); hard_sigmoid = clip(alpha*x + beta, 0, 1) (alpha 0.2,
    beta 0.5: elemwise_unary_op_basic.cc, HardSigmoidParam), ONNX's HardSigmoid; log2 and log10
    (elemwise_unary_op_logexp.cc: ``log2f``, ``log10f``) as ln(x) / ln(2) and ln(x) / ln(10), in
    the input's type (within a rounding of MXNet's)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        x, out = b.input(node, 0), b.outputs(node)
        if op in ("log2", "log10"):
            base = b.const(
                node, "ln_base", math.log(2 if op == "log2" else 10), const_type(dtype_of(b, node))
            )
            b.op(node, "Div", [b.op(node, "Log", [x])[0], base], out)
        elif op == "square":
            b.op(node, "Mul", [x, x], out)
        elif op == "rsqrt":
            b.op(node, "Reciprocal", [b.op(node, "Sqrt", [x])[0]], out)
        else:
            b.op(node, "HardSigmoid", [x], out, alpha=a.float("alpha", 0.2), beta=a.float("beta", 0.5))


# (ONNX op, the scalar comes first)
_SCALAR = {
    "_plus_scalar": ("Add", False),
    "_minus_scalar": ("Sub", False),
    "_rminus_scalar": ("Sub", True),
    "_mul_scalar": ("Mul", False),
    "_div_scalar": ("Div", False),
    "_rdiv_scalar": ("Div", True),
    "_power_scalar": ("Pow", False),
    "_rpower_scalar": ("Pow", True),
    "_maximum_scalar": ("Max", False),
    "_minimum_scalar": ("Min", False),
}


@mx_op(*_SCALAR)
class Scalar:
    """x op scalar (or scalar op x for the reversed ops, told by the operator, not by the node's
    name): the scalar is cast to the data's type, or both to float64 for an integer input and
    ``is_int=False`` (elemwise_binary_scalar_op.h, NumpyBinaryScalarType, ComputeInt)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        onnx_op, reverse = _SCALAR[op]
        x, dtype = b.input(node, 0), out_dtype(b, node.index)
        if dtype != dtype_of(b, node):  # an integer input, a scalar that is not: float64
            x = b.op(node, "Cast", [x], to=onnx_type(dtype))[0]
        c = b.const(node, "scalar", a.float("scalar", 1.0), const_type(dtype))
        b.op(node, onnx_op, [c, x] if reverse else [x, c], b.outputs(node))


_BINARY = {
    "elemwise_add": "Add",
    "elemwise_sub": "Sub",
    "elemwise_mul": "Mul",
    "elemwise_div": "Div",
    "_maximum": "Max",
    "_minimum": "Min",
    "_power": "Pow",
    "broadcast_add": "Add",
    "broadcast_sub": "Sub",
    "broadcast_mul": "Mul",
    "broadcast_div": "Div",
    "broadcast_maximum": "Max",
    "broadcast_minimum": "Min",
    "broadcast_power": "Pow",
}


@mx_op(*_BINARY)
class Binary:
    """Elementwise (equal shapes) and broadcast (NumPy rules, as ONNX's multidirectional
    broadcasting: elemwise_binary_broadcast_op.h) arithmetic."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.op(node, _BINARY[op], [b.input(node, 0), b.input(node, 1)], b.outputs(node))


@mx_op("add_n")
class AddN:
    """The sum of its inputs: ONNX's Sum."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.op(node, "Sum", [b.input(node, j) for j in range(len(node.inputs))], b.outputs(node))


@mx_op("clip")
class Clip:
    """clip(x, a_min, a_max), both required (matrix_op.cc); Clip-11 takes them as inputs."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        kind = const_type(dtype_of(b, node))  # the bounds in the data's type
        lo = b.const(node, "min", a.float("a_min", REQUIRED), kind)
        hi = b.const(node, "max", a.float("a_max", REQUIRED), kind)
        b.op(node, "Clip", [b.input(node, 0), lo, hi], b.outputs(node))


@mx_op("Flatten")
class Flatten:
    """(d0, d1*...*dn): ONNX's Flatten(axis=1)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.op(node, "Flatten", [b.input(node, 0)], b.outputs(node), axis=1)


@mx_op("Concat")
class Concat:
    """Along ``dim`` (default 1: src/operator/nn/concat-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        ins = [b.input(node, j) for j in range(len(node.inputs))]
        b.op(node, "Concat", ins, b.outputs(node), axis=a.int("dim", 1))


@mx_op("_npi_concatenate")
class NumpyConcatenate:
    """Along ``axis`` (default 0: src/operator/numpy/np_matrix_op.cc, NumpyConcatenateShape; the
    engine's own reader). ``axis=None`` is refused: its shape function rewrites the inputs' own
    shapes to flat ones, so in a graph MXNet binds the inputs at those shapes and no forward pass
    of the graph at its input's shape exists to match."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        axis = _np_concat_params(a.raw)[1]
        if axis is None:
            raise untranslatable(node, "axis=None (MXNet rewrites its inputs' shapes to flat ones)")
        ins = [b.input(node, j) for j in range(len(node.inputs))]
        b.op(node, "Concat", ins, b.outputs(node), axis=axis)


@mx_op("Reshape")
class Reshape:
    """MXNet's codes 0, -1, -2, -3, -4 and ``reverse`` (matrix_op-inl.h, InferReshapeShape)
    have no ONNX counterpart: the target comes from the engine's shapes. A dimension that is
    the same at every input size is a constant; a symbolic one is read from the input's shape
    (``Shape`` + ``Gather``) where it equals one input dimension at every size, or left to
    ONNX's -1 when it is the only other one; otherwise the export is made at a fixed size."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        x, out = b.input(node, 0), b.outputs(node)
        target, varying = b.out_shape(node), b.out_varying(node)
        if not any(varying):
            b.op(node, "Reshape", [x, b.ints(node, "shape", target)], out)
            return
        shapes = [b.shapes, *b.others]
        ins = [s.outputs[node.inputs[0]][node.input_outputs[0] if node.input_outputs else 0] for s in shapes]
        outs = [s.outputs[node.index][0] for s in shapes]
        pieces: list[tuple[str, int]] = []
        inferred = 0
        for k, flag in enumerate(varying):
            if not flag:
                pieces.append(("const", target[k]))
                continue
            same = [j for j in range(len(ins[0])) if all(i[j] == o[k] for i, o in zip(ins, outs))]
            if same:
                pieces.append(("dim", k if k in same else same[0]))
            else:
                inferred += 1
                pieces.append(("const", -1))
        if inferred > 1:
            raise NeedsStatic(f"layer '{node.name}' (Reshape) has a target of several symbolic dimensions")
        shape = b.shape_of(node, x)
        parts = []
        for kind, value in pieces:
            if kind == "const":
                parts.append(b.ints(node, "dim", [value]))
            else:
                parts.append(b.op(node, "Gather", [shape, b.ints(node, "index", [value])], axis=0)[0])
        b.op(node, "Reshape", [x, b.op(node, "Concat", parts, axis=0)[0]], out)


@mx_op("SliceChannel")
class SliceChannel:
    """``num_outputs`` equal parts along ``axis`` (default 1), each squeezed on that axis with
    ``squeeze_axis`` (slice_channel-inl.h): Split (its sizes an input from opset 13, the number
    of outputs an attribute from 18) and Squeeze."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        cls._write(b, node, a, by_count=False)

    @classmethod
    def version_18(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        cls._write(b, node, a, by_count=True)

    @staticmethod
    def _write(b: Builder, node: Node, a: Attrs, by_count: bool) -> None:
        num = a.int("num_outputs", REQUIRED)
        rank = len(b.in_shape(node))
        axis = a.int("axis", 1)
        axis = axis + rank if axis < 0 else axis
        squeeze = a.bool("squeeze_axis", False)
        outs = b.outputs(node)
        parts = outs if not squeeze else [b.fresh(node, f"part{i}") for i in range(num)]
        x = b.input(node, 0)
        if by_count:
            b.op(node, "Split", [x], parts, axis=axis, num_outputs=num)
        else:
            b.static(node, "splits a symbolic axis", axes=[axis])
            size = b.in_shape(node)[axis] // num
            b.op(node, "Split", [x, b.ints(node, "split", [size] * num)], parts, axis=axis)
        if squeeze:
            for part, out in zip(parts, outs):
                b.squeeze(node, part, [axis], [out])


@mx_op("slice_axis")
class SliceAxis:
    """[begin, end) along ``axis``; end None is the whole axis (matrix_op-inl.h): Slice."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        axis, begin = a.int("axis", REQUIRED), a.int("begin", REQUIRED, bits=64)
        end = a.opt_int("end")
        ins = [b.input(node, 0), b.ints(node, "starts", [begin])]
        ins += [b.ints(node, "ends", [INT64_MAX if end is None else end]), b.ints(node, "axes", [axis])]
        b.op(node, "Slice", ins, b.outputs(node))


@mx_op("slice")
class Slice:
    """Python's slicing per axis, entries None (matrix_op-inl.h, SliceParam, GetIndexRange): a
    None begin is the first element (the last with a negative step), a None end is past the
    last (before the first with a negative step), axes past the tuples stay whole; ONNX's
    Slice clamps INT64_MAX and INT64_MIN to those ends. The attributes are read by the
    engine's own parser (:func:`nin_mx.core.ops.tensor._slice_params`)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        begin, end, step = _slice_params(a.raw)
        starts, ends, axes, steps = [], [], [], []
        for axis, (first, last) in enumerate(zip(begin, end)):
            stride = step[axis] if axis < len(step) and step[axis] is not None else 1
            if first is None and last is None and stride == 1:
                continue
            forward = stride > 0
            starts.append(first if first is not None else (0 if forward else INT64_MAX))
            ends.append(last if last is not None else (INT64_MAX if forward else INT64_MIN))
            axes.append(axis)
            steps.append(stride)
        if not axes:
            b.op(node, "Identity", [b.input(node, 0)], b.outputs(node))
            return
        ins = [b.input(node, 0), b.ints(node, "starts", starts), b.ints(node, "ends", ends)]
        b.op(node, "Slice", [*ins, b.ints(node, "axes", axes), b.ints(node, "steps", steps)], b.outputs(node))


_REDUCE = {
    "sum": "ReduceSum",
    "mean": "ReduceMean",
    "prod": "ReduceProd",
    "max": "ReduceMax",
    "min": "ReduceMin",
}


@mx_op(*_REDUCE)
class Reduce:
    """Over ``axis`` (None: every axis; ``exclude``: the others), ``keepdims`` (default false);
    every axis reduced without keepdims gives (1,), not a scalar (tensor/broadcast_reduce_op.h,
    ReduceAxesShape). Read by the engine's own parser (``_reduce_params``)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        axis, keepdims, exclude = _reduce_params(a.raw)
        x, out, rank = b.input(node, 0), b.outputs(node), len(b.in_shape(node))
        if axis == ():
            b.op(node, "Identity", [x], out)
            return
        chosen = set(range(rank)) if axis is None else {d + rank if d < 0 else d for d in axis}
        if exclude and axis is not None:
            chosen = set(range(rank)) - chosen
        if not chosen:
            b.op(node, "Identity", [x], out)
            return
        if len(chosen) == rank and not keepdims:
            reduced = b.reduce(node, _REDUCE[op], x, sorted(chosen), keepdims=1)
            b.op(node, "Reshape", [reduced, b.ints(node, "shape", [1])], out)
            return
        b.op(node, "Identity", [b.reduce(node, _REDUCE[op], x, sorted(chosen), keepdims=int(keepdims))], out)


@mx_op("transpose")
class Transpose:
    """``axes`` (empty: reversed, as ONNX's default perm)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        axes = a.tuple("axes", ())
        rank = len(b.in_shape(node))
        kw = {"perm": [x + rank if x < 0 else x for x in axes]} if axes else {}
        b.op(node, "Transpose", [b.input(node, 0)], b.outputs(node), **kw)


@mx_op("expand_dims")
class ExpandDims:
    """A new axis of size 1 at ``axis``: Unsqueeze."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        axis = a.int("axis", REQUIRED)
        b.unsqueeze(node, b.input(node, 0), [axis + rank + 1 if axis < 0 else axis], b.outputs(node))
