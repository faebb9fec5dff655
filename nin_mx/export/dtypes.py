"""The element type of every value of an export, as MXNet 1.9.1's type inference gives it.

The graph's data inputs and weights are float32 (the export writes float32 initializers); an
operator's outputs have the type of its first input, except those that set a type of their own:
``Cast``, ``Embedding`` and ``_arange`` (``dtype``), ``shape_array`` and ``size_array`` (int64,
src/operator/tensor/elemwise_unary_op_basic.cc), the scalar operators on an integer input with
``is_int=False`` (float64: src/operator/tensor/elemwise_binary_scalar_op.h,
NumpyBinaryScalarType). A handler reads :func:`dtype_of` to write constants of the right type and
to cast a comparison's boolean back; the model's outputs are declared with :func:`onnx_type`,
and constants written with :func:`pack`.
"""

from __future__ import annotations

import math
import struct
import weakref
from collections.abc import Sequence
from typing import Any

from nin_mx.core.ops import OPS
from nin_mx.export import proto
from nin_mx.graph.nodes import Node

__all__ = ["DTYPES", "const_type", "dtype_of", "onnx_type", "out_dtype", "pack"]

DTYPES = {
    "float16": proto.FLOAT16,
    "float32": proto.FLOAT,
    "float64": proto.DOUBLE,
    "uint8": proto.UINT8,
    "int8": proto.INT8,
    "int32": proto.INT32,
    "int64": proto.INT64,
    "bool": proto.BOOL,
    "bfloat16": proto.BFLOAT16,
}
# the integer types' struct codes and widths
_INTS = {"uint8": ("B", 8, False), "int8": ("b", 8, True), "int32": ("i", 32, True), "int64": ("q", 64, True)}
_INTEGER = ("uint8", "int8", "int32", "int64")
_OWN_TYPE = {"shape_array": "int64", "size_array": "int64"}
_CACHE: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def _dtype_attr(node: Node) -> str:
    value = node.attrs.get("dtype", "float32")
    return value if value in DTYPES else "float32"


def _infer(nodes: Any) -> list[str]:
    found: list[str] = []
    for node in nodes:
        info = OPS.get(node.op)
        op = info.name if info is not None else node.op
        first = found[node.inputs[0]] if node.inputs else "float32"
        if node.is_variable:
            found.append("float32")
        elif op in ("Cast", "Embedding", "_arange"):
            found.append(_dtype_attr(node))
        elif op in _OWN_TYPE:
            found.append(_OWN_TYPE[op])
        elif op.endswith("_scalar") and first in (*_INTEGER, "bool"):
            is_int = str(node.attrs.get("is_int", "True")).lower() in ("true", "1")
            found.append("float64" if not is_int else ("int64" if first == "bool" else first))
        else:
            found.append(first)
    return found


def _types(b: Any) -> list[str]:
    if b not in _CACHE:
        _CACHE[b] = _infer(b.nodes)
    return _CACHE[b]


def out_dtype(b: Any, index: int) -> str:
    """MXNet's type of the outputs of node ``index`` (every output of a node has one type here)."""
    return _types(b)[index]


def dtype_of(b: Any, node: Node, j: int = 0) -> str:
    """MXNet's type of input ``j`` of ``node``."""
    return _types(b)[node.inputs[j]]


def onnx_type(dtype: str) -> int:
    """The ``TensorProto`` element type of an MXNet type name."""
    return DTYPES[dtype]


def const_type(dtype: str) -> str:
    """The type a constant of values of ``dtype`` is written in (bfloat16: float32, which ONNX
    constants then cast)."""
    return "float32" if dtype == "bfloat16" else dtype


def _to_int(value: float | int, bits: int, signed: bool) -> int:
    """``value`` as C (and numpy, on x86) converts it to an integer of ``bits``: truncated
    toward zero; NaN, an infinity or a value past a 32-bit (64-bit for int64) integer gives the
    "integer indefinite" value; then wrapped to the width."""
    wide = 64 if bits == 64 else 32
    if isinstance(value, float):
        whole = int(value) if math.isfinite(value) else None
        if whole is None or not -(2 ** (wide - 1)) <= whole < 2 ** (wide - 1):
            whole = -(2 ** (wide - 1))
    else:
        whole = int(value)
    whole &= (1 << bits) - 1
    return whole - (1 << bits) if signed and whole >= 1 << (bits - 1) else whole


def round_to(value: float | int, dtype: str) -> float | int:
    """``value`` as a value of MXNet type ``dtype`` (a float rounded to the type's nearest, an
    integer type's as :func:`pack` converts it): numpy's arithmetic in that type is an
    operation in Python's floats followed by this (exact for one +, -, * or /: a double holds
    more than twice a float32's or float16's digits)."""
    if dtype in ("float32", "bfloat16"):
        return struct.unpack("<f", proto.encode_float(float(value)))[0]
    if dtype == "float16":
        return struct.unpack("<e", pack([value], "float16"))[0]
    if dtype == "float64":
        return float(value)
    if dtype == "bool":
        return bool(value)
    _, bits, signed = _INTS[dtype]
    return _to_int(value, bits, signed)


def filled_tensor(data_type: int, value: int) -> proto.Tensor:
    """ConstantOfShape's ``value``: one element ``value`` (0 or 1) of ``data_type``, as
    ``onnx.helper.make_tensor("value", data_type, [1], [value])`` writes it, in the type's typed
    field (float_data, double_data, int64_data, else int32_data; a float16's and a bfloat16's
    bits in int32_data)."""
    if data_type == proto.FLOAT:
        return proto.Tensor("value", data_type, [1], typed=(4, [float(value)]))
    if data_type == proto.DOUBLE:
        return proto.Tensor("value", data_type, [1], typed=(10, [float(value)]))
    if data_type == proto.INT64:
        return proto.Tensor("value", data_type, [1], typed=(7, [value]))
    if data_type == proto.FLOAT16:
        bits = struct.unpack("<H", pack([value], "float16"))[0]
    elif data_type == proto.BFLOAT16:  # the upper half of the float32 (0 and 1 are exact)
        bits = struct.unpack("<I", pack([value], "float32"))[0] >> 16
    else:
        bits = int(value)
    return proto.Tensor("value", data_type, [1], typed=(5, [bits]))


def pack(values: Sequence[float | int], dtype: str) -> bytes:
    """The little-endian bytes of ``values`` in MXNet type ``dtype`` (float16, float32, float64,
    the integer types, bool): ``np.asarray(values, dtype).tobytes()``, without numpy. A float
    rounds to the nearest value of the type (past its largest, an infinity)."""
    if dtype in ("float32", "bfloat16"):
        return b"".join(proto.encode_float(float(v)) for v in values)
    if dtype == "float64":
        return struct.pack(f"<{len(values)}d", *map(float, values))
    if dtype == "float16":
        out = []
        for v in values:
            try:
                out.append(struct.pack("<e", float(v)))
            except OverflowError:  # numpy's cast: an infinity
                out.append(struct.pack("<e", math.copysign(math.inf, v)))
        return b"".join(out)
    if dtype == "bool":
        return bytes(1 if v else 0 for v in values)
    code, bits, signed = _INTS[dtype]
    return struct.pack(f"<{len(values)}{code}", *(_to_int(v, bits, signed) for v in values))
