"""Writing an ONNX model: atomically, streamed one initializer at a time, past 2 GB as external data.

``model.SerializeToString()`` and even ``model.ByteSize()`` copy every weight into one more
buffer of the model's size (python-protobuf's upb serializes to measure); :func:`save_onnx`
writes the same bytes with each weight copied once, while it is written, and, for an export
that deferred its weights, copies them from the checkpoint file into the written file.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import onnx
from onnx import TensorProto

from nin_mx.core.errors import GraphError

if TYPE_CHECKING:
    from nin_mx.export.model import Exported

__all__ = ["save_onnx"]

_PROTOBUF_LIMIT = 2**31 - 1
_MARGIN = 64 << 20  # the graph's own bytes, beside its weights


def save_onnx(model: onnx.ModelProto | Exported, path: str | os.PathLike[str]) -> None:
    """Writes ``model`` atomically (a temporary folder beside it, then renamed); a model whose
    weights pass protobuf's 2 GB limit keeps every initializer of 1 KiB or more in ONNX
    external data, ``<path>.data`` beside it (onnx docs/ExternalData.md: ``location``,
    ``offset``, ``length``). ``model`` itself is left as it was.

    ``model`` may be an export (:func:`nin_mx.export.export_onnx`) made with ``defer_weights``:
    the weights it left out are copied from the checkpoint into the file (``os.sendfile`` where
    the system has it, else in chunks), never held in memory; the bytes are those of the whole
    model.

    Raises:
        GraphError: one line, when the folder cannot be written or the checkpoint changed since
            the export read it.
    """
    deferred: Mapping[int, Any] = {}
    if not isinstance(model, onnx.ModelProto):
        model, deferred = model.model, model.deferred
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    lengths = [_raw_length(t, deferred.get(i)) for i, t in enumerate(model.graph.initializer)]
    large = sum(lengths) > _PROTOBUF_LIMIT - _MARGIN
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".nin_mx-onnx-") as work:
            temp = os.path.join(work, os.path.basename(path))
            location = os.path.basename(path) + ".data"
            if large:
                _save_external(model, deferred, temp, os.path.join(work, location), location)
                os.replace(os.path.join(work, location), os.path.join(folder, location))
            else:
                with open(temp, "wb") as handle:
                    _write_streamed(model, deferred, handle)
            os.replace(temp, path)
    except OSError as exc:
        raise GraphError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _save_external(
    model: onnx.ModelProto, deferred: Mapping[int, Any], path: str, data_path: str, location: str
) -> None:
    """The model at ``path`` with its large initializers in ``data_path``; the initializers
    are put back in ``model`` afterwards."""
    moved: list[tuple[TensorProto, bytes | None]] = []
    filled: list[TensorProto] = []  # small deferred weights, read into the model while it is written
    try:
        with open(data_path, "wb") as data:
            offset = 0
            for index, tensor in enumerate(model.graph.initializer):
                span = deferred.get(index)
                length = _raw_length(tensor, span)
                if length < 1024:
                    if span is not None:
                        tensor.raw_data = _read_span(span)
                        filled.append(tensor)
                    continue
                if span is not None:
                    _copy_span(span, data)
                    moved.append((tensor, None))
                else:
                    raw = tensor.raw_data
                    data.write(raw)
                    tensor.ClearField("raw_data")
                    moved.append((tensor, raw))
                tensor.data_location = TensorProto.EXTERNAL
                for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
                    entry = tensor.external_data.add()
                    entry.key, entry.value = key, value
                offset += length
        with open(path, "wb") as handle:
            handle.write(model.SerializeToString())
    finally:
        for tensor in filled:
            tensor.ClearField("raw_data")
        for tensor, raw in moved:
            tensor.ClearField("external_data")
            tensor.ClearField("data_location")
            if raw is not None:
                tensor.raw_data = raw


_CHUNK = 16 << 20


def _read_span(span: Any) -> bytes:
    """The bytes of a (small) span of the checkpoint."""
    try:
        with open(span.path, "rb") as source:
            raw = os.pread(source.fileno(), span.length, span.offset)
    except OSError as exc:
        raise GraphError(f"{span.path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) != span.length:
        raise GraphError(f"{span.path}: the file changed while it was read")
    return raw


def _copy_span(span: Any, out: Any) -> None:
    """Appends the checkpoint's bytes ``span`` (path, offset, length) to the open file ``out``:
    in the kernel (``os.sendfile``) where it can, else by chunks of 16 MiB.

    Raises:
        GraphError: the checkpoint holds fewer bytes there than the export read.
    """
    out.flush()
    offset, left = span.offset, span.length
    try:
        source = open(span.path, "rb")  # closed below, also on an error
    except OSError as exc:
        raise GraphError(f"{span.path}: cannot read: {exc.strerror or exc}") from None
    with source:
        sendfile = getattr(os, "sendfile", None)
        while left and sendfile is not None:
            try:
                sent = sendfile(out.fileno(), source.fileno(), offset, left)
            except OSError:  # not between these two files here: copy by chunks
                break
            if sent == 0:
                raise GraphError(f"{span.path}: the file changed while it was read")
            offset, left = offset + sent, left - sent
        while left:
            chunk = os.pread(source.fileno(), min(left, _CHUNK), offset)
            if not chunk:
                raise GraphError(f"{span.path}: the file changed while it was read")
            out.write(chunk)
            offset, left = offset + len(chunk), left - len(chunk)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _split(message: Any, number: int) -> tuple[bytes, bytes]:
    """The serialized fields of ``message`` numbered below and above ``number`` (the big field
    left out), as two messages of the same type."""
    below, above = type(message)(), type(message)()
    for field, value in message.ListFields():
        if field.number == number:
            continue
        target = below if field.number < number else above
        if hasattr(value, "extend"):  # a repeated field
            getattr(target, field.name).extend(value)
        elif field.message_type is not None:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)
    return below.SerializeToString(), above.SerializeToString()


def _write_streamed(model: onnx.ModelProto, deferred: Mapping[int, Any], handle: Any) -> None:
    """``model.SerializeToString()``, byte for byte (with the ``deferred`` raw data in place),
    written one initializer at a time: the weights are not copied into one more buffer of the
    model's size. Protobuf writes fields in the order of their numbers, so the bytes are the
    model's fields before ``graph`` (7), the graph as a length-delimited field (its fields before
    ``initializer`` (5), each initializer, the fields after), then the model's fields after it."""
    graph = model.graph
    model_below, model_above = _split(model, 7)
    graph_below, graph_above = _split(graph, 5)
    spans = [deferred.get(i) for i in range(len(graph.initializer))]
    sizes = [_tensor_size(t, span) for t, span in zip(graph.initializer, spans)]
    length = len(graph_below) + len(graph_above) + sum(1 + len(_varint(n)) + n for n in sizes)
    handle.write(model_below + b"\x3a" + _varint(length) + graph_below)
    for initializer, size, span in zip(graph.initializer, sizes, spans):
        handle.write(b"\x2a" + _varint(size))
        _write_tensor(initializer, span, handle)
    handle.write(graph_above + model_above)


_ITEMSIZE = {
    TensorProto.FLOAT: 4,
    TensorProto.DOUBLE: 8,
    TensorProto.FLOAT16: 2,
    TensorProto.BFLOAT16: 2,
    TensorProto.INT64: 8,
    TensorProto.INT32: 4,
    TensorProto.INT8: 1,
    TensorProto.UINT8: 1,
    TensorProto.BOOL: 1,
}
_TYPED = (
    "float_data",
    "int32_data",
    "string_data",
    "int64_data",
    "double_data",
    "uint64_data",
    "external_data",
)


def _raw_length(proto: TensorProto, span: Any = None) -> int:
    """The length of a tensor's ``raw_data``, from its dims and type (or its deferred span):
    reading the field (or ``ByteSize()``, which serializes) would copy the weight."""
    if span is not None:
        return int(span.length)
    if not proto.HasField("raw_data"):
        return 0
    return math.prod(proto.dims) * _ITEMSIZE[proto.data_type]


def _plain(proto: TensorProto, span: Any = None) -> bool:
    """A tensor of dims, data_type, name and raw_data only (every initializer the export makes)."""
    return (
        (span is not None or proto.HasField("raw_data"))
        and proto.data_type in _ITEMSIZE
        and not any(proto.HasField(f) for f in ("doc_string", "segment", "data_location"))
        and not any(len(getattr(proto, f)) for f in _TYPED)
    )


def _tensor_size(proto: TensorProto, span: Any = None) -> int:
    """``ByteSize()`` without serializing the weight: its other fields, measured on a
    copy without ``raw_data``, and the raw bytes' field (tag, length, bytes)."""
    if not _plain(proto, span):
        if span is not None:
            raise GraphError(f"initializer {proto.name}: a deferred weight must be a plain tensor")
        return proto.ByteSize()
    meta = TensorProto(dims=proto.dims, data_type=proto.data_type, name=proto.name)
    length = _raw_length(proto, span)
    return meta.ByteSize() + 1 + len(_varint(length)) + length


def _write_tensor(proto: TensorProto, span: Any, handle: Any) -> None:
    """``proto.SerializeToString()`` written with one copy of its weight (none in memory for a
    deferred one): its fields before ``raw_data`` (9) (dims, data_type, name), then the raw
    bytes' field."""
    if not _plain(proto, span):
        handle.write(proto.SerializeToString())
        return
    meta = TensorProto(dims=proto.dims, data_type=proto.data_type, name=proto.name)
    length = _raw_length(proto, span)
    handle.write(meta.SerializeToString() + b"\x4a" + _varint(length))
    if span is not None:
        _copy_span(span, handle)
    else:
        handle.write(proto.raw_data)
