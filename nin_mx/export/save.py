"""Writing an ONNX model: atomically, streamed one initializer at a time, past 2 GB as external data.

An export's own model (:class:`nin_mx.export.proto.Model`) is written without onnx: its bytes
around the initializers, then each initializer, its weight copied once while it is written
(a deferred one straight from the checkpoint file, never in memory). An ``onnx.ModelProto`` is
written the same way: ``model.SerializeToString()`` and even ``model.ByteSize()`` would copy
every weight into one more buffer of the model's size (python-protobuf's upb serializes to
measure). Either way the file holds ``SerializeToString()``'s bytes.
"""

from __future__ import annotations

import ctypes
import math
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from nin_mx.core.errors import GraphError
from nin_mx.export import proto
from nin_mx.export.model import Exported

__all__ = ["save_onnx"]

_PROTOBUF_LIMIT = 2**31 - 1
_MARGIN = 64 << 20  # the graph's own bytes, beside its weights


class _Piece(NamedTuple):
    """One initializer as written: its fields before ``raw_data`` (9), its raw bytes (bytes, a
    :class:`~nin_mx.export.weights.Span` of the checkpoint, a call that reads them, or ``None``:
    no raw_data), their length, its fields after raw_data, and ``external(location, offset,
    length)``: the tensor's bytes with its raw data in an external file (``None``: it stays)."""

    head: bytes
    raw: Any
    length: int
    tail: bytes
    external: Callable[[str, int, int], bytes] | None


def save_onnx(model: Any, path: str | os.PathLike[str]) -> None:
    """Writes ``model`` atomically (a temporary folder beside it, then put in place in one
    step); a model whose weights pass protobuf's 2 GB limit keeps every initializer of 1 KiB or
    more in ONNX external data, ``<path>.data`` beside it (onnx docs/ExternalData.md:
    ``location``, ``offset``, ``length``). ``model`` itself is left as it was.

    ``model``: an export (:func:`nin_mx.export.export_onnx`), its :class:`~nin_mx.export.proto.Model`,
    or an ``onnx.ModelProto``. An export made with ``defer_weights`` has its weights copied from
    the checkpoint into the file (``os.sendfile`` where the system has it, else in chunks); the
    bytes are those of the whole model.

    Raises:
        GraphError: one line, when the folder cannot be written or the checkpoint changed since
            the export read it.
    """
    deferred: Mapping[int, Any] = {}
    if isinstance(model, Exported):
        model, deferred = model.proto, model.deferred
    if isinstance(model, proto.Model):
        parts = model.parts()
        pieces = [_own_piece(t, deferred.get(i)) for i, t in enumerate(model.initializers)]
    else:
        parts, pieces = _onnx_parts(model)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    large = sum(p.length for p in pieces) > _PROTOBUF_LIMIT - _MARGIN
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".nin_mx-onnx-") as work:
            temp = os.path.join(work, os.path.basename(path))
            location = os.path.basename(path) + ".data"
            if large:
                pieces = _to_external(pieces, os.path.join(work, location), location)
            with open(temp, "wb") as handle:
                _write_streamed(parts, pieces, handle)
            if large:
                _put_in_place(os.path.join(work, location), os.path.join(folder, location))
            _put_in_place(temp, path)
    except OSError as exc:
        raise GraphError(f"{path}: cannot write: {exc.strerror or exc}") from None


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # linux/fcntl.h, linux/fs.h


def _exchange(source: str, target: str) -> bool:
    """Swaps the two (existing) paths in one step: Linux's ``renameat2(RENAME_EXCHANGE)``;
    ``False`` where the system or the file system does not have it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # a libc before glibc 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE)
    return done == 0


def _put_in_place(temp: str, path: str) -> None:
    """``os.replace(temp, path)``; over an existing regular file by exchanging the two (the old
    file is left at ``temp``, in the temporary folder that is removed), which is as atomic and
    spares the wait a rename over a file can cost: ext4 writes the new file's data out first
    (its ``auto_da_alloc``, Documentation/admin-guide/ext4.rst), a third of an export's time."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0
    if stat.S_ISREG(mode) and _exchange(temp, path):
        if stat.S_ISREG(os.lstat(temp).st_mode):
            return
        _exchange(temp, path)  # not a file any more: put it back, and let os.replace say why
    os.replace(temp, path)


def _own_piece(tensor: proto.Tensor, span: Any) -> _Piece:
    head = tensor.head()
    raw = span if span is not None else tensor.raw
    length = 0 if raw is None else span.length if span is not None else len(raw)

    def external(location: str, offset: int, size: int) -> bytes:
        return head + _external_fields(location, offset, size)

    return _Piece(head, raw, length, b"", external if raw is not None else None)


def _external_fields(location: str, offset: int, length: int) -> bytes:
    """TensorProto's ``external_data`` (13) entries and ``data_location`` (14) EXTERNAL."""
    entries = b"".join(
        proto.field(13, proto.field(1, key.encode()) + proto.field(2, value.encode()))
        for key, value in (("location", location), ("offset", str(offset)), ("length", str(length)))
    )
    return entries + b"\x70" + proto.varint(proto.EXTERNAL)


def _to_external(pieces: list[_Piece], data_path: str, location: str) -> list[_Piece]:
    """The pieces with every raw data of 1 KiB or more moved into ``data_path`` (in order, at
    increasing offsets); a smaller deferred one read into the piece."""
    moved = []
    with open(data_path, "wb") as data:
        offset = 0
        for piece in pieces:
            if piece.raw is None or piece.external is None:
                moved.append(piece)
            elif piece.length < 1024:
                moved.append(piece._replace(raw=_raw_bytes(piece.raw)))
            else:
                _write_raw(piece.raw, data)
                whole = piece.external(location, offset, piece.length)
                moved.append(_Piece(whole, None, 0, b"", None))
                offset += piece.length
    return moved


def _raw_bytes(raw: Any) -> bytes:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    return raw() if callable(raw) else _read_span(raw)


def _write_raw(raw: Any, out: Any) -> None:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        out.write(raw)
    elif callable(raw):
        out.write(raw())
    else:
        _copy_span(raw, out)


def _write_streamed(parts: tuple[bytes, bytes, bytes, bytes], pieces: list[_Piece], handle: Any) -> None:
    """The model's bytes, written one initializer at a time: the weights are not copied into
    one more buffer of the model's size. Protobuf writes fields in the order of their numbers,
    so the bytes are the model's fields before ``graph`` (7), the graph as a length-delimited
    field (its fields before ``initializer`` (5), each initializer, the fields after), then the
    model's fields after it."""
    model_below, graph_below, graph_above, model_above = parts
    sizes = [
        len(p.head) + len(p.tail) + (0 if p.raw is None else 1 + len(proto.varint(p.length)) + p.length)
        for p in pieces
    ]
    length = len(graph_below) + len(graph_above) + sum(1 + len(proto.varint(n)) + n for n in sizes)
    handle.write(model_below + b"\x3a" + proto.varint(length) + graph_below)
    for piece, size in zip(pieces, sizes):
        handle.write(b"\x2a" + proto.varint(size) + piece.head)
        if piece.raw is not None:
            handle.write(b"\x4a" + proto.varint(piece.length))
            _write_raw(piece.raw, handle)
        if piece.tail:
            handle.write(piece.tail)
    handle.write(graph_above + model_above)


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


def _onnx_parts(model: Any) -> tuple[tuple[bytes, bytes, bytes, bytes], list[_Piece]]:
    """An ``onnx.ModelProto``'s bytes around its initializers, and its initializers as pieces
    (each raw data read from the proto only when it is written)."""
    model_below, model_above = _split(model, 7)
    graph_below, graph_above = _split(model.graph, 5)
    return (model_below, graph_below, graph_above, model_above), [
        _onnx_piece(t) for t in model.graph.initializer
    ]


def _onnx_piece(tensor: Any) -> _Piece:
    if not tensor.HasField("raw_data"):
        return _Piece(tensor.SerializeToString(), None, 0, b"", None)
    head, tail = _split(tensor, 9)
    itemsize = _ITEMSIZE.get(tensor.data_type)
    length = math.prod(tensor.dims) * itemsize if itemsize else len(tensor.raw_data)

    def external(location: str, offset: int, size: int) -> bytes:
        meta = _copy_of(tensor, lambda n: n != 9)
        for key, value in (("location", location), ("offset", str(offset)), ("length", str(size))):
            entry = meta.external_data.add()
            entry.key, entry.value = key, value
        meta.data_location = 1  # EXTERNAL
        return meta.SerializeToString()

    return _Piece(head, lambda: tensor.raw_data, length, tail, external)


def _copy_of(message: Any, keep: Callable[[int], bool]) -> Any:
    """A copy of ``message`` with the fields whose numbers ``keep`` keeps."""
    copy = type(message)()
    for field, value in message.ListFields():
        if not keep(field.number):
            continue
        if hasattr(value, "extend"):  # a repeated field
            getattr(copy, field.name).extend(value)
        elif field.message_type is not None:
            getattr(copy, field.name).CopyFrom(value)
        else:
            setattr(copy, field.name, value)
    return copy


def _split(message: Any, number: int) -> tuple[bytes, bytes]:
    """The serialized fields of ``message`` numbered below and above ``number`` (the big field
    left out), as two messages of the same type."""
    below = _copy_of(message, lambda n: n < number)
    above = _copy_of(message, lambda n: n > number)
    return below.SerializeToString(), above.SerializeToString()


# bytes per element of the types whose raw data's length the dims give
_ITEMSIZE = {
    proto.FLOAT: 4,
    proto.DOUBLE: 8,
    proto.FLOAT16: 2,
    proto.BFLOAT16: 2,
    proto.INT64: 8,
    proto.INT32: 4,
    proto.INT8: 1,
    proto.UINT8: 1,
    proto.BOOL: 1,
}
