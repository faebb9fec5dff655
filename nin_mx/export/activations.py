"""Translations of MXNet's activations, Dropout, LRN and the softmax family (apache/mxnet 1.9.1
src/operator/nn/, src/operator/leaky_relu-inl.h, src/operator/softmax_output-inl.h).

Each handler states MXNet's semantics where ONNX's differ (onnx/onnx docs/Operators.md).
"""

from __future__ import annotations

import math

from nin_mx.core.ops._base import REQUIRED, Attrs
from nin_mx.export.builder import Builder, untranslatable
from nin_mx.export.handlers import mx_op
from nin_mx.graph.nodes import Node

__all__: list[str] = []

_ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softrelu": "Softplus",
    "softsign": "Softsign",
}


@mx_op("Activation")
class Activation:
    """relu, sigmoid, tanh, softrelu (Softplus), softsign (src/operator/nn/activation-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        act = a.enum("act_type", tuple(_ACTIVATIONS), REQUIRED)
        b.op(node, _ACTIVATIONS[act], [b.input(node, 0)], b.outputs(node))


# SELU's constants as MXNet writes them (src/operator/mshadow_op.h, selu)
_SELU_ALPHA, _SELU_LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@mx_op("LeakyReLU")
class LeakyReLU:
    """leaky (LeakyRelu), elu (Elu), selu (Selu), gelu (erf form), rrelu (at inference a fixed
    slope (lower+upper)/2), prelu (PRelu, gamma per channel: reshaped to (C, 1, ...) because
    ONNX broadcasts from the right): src/operator/leaky_relu-inl.h."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        cls._write(b, node, a, gelu_op=False)

    @classmethod
    def version_20(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        cls._write(b, node, a, gelu_op=True)

    @staticmethod
    def _write(b: Builder, node: Node, a: Attrs, gelu_op: bool) -> None:
        act = a.enum("act_type", ("elu", "gelu", "leaky", "prelu", "rrelu", "selu"), "leaky")
        slope = a.float("slope", 0.25)
        x, out = b.input(node, 0), b.outputs(node)[:1]
        if act == "leaky":
            b.op(node, "LeakyRelu", [x], out, alpha=slope)
        elif act == "elu":
            b.op(node, "Elu", [x], out, alpha=slope)
        elif act == "selu":
            b.op(node, "Selu", [x], out, alpha=_SELU_ALPHA, gamma=_SELU_LAMBDA)
        elif act == "rrelu":
            b.op(
                node,
                "LeakyRelu",
                [x],
                out,
                alpha=(a.float("lower_bound", 0.125) + a.float("upper_bound", 0.334)) / 2,
            )
        elif act == "gelu" and gelu_op:
            b.op(node, "Gelu", [x], out)
        elif act == "gelu":
            half = b.op(node, "Mul", [x, b.const(node, "half", 0.5)])[0]
            erf = b.op(node, "Erf", [b.op(node, "Div", [x, b.const(node, "sqrt2", math.sqrt(2.0))])[0]])[0]
            b.op(node, "Mul", [half, b.op(node, "Add", [erf, b.const(node, "one", 1.0)])[0]], out)
        else:
            rank, gamma_shape = len(b.in_shape(node)), b.in_shape(node, 1)
            dims = gamma_shape + (1,) * (rank - 2) if rank > 2 else None
            b.op(node, "PRelu", [x, b.input(node, 1, dims=dims)], out)


@mx_op("Dropout")
class Dropout:
    """The identity at inference (src/operator/nn/dropout-inl.h), unless ``mode='always'``."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        if a.enum("mode", ("always", "training"), "training") == "always":
            raise untranslatable(node, "mode='always' drops at inference too (random: no exact equivalent)")
        b.op(node, "Identity", [b.input(node, 0)], b.outputs(node)[:1])


@mx_op("LRN")
class LRN:
    """x / (knorm + alpha/nsize * sum of squares)^beta: ONNX's LRN with bias = knorm
    (src/operator/nn/lrn-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        size = a.int("nsize", REQUIRED, unsigned=True)
        alpha, beta, bias = a.float("alpha", 1e-4), a.float("beta", 0.75), a.float("knorm", 2.0)
        b.op(
            node, "LRN", [b.input(node, 0)], b.outputs(node)[:1], size=size, alpha=alpha, beta=beta, bias=bias
        )


@mx_op("SoftmaxOutput")
class SoftmaxOutput:
    """At inference a softmax; the label is not read. ``multi_output``: over axis 1;
    ``preserve_shape``: over the last axis; otherwise the native kernel takes every non-batch
    element together ((N, size/N): src/operator/softmax_output-inl.h, Forward), but MXNet's CPU
    build runs a float32 input of 1, 2 or 4 dimensions through MKL-DNN at inference, over the
    last axis (src/operator/softmax_output.cc, SoftmaxOutputComputeExCPU;
    nn/mkldnn/mkldnn_softmax_output.cc: ``axis = ndim - 1``; nn/mkldnn/mkldnn_base-inl.h,
    SupportMKLDNN): the export follows the CPU build, as the pip wheel computes."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        multi, preserve = a.bool("multi_output", False), a.bool("preserve_shape", False)
        x, out, rank = b.input(node, 0), b.outputs(node), len(b.in_shape(node))
        if multi:
            b.op(node, "Softmax", [x], out, axis=1)
        elif preserve or rank in (1, 2, 4):
            b.op(node, "Softmax", [x], out, axis=-1)
        else:
            flat = b.op(node, "Flatten", [x], axis=1)[0]
            soft = b.op(node, "Softmax", [flat], axis=1)[0]
            b.op(node, "Reshape", [soft, b.shape_of(node, x)], out)


@mx_op("SoftmaxActivation")
class SoftmaxActivation:
    """``instance`` (default): over the last axis; ``channel``: over axis 1
    (src/operator/nn/softmax_activation-inl.h)."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        mode = a.enum("mode", ("channel", "instance"), "instance")
        b.op(node, "Softmax", [b.input(node, 0)], b.outputs(node), axis=1 if mode == "channel" else -1)


@mx_op("softmax", "log_softmax", "softmin")
class Softmax:
    """exp((x - max)/T) / sum over ``axis`` (default -1), T = ``temperature`` (default 1);
    softmin of x is softmax of -x (src/operator/nn/softmax-inl.h). Single-axis Softmax is
    opset 13's."""

    @classmethod
    def version_13(cls, b: Builder, node: Node, a: Attrs, op: str) -> None:
        if a.bool("use_length", False):
            raise untranslatable(node, "use_length (a masked softmax)")
        if a.raw.get("dtype") not in (None, "None", "float32"):
            raise untranslatable(node, f"dtype {a.raw['dtype']}")
        x = b.input(node, 0)
        raw_t = a.raw.get("temperature")
        temperature = 1.0 if raw_t in (None, "None") else a.float("temperature")
        if op == "softmin":
            temperature = -temperature
        if temperature != 1.0:
            x = b.op(node, "Div", [x, b.const(node, "temperature", temperature)])[0]
        onnx_op = "LogSoftmax" if op == "log_softmax" else "Softmax"
        b.op(node, onnx_op, [x], b.outputs(node), axis=a.int("axis", -1))
