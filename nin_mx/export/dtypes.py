"""The element type of every value of an export, as MXNet 1.9.1's type inference gives it.

The graph's data inputs and weights are float32 (the export writes float32 initializers); an
operator's outputs have the type of its first input, except those that set a type of their own:
``Cast``, ``Embedding`` and ``_arange`` (``dtype``), ``shape_array`` and ``size_array`` (int64,
src/operator/tensor/elemwise_unary_op_basic.cc), the scalar operators on an integer input with
``is_int=False`` (float64: src/operator/tensor/elemwise_binary_scalar_op.h,
NumpyBinaryScalarType). A handler reads :func:`dtype_of` to write constants of the right type and
to cast a comparison's boolean back; the model's outputs are declared with :func:`onnx_type`.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from onnx import TensorProto

from nin_mx.core.ops import OPS
from nin_mx.graph.nodes import Node

__all__ = ["DTYPES", "dtype_of", "numpy_type", "onnx_type", "out_dtype"]

DTYPES = {
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


def numpy_type(dtype: str) -> Any:
    """The numpy type of an MXNet type name (bfloat16: float32, which ONNX constants then cast)."""
    return np.float32 if dtype == "bfloat16" else np.dtype(dtype).type
