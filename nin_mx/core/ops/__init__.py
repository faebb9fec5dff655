"""THE operator table of nin_mx: one :class:`OpInfo` per MXNet 1.9.1 operator (aliases resolved).

Each entry carries the operator's shape rule (MXNet's ``FInferShape``, rewritten in pure Python
from ``src/operator/``), its input names (``FListInputNames``), its number of outputs and of
visible outputs (``FNumVisibleOutputs``: what ``get_internals()`` shows), the inputs it mutates
(``FMutateInputs``: auxiliary states), and two tags for the report: ``spatial`` and ``macs``.

A rule is called as ``rule(attrs, in_shapes, out_shapes)`` (``out_shapes`` optional) and returns
``(in_shapes, out_shapes)`` completed with what it could infer; see :mod:`nin_mx.core.ops._base`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from nin_mx.core.ops import contrib, nn, subgraph, tensor
from nin_mx.core.ops._base import AxisError, MaybeShape, setting

__all__ = ["OPS", "AxisError", "OpInfo", "op_info", "setting"]

Attrs = Mapping[str, str]


def _one(attrs: Attrs) -> int:
    return 1


def _data(attrs: Attrs) -> tuple[str, ...]:
    return ("data",)


@dataclass(frozen=True)
class OpInfo:
    """What nin_mx knows of one operator.

    Attributes:
        name: MXNet's registered name (aliases map to the same OpInfo).
        rule: the shape rule, ``rule(attrs, in_shapes, out_shapes=None) -> (in_shapes, out_shapes)``.
        input_names: ``FListInputNames`` as a function of the attributes.
        num_outputs: all outputs, as a function of the attributes.
        num_visible: the outputs ``get_internals()`` shows (``FNumVisibleOutputs``).
        mutated: indices of the inputs the operator mutates (auxiliary states), by attributes.
        spatial: 'keeps' (output has its first input's spatial size), 'merges' (combines inputs
            of one spatial size), 'windowed' (convolution/pooling), or 'other'.
        macs: None, or how the report counts multiply-accumulates: 'conv', 'deconv', 'fc'.
        variadic: the inputs are a list (Concat, add_n): their count comes from the graph.
        var_init: ``(input name, __init__)`` pairs: the ``__init__`` attribute MXNet gives a variable
            it creates for a left-out input (the operator's ``FSetInputVarAttrOnCompose``).
        output_names: the names of its first outputs where MXNet lists them (``list_outputs()``
            says ``<node>_<name>``); empty: ``output``, ``output0``, ``output1``, ...
    """

    name: str
    rule: Callable[..., tuple[list[MaybeShape], list[MaybeShape]]]
    input_names: Callable[[Attrs], tuple[str, ...]] = _data
    num_outputs: Callable[[Attrs], int] = _one
    num_visible: Callable[[Attrs], int] | None = None
    mutated: Callable[[Attrs], tuple[int, ...]] | tuple[int, ...] = ()
    spatial: str = "other"
    macs: str | None = None
    variadic: bool = False
    var_init: tuple[tuple[str, str], ...] = ()
    output_names: tuple[str, ...] = ()

    def shapes(
        self, attrs: Attrs, in_shapes: list[MaybeShape], out_shapes: list[MaybeShape] | None = None
    ) -> tuple[list[MaybeShape], list[MaybeShape]]:
        """Runs the rule on copies; unknown outputs default to None."""
        outs = list(out_shapes) if out_shapes is not None else [None] * self.num_outputs(attrs)
        return self.rule(attrs, list(in_shapes), outs)

    def visible(self, attrs: Attrs) -> int:
        return self.num_outputs(attrs) if self.num_visible is None else self.num_visible(attrs)

    def mutated_inputs(self, attrs: Attrs) -> tuple[int, ...]:
        return self.mutated(attrs) if callable(self.mutated) else self.mutated


def _const(n: int) -> Callable[[Attrs], int]:
    return lambda attrs: n


def _names(*names: str) -> Callable[[Attrs], tuple[str, ...]]:
    return lambda attrs: names


_TABLE: dict[str, OpInfo] = {}


def _add(info: OpInfo, *aliases: str) -> None:
    for name in (info.name, *aliases):
        if name in _TABLE:
            raise RuntimeError(f"operator {name} registered twice")
        _TABLE[name] = info


# -- nn -------------------------------------------------------------------------------------------
_add(
    OpInfo("Convolution", nn.convolution, nn.conv_inputs, spatial="windowed", macs="conv"), "_npx_convolution"
)
_add(
    OpInfo("Deconvolution", nn.deconvolution, nn.deconv_inputs, spatial="windowed", macs="deconv"),
    "_npx_deconvolution",
)
_add(
    OpInfo("Pooling", nn.pooling, num_outputs=nn.pool_outputs, num_visible=_one, spatial="windowed"),
    "_npx_pooling",
)
_add(OpInfo("FullyConnected", nn.fully_connected, nn.fc_inputs, macs="fc"), "_npx_fully_connected")
_add(
    OpInfo(
        "BatchNorm",
        nn.batch_norm,
        _names("data", "gamma", "beta", "moving_mean", "moving_var"),
        _const(3),
        nn.bn_visible,
        (3, 4),
        spatial="keeps",
        # apache/mxnet 1.9.1 src/operator/nn/batch_norm.cc, FSetInputVarAttrOnCompose
        var_init=(("moving_mean", '["zero", {}]'), ("moving_var", '["one", {}]')),
    ),
    "_npx_batch_norm",
)
_add(
    OpInfo(
        "_contrib_SyncBatchNorm",
        nn.batch_norm,
        _names("data", "gamma", "beta", "moving_mean", "moving_var"),
        _const(3),
        nn.bn_visible,
        (3, 4),
        spatial="keeps",
    )
)
_add(
    OpInfo(
        "LayerNorm", nn.layer_norm, _names("data", "gamma", "beta"), _const(3), nn.ln_visible, spatial="keeps"
    ),
    "_npx_layer_norm",
)
_add(
    OpInfo(
        "GroupNorm", nn.group_norm, _names("data", "gamma", "beta"), _const(3), nn.ln_visible, spatial="keeps"
    )
)
_add(
    OpInfo(
        "InstanceNorm", nn.instance_norm, _names("data", "gamma", "beta"), _const(3), _one, spatial="keeps"
    )
)
_add(OpInfo("Activation", nn.activation, spatial="keeps"), "_npx_activation")
_add(
    OpInfo(
        "LeakyReLU",
        nn.leaky_relu,
        nn.leaky_inputs,
        nn.leaky_outputs,
        spatial="keeps",
        # apache/mxnet 1.9.1 src/operator/leaky_relu.cc, FSetInputVarAttrOnCompose (prelu's gamma)
        var_init=(("gamma", '["Constant", {"value": 0.25}]'),),
    ),
    "_npx_leaky_relu",
)
_add(OpInfo("Dropout", nn.dropout, num_outputs=_const(2), num_visible=_one, spatial="keeps"), "_npx_dropout")
_add(OpInfo("LRN", nn.lrn, num_outputs=_const(2), num_visible=_one, spatial="keeps"))
_add(OpInfo("SoftmaxOutput", nn.softmax_output, _names("data", "label"), spatial="keeps"), "Softmax")
_add(OpInfo("SoftmaxActivation", nn.softmax_activation, spatial="keeps"))
for _name in ("softmax", "log_softmax", "softmin"):
    _add(OpInfo(_name, nn.softmax, spatial="keeps"), *((f"_npx_{_name}",) if _name != "softmin" else ()))
for _name in ("LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"):
    _add(OpInfo(_name, nn.regression_output, _names("data", "label")))

# -- tensor ---------------------------------------------------------------------------------------
_UNARY = """_copy identity BlockGrad stop_gradient relu sigmoid tanh softsign abs exp log sqrt square negative
    rsqrt cbrt rcbrt reciprocal sign round rint ceil floor trunc fix log2 log10 log1p expm1 sin cos tan
    arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh degrees radians gamma gammaln erf erfinv
    hard_sigmoid make_loss zeros_like ones_like logical_not""".split()
_UNARY_ALIASES = {"_copy": ("identity",), "BlockGrad": ("stop_gradient",)}
for _name in dict.fromkeys(_UNARY):
    if _name in ("identity", "stop_gradient") or _name in _TABLE:
        continue
    _add(OpInfo(_name, tensor.unary, spatial="keeps"), *_UNARY_ALIASES.get(_name, ()))

_SCALAR = {
    "_plus_scalar": ("_PlusScalar",),
    "_minus_scalar": ("_MinusScalar",),
    "_rminus_scalar": ("_RMinusScalar",),
    "_mul_scalar": ("_MulScalar",),
    "_div_scalar": ("_DivScalar",),
    "_rdiv_scalar": ("_RDivScalar",),
    "_power_scalar": ("_PowerScalar",),
    "_rpower_scalar": ("_RPowerScalar",),
    "_maximum_scalar": ("_MaximumScalar",),
    "_minimum_scalar": ("_MinimumScalar",),
    "_mod_scalar": ("_ModScalar",),
    "_rmod_scalar": ("_RModScalar",),
    "_equal_scalar": ("_EqualScalar",),
    "_not_equal_scalar": ("_NotEqualScalar",),
    "_greater_scalar": ("_GreaterScalar",),
    "_greater_equal_scalar": ("_GreaterEqualScalar",),
    "_lesser_scalar": ("_LesserScalar",),
    "_lesser_equal_scalar": ("_LesserEqualScalar",),
    "_hypot_scalar": ("_HypotScalar",),
}
for _name, _aliases in _SCALAR.items():
    _add(OpInfo(_name, tensor.scalar, spatial="keeps"), *_aliases)
_add(OpInfo("clip", tensor.clip, spatial="keeps"))
_add(OpInfo("Flatten", tensor.flatten), "flatten")
_add(OpInfo("Concat", tensor.concat, tensor.concat_inputs, spatial="merges", variadic=True), "concat")
_add(OpInfo("_npi_concatenate", tensor.np_concatenate, tensor.np_concat_inputs, variadic=True))
_BINARY = {
    "elemwise_add": ("_add", "_plus", "_Plus"),
    "elemwise_sub": ("_sub", "_minus", "_Minus"),
    "elemwise_mul": ("_mul", "_Mul"),
    "elemwise_div": ("_div", "_Div"),
    "_mod": ("_Mod",),
    "_power": ("_Power",),
    "_maximum": ("_Maximum",),
    "_minimum": ("_Minimum",),
    "_hypot": ("_Hypot",),
    "_equal": (),
    "_not_equal": (),
    "_greater": (),
    "_greater_equal": (),
    "_lesser": (),
    "_lesser_equal": (),
}
for _name, _aliases in _BINARY.items():
    _add(OpInfo(_name, tensor.binary, _names("lhs", "rhs"), spatial="merges"), *_aliases)
_add(OpInfo("add_n", tensor.add_n, tensor.add_n_inputs, spatial="merges", variadic=True), "ElementWiseSum")
_BROADCAST = {
    "broadcast_add": ("broadcast_plus",),
    "broadcast_sub": ("broadcast_minus",),
    "broadcast_mul": (),
    "broadcast_div": (),
    "broadcast_mod": (),
    "broadcast_power": (),
    "broadcast_maximum": (),
    "broadcast_minimum": (),
    "broadcast_hypot": (),
    "broadcast_equal": (),
    "broadcast_not_equal": (),
    "broadcast_greater": (),
    "broadcast_greater_equal": (),
    "broadcast_lesser": (),
    "broadcast_lesser_equal": (),
    "broadcast_logical_and": (),
    "broadcast_logical_or": (),
    "broadcast_logical_xor": (),
}
for _name, _aliases in _BROADCAST.items():
    _add(OpInfo(_name, tensor.broadcast, _names("lhs", "rhs"), spatial="keeps"), *_aliases)
_add(OpInfo("Reshape", tensor.reshape), "reshape")
_add(OpInfo("SliceChannel", tensor.split, num_outputs=tensor.split_outputs), "split")
_add(OpInfo("slice_axis", tensor.slice_axis))
_add(OpInfo("transpose", tensor.transpose))
_add(OpInfo("expand_dims", tensor.expand_dims))
_add(OpInfo("SwapAxis", tensor.swapaxis), "swapaxes")
for _name in ("sum", "mean", "prod", "nansum", "nanprod", "max", "min"):
    _add(
        OpInfo(_name, tensor.reduce),
        *{"sum": ("sum_axis",), "max": ("max_axis",), "min": ("min_axis",)}.get(_name, ()),
    )
_add(OpInfo("Cast", tensor.cast, spatial="keeps"), "cast")
_add(OpInfo("broadcast_like", tensor.broadcast_like, _names("lhs", "rhs")))
_add(OpInfo("reshape_like", tensor.reshape_like, _names("lhs", "rhs")))
_add(OpInfo("broadcast_to", tensor.broadcast_to))

contrib.register(_add, OpInfo, _names, _const, _one)
subgraph.register(_add, OpInfo)

# The output names of the operators whose MXNet 1.9.1 registration lists them: apache/mxnet
# 1.9.1 src/operator/, ``FListOutputNames`` (nn/batch_norm.cc, nn/layer_norm.cc, nn/group_norm.cc,
# nn/dropout.cc, nn/lrn.cc, nn/pooling.cc, leaky_relu.cc, ...) or, for a legacy operator,
# ``OperatorProperty::ListOutputs`` (instance_norm, l2_normalization, roi_pooling, contrib's
# multibox_target, proposal, multi_proposal, deformable_psroi_pooling, sync_batch_norm). The
# first ones MXNet shows are enough; tests/test_onnx_heads.py checks each against MXNet.
_OUTPUT_NAMES = {
    "BatchNorm": ("output", "mean", "var"),
    "_contrib_SyncBatchNorm": ("output",),
    "LayerNorm": ("output", "mean", "std"),
    "GroupNorm": ("output", "mean", "std"),
    "InstanceNorm": ("output",),
    "LeakyReLU": ("output", "mask"),
    "Dropout": ("output",),
    "LRN": ("output",),
    "Pooling": ("output",),
    "L2Normalization": ("output",),
    "ROIPooling": ("output",),
    "_contrib_DeformablePSROIPooling": ("output",),
    "_contrib_MultiBoxTarget": ("loc_target", "loc_mask", "cls_target"),
    "_contrib_MultiProposal": ("output", "score"),
    "_contrib_Proposal": ("output", "score"),
    "_contrib_quantized_pooling": ("output", "min_output", "max_output"),
}
_named = {
    name: dataclasses.replace(_TABLE[name], output_names=names) for name, names in _OUTPUT_NAMES.items()
}
for _key, _info in _TABLE.items():
    if _info.name in _named:  # an operator and its aliases: one OpInfo
        _TABLE[_key] = _named[_info.name]

OPS: Mapping[str, OpInfo] = MappingProxyType(_TABLE)


def op_info(name: str) -> OpInfo | None:
    """The OpInfo of an operator or of one of its aliases; None when nin_mx has no rule."""
    return _TABLE.get(name)
