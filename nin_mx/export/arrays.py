"""Translations of the array operators of detection heads and video networks that ONNX has
exactly (apache/mxnet 1.9.1 src/operator/tensor/): squeeze, stack, tile, reverse, where,
slice_like, zeros_like, ones_like, shape_array, _arange, repeat, gather_nd, and the refusals
of those it has not.

Each is size-free: the sizes it needs are read from the input's ``Shape`` in the model.
"""

from __future__ import annotations

from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.core.ops.tensor import (
    _range_params,
    _repeat_params,
    _slice_like_params,
    _squeeze_params,
    _stack_params,
    _tile_params,
)
from nin_mx.export.builder import INT64_MIN, Builder, untranslatable
from nin_mx.export.dtypes import const_type, dtype_of, filled_tensor, onnx_type, out_dtype, round_to
from nin_mx.export.handlers import mx_op, refuse
from nin_mx.graph.nodes import Node

__all__: list[str] = []


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


@mx_op("squeeze")
class Squeeze:
    """The axes of ``axis``, or with none every axis of size 1 (matrix_op-inl.h, SqueezeShape):
    Squeeze with explicit axes. Without ``axis`` the output's rank depends on the sizes (MXNet
    squeezes a batch of 1 too), so that is written for fixed sizes only."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        shape, rank = b.in_shape(node), len(b.in_shape(node))
        axes = _squeeze_params(a.raw)
        if axes is None:
            found = [i for i, d in enumerate(shape) if d == 1]
            b.static(node, "squeezes every axis of size 1", axes=range(1, rank))
            if any(b.varying(node)):
                raise untranslatable(
                    node,
                    "squeeze without axis at a symbolic batch (MXNet squeezes a batch of 1 too): "
                    "export with fixed sizes (dynamic=False) or give the axes",
                )
        else:
            found = sorted(_axis(x, rank) for x in axes)
        if not found:
            b.op(node, "Identity", [b.input(node, 0)], b.outputs(node))
            return
        b.squeeze(node, b.input(node, 0), found, b.outputs(node))


@mx_op("stack")
class Stack:
    """The inputs joined along a new axis ``axis`` (default 0) (matrix_op-inl.h, StackOpShape):
    each unsqueezed there, then Concat."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        axis, _ = _stack_params(a.raw)
        axis = _axis(axis, len(b.in_shape(node)) + 1)
        parts = [b.unsqueeze(node, b.input(node, j), [axis]) for j in range(len(node.inputs))]
        b.op(node, "Concat", parts, b.outputs(node), axis=axis)


@mx_op("tile")
class Tile:
    """``reps`` per axis from the right: fewer reps than axes are ones on the left, more reps
    than axes give the data new leading axes of size 1 (matrix_op-inl.h, TileOpShape): Tile."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        reps = list(_tile_params(a.raw))
        x, rank = b.input(node, 0), len(b.in_shape(node))
        if not reps:
            b.op(node, "Identity", [x], b.outputs(node))
            return
        if len(reps) < rank:
            reps = [1] * (rank - len(reps)) + reps
        elif len(reps) > rank:
            x = b.unsqueeze(node, x, list(range(len(reps) - rank)))
        b.op(node, "Tile", [x, b.ints(node, "repeats", reps)], b.outputs(node))


@mx_op("reverse")
class Reverse:
    """The order of ``axis``'s elements reversed (matrix_op-inl.h, ReverseParam): Slice from the
    last element with step -1."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        axes = sorted({_axis(x, rank) for x in a.tuple("axis", REQUIRED)})
        n = len(axes)
        ins = [b.input(node, 0), b.ints(node, "starts", [-1] * n), b.ints(node, "ends", [INT64_MIN] * n)]
        b.op(
            node,
            "Slice",
            [*ins, b.ints(node, "axes", axes), b.ints(node, "steps", [-1] * n)],
            b.outputs(node),
        )


@mx_op("where")
class Where:
    """x where ``condition`` is not zero, else y (control_flow_op.h, where): the condition cast to
    bool (nonzero is true), Where. A 1-D condition over x's first axis is reshaped to (N, 1, ...)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        cond = b.op(node, "Cast", [b.input(node, 0)], to=onnx_type("bool"))[0]
        cond_rank, rank = len(b.in_shape(node, 0)), len(b.in_shape(node, 1))
        if cond_rank != rank:
            cond = b.unsqueeze(node, cond, list(range(1, rank)))
        b.op(node, "Where", [cond, b.input(node, 1), b.input(node, 2)], b.outputs(node))


@mx_op("slice_like")
class SliceLike:
    """The data's first elements along ``axes`` (every axis when empty) as many as the second
    input has there (matrix_op-inl.h, SliceLikeShape): Slice from 0 to Shape(like) on them."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        axes = sorted({_axis(x, rank) for x in _slice_like_params(a.raw)}) or list(range(rank))
        like = b.shape_of(node, b.input(node, 1))
        ends = b.op(node, "Gather", [like, b.ints(node, "axes", axes)], axis=0)[0]
        ins = [b.input(node, 0), b.ints(node, "starts", [0] * len(axes)), ends]
        b.op(node, "Slice", [*ins, b.ints(node, "axes", axes)], b.outputs(node))


@mx_op("zeros_like", "ones_like")
class FilledLike:
    """0 or 1 of the input's shape and type (elemwise_unary_op_basic.cc): ConstantOfShape."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        value = filled_tensor(onnx_type(dtype_of(b, node)), int(op == "ones_like"))
        shape = b.shape_of(node, b.input(node, 0))
        b.op(node, "ConstantOfShape", [shape], b.outputs(node), value=value)


@mx_op("shape_array")
class ShapeArray:
    """The input's shape as int64 (elemwise_unary_op_basic.cc, ShapeArrayType): Shape."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.op(node, "Shape", [b.input(node, 0)], b.outputs(node))


@mx_op("repeat")
class Repeat:
    """Each element ``repeats`` times in a row along ``axis``, or of the flattened data without
    one (matrix_op-inl.h, RepeatOpShape, as numpy.repeat): Unsqueeze after that axis, Tile,
    and Reshape to the data's shape with that axis -1 (read from Shape: size-free)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        repeats, axis = _repeat_params(a.raw)
        x, rank = b.input(node, 0), len(b.in_shape(node))
        if axis is None:
            x, axis, rank = b.op(node, "Reshape", [x, b.ints(node, "flat", [-1])])[0], 0, 1
        axis = _axis(axis, rank)
        reps = [1] * (rank + 1)
        reps[axis + 1] = repeats
        tiled = b.op(node, "Tile", [b.unsqueeze(node, x, [axis + 1]), b.ints(node, "repeats", reps)])[0]
        shape = b.shape_of(node, x)
        parts = [b.ints(node, "merged", [-1])]
        if axis > 0:
            parts.insert(0, _shape_slice(b, node, shape, 0, axis))
        if axis + 1 < rank:
            parts.append(_shape_slice(b, node, shape, axis + 1, rank))
        target = parts[0] if len(parts) == 1 else b.op(node, "Concat", parts, axis=0)[0]
        b.op(node, "Reshape", [tiled, target], b.outputs(node))


def _shape_slice(b: Builder, node: Node, shape: str, start: int, end: int) -> str:
    ins = [shape, b.ints(node, "start", [start]), b.ints(node, "end", [end]), b.ints(node, "axis", [0])]
    return b.op(node, "Slice", ins)[0]


@mx_op("gather_nd")
class GatherND:
    """data[indices[0, ...], ..., indices[M-1, ...]] (indexing_op.h, gather_nd: each index is
    ``index_t(idx + dim) % dim``, so -dim..dim-1 wrap and a float index is truncated after the
    shift): the dims added, Cast to int64, Mod, the index axis moved last, GatherND."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        index_shape = b.in_shape(node, 1)
        m, index_rank = index_shape[0], len(index_shape)
        index_type = onnx_type(dtype_of(b, node, 1))
        dims = _shape_slice(b, node, b.shape_of(node, b.input(node, 0)), 0, m)
        dims = b.op(node, "Reshape", [dims, b.ints(node, "column", [m] + [1] * (index_rank - 1))])[0]
        shifted = b.op(node, "Add", [b.input(node, 1), b.op(node, "Cast", [dims], to=index_type)[0]])[0]
        index = b.op(node, "Mod", [b.op(node, "Cast", [shifted], to=onnx_type("int64"))[0], dims])[0]
        index = b.op(node, "Transpose", [index], perm=[*range(1, index_rank), 0])[0]
        b.op(node, "GatherND", [b.input(node, 0), index], b.outputs(node))


@mx_op("_arange")
class Arange:
    """start + (i // repeat) * step for i below the engine's length, start and step cast to
    ``dtype`` first and computed in it (init_op.h, RangeParamParser, range_fwd, RangeCompute):
    a constant, since the operator has no input."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        start, _, step, repeat, _ = _range_params(a.raw)
        kind = const_type(out_dtype(b, node.index))
        (n,) = b.out_shape(node)
        first, every = round_to(start, kind), round_to(step, kind)  # computed in the type, as numpy
        values = [
            round_to(first + round_to(round_to(i // repeat, kind) * every, kind), kind) for i in range(n)
        ]
        b.op(node, "Identity", [b.const(node, "range", values, kind)], b.outputs(node))


refuse(
    "MXNet's mod takes the divisor's sign (mshadow_op::mod), ONNX's Mod of floats the dividend's (fmod)",
    "broadcast_mod",
    "_mod",
    "_mod_scalar",
    "_rmod_scalar",
)
refuse(
    "MXNet's sort does not promise ONNX TopK's order of equal elements (the lower index first)",
    "topk",
    "argsort",
)
