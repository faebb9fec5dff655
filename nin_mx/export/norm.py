"""Translations of MXNet's LayerNorm, InstanceNorm and GroupNorm (apache/mxnet 1.9.1
src/operator/nn/layer_norm-inl.h, src/operator/instance_norm-inl.h, src/operator/nn/group_norm-inl.h).

Each normalises by ``sqrt(var + eps)`` with the biased variance (the mean of the squared
deviations), then scales by gamma and shifts by beta. Written as ONNX reductions where ONNX's own
operator normalises over other axes (LayerNormalization: every axis from ``axis`` on) or reads
gamma per channel (GroupNormalization-21), so that the export is exact at every opset.
"""

from __future__ import annotations

from nin_mx.core.ops._base import Attrs
from nin_mx.export.builder import Builder
from nin_mx.export.handlers import mx_op
from nin_mx.graph.nodes import Node

__all__: list[str] = []


def _moments(b: Builder, node: Node, x: str, axes: list[int], eps: float) -> tuple[str, str, str]:
    """(x - mean) / std, mean, std = sqrt(mean of squared deviations + eps), over ``axes``
    (kept, of size 1)."""
    mean = b.reduce(node, "ReduceMean", x, axes)
    centred = b.op(node, "Sub", [x, mean])[0]
    var = b.reduce(node, "ReduceMean", b.op(node, "Mul", [centred, centred])[0], axes)
    std = b.op(node, "Sqrt", [b.op(node, "Add", [var, b.const(node, "eps", eps)])[0]])[0]
    return b.op(node, "Div", [centred, std])[0], mean, std


@mx_op("LayerNorm")
class LayerNorm:
    """Over one ``axis`` (default -1), ``eps`` 1e-5; gamma and beta (C,) along that axis;
    ``output_mean_var`` shows the mean and the std (sqrt(var + eps)), of the data's shape with
    that axis 1 (layer_norm-inl.h, LayerNormComputeGeneral)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        rank = len(b.in_shape(node))
        axis = a.int("axis", -1)
        axis = axis + rank if axis < 0 else axis
        channels = b.in_shape(node)[axis]
        dims = (channels,) + (1,) * (rank - 1 - axis)  # ONNX broadcasts from the right
        normed, mean, std = _moments(b, node, b.input(node, 0), [axis], a.float("eps", 1e-5))
        outs = b.outputs(node)
        scaled = b.op(node, "Mul", [normed, b.input(node, 1, dims=dims)])[0]
        b.op(node, "Add", [scaled, b.input(node, 2, dims=dims)], outs[:1])
        if len(outs) == 3:
            b.op(node, "Identity", [mean], outs[1:2])
            b.op(node, "Identity", [std], outs[2:3])


@mx_op("InstanceNorm")
class InstanceNorm:
    """Per sample and channel over the other axes, ``eps`` 1e-3, gamma and beta (C,)
    (instance_norm-inl.h, InstanceNormOp::Forward): ONNX's InstanceNormalization."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        ins = [b.input(node, j) for j in range(3)]
        b.op(node, "InstanceNormalization", ins, b.outputs(node)[:1], epsilon=a.float("eps", 1e-3))


@mx_op("GroupNorm")
class GroupNorm:
    """The data seen as (N, num_groups, C/num_groups * the rest), normalised per sample and
    group, ``eps`` 1e-5; gamma and beta are (num_groups,) in MXNet 1.9.1, one per group
    (group_norm.cc, GroupNormShape; group_norm-inl.h, GroupNormCompute: reshaped to
    (1, num_groups, 1, ...)); ``output_mean_var`` shows the mean and std, (N, num_groups)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        groups = a.int("num_groups", 1)
        x = b.input(node, 0)
        grouped = b.op(node, "Reshape", [x, b.ints(node, "grouped", [0, groups, -1])])[0]
        normed, mean, std = _moments(b, node, grouped, [2], a.float("eps", 1e-5))
        scaled = b.op(node, "Mul", [normed, b.input(node, 1, dims=(groups, 1))])[0]
        shifted = b.op(node, "Add", [scaled, b.input(node, 2, dims=(groups, 1))])[0]
        outs = b.outputs(node)
        b.op(node, "Reshape", [shifted, b.shape_of(node, x)], outs[:1])
        if len(outs) == 3:
            b.squeeze(node, mean, [2], outs[1:2])
            b.squeeze(node, std, [2], outs[2:3])
