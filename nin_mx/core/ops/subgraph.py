"""MXNet 1.9.1's MKLDNN subgraph operators: a fused convolution or fully connected layer whose
node carries the graph it replaces (``_sg_mkldnn_conv``, ``_sg_mkldnn_fully_connected``, what
MXNet's quantization flow and GluonCV's ``*_int8`` models write).

Such a node's attributes are the fusion's flags (``with_bn``, ``quantized``, calibration
ranges...); the layer's own parameters (kernel, num_filter, no_bias) are those of the operators
of its subgraph, and its shapes are what inferring that subgraph gives
(``DefaultSubgraphOpShapeHelper`` in apache/mxnet 1.9.1 src/operator/subgraph/common.h), plus a
``(1,)`` minimum and maximum beside each quantized tensor. The subgraph comes with the node's
attributes (:class:`SubgraphAttrs`); the graph layer, which reads it, also infers it
(:class:`InnerGraph`): this module knows no graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from nin_mx.core import attrs as _attrs
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops._base import MaybeShape, assign

__all__ = [
    "RENAMED",
    "SUBGRAPH_OPS",
    "InnerGraph",
    "SubgraphAttrs",
    "check_subgraph_node",
    "register",
]

# Attributes a parser renames before it reads them, for files of older versions
# (apache/mxnet 1.9.1 src/operator/subgraph/mkldnn/mkldnn_conv.cc, SgMKLDNNConvParamParser;
# mkldnn_fc.cc, SgMKLDNNFCParamParser).
RENAMED: Mapping[str, Mapping[str, str]] = {
    "_sg_mkldnn_conv": {"with_relu": "with_act", "with_postsum_relu": "with_postsum_act"},
    "_sg_mkldnn_fully_connected": {"with_relu": "with_eltwise"},
}
SUBGRAPH_OPS = frozenset(RENAMED)
_MINMAX: MaybeShape = (1,)  # Shape1(1): a quantized tensor's minimum and maximum


class InnerGraph(Protocol):
    """A node's subgraph as the rules see it (made by the graph layer).

    Attributes:
        input_names: its variables, in MXNet's order (``ListInputNames(kAll)``).
        aux_slots: which of them an operator of the subgraph mutates (auxiliary states).
        num_heads: its outputs.
        ops: ``(operator, attributes)`` of each operator node, in MXNet's (DFS) order.
    """

    input_names: tuple[str, ...]
    aux_slots: tuple[int, ...]
    num_heads: int
    ops: tuple[tuple[str, Mapping[str, str]], ...]

    def infer(
        self, in_shapes: Sequence[MaybeShape], out_shapes: Sequence[MaybeShape]
    ) -> tuple[list[MaybeShape], list[MaybeShape]]:
        """Its inputs' and heads' shapes after MXNet's ``InferShape`` pass over it."""
        ...  # pragma: no cover - a protocol


class SubgraphAttrs(dict):
    """A node's attributes (``str -> str``) and the subgraphs its JSON holds: every reader of a
    node's attributes gets both, and two nodes of one setting share their answers only if their
    subgraphs are alike (:func:`nin_mx.core.ops.setting`)."""

    __slots__ = ("subgraphs",)

    def __init__(self, attrs: Mapping[str, str], subgraphs: tuple[InnerGraph, ...]) -> None:
        super().__init__(attrs)
        self.subgraphs = subgraphs


def _subgraphs(attrs: Mapping[str, str]) -> tuple[InnerGraph, ...]:
    return getattr(attrs, "subgraphs", ())


def _read(op: str, attrs: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, Any]:
    """The fusion's parameters (``MKLDNNConvParam``, ``MKLDNNFCParam``: dmlc ``Init``, after the
    renames of :data:`RENAMED`), defaults filled in."""
    raw = dict(attrs)
    for old, new in RENAMED[op].items():
        if old in raw:
            raw[new] = raw.pop(old)
    out: dict[str, Any] = {}
    for key, kind in fields.items():
        value = raw.get(key)
        where = f"attribute {key}"
        if kind == "bool":
            out[key] = False if value is None else _attrs.parse_bool(value, where=where)
        elif kind == "opt_bool":
            out[key] = _attrs.parse_optional_bool(value, where=where)
        else:
            out[key] = _attrs.parse_optional_float(value, where=where, single=True)
    return out


_CONV_FIELDS = {
    "with_bn": "bool",
    "with_act": "bool",
    "with_sum": "bool",
    "with_postsum_act": "bool",
    "quantized": "bool",
    "min_calib_range": "opt_float",
    "max_calib_range": "opt_float",
}
_FC_FIELDS = {
    "quantized": "bool",
    "enable_float_output": "bool",
    "with_eltwise": "bool",
    "min_calib_range": "opt_float",
    "max_calib_range": "opt_float",
    "channel_wise_quantize": "opt_bool",
}


class _Fusion(NamedTuple):
    """What a subgraph operator's parser makes of a node: its flags and the layer's no_bias."""

    flags: dict[str, Any]
    no_bias: bool
    inner: InnerGraph


_CACHE: dict[tuple, _Fusion] = {}


def _fusion(op: str, attrs: Mapping[str, str]) -> _Fusion:
    """``SgMKLDNNConvParamParser`` / ``SgMKLDNNFCParamParser``: the flags, and the parameters of
    the subgraph's Convolution (BatchNorm only with ``with_bn``) or FullyConnected.

    Raises:
        GraphError: as MXNet refuses the node when it loads it (``subgraphs.size() == 1``,
            a BatchNorm without ``with_bn``), and where MXNet crashes or reads memory it never
            set (no subgraph for a fully connected layer; no layer in the subgraph).
    """
    subgraphs = _subgraphs(attrs)
    key = (op, tuple(attrs.items()), subgraphs)
    found = _CACHE.get(key)
    if found is not None:
        return found
    conv = op == "_sg_mkldnn_conv"
    flags = _read(op, attrs, _CONV_FIELDS if conv else _FC_FIELDS)
    if conv and len(subgraphs) != 1:
        raise GraphError(f"holds {len(subgraphs)} subgraphs, MXNet's parser takes exactly 1")
    if not subgraphs:
        raise GraphError("holds no subgraph (MXNet's parser reads one without checking: a crash)")
    inner = subgraphs[0]
    layer = "Convolution" if conv else "FullyConnected"
    no_bias: bool | None = None
    batch_norms = 0
    for name, inner_attrs in inner.ops:
        if name == layer:
            raw = inner_attrs.get("no_bias")
            no_bias = False if raw is None else _attrs.parse_bool(raw, where="attribute no_bias")
        elif conv and name == "BatchNorm":
            batch_norms += 1
            if not flags["with_bn"]:
                raise GraphError("its subgraph holds a BatchNorm, but with_bn is not set")
            if batch_norms > 1:
                raise GraphError("its subgraph holds more than one BatchNorm")
    if no_bias is None:  # MXNet would read a parameter it never parsed
        raise GraphError(f"its subgraph holds no {layer}")
    found = _CACHE[key] = _Fusion(flags, no_bias, inner)
    if len(_CACHE) > 4096:
        _CACHE.clear()
    return found


def check_subgraph_node(op: str, attrs: Mapping[str, str]) -> None:
    """Runs the operator's parser on a node, as MXNet does when it loads the node.

    Raises:
        GraphError: the parser's refusal (see :func:`_fusion`).
    """
    _fusion(op, attrs)


# -- _sg_mkldnn_conv (apache/mxnet 1.9.1 src/operator/subgraph/mkldnn/mkldnn_conv.cc) -------------


def conv_inputs(attrs: Mapping[str, str]) -> tuple[str, ...]:
    """``SgMKLDNNConvListInputNames``; their count is checked against ``SgMKLDNNConvNumInputs``
    (the subgraph's inputs, plus data_min, data_max and, with a sum, sum_min, sum_max)."""
    fusion = _fusion("_sg_mkldnn_conv", attrs)
    flags = fusion.flags
    names = ["data", "weight", *(() if fusion.no_bias else ("bias",))]
    if flags["with_bn"]:
        names += ["gamma", "beta", "mean", "var"]
    if flags["with_sum"]:
        names.append("sum")
    extra = 0
    if flags["quantized"]:
        names += ["data_min", "data_max"]
        extra = 2
        if flags["with_sum"]:
            names += ["sum_min", "sum_max"]
            extra = 4
    expected = len(fusion.inner.input_names) + extra
    if len(names) != expected:
        raise GraphError(
            f"its flags name {len(names)} inputs ({', '.join(names)}), its subgraph makes {expected}"
        )
    return tuple(names)


def conv_outputs(attrs: Mapping[str, str]) -> int:
    return 3 if _fusion("_sg_mkldnn_conv", attrs).flags["quantized"] else 1


def _mutated(op: str) -> Callable[[Mapping[str, str]], tuple[int, ...]]:
    """``DefaultSubgraphOpMutableInputs``: the subgraph's auxiliary states, by input slot (none
    without a subgraph: such a node is refused when it is read)."""
    return lambda attrs: tuple(_fusion(op, attrs).inner.aux_slots) if _subgraphs(attrs) else ()


def _inner_shapes(
    inner: InnerGraph, ins: list[MaybeShape], outs: list[MaybeShape]
) -> tuple[list[MaybeShape], list[MaybeShape]]:
    """``DefaultSubgraphOpShapeHelper``: the subgraph inferred from the shapes given, merged back
    (``SHAPE_ASSIGN_CHECK``)."""
    if len(inner.input_names) != len(ins):
        raise ShapeError(f"its subgraph takes {len(inner.input_names)} inputs, it is given {len(ins)}")
    if inner.num_heads != len(outs):
        raise ShapeError(f"its subgraph has {inner.num_heads} outputs, the operator {len(outs)}")
    new_ins, new_outs = inner.infer(ins, outs)
    for i, shape in enumerate(new_ins):
        assign(ins, i, shape, f"input {i}")
    for i, shape in enumerate(new_outs):
        assign(outs, i, shape, f"output {i}")
    return ins, outs


def sg_conv(attrs: Mapping[str, str], ins: list, outs: list) -> tuple[list, list]:
    """``SgMKLDNNConvInferShape``: the subgraph's shapes; quantized, the last two inputs (four
    with a sum) and the outputs after the first are (1,)."""
    fusion = _fusion("_sg_mkldnn_conv", attrs)
    if not fusion.flags["quantized"]:
        return _inner_shapes(fusion.inner, ins, outs)
    extra = 4 if fusion.flags["with_sum"] else 2
    base_ins, base_outs = _inner_shapes(fusion.inner, ins[:-extra], outs[:1])
    ins[: len(base_ins)] = base_ins
    for i in range(len(ins) - extra, len(ins)):
        assign(ins, i, _MINMAX, f"input {i}")
    outs[0] = base_outs[0]
    assign(outs, 1, _MINMAX, "output 1")
    assign(outs, 2, _MINMAX, "output 2")
    return ins, outs


# -- _sg_mkldnn_fully_connected (apache/mxnet 1.9.1 src/operator/subgraph/mkldnn/mkldnn_fc.cc) -----


def _channel_wise(flags: Mapping[str, Any]) -> bool:
    return bool(flags["channel_wise_quantize"])


def fc_inputs(attrs: Mapping[str, str]) -> tuple[str, ...]:
    """``SgMKLDNNFCListInputNames``: the subgraph's inputs, then quantized min_data, max_data
    and (not channel-wise) min_weight, max_weight, and min_bias, max_bias with a bias."""
    fusion = _fusion("_sg_mkldnn_fully_connected", attrs)
    names = list(fusion.inner.input_names)
    if fusion.flags["quantized"]:
        names += ["min_data", "max_data"]
        if not _channel_wise(fusion.flags):
            names += ["min_weight", "max_weight", *(() if fusion.no_bias else ("min_bias", "max_bias"))]
    return tuple(names)


def fc_outputs(attrs: Mapping[str, str]) -> int:
    flags = _fusion("_sg_mkldnn_fully_connected", attrs).flags
    return 3 if flags["quantized"] and not flags["enable_float_output"] else 1


def sg_fc(attrs: Mapping[str, str], ins: list, outs: list) -> tuple[list, list]:
    """``SgMKLDNNFCInferShape``: the subgraph's shapes from the first 2 inputs (3 with a bias);
    quantized, every later input is (1,), and so are outputs 1 and 2 unless the output is float."""
    fusion = _fusion("_sg_mkldnn_fully_connected", attrs)
    flags = fusion.flags
    if not flags["quantized"]:
        return _inner_shapes(fusion.inner, ins, outs)
    base = 2 if fusion.no_bias else 3
    base_ins, base_outs = _inner_shapes(fusion.inner, ins[:base], outs[:1])
    ins[:base] = base_ins
    for i in range(base, len(ins)):
        assign(ins, i, _MINMAX, f"input {i}")
    outs[0] = base_outs[0]
    if not flags["enable_float_output"]:
        assign(outs, 1, _MINMAX, "output 1")
        assign(outs, 2, _MINMAX, "output 2")
    return ins, outs


def register(add: Callable[..., None], info: Any) -> None:
    """Adds the subgraph operators to the table (called once by :mod:`nin_mx.core.ops`)."""
    add(info("_sg_mkldnn_conv", sg_conv, conv_inputs, conv_outputs, mutated=_mutated("_sg_mkldnn_conv")))
    add(
        info(
            "_sg_mkldnn_fully_connected",
            sg_fc,
            fc_inputs,
            fc_outputs,
            mutated=_mutated("_sg_mkldnn_fully_connected"),
        )
    )
