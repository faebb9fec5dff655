"""Translations of MXNet's comparisons, broadcasts, casts and the operators that borrow another
input's shape, and of SwapAxis and batch_dot (apache/mxnet 1.9.1 src/operator/tensor/).

A comparison in MXNet returns 1 or 0 in its input's type, not a boolean
(elemwise_binary_op_logic.cc, elemwise_binary_broadcast_op_logic.cc,
elemwise_binary_scalar_op_logic.cc: the kernels ``mshadow_op::eq`` ... return ``DType``), so the
ONNX comparison is cast back to that type (:mod:`nin_mx.export.dtypes`).
"""

from __future__ import annotations

from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.core.ops.tensor import _broadcast_like_axes, _reshape_like_params, _reshape_like_range
from nin_mx.export.builder import Builder
from nin_mx.export.dtypes import DTYPES, const_type, dtype_of, onnx_type, out_dtype
from nin_mx.export.handlers import mx_op
from nin_mx.graph.nodes import Node

__all__: list[str] = []

# MXNet's name -> (ONNX comparison, negated)
_COMPARE = {
    "equal": ("Equal", False),
    "not_equal": ("Equal", True),
    "greater": ("Greater", False),
    "greater_equal": ("GreaterOrEqual", False),
    "lesser": ("Less", False),
    "lesser_equal": ("LessOrEqual", False),
}
_COMPARE_OPS = {
    **{f"_{k}": k for k in _COMPARE},
    **{f"broadcast_{k}": k for k in _COMPARE},
    **{f"_{k}_scalar": k for k in _COMPARE},
}


@mx_op(*_COMPARE_OPS)
class Compare:
    """x == y, !=, >, >=, <, <= elementwise (``_equal``...), broadcast (``broadcast_equal``...:
    NumPy rules, as ONNX's) or against ``scalar`` cast to x's type first (``_equal_scalar``...:
    elemwise_binary_scalar_op.h, ``DType(alpha)``); 1 or 0 in x's type."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        onnx_op, negate = _COMPARE[_COMPARE_OPS[op]]
        x, dtype = b.input(node, 0), dtype_of(b, node)
        if op.endswith("_scalar"):
            y = b.const(node, "scalar", a.float("scalar", 1.0), const_type(dtype))
        else:
            y = b.input(node, 1)
        found = b.op(node, onnx_op, [x, y])[0]
        if negate:
            found = b.op(node, "Not", [found])[0]
        b.op(node, "Cast", [found], b.outputs(node), to=onnx_type(out_dtype(b, node.index)))


@mx_op("Cast")
class Cast:
    """To ``dtype`` (elemwise_unary_op.h, CastParam): a C++ ``static_cast`` of every
    element, as ONNX's Cast (a float to an integer truncates toward zero). What follows is
    written in that type (:mod:`nin_mx.export.dtypes`)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        dtype = a.enum("dtype", tuple(DTYPES), REQUIRED)
        b.op(node, "Cast", [b.input(node, 0)], b.outputs(node), to=onnx_type(dtype))


@mx_op("broadcast_to")
class BroadcastTo:
    """To ``shape``, a 0 keeping the input's dimension (broadcast_reduce_op.h, BroadcastToShape):
    ONNX's Expand broadcasts both ways, so a target entry 1 keeps the input's dimension too,
    and 0 is written as 1 (size-free)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        target = [t if t else 1 for t in a.tuple("shape", ())]
        b.op(node, "Expand", [b.input(node, 0), b.ints(node, "shape", target)], b.outputs(node))


@mx_op("broadcast_axis")
class BroadcastAxis:
    """Each axis of ``axis`` (of size 1) to the matching entry of ``size``
    (broadcast_reduce_op.h, BroadcastAxesShape): Expand with ones elsewhere."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        target = [1] * rank
        for axis, size in zip(a.tuple("axis", ()), a.tuple("size", ())):
            target[axis + rank if axis < 0 else axis] = size
        b.op(node, "Expand", [b.input(node, 0), b.ints(node, "shape", target)], b.outputs(node))


@mx_op("broadcast_like")
class BroadcastLike:
    """lhs broadcast to rhs's shape (broadcast_reduce_op.h, BroadcastLikeShape): Expand to
    Shape(rhs); with ``lhs_axes`` and ``rhs_axes``, Expand to lhs's shape with each listed lhs
    axis (1, the engine's rule checks it) taken from the paired rhs axis: a Gather from
    Shape(lhs) and Shape(rhs) concatenated. Size-free both ways."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        lhs_axes, rhs_axes = _broadcast_like_axes(a.raw)
        lhs, rhs = b.input(node, 0), b.input(node, 1)
        if lhs_axes is None or rhs_axes is None:
            b.op(node, "Expand", [lhs, b.shape_of(node, rhs)], b.outputs(node))
            return
        nl, nr = len(b.in_shape(node, 0)), len(b.in_shape(node, 1))
        picks = list(range(nl))  # output axis -> position in Shape(lhs) ++ Shape(rhs)
        for src, dst in zip(lhs_axes, rhs_axes):
            picks[src + nl if src < 0 else src] = nl + (dst + nr if dst < 0 else dst)
        both = b.op(node, "Concat", [b.shape_of(node, lhs), b.shape_of(node, rhs)], axis=0)[0]
        target = b.op(node, "Gather", [both, b.ints(node, "picks", picks)], axis=0)[0]
        b.op(node, "Expand", [lhs, target], b.outputs(node))


@mx_op("reshape_like")
class ReshapeLike:
    """lhs with its dimensions [lhs_begin, lhs_end) replaced by rhs's [rhs_begin, rhs_end)
    (elemwise_unary_op_basic.cc, ReshapeLikeShapeCompute; the ranges canonicalised by the
    engine's own reader): Reshape to the Concat of the pieces of Shape(lhs) and Shape(rhs),
    size-free."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        lb, le, rb, re_ = _reshape_like_params(a.raw)
        lhs, rhs = b.input(node, 0), b.input(node, 1)
        nl, nr = len(b.in_shape(node, 0)), len(b.in_shape(node, 1))
        lhs_begin, lhs_end = _reshape_like_range(nl, "lhs", lb, le)
        rhs_begin, rhs_end = _reshape_like_range(nr, "rhs", rb, re_)
        shape_l, shape_r = b.shape_of(node, lhs), b.shape_of(node, rhs)
        parts = []
        for shape, start, end in (
            (shape_l, 0, lhs_begin),
            (shape_r, rhs_begin, rhs_end),
            (shape_l, lhs_end, nl),
        ):
            if start < end:
                ins = [shape, b.ints(node, "start", [start]), b.ints(node, "end", [end])]
                parts.append(b.op(node, "Slice", [*ins, b.ints(node, "axis", [0])])[0])
        target = parts[0] if len(parts) == 1 else b.op(node, "Concat", parts, axis=0)[0]
        b.op(node, "Reshape", [lhs, target], b.outputs(node))


@mx_op("SwapAxis")
class SwapAxis:
    """``dim1`` and ``dim2`` (default 0) exchanged (swapaxis-inl.h): Transpose."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        d1, d2 = (d + rank if d < 0 else d for d in (a.int("dim1", 0), a.int("dim2", 0)))
        perm = list(range(rank))
        perm[d1], perm[d2] = perm[d2], perm[d1]
        b.op(node, "Transpose", [b.input(node, 0)], b.outputs(node), perm=perm)


@mx_op("batch_dot")
class BatchDot:
    """The product of the last two axes per leading index, each side transposed first with
    ``transpose_a``/``transpose_b`` (dot-inl.h, BatchDotForward_): MatMul."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        sides = []
        for j, key in ((0, "transpose_a"), (1, "transpose_b")):
            x = b.input(node, j)
            if a.bool(key, False):
                rank = len(b.in_shape(node, j))
                x = b.op(node, "Transpose", [x], perm=[*range(rank - 2), rank - 1, rank - 2])[0]
            sides.append(x)
        b.op(node, "MatMul", sides, b.outputs(node))


@mx_op("Embedding")
class Embedding:
    """Row ``data`` of the weight (input_dim, output_dim), the index cast to an integer
    (truncated) and clipped to [0, input_dim - 1] on CPU (indexing_op.cc, TakeZeroAxisCPU with
    ``clip = true``): Cast, Clip and Gather, then Cast to ``dtype`` when it is not float32."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        input_dim = a.int("input_dim", REQUIRED, bits=64)
        dtype = a.enum("dtype", tuple(DTYPES), "float32")
        index = b.op(node, "Cast", [b.input(node, 0)], to=onnx_type("int64"))[0]
        lo, hi = b.const(node, "min", 0, "int64"), b.const(node, "max", input_dim - 1, "int64")
        index = b.op(node, "Clip", [index, lo, hi])[0]
        if dtype == "float32":
            b.op(node, "Gather", [b.input(node, 1), index], b.outputs(node), axis=0)
            return
        rows = b.op(node, "Gather", [b.input(node, 1), index], axis=0)[0]
        b.op(node, "Cast", [rows], b.outputs(node), to=onnx_type(dtype))
