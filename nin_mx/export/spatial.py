"""Translations of the operators that pad, crop, resize or normalise maps, and the refusals
(apache/mxnet 1.9.1 src/operator/: pad, crop, nn/upsampling, l2_normalization, contrib/)."""

from __future__ import annotations

import math
from typing import Any

from nin_mx.core.ops import OPS
from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.export.builder import Builder
from nin_mx.export.dtypes import round_to
from nin_mx.export.handlers import mx_op, refuse
from nin_mx.graph.nodes import Node

__all__: list[str] = []


@mx_op("Pad")
class Pad:
    """``pad_width`` interleaved (b1, a1, ..., bN, aN) is ONNX's (begins..., ends...); the modes
    constant, edge and reflect are ONNX's (src/operator/pad-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        mode = a.enum("mode", ("constant", "edge", "reflect"), "constant")
        width = a.tuple("pad_width", REQUIRED)
        pads = list(width[0::2]) + list(width[1::2])
        ins = [b.input(node, 0), b.ints(node, "pads", pads)]
        if mode == "constant":
            ins.append(b.const(node, "value", a.float("constant_value", 0.0)))
        b.op(node, "Pad", ins, b.outputs(node), mode=mode)


@mx_op("Crop")
class Crop:
    """The legacy Crop (src/operator/crop-inl.h): to ``h_w`` or to the second input's height and
    width, at ``offset`` (y, x) or centred with ``center_crop`` ((H-h)//2, (W-w)//2)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        b.static(node, "crops to a size of its own")
        _, _, h, w = b.out_shape(node)
        _, _, height, width = b.in_shape(node)
        if a.bool("center_crop", False):
            y, x = (height - h) // 2, (width - w) // 2
        else:
            y, x = a.tuple("offset", (0, 0))[:2]
        ins = [b.input(node, 0), b.ints(node, "starts", [y, x]), b.ints(node, "ends", [y + h, x + w])]
        b.op(node, "Slice", [*ins, b.ints(node, "axes", [2, 3])], b.outputs(node))


@mx_op("UpSampling")
class UpSampling:
    """nearest: out[i] = in[floor(i/scale)] (Resize, asymmetric, floor); of several inputs
    (``num_args``), the output is ``scale`` times the first's height and width, each input is
    upsampled by the output's height over its own (an integer), and the results are
    concatenated on channels (``multi_input_mode`` concat, the default) or summed
    (upsampling-inl.h, UpSamplingForward; upsampling.cc, UpSamplingShape); bilinear: the
    depthwise Deconvolution MXNet runs, kernel 2s - s%2, stride s, pad ceil((s-1)/2), group
    num_filter, with the stored weight (src/operator/nn/upsampling-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        scale = a.int("scale", REQUIRED)
        sample = a.enum("sample_type", ("nearest", "bilinear"), REQUIRED)
        out = b.outputs(node)
        if sample == "bilinear":
            k, pad = 2 * scale - scale % 2, -(-(scale - 1) // 2)
            b.op(
                node, "ConvTranspose", [b.input(node, 0), b.input(node, 1)], out, kernel_shape=[k, k],
                strides=[scale, scale], pads=[pad] * 4, group=a.int("num_filter", 0) or b.in_shape(node)[1],
            )  # fmt: skip
            return
        if len(node.inputs) == 1:
            cls._nearest(b, node, b.input(node, 0), scale, out)
            return
        # several inputs: each by out_h / its own h, then concatenated on channels or summed
        height = b.out_shape(node)[2]
        parts = []
        for j in range(len(node.inputs)):
            ratio = height // b.in_shape(node, j)[2]
            others = [s.outputs[node.index][0][2] // _in_shape(s, node, j)[2] for s in b.others]
            if any(r != ratio for r in others):
                b.static(node, "upsamples its inputs by ratios that depend on the input size", j=j)
            parts.append(cls._nearest(b, node, b.input(node, j), ratio, None))
        if a.enum("multi_input_mode", ("concat", "sum"), "concat") == "sum":
            b.op(node, "Sum", parts, out)
        else:
            b.op(node, "Concat", parts, out, axis=1)

    @staticmethod
    def _nearest(b: Builder, node: Node, x: str, scale: int, out: list[str] | None) -> str:
        scales = b.const(node, "scales", [1.0, 1.0, float(scale), float(scale)])
        return b.op(
            node, "Resize", [x, "", scales], out, mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor",
        )[0]  # fmt: skip


def _in_shape(shapes: Any, node: Node, j: int) -> tuple[int, ...]:
    k = node.input_outputs[j] if j < len(node.input_outputs) else 0
    return tuple(shapes.outputs[node.inputs[j]][k])


@mx_op("L2Normalization")
class L2Normalization:
    """x / sqrt(sum x^2 + eps) over every axis but 0 (instance, the default), axis 1 (channel)
    or the axes from 2 (spatial) (src/operator/l2_normalization-inl.h, its code: the docstring
    swaps channel and spatial)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        mode = a.enum("mode", ("channel", "instance", "spatial"), "instance")
        rank = len(b.in_shape(node))
        axes = {"instance": range(1, rank), "channel": [1], "spatial": range(2, rank)}[mode]
        x = b.input(node, 0)
        total = b.reduce(node, "ReduceSumSquare", x, list(axes))
        norm = b.op(
            node, "Sqrt", [b.op(node, "Add", [total, b.const(node, "eps", a.float("eps", 1e-10))])[0]]
        )[0]
        b.op(node, "Div", [x, norm], b.outputs(node)[:1])


@mx_op("_contrib_AdaptiveAvgPooling2D")
class AdaptiveAvgPooling:
    """Bins [floor(i*in/out), ceil((i+1)*in/out)) (contrib/adaptive_avg_pooling.cc): an output of
    1x1 is GlobalAveragePool; sizes that divide the input are AveragePool(kernel = stride =
    in/out) at that input size; other sizes, bins of unequal sizes that may overlap, are two
    MatMuls by constant averaging matrices (out_h, H) and (W, out_w), at that input size."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        x, out = b.input(node, 0), b.outputs(node)
        h, w = b.out_shape(node)[2:]
        if (h, w) == (1, 1):
            b.op(node, "GlobalAveragePool", [x], out)
            return
        b.static(node, "pools to a size of its own")
        height, width = b.in_shape(node)[2:]
        if height % h or width % w:  # bins of unequal sizes: two products by averaging matrices
            rows = b.const(node, "rows", _bins(h, height), dims=(h, height))
            cols = b.const(node, "cols", _bins(w, width, transposed=True), dims=(width, w))
            b.op(node, "MatMul", [b.op(node, "MatMul", [rows, x])[0], cols], out)
            return
        kernel = [height // h, width // w]
        b.op(node, "AveragePool", [x], out, kernel_shape=kernel, strides=kernel)


def _bins(out: int, size: int, transposed: bool = False) -> list[float]:
    """The (out, size) matrix, flat (``transposed``: its (size, out) transpose), whose row i
    averages MXNet's bin i, [floor(i*size/out), ceil((i+1)*size/out)), computed in float32 as
    adaptive_avg_pooling.cc's START_IND and END_IND compute it."""
    matrix = [[0.0] * size for _ in range(out)]
    for i in range(out):
        start = math.floor(round_to(round_to(i * size, "float32") / round_to(out, "float32"), "float32"))
        end = math.ceil(round_to(round_to((i + 1) * size, "float32") / round_to(out, "float32"), "float32"))
        matrix[i][start:end] = [1.0 / (end - start)] * (end - start)
    if transposed:
        return [matrix[i][j] for j in range(size) for i in range(out)]
    return [v for row in matrix for v in row]


@mx_op("_contrib_BilinearResize2D")
class BilinearResize:
    """Resize(linear) to the engine's output size: ``align_corners`` (default true) is ONNX's
    align_corners, false is pytorch_half_pixel (contrib/bilinear_resize-inl.h); sizes, not
    scales, so that ONNX's coordinates use MXNet's ratio in/out; ``mode='like'`` (two inputs)
    takes the second input's height and width, read from its shape."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        align = a.bool("align_corners", True)
        if len(node.inputs) == 2:  # mode 'like': the second input's height and width, size-free
            pieces = [
                b.op(node, "Slice", [b.shape_of(node, b.input(node, j)), *_shape_range(b, node, j)])[0]
                for j in (0, 1)
            ]
            sizes = b.op(node, "Concat", pieces, axis=0)[0]
        else:
            b.static(node, "resizes to a size of its own")
            sizes = b.ints(node, "sizes", b.out_shape(node))
        b.op(
            node, "Resize", [b.input(node, 0), "", "", sizes], b.outputs(node), mode="linear",
            coordinate_transformation_mode="align_corners" if align else "pytorch_half_pixel",
        )  # fmt: skip


def _shape_range(b: Builder, node: Node, j: int) -> list[str]:
    """Slice's starts, ends and axes of a shape: (N, C) of the data, (H, W) of the like."""
    start, end = (0, 2) if j == 0 else (2, 4)
    return [b.ints(node, "start", [start]), b.ints(node, "end", [end]), b.ints(node, "axis", [0])]


_DETECTION = (
    "post-processing of detections: ONNX has no operator with MXNet's exact semantics "
    "(NonMaxSuppression and RoiAlign differ in their outputs, coordinates and sampling)"
)


def _refusals() -> None:
    names = (
        "_contrib_box_nms",
        "_contrib_MultiBoxPrior",
        "_contrib_MultiBoxDetection",
        "_contrib_MultiBoxTarget",
        "_contrib_Proposal",
        "_contrib_MultiProposal",
        "ROIPooling",
        "_contrib_ROIAlign",
        "_contrib_PSROIPooling",
        "_contrib_DeformablePSROIPooling",
        "_contrib_box_decode",
        "_contrib_box_encode",
    )
    refuse(_DETECTION, *(n for n in names if n in OPS and OPS[n].name == n))
    training = "a training loss: it has no inference output to export"
    refuse(
        training, *(n for n in ("LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"))
    )
    refuse("MXNet rounds half away from zero, ONNX's Round half to even", "round")
    fused = "an MKLDNN fused (mostly quantized) subgraph operator: export the float model it was made of"
    refuse(fused, "_sg_mkldnn_conv", "_sg_mkldnn_fully_connected")
    quantized = "a step of an int8 graph quantized for MKL-DNN (GluonCV's *_int8): export the float model"
    refuse(quantized, "_contrib_quantize_v2", "_contrib_dequantize", "_contrib_quantized_pooling")


_refusals()
