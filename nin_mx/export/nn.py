"""Translations of MXNet's neural-network operators (src/operator/nn/ in apache/mxnet 1.9.1).

Each handler states MXNet's semantics where ONNX's differ (onnx/onnx docs/Operators.md); the
parameters and their defaults are those of the operator's ``dmlc::Parameter`` in MXNet's source,
read through the operator table's typed reader.
"""

from __future__ import annotations

import math

from nin_mx.core import border
from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.export.builder import Builder, untranslatable
from nin_mx.export.handlers import mx_op
from nin_mx.graph.nodes import Node

__all__: list[str] = []

_NC = (None, "NCW", "NCHW", "NCDHW")
_LOWEST = -3.4028234663852886e38  # float32's lowest: an all-padding max window (src/operator/nn/pool.h)


def _nc_layout(node: Node, a: Attrs) -> None:
    layout = a.raw.get("layout")
    if layout not in _NC and layout != "None":
        raise untranslatable(node, f"layout {layout} (only channel-first layouts are written)")


def _window(a: Attrs, nd: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """stride, dilate, pad as MXNet's window parsers default them (1, 1, 0 per axis)."""
    return tuple(
        a.tuple(key, ()) or (default,) * nd for key, default in (("stride", 1), ("dilate", 1), ("pad", 0))
    )


def _no_bias(a: Attrs, default: bool) -> bool:
    return a.bool("no_bias", default)


@mx_op("Convolution")
class Convolution:
    """Conv: MXNet's weight (num_filter, C/num_group, *kernel) is ONNX's W; pads symmetric
    (src/operator/nn/convolution-inl.h, ConvolutionParam: no_bias defaults to false)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        _nc_layout(node, a)
        kernel = a.tuple("kernel", REQUIRED)
        stride, dilate, pad = _window(a, len(kernel))
        ins = [b.input(node, 0), b.input(node, 1)]
        if not _no_bias(a, False):
            ins.append(b.input(node, 2))
        b.op(
            node,
            "Conv",
            ins,
            b.outputs(node),
            kernel_shape=list(kernel),
            strides=list(stride),
            dilations=list(dilate),
            pads=list(pad) * 2,
            group=a.int("num_group", 1, unsigned=True),
        )


@mx_op("Deconvolution")
class Deconvolution:
    """ConvTranspose: MXNet's weight (C, num_filter/num_group, *kernel) is ONNX's W; ``adj`` is
    output_padding; a ``target_shape`` sets pad = ceil(total/2) and adj = total % 2 with
    total = stride*(x-1) + dilate*(k-1)+1 - target (src/operator/nn/deconvolution-inl.h,
    InferPad). ``no_bias`` defaults to true."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        _nc_layout(node, a)
        kernel = a.tuple("kernel", REQUIRED)
        nd = len(kernel)
        stride, dilate, pad = _window(a, nd)
        adj = a.tuple("adj", ()) or (0,) * nd
        target = a.tuple("target_shape", ()) or (0,) * nd
        if any(target):
            b.static(node, "has a target_shape", axes=range(2, 2 + nd))
            data = b.in_shape(node)[2:]
            found = [
                border.deconv_target_pad(data[i], kernel[i], stride[i], dilate[i], target[i])
                for i in range(nd)
            ]
            pad, adj = tuple(p for p, _ in found), tuple(j for _, j in found)
        ins = [b.input(node, 0), b.input(node, 1)]
        if not _no_bias(a, True):
            ins.append(b.input(node, 2))
        b.op(
            node,
            "ConvTranspose",
            ins,
            b.outputs(node),
            kernel_shape=list(kernel),
            strides=list(stride),
            dilations=list(dilate),
            pads=list(pad) * 2,
            output_padding=list(adj),
            group=a.int("num_group", 1, unsigned=True),
        )


@mx_op("Pooling")
class Pooling:
    """MXNet pooling (src/operator/nn/pooling.cc, pool.h) in ONNX.

    * ``global_pool``: GlobalAveragePool / GlobalMaxPool (kernel, stride and pad ignored, as
      MXNet ignores them); global sum is ReduceSum; global lp with p=2 is GlobalLpPool.
    * ``full`` is ``ceil_mode=1``, made exact where ONNX and MXNet differ: MXNet keeps a last
      window that starts in the right padding (ONNX drops it), so such padding is explicit; the
      average's divisor (pool.h: the window clipped at the padded extent, padding counted unless
      ``count_include_pad=False``) is ONNX's ``count_include_pad=0`` over explicitly padded data.
    * lp pooling is signed in MXNet (pool_utils.h): only p=2 matches ONNX's LpPool.
    """

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        _nc_layout(node, a)
        pool_type = a.enum("pool_type", ("max", "avg", "sum", "lp"), "max")
        convention = a.enum("pooling_convention", ("full", "valid", "same"), "valid")
        x, out = b.input(node, 0), b.outputs(node)[:1]
        rank = len(b.in_shape(node))
        if a.bool("global_pool", False):
            cls._global(b, node, a, pool_type, x, out, rank)
            return
        kernel = a.tuple("kernel", REQUIRED)
        if convention == "same":
            cls._same(b, node, a, pool_type, x, out, kernel)
            return
        nd = len(kernel)
        stride = (a.tuple("stride", ()) or (1,) * nd)[:nd]
        pad = (a.tuple("pad", ()) or (0,) * nd)[:nd]
        ceil = int(convention == "full")
        # a last window starting in the right padding: (out-1)*s >= x+p for some x iff p > k-s
        starts_in_pad = ceil and any(p > k - s for p, k, s in zip(pad, kernel, stride))
        common = {"kernel_shape": list(kernel), "strides": list(stride), "ceil_mode": ceil}
        if pool_type == "max":
            if starts_in_pad or any(p >= k for p, k in zip(pad, kernel)):
                x = cls._pad(b, node, x, pad, rank, _LOWEST)
                pad = (0,) * nd
            b.op(node, "MaxPool", [x], out, pads=list(pad) * 2, **common)
        elif pool_type == "avg":
            if a.opt_bool("count_include_pad") in (None, True):  # unset means true (pooling-inl.h)
                if any(pad):
                    x = cls._pad(b, node, x, pad, rank, 0.0)
                b.op(node, "AveragePool", [x], out, pads=[0] * (2 * nd), count_include_pad=0, **common)
            else:
                if starts_in_pad or any(p >= k for p, k in zip(pad, kernel)):
                    raise untranslatable(
                        node, "a window that starts in the padding, not counted in its divisor"
                    )
                b.op(node, "AveragePool", [x], out, pads=list(pad) * 2, count_include_pad=0, **common)
        elif pool_type == "sum":
            if ceil:
                b.static(node, "sums windows in 'full' convention")
                extra = [_extra(n, k, s, p) for n, k, s, p in zip(b.in_shape(node)[2:], kernel, stride, pad)]
            else:
                extra = [0] * nd
            channels = b.in_shape(node)[1]
            ones = b.const(node, "ones", [1.0] * (channels * math.prod(kernel)), dims=(channels, 1, *kernel))
            b.op(
                node, "Conv", [x, ones], out, kernel_shape=list(kernel), strides=list(stride),
                pads=list(pad) + [p + e for p, e in zip(pad, extra)], group=channels,
            )  # fmt: skip
        else:
            if a.int("p_value", REQUIRED) != 2:
                raise untranslatable(node, "MXNet's lp pooling is signed; ONNX's LpPool agrees for p=2 only")
            if ceil:
                raise untranslatable(node, "lp pooling in 'full' convention")
            b.op(
                node,
                "LpPool",
                [x],
                out,
                kernel_shape=list(kernel),
                strides=list(stride),
                pads=list(pad) * 2,
                p=2,
            )

    @staticmethod
    def _same(
        b: Builder, node: Node, a: Attrs, pool_type: str, x: str, out: list[str], kernel: tuple
    ) -> None:
        """'same' (1-D, no padding: pooling.cc, PoolingShape): ceil(x/s) windows from i*s, each
        clipped at the data's end (pool.h: the end is min(start + k, x + pad)), the average over
        the elements inside: right padding that ONNX's pooling does not count."""
        stride = (a.tuple("stride", ()) or (1,))[:1]
        b.static(node, "pools in 'same' convention")
        extra = [
            max(0, (-(-n // s) - 1) * s + k - n) for n, k, s in zip(b.in_shape(node)[2:], kernel, stride)
        ]
        common = {"kernel_shape": list(kernel), "strides": list(stride), "pads": [0] * len(extra) + extra}
        if pool_type == "max":
            b.op(node, "MaxPool", [x], out, **common)
        elif pool_type == "avg":
            b.op(node, "AveragePool", [x], out, count_include_pad=0, **common)
        else:
            raise untranslatable(node, f"{pool_type} pooling in 'same' convention")

    @staticmethod
    def _pad(b: Builder, node: Node, x: str, pad: tuple[int, ...], rank: int, value: float) -> str:
        pads = [0, 0, *pad, 0, 0, *pad]
        return b.op(
            node, "Pad", [x, b.ints(node, "pads", pads), b.const(node, "value", value)], mode="constant"
        )[0]

    @staticmethod
    def _global(b: Builder, node: Node, a: Attrs, pool_type: str, x: str, out: list[str], rank: int) -> None:
        if pool_type == "max":
            b.op(node, "GlobalMaxPool", [x], out)
        elif pool_type == "avg":
            b.op(node, "GlobalAveragePool", [x], out)
        elif pool_type == "sum":
            b.op(node, "ReduceSum", [x, b.ints(node, "axes", range(2, rank))], out, keepdims=1)
        elif a.int("p_value", REQUIRED) == 2:
            b.op(node, "GlobalLpPool", [x], out, p=2)
        else:
            raise untranslatable(
                node, "MXNet's lp pooling is signed; ONNX's GlobalLpPool agrees for p=2 only"
            )


def _extra(n: int, k: int, s: int, p: int) -> int:
    """The right padding beyond ``p`` that floor rounding needs to give ceil's output size."""
    out = 1 + math.ceil((n + 2 * p - k) / s)
    return max(0, (out - 1) * s + k - (n + 2 * p))


@mx_op("FullyConnected")
class FullyConnected:
    """``flatten=True`` (the default): Flatten(axis=1) + Gemm(transB=1); ``flatten=False``: the
    last axis, MatMul by the transposed weight + Add. A bias stored (num_hidden, 1) is read
    as (num_hidden,) (src/operator/nn/fully_connected.cc)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        num_hidden = a.int("num_hidden", REQUIRED)
        no_bias = _no_bias(a, False)
        x, out = b.input(node, 0), b.outputs(node)
        if a.bool("flatten", True):
            if len(b.in_shape(node)) != 2:
                x = b.op(node, "Flatten", [x], axis=1)[0]
            ins = [x, b.input(node, 1)] + ([] if no_bias else [b.input(node, 2, dims=(num_hidden,))])
            b.op(node, "Gemm", ins, out, transB=1)
            return
        w = b.op(node, "Transpose", [b.input(node, 1)], perm=[1, 0])[0]
        if no_bias:
            b.op(node, "MatMul", [x, w], out)
        else:
            y = b.op(node, "MatMul", [x, w])[0]
            b.op(node, "Add", [y, b.input(node, 2, dims=(num_hidden,))], out)


@mx_op("BatchNorm", "_contrib_SyncBatchNorm")
class BatchNorm:
    """At inference MXNet normalises with the moving statistics whatever ``use_global_stats``
    says, and with gamma = 1 when ``fix_gamma`` (default true) whatever the checkpoint holds
    (src/operator/nn/batch_norm.cc); eps defaults to 1e-3 (ONNX's to 1e-5, so it is always
    written). An axis other than 1 is written as Mul/Add with per-channel constants."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        eps = a.float("eps", 1e-3)
        fix_gamma = a.bool("fix_gamma", True)
        axis = a.int("axis", 1)
        rank = len(b.in_shape(node))
        axis = axis + rank if axis < 0 else axis
        gamma = b.input(node, 1, fill=1.0 if fix_gamma else None)
        beta, mean, var = (b.input(node, j) for j in (2, 3, 4))
        x, out = b.input(node, 0), b.outputs(node)[:1]
        if axis == 1 and rank >= 2:
            b.op(node, "BatchNormalization", [x, gamma, beta, mean, var], out, epsilon=eps)
            return
        shape = [1] * rank
        shape[axis] = b.in_shape(node)[axis]
        target = b.ints(node, "shape", shape)
        std = b.op(node, "Sqrt", [b.op(node, "Add", [var, b.const(node, "eps", eps)])[0]])[0]
        scale = b.op(node, "Div", [gamma, std])[0]
        shift = b.op(node, "Sub", [beta, b.op(node, "Mul", [mean, scale])[0]])[0]
        scale = b.op(node, "Reshape", [scale, target])[0]
        shift = b.op(node, "Reshape", [shift, target])[0]
        b.op(node, "Add", [b.op(node, "Mul", [x, scale])[0], shift], out)
