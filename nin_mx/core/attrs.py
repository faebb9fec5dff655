"""Names of the graph attributes nin_mx itself writes or reads, the kinds of attribute MXNet
1.9.1 declares, and the one strict reader of an MXNet attribute string by its kind (pure, no
MXNet).

:func:`parse_value` reads a value exactly as MXNet 1.9.1 reads a field of that kind, through the
readers of :mod:`nin_mx.core.readers` (dmlc-core's ``dmlc::Parameter`` and MXNet's
``include/mxnet/tuple.h``, copied), which this module also re-exports. A value MXNet would
refuse raises :class:`~nin_mx.core.errors.GraphError` naming the attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nin_mx.core.readers import (
    parse_bool,
    parse_char,
    parse_enum,
    parse_float,
    parse_int,
    parse_int_tuple,
    parse_optional_bool,
    parse_optional_float,
    parse_optional_int,
    parse_optional_int_tuple,
    parse_optional_tuple,
    parse_pointer,
    parse_shape,
    parse_tuple,
)

__all__ = [
    "BLOCK_ATTR",
    "KINDS",
    "parse_bool",
    "parse_enum",
    "parse_float",
    "parse_int",
    "parse_int_tuple",
    "parse_optional_bool",
    "parse_optional_float",
    "parse_optional_int",
    "parse_optional_int_tuple",
    "parse_optional_tuple",
    "parse_shape",
    "parse_tuple",
    "parse_value",
]

# The attribute our factories put on every node to say which block it belongs to (stem,
# mixed_5b, block35_3, ..., head); the blocks view groups by it. MXNet keeps attributes whose
# names start and end with two underscores in the saved JSON.
BLOCK_ATTR = "__block__"


# The kinds of attribute MXNet 1.9.1 declares (dmlc-core include/dmlc/type_traits.h and
# mxnet include/mxnet/tensor_blob.h name them: 'int', 'long', 'Shape(tuple)', 'int or None', ...).
# Three C++ types share the name 'Shape(tuple)' and two 'Shape or None':
# scripts/make_op_registry.py asks MXNet which one each attribute is.
KINDS = (
    "int",  # int
    "int64",  # int64_t ('long')
    "uint32",  # uint32_t ('int (non-negative)')
    "uint64",  # uint64_t ('long (non-negative)')
    "bool",
    "float",
    "double",
    "opt_int",  # dmlc::optional<int> ('int or None')
    "opt_int64",  # dmlc::optional<int64_t> (no type name: '')
    "opt_bool",
    "opt_float",
    "opt_double",
    "shape",  # mxnet::TShape, a Tuple<dim_t> ('Shape(tuple)')
    "tuple_int",  # mxnet::Tuple<int> ('Shape(tuple)')
    "tuple_opt_int",  # mxnet::Tuple<dmlc::optional<int>> ('Shape(tuple)')
    "tuple_int64",  # mxnet::Tuple<int64_t> ('tuple of <long>')
    "tuple_float",
    "tuple_double",
    "tuple_shape",  # mxnet::Tuple<TShape> ('tuple of <Shape(tuple)>')
    "opt_shape",  # dmlc::optional<TShape> ('Shape or None')
    "opt_tuple_int",  # dmlc::optional<mxnet::Tuple<int>> ('Shape or None')
    "opt_tuple_double",  # dmlc::optional<mxnet::Tuple<double>> (no type name: '')
    "opt_tuple_int64",  # dmlc::optional<mxnet::Tuple<int64_t>> (no type name: '')
    "char",  # char (no type name: ''): one character
    "enum",  # an int field with add_enum: exactly one of its names
    "opt_enum",  # an optional<int> field with add_enum: 'None' or one of its names
    "string",  # any text
    "ptr",  # void*
)
_TUPLE_ELEMENT = {
    "shape": "int64",
    "tuple_int": "int32",
    "tuple_opt_int": "opt_int",
    "tuple_int64": "int64",
    "tuple_float": "float",
    "tuple_double": "double",
    "tuple_shape": "shape",
}


_OPTIONAL_TUPLE_ELEMENT = {
    "opt_shape": "int64",
    "opt_tuple_int": "int32",
    "opt_tuple_double": "double",
    "opt_tuple_int64": "int64",
}


def parse_value(kind: str, raw: str, *, where: str = "", choices: Sequence[str] = ()) -> Any:
    """``raw`` read as MXNet 1.9.1 reads a field of ``kind`` (one of :data:`KINDS`; ``choices``
    for the enums): the value, or :class:`~nin_mx.core.errors.GraphError` in one line where
    MXNet refuses it. 'None' reads as None where the kind admits it."""
    if kind in ("int", "int64", "uint32", "uint64"):
        return parse_int(
            raw, where=where, bits=32 if kind in ("int", "uint32") else 64, unsigned=kind[0] == "u"
        )
    if kind == "bool":
        return parse_bool(raw, where=where)
    if kind in ("float", "double"):
        return parse_float(raw, where=where, single=kind == "float")
    if kind in ("opt_int", "opt_int64"):
        return parse_optional_int(raw, where=where, bits=32 if kind == "opt_int" else 64)
    if kind == "opt_bool":
        return parse_optional_bool(raw, where=where)
    if kind in ("opt_float", "opt_double"):
        return parse_optional_float(raw, where=where, single=kind == "opt_float")
    if kind in _TUPLE_ELEMENT:
        return parse_tuple(raw, _TUPLE_ELEMENT[kind], where=where)
    if kind in _OPTIONAL_TUPLE_ELEMENT:
        return parse_optional_tuple(raw, _OPTIONAL_TUPLE_ELEMENT[kind], where=where)
    if kind == "char":
        return parse_char(raw, where=where)
    if kind == "enum":
        return parse_enum(raw, choices, where=where)
    if kind == "opt_enum":
        return None if raw == "None" else parse_enum(raw, choices, where=where)
    if kind == "ptr":
        return parse_pointer(raw, where=where)
    if kind == "string":
        return raw
    raise ValueError(f"unknown attribute kind {kind!r}")
