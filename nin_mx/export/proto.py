"""ONNX's protobuf messages, as far as an export writes them, without onnx, protobuf or numpy.

An export builds its model from these classes and writes it with :mod:`nin_mx.export.save`, so
the CLI's ``--onnx`` imports neither onnx nor numpy (together most of an export's time).
:meth:`Model.to_onnx` gives the ``onnx.ModelProto`` the API returns.

The bytes are protobuf's own encoding of onnx/onnx.proto (proto2), field for field as
``SerializeToString()`` writes them (tests/test_onnx_proto.py holds every message against
onnx's): fields in the order of their numbers, a field written when it is set (also to 0 or
``""``, as proto2's explicit presence has it), repeated scalars one tag each except the
``[packed = true]`` ones (TensorProto's ``float_data``, ``int32_data``, ``int64_data``,
``double_data``), a negative integer as its 64-bit two's complement in ten bytes, a float as
the IEEE single it rounds to (to the nearest, beyond the largest single: infinite).

Field numbers and enum values: onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
OperatorSetIdProto, StringStringEntryProto); the IR version an opset needs: onnx's
docs/Versioning.md (released versions table), as ``onnx.helper.find_min_ir_version_for``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "Attribute",
    "Model",
    "Tensor",
    "ValueInfo",
    "encode_float",
    "field",
    "ir_version",
    "node",
    "varint",
]

# TensorProto.DataType
FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL, FLOAT16, DOUBLE = range(1, 12)
UINT32, UINT64, BFLOAT16 = 12, 13, 16
EXTERNAL = 1  # TensorProto.DataLocation
# AttributeProto.AttributeType
A_FLOAT, A_INT, A_STRING, A_TENSOR = 1, 2, 3, 4
A_FLOATS, A_INTS, A_STRINGS = 6, 7, 8

# the first IR version of each default-domain opset nin_mx writes (onnx docs/Versioning.md)
_IR_VERSIONS = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}

_U64 = (1 << 64) - 1
_PACK_F = struct.Struct("<f").pack


def ir_version(opset: int) -> int:
    """The IR version of a model of the default domain at ``opset`` (13 to 21)."""
    return _IR_VERSIONS[opset]


_SMALL = tuple(bytes((i,)) for i in range(0x80))


def varint(value: int) -> bytes:
    """Protobuf's base-128 varint; a negative value as its 64-bit two's complement."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    value &= _U64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_float(value: float) -> bytes:
    """``value`` as the little-endian IEEE single it rounds to (infinite past the largest)."""
    try:
        return _PACK_F(value)
    except OverflowError:  # a finite double past the singles: protobuf's (float) cast gives inf
        return _PACK_F(float("inf") if value > 0 else float("-inf"))


_TAGS = {n: varint(n << 3 | 2) for n in range(1, 16)}


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a string, bytes or a message)."""
    size = len(payload)
    return _TAGS[number] + (_SMALL[size] if size < 0x80 else varint(size)) + payload


def _text(number: int, text: str) -> bytes:
    return field(number, text.encode("utf-8"))


def _int(number: int, value: int) -> bytes:
    return _SMALL[number << 3] + varint(value)


class Tensor:
    """A TensorProto: ``dims``, ``data_type``, ``name`` and its data as ``raw`` bytes (``None``:
    none, e.g. a weight the export left to be copied from the checkpoint when it is written),
    or as ``typed`` values in one of the typed fields (``onnx.helper.make_tensor``'s way:
    ``(field number, values)``, field 4 float_data, 5 int32_data, 7 int64_data, 10
    double_data)."""

    __slots__ = ("data_type", "dims", "name", "raw", "typed")

    def __init__(
        self,
        name: str = "",
        data_type: int = 0,
        dims: Sequence[int] = (),
        raw: bytes | None = None,
        typed: tuple[int, Sequence[Any]] | None = None,
    ) -> None:
        self.name, self.data_type, self.dims = name, data_type, list(dims)
        self.raw, self.typed = raw, typed

    def head(self) -> bytes:
        """Its fields but ``raw_data`` (9), in their numbers' order: dims (1), data_type (2),
        name (8), the typed data (4, 5 or 7 before the name, 10 after it)."""
        out = [b"\x08" + varint(d) for d in self.dims]
        out.append(_int(2, self.data_type))
        name = _text(8, self.name)
        if self.typed is None:
            out.append(name)
            return b"".join(out)
        number, values = self.typed
        if number == 4:
            packed = b"".join(encode_float(v) for v in values)
        elif number == 10:
            packed = struct.pack(f"<{len(values)}d", *values)
        else:
            packed = b"".join(varint(v) for v in values)
        out += [field(number, packed), name] if number < 8 else [name, field(number, packed)]
        return b"".join(out)

    def encode(self) -> bytes:
        """The whole message (``raw`` included when there is one)."""
        head = self.head()
        return head if self.raw is None else head + field(9, self.raw)


class Attribute:
    """An AttributeProto: ``name``, its ``kind`` (AttributeProto.AttributeType) and value."""

    __slots__ = ("kind", "name", "value")

    def __init__(self, name: str, kind: int, value: Any) -> None:
        self.name, self.kind, self.value = name, kind, value

    @classmethod
    def of(cls, name: str, value: Any) -> Attribute:
        """The attribute ``onnx.helper.make_attribute(name, value)`` makes, for the values an
        export writes: an int (bool included), a float, a string, a :class:`Tensor`, and a
        non-empty list of ints, of numbers (floats) or of strings."""
        if isinstance(value, int):
            return cls(name, A_INT, int(value))
        if isinstance(value, float):
            return cls(name, A_FLOAT, value)
        if isinstance(value, (str, bytes)):
            return cls(name, A_STRING, value)
        if isinstance(value, Tensor):
            return cls(name, A_TENSOR, value)
        values = list(value)
        if values and all(isinstance(v, int) for v in values):
            return cls(name, A_INTS, [int(v) for v in values])
        if values and all(isinstance(v, (int, float)) for v in values):
            return cls(name, A_FLOATS, [float(v) for v in values])
        if values and all(isinstance(v, (str, bytes)) for v in values):
            return cls(name, A_STRINGS, values)
        raise TypeError(f"attribute {name}: no ONNX attribute type for {value!r}")

    def encode(self) -> bytes:
        kind, value = self.kind, self.value
        out = _text(1, self.name)
        if kind == A_FLOAT:
            out += b"\x15" + encode_float(value)
        elif kind == A_INT:
            out += _int(3, value)
        elif kind == A_STRING:
            out += field(4, value.encode("utf-8") if isinstance(value, str) else value)
        elif kind == A_TENSOR:
            out += field(5, value.encode())
        elif kind == A_FLOATS:
            out += b"".join(b"\x3d" + encode_float(v) for v in value)
        elif kind == A_INTS:
            out += b"".join(b"\x40" + varint(v) for v in value)
        elif kind == A_STRINGS:
            out += b"".join(field(9, v.encode("utf-8") if isinstance(v, str) else v) for v in value)
        return out + b"\xa0\x01" + varint(kind)  # type (20)


def node(
    op_type: str, inputs: Iterable[str], outputs: Iterable[str], name: str, attributes: Iterable[bytes]
) -> bytes:
    """A NodeProto's bytes (no domain: the default one); ``attributes``: each
    :meth:`Attribute.encode`'s bytes."""
    out = [_text(1, v) for v in inputs]
    out += [_text(2, v) for v in outputs]
    out.append(_text(3, name))
    out.append(_text(4, op_type))
    out += [field(5, a) for a in attributes]
    return b"".join(out)


class ValueInfo:
    """A ValueInfoProto of a tensor: ``name``, ``elem_type`` and ``dims`` (an int is a fixed
    dimension, a string a symbolic one), as ``onnx.helper.make_tensor_value_info`` makes it."""

    __slots__ = ("dims", "elem_type", "name")

    def __init__(self, name: str, elem_type: int, dims: Sequence[int | str]) -> None:
        self.name, self.elem_type, self.dims = name, elem_type, list(dims)

    def encode(self) -> bytes:
        dims = b"".join(field(1, _text(2, d) if isinstance(d, str) else _int(1, d)) for d in self.dims)
        tensor = _int(1, self.elem_type) + field(2, dims)
        return _text(1, self.name) + field(2, field(1, tensor))


class Model:
    """A ModelProto of one graph: its nodes (bytes, :func:`node`), name, initializers, inputs and
    outputs, the opset of the default domain and the producer's name."""

    __slots__ = ("initializers", "inputs", "name", "nodes", "opset", "outputs", "producer")

    def __init__(self, opset: int, producer: str = "nin_mx") -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[Tensor] = []
        self.inputs: list[ValueInfo] = []
        self.outputs: list[ValueInfo] = []
        self.name = ""
        self.opset, self.producer = opset, producer

    def parts(self) -> tuple[bytes, bytes, bytes, bytes]:
        """The model's bytes around its initializers: the model's fields before the graph,
        the graph's fields before its initializers (nodes, name), the graph's fields after
        them (inputs, outputs), the model's fields after the graph (the opset)."""
        model_below = _int(1, ir_version(self.opset)) + _text(2, self.producer)
        graph_below = b"".join(field(1, n) for n in self.nodes) + _text(2, self.name)
        graph_above = b"".join(field(11, v.encode()) for v in self.inputs) + b"".join(
            field(12, v.encode()) for v in self.outputs
        )
        model_above = field(8, _text(1, "") + _int(2, self.opset))
        return model_below, graph_below, graph_above, model_above

    def encode(self) -> bytes:
        """The whole model's bytes (an initializer without ``raw`` is written without it)."""
        model_below, graph_below, graph_above, model_above = self.parts()
        graph = graph_below + b"".join(field(5, t.encode()) for t in self.initializers) + graph_above
        return model_below + field(7, graph) + model_above

    def to_onnx(self, release: bool = False) -> Any:
        """The ``onnx.ModelProto`` of these bytes (imports onnx); ``release``: each initializer's
        raw bytes are let go of once they are in the ModelProto (this model then lacks them),
        so that the weights are not held twice."""
        import onnx

        proto = onnx.ModelProto()
        below, graph_below, graph_above, above = self.parts()
        proto.ParseFromString(below + field(7, graph_below + graph_above) + above)
        graph = proto.graph
        for tensor in self.initializers:  # one at a time: no buffer of the whole model's size
            made = graph.initializer.add()
            made.ParseFromString(tensor.head())
            if tensor.raw is not None:  # one copy, into the proto (not also through encode())
                made.raw_data = tensor.raw
            if release:
                tensor.raw = None
        return proto  # written back in the fields' order: the initializers between nodes and inputs
