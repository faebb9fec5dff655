"""Translations of MXNet's tensor and contrib operators (apache/mxnet 1.9.1 src/operator/tensor/,
src/operator/contrib/, and the legacy Crop, Pad, UpSampling, L2Normalization, SliceChannel)."""

from __future__ import annotations

from onnx import TensorProto

from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.export.builder import INT64_MAX, Builder, NeedsStatic, untranslatable
from nin_mx.export.handlers import mx_op, refuse
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


@mx_op("square", "rsqrt", "hard_sigmoid")
class UnaryComposed:
    """square = x*x; rsqrt = 1/sqrt(x); hard_sigmoid = clip(alpha*x + beta, 0, 1) (alpha 0.2,
    beta 0.5: elemwise_unary_op_basic.cc, HardSigmoidParam), ONNX's HardSigmoid."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        x, out = b.input(node, 0), b.outputs(node)
        if op == "square":
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
    name): the scalar is cast to the data's type, float32 (elemwise_binary_scalar_op.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        onnx_op, reverse = _SCALAR[op]
        x, c = b.input(node, 0), b.const(node, "scalar", a.float("scalar", 1.0))
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
        lo = b.const(node, "min", a.float("a_min", REQUIRED))
        hi = b.const(node, "max", a.float("a_max", REQUIRED))
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


_DTYPES = {
    "float16": TensorProto.FLOAT16,
    "float32": TensorProto.FLOAT,
    "float64": TensorProto.DOUBLE,
    "uint8": TensorProto.UINT8,
    "int8": TensorProto.INT8,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "bool": TensorProto.BOOL,
    "bfloat16": TensorProto.BFLOAT16,
}


@mx_op("Cast")
class Cast:
    """To ``dtype`` (tensor/elemwise_unary_op.h, CastParam)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        dtype = a.enum("dtype", tuple(_DTYPES), REQUIRED)
        if dtype != "float32":
            raise untranslatable(node, f"a cast to {dtype} (the export writes float32 graphs)")
        b.op(node, "Cast", [b.input(node, 0)], b.outputs(node), to=_DTYPES[dtype])


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
    """nearest: out[i] = in[floor(i/scale)] (Resize, asymmetric, floor); bilinear: the
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
                strides=[scale, scale], pads=[pad] * 4, group=a.int("num_filter", 0),
            )  # fmt: skip
            return
        if len(node.inputs) != 1:
            raise untranslatable(node, "nearest upsampling of several inputs")
        scales = b.const(node, "scales", [1.0, 1.0, float(scale), float(scale)])
        b.op(
            node, "Resize", [b.input(node, 0), "", scales], out, mode="nearest",
            coordinate_transformation_mode="asymmetric", nearest_mode="floor",
        )  # fmt: skip


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
    in/out) at that input size."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        x, out = b.input(node, 0), b.outputs(node)
        h, w = b.out_shape(node)[2:]
        if (h, w) == (1, 1):
            b.op(node, "GlobalAveragePool", [x], out)
            return
        b.static(node, "pools to a size of its own")
        height, width = b.in_shape(node)[2:]
        if height % h or width % w:
            raise untranslatable(node, f"adaptive bins of unequal sizes ({height}x{width} to {h}x{w})")
        kernel = [height // h, width // w]
        b.op(node, "AveragePool", [x], out, kernel_shape=kernel, strides=kernel)


@mx_op("_contrib_BilinearResize2D")
class BilinearResize:
    """Resize(linear) to the engine's output size: ``align_corners`` (default true) is ONNX's
    align_corners, false is pytorch_half_pixel (contrib/bilinear_resize-inl.h); sizes, not
    scales, so that ONNX's coordinates use MXNet's ratio in/out."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        if len(node.inputs) != 1:
            raise untranslatable(node, "a resize like another input")
        b.static(node, "resizes to a size of its own")
        align = a.bool("align_corners", True)
        sizes = b.ints(node, "sizes", b.out_shape(node))
        b.op(
            node, "Resize", [b.input(node, 0), "", "", sizes], b.outputs(node), mode="linear",
            coordinate_transformation_mode="align_corners" if align else "pytorch_half_pixel",
        )  # fmt: skip


_DETECTION = (
    "post-processing of detections: ONNX has no operator with MXNet's exact semantics "
    "(NonMaxSuppression and RoiAlign differ in their outputs, coordinates and sampling)"
)


def _refusals() -> None:
    from nin_mx.core.ops import OPS

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


_refusals()
