"""MXNet 1.9.1's own list of operators and of the attributes each takes, checked before anything
executes a graph (pure; the list is data, written by ``scripts/make_op_registry.py`` from
MXNet's C API ``MXSymbolGetAtomicSymbolInfo``).

:func:`check_node` refuses, in one line naming the node, an operator MXNet does not have, an
attribute its operator does not take, a required attribute that is missing, and a value the
attribute's type does not admit, read by the one strict reader of :mod:`nin_mx.core.attrs`
(``'+0'`` and ``' 3'`` as MXNet reads them; ``'0x10'`` or ``'1e3'`` for an integer refused).
So neither the engine nor MXNet ever sees a value it would read differently or crash on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nin_mx.core import attrs as _attrs
from nin_mx.core.errors import GraphError
from nin_mx.core.ops.subgraph import RENAMED, SUBGRAPH_OPS, check_subgraph_node

__all__ = ["attr_kind", "check_node", "crash_bound", "mxnet_operators", "read_attr"]

_DATA = Path(__file__).with_name("mxnet_registry.json")
# Keys MXNet moves out of the way before it parses attributes (kHiddenKeys in MXNet's
# src/nnvm/legacy_json_util.cc and c_api_symbolic.cc), alone or as a suffix (weight_lr_mult).
_HIDDEN = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")
# Attributes MXNet 1.9.1 divides by without checking them first (a SIGFPE, no message): the
# lowest value nin_mx lets through, beyond the bounds MXNet's parser declares itself.
# (src/operator/nn/convolution.cc and deconvolution-inl.h: num_group; nn/group_norm-inl.h:
# num_groups; correlation-inl.h: stride1, stride2, kernel_size; contrib/deformable_convolution:
# num_group, num_deformable_group.)
_CRASH_BOUNDS: Mapping[str, Mapping[str, int]] = {
    "Convolution": {"num_group": 1},
    "Deconvolution": {"num_group": 1},
    "GroupNorm": {"num_groups": 1},
    "Correlation": {"stride1": 1, "stride2": 1, "kernel_size": 1},
    "_contrib_DeformableConvolution": {"num_group": 1, "num_deformable_group": 1},
    "_contrib_ModulatedDeformableConvolution": {"num_group": 1, "num_deformable_group": 1},
}
# Operators whose attributes are free-form (their parser takes any key).
_NONE: Mapping[str, str] = {}
_FREE_FORM = frozenset({"Custom", "_CustomFunction", "_CachedOp", "_foreach", "_while_loop", "_cond"})


# Operators whose listed arguments (MXSymbolGetAtomicSymbolInfo: the fields given to add_arguments)
# are not the fields their attr_parser reads: the parser's fields (apache/mxnet 1.9.1).
# _npi_concatenate lists ConcatParam's (num_args, dim) and parses NumpyConcatenateParam
# (src/operator/numpy/np_matrix_op.cc and np_matrix_op-inl.h), which refuses 'dim'; _linspace
# (alias _npi_linspace) lists RangeParam's and parses LinspaceParam (src/operator/tensor/init_op.cc
# and init_op.h); _contrib_SparseEmbedding lists EmbeddingParam's and parses SparseEmbeddingParam
# (src/operator/tensor/indexing_op.cc and indexing_op.h: 'deterministic', five dtypes).
_ALL_TYPES = (
    "{'bfloat16', 'float16', 'float32', 'float64', 'int32', 'int64', 'int8', 'uint8'},"
    "optional, default='float32'"
)
_LINSPACE = {
    "ctx": ("string, optional, default=''", "string"),
    "dtype": (_ALL_TYPES, "enum"),
    "endpoint": ("boolean, optional, default=1", "bool"),
    "num": ("int, required", "int"),
    "start": ("double, required", "double"),
    "stop": ("double, required", "double"),
}
_PARSED_FIELDS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "_npi_concatenate": {
        "axis": ("int or None, optional, default='0'", "opt_int"),
        "num_args": ("int, required", "int"),
    },
    "_linspace": _LINSPACE,
    "_npi_linspace": _LINSPACE,
    "_contrib_SparseEmbedding": {
        "deterministic": ("boolean, optional, default=0", "bool"),
        "dtype": ("{'float16', 'float32', 'float64', 'int32', 'uint8'},optional, default='float32'", "enum"),
        "input_dim": ("int, required", "int"),
        "output_dim": ("int, required", "int"),
    },
}


@functools.lru_cache(maxsize=1)
def _registry() -> Mapping[str, Any]:
    with open(_DATA, encoding="utf-8") as handle:
        operators = json.load(handle)["operators"]
    for op, fields in _PARSED_FIELDS.items():
        entry = operators[op]
        entry["params"] = {key: described for key, (described, _) in fields.items()}
        entry["kinds"] = {key: kind for key, (_, kind) in fields.items()}
    return operators


def mxnet_operators() -> frozenset[str]:
    """Every operator name MXNet 1.9.1 registers (aliases included)."""
    return frozenset(_registry())


def _hidden(key: str) -> bool:
    return (key.startswith("__") and key.endswith("__")) or any(
        key == hidden or key.endswith("_" + hidden) for hidden in _HIDDEN
    )


@functools.cache
def _choices(kind: str) -> tuple[str, ...]:
    """The names of an enum's description ``{None, 'NCHW', 'NHWC'},optional, default='None'``
    (``None`` included: ``FieldEntry<optional<int>>`` takes it)."""
    return tuple(c.strip().strip("'") for c in kind[1 : kind.index("}")].split(","))


def _kind(entry: Mapping[str, Any], key: str, described: str) -> str:
    """The attribute's kind (:data:`nin_mx.core.attrs.KINDS`): as MXNet's probe settled it, or
    from its type name alone for an operator the probe could not run."""
    kind = entry.get("kinds", {}).get(key)
    if kind is not None:
        return kind
    head = described.split(",")[0].strip()
    if described.startswith("{"):
        return "opt_enum" if described.startswith("{None") else "enum"
    return _FALLBACK.get(head, "string")


_FALLBACK = {
    "int": "int",
    "long": "int64",
    "int (non-negative)": "uint32",
    "long (non-negative)": "uint64",
    "boolean": "bool",
    "float": "float",
    "double": "double",
    "int or None": "opt_int",
    "boolean or None": "opt_bool",
    "float or None": "opt_float",
    "double or None": "opt_double",
    "Shape(tuple)": "shape",
    "Shape or None": "opt_shape",
    "tuple of <float>": "tuple_float",
    "tuple of <double>": "tuple_double",
    "tuple of <long>": "tuple_int64",
}


def attr_kind(op: str, key: str) -> tuple[str, tuple[str, ...]] | None:
    """The kind of ``op``'s attribute ``key`` and, for an enum, its names; None if MXNet's
    ``op`` takes no such attribute."""
    entry = _registry().get(op)
    described = entry["params"].get(key) if entry is not None else None
    if described is None:
        return None
    kind = _kind(entry, key, described)
    return kind, (_choices(described) if kind in ("enum", "opt_enum") else ())


def read_attr(op: str, key: str, raw: str) -> Any:
    """``raw`` read as MXNet 1.9.1 reads ``op``'s attribute ``key`` (dmlc's ``FieldEntry`` of the
    attribute's C++ type): the value, None for 'None' where the type admits it.

    Raises:
        GraphError: ``attribute begin='(1 2)' is not a tuple of integers or None`` and the like.
    """
    found = attr_kind(op, key)
    if found is None:
        raise GraphError(f"MXNet 1.9.1's {op} takes no attribute {key!r}")
    kind, choices = found
    return _attrs.parse_value(kind, raw, where=f"attribute {key}", choices=choices)


def crash_bound(op: str, key: str) -> int | None:
    """The lowest value nin_mx lets through where MXNet 1.9.1 takes a lower one and then crashes
    (divides by it): None where MXNet's own parser bounds the attribute, or nothing does."""
    return _CRASH_BOUNDS.get(op, {}).get(key)


def _check_range(name: str, op: str, entry: Mapping[str, Any], key: str, raw: str, value: float) -> None:
    """MXNet's range check (``FieldEntryNumeric::Check``: ``set_range``, ``set_lower_bound``),
    then the bounds that keep MXNet from crashing (:data:`_CRASH_BOUNDS`)."""
    low, high = entry.get("ranges", {}).get(key, (None, None))
    crash = crash_bound(op, key)
    if low is None:
        low = entry.get("lower_bounds", {}).get(key)
    if crash is not None and (low is None or crash > low):
        low = crash
    if low is not None and value < low:
        raise GraphError(f"node '{name}' ({op}): attribute {key}={raw!r} must be at least {low}")
    if high is not None and value > high:
        raise GraphError(f"node '{name}' ({op}): attribute {key}={raw!r} must be at most {high}")


def check_node(name: str, op: str, attrs: Mapping[str, str]) -> None:
    """Checks one operator node against MXNet 1.9.1's registry.

    Raises:
        GraphError: ``node 'relu1': MXNet 1.9.1 has no operator FancyConvolution``,
            ``node 'conv1' (Convolution): attribute num_filter='0' must be at least 1``,
            ``node 'conv1' (Convolution): no attribute 'colour' (it takes ...)``,
            ``node 'conv1' (Convolution): attribute num_group='0x10' is not an integer``.
    """
    entry = _registry().get(op)
    if entry is None:
        raise GraphError(f"node '{name}': MXNet 1.9.1 has no operator {op}")
    params: Mapping[str, str] = entry["params"]
    if op in _FREE_FORM or not params or entry.get("free_form"):
        return  # MXNet's parser takes any attribute here (or parses none)
    renamed = RENAMED.get(op, _NONE)
    for key, raw in attrs.items():
        if _hidden(key):
            continue
        kind = params.get(renamed.get(key, key))
        if kind is None:
            raise GraphError(
                f"node '{name}' ({op}): no attribute {key!r} (it takes {', '.join(sorted(params))})"
            )
        kind_of = _kind(entry, renamed.get(key, key), kind)
        choices = _choices(kind) if kind_of in ("enum", "opt_enum") else ()
        try:
            value = _attrs.parse_value(kind_of, raw, where=f"attribute {key}", choices=choices)
        except GraphError as exc:
            raise GraphError(f"node '{name}' ({op}): {exc}") from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _check_range(name, op, entry, key, raw, value)
    for key, kind in params.items():
        if "required" in kind and key not in attrs and key != entry.get("num_args"):
            raise GraphError(f"node '{name}' ({op}): the required attribute {key} is missing")
    if op in SUBGRAPH_OPS:
        try:
            check_subgraph_node(op, attrs)
        except GraphError as exc:
            raise GraphError(f"node '{name}' ({op}): {exc}") from None
