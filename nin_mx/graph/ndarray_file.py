"""The arrays of an MXNet NDArray (``.params``) file, read from its headers in pure Python.

``mx.nd.save``, ``mx.model.save_checkpoint`` (``Module.save_checkpoint``), Gluon's ``export``
and ``save_parameters`` write this format. :func:`read_ndarray_file` reads the headers only;
the arrays' data is skipped with seeks, so time and memory do not grow with the weights.
:func:`read_ndarray_data` also gives each dense array's data, as a view of the file mapped in
memory (the ONNX export copies it once, into the model). Every count and length
is checked against the bytes that remain before anything is looped over or read: a corrupt or
hostile file fails with one :class:`~nin_mx.core.errors.GraphError` line, never with a hang or
a huge allocation (which ``mx.nd.load`` itself does not promise).

The layout (little-endian), as apache/mxnet 1.9.1 reads it (src/ndarray/ndarray.cc):

* the list (``NDArray::Load(dmlc::Stream*, std::vector<NDArray>*, ...)``): uint64 0x112
  (``kMXAPINDArrayListMagic``), uint64 reserved (ignored), then dmlc-core's vectors
  (include/dmlc/serializer.h): uint64 count and the arrays; uint64 count and the names, each
  a uint64 length and its bytes. No names, or one per array. Bytes after them are ignored.
* an array (``NDArray::Load``): uint32 magic 0xF993fac9 (V2) or 0xF993faca (V3: numpy shape
  semantics, dense only), int32 storage type, the storage shape if sparse, the shape, the
  context (int32 dev_type, int32 dev_id), int32 dtype flag, per auxiliary array (row_sparse:
  indices; csr: indptr, indices) its int32 dtype flag and 1-d shape, the data, the auxiliary
  data. A V2 shape of ndim 0 ends the array: MXNet makes an empty handle of it (reported with
  dtype and stype ``'undefined'``). Under V3, ndim 0 is a scalar of one element.
* a shape (include/mxnet/tuple.h, ``Tuple::Save``/``Load``): int32 ndim, int64 dims.
* older arrays (``NDArray::LegacyLoad``, ``LegacyTShapeLoad``): magic 0xF993fac8 (V1) and a
  shape as above, or no magic: the first uint32 is the ndim of a shape of uint32 dims; then
  the context, the dtype flag and the data of a dense array. There, ndim 0 has one element.

Dtype flags and sizes are mshadow's (3rdparty/mshadow/mshadow/base.h, ``enum TypeFlag`` and
``mshadow_sizeof``); flags 8-11 (int16, uint16, uint32, uint64) are there, but MXNet 1.9.1
cannot load them ("Unknown type enum"), so they are refused too.
"""

from __future__ import annotations

import math
import mmap
import os
import stat
import struct
from typing import BinaryIO, NamedTuple

from nin_mx.core.errors import GraphError
from nin_mx.core.validate import Shape

__all__ = [
    "DTYPES",
    "MAX_NDIM",
    "MIN_ARRAY_BYTES",
    "STYPES",
    "StoredArrayData",
    "StoredInfo",
    "read_ndarray_data",
    "read_ndarray_file",
]

LIST_MAGIC = 0x112  # kMXAPINDArrayListMagic, src/ndarray/ndarray.cc
V1_MAGIC = 0xF993FAC8  # NDARRAY_V1_MAGIC: int64 dims
V2_MAGIC = 0xF993FAC9  # NDARRAY_V2_MAGIC: with storage type
V3_MAGIC = 0xF993FACA  # NDARRAY_V3_MAGIC: numpy shape semantics (ndim 0 is a scalar)
MAX_NDIM = 32  # MXNet has no limit of its own; numpy's, and far more than any checkpoint holds
MIN_ARRAY_BYTES = 12  # the smallest array: V2 magic, storage type, ndim 0

#: mshadow dtype flag -> (name, bytes per element)
DTYPES: dict[int, tuple[str, int]] = {
    0: ("float32", 4),
    1: ("float64", 8),
    2: ("float16", 2),
    3: ("uint8", 1),
    4: ("int32", 4),
    5: ("int8", 1),
    6: ("int64", 8),
    7: ("bool", 1),
    12: ("bfloat16", 2),
}
_UNLOADABLE = {8: "int16", 9: "uint16", 10: "uint32", 11: "uint64"}  # mshadow_sizeof fails in 1.9.1

#: storage type -> (name, its auxiliary arrays): include/mxnet/ndarray.h ``NDArrayStorageType``,
#: ``csr::CSRAuxType``, ``rowsparse::RowSparseAuxType``; src/ndarray/ndarray.cc ``num_aux_data``
STYPES: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("default", ()),
    1: ("row_sparse", ("indices",)),
    2: ("csr", ("indptr", "indices")),
}

_U32, _I32, _U64 = struct.Struct("<I"), struct.Struct("<i"), struct.Struct("<Q")
_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_JSON_HINT = " (it holds JSON; a -symbol.json is the graph, the .params file beside it the weights)"


class StoredInfo(NamedTuple):
    """One array of an NDArray file, as its header describes it.

    Attributes:
        name: the key as stored (``None`` when the arrays were saved as a list without names).
        shape: the array's (dense) shape.
        dtype: ``'float32'``, ``'float16'``, ``'int64'``, ... (``'undefined'`` for an empty handle).
        stype: ``'default'``, ``'row_sparse'`` or ``'csr'`` (``'undefined'`` for an empty handle).
    """

    name: str | None
    shape: tuple[int, ...]
    dtype: str
    stype: str


class _Reader:
    """Reads fields from an open file, checking every size against the bytes that remain."""

    _WINDOW = 4096  # bytes read at once: an array's header, often with the next field

    def __init__(self, handle: BinaryIO, path: str, size: int) -> None:
        self.handle, self.path, self.size = handle, path, size
        self.pos = 0  # where the next field starts
        self.data_at: list[tuple[int, int] | None] = []  # per array: (offset, bytes) of dense data
        # the bytes read last, from `_at` (os.pread: a header between two arrays' data costs one
        # system call, and no buffer of the file object is refilled past the data skipped)
        self._window, self._at = b"", 0

    def error(self, message: str) -> GraphError:
        return GraphError(f"{self.path}: truncated or corrupt MXNet NDArray file: {message}")

    def remaining(self) -> int:
        return self.size - self.pos

    def take(self, count: int, what: str) -> bytes:
        offset = self.pos
        data = b""
        if count <= self.size - offset:
            start = offset - self._at
            if start < 0 or start + count > len(self._window):
                self._window = os.pread(self.handle.fileno(), max(count, self._WINDOW), offset)
                self._at, start = offset, 0
            data = self._window[start : start + count]
        self.pos += len(data)
        if len(data) != count:
            raise self.error(
                f"expected {what} ({count} bytes) at byte {offset}, but the file ends at {self.size}"
            )
        return data

    def number(self, form: struct.Struct, what: str) -> int:
        return int(form.unpack(self.take(form.size, what))[0])

    def skip(self, count: int, what: str) -> None:
        offset = self.pos
        if count > self.size - offset:
            raise self.error(
                f"{what} needs {count} bytes at byte {offset}, but only {self.size - offset} remain"
            )
        self.pos += count

    def count(self, what: str, each: int, after: int) -> int:
        """A uint64 count of items of at least ``each`` bytes, followed by ``after`` more bytes."""
        offset = self.pos
        number = self.number(_U64, f"the number of {what}")
        left = self.remaining()
        if number * each > left - after:
            raise self.error(
                f"{number} {what} (counted at byte {offset}) cannot fit in the {left} bytes left"
            )
        return number

    def shape(self, what: str, legacy_ndim: int | None = None) -> Shape:
        """A shape: int32 ndim and int64 dims, or (legacy) the given ndim and uint32 dims."""
        offset = self.pos
        ndim = self.number(_I32, f"the ndim of {what}") if legacy_ndim is None else legacy_ndim
        if not 0 <= ndim <= MAX_NDIM:
            raise self.error(f"{what} has ndim {ndim} (at byte {offset}); it must be 0..{MAX_NDIM}")
        form = f"<{ndim}q" if legacy_ndim is None else f"<{ndim}I"
        dims = struct.unpack(form, self.take(struct.calcsize(form), f"the {ndim} dims of {what}"))
        if any(dim < 0 for dim in dims):
            raise self.error(f"{what} has a negative dimension {dims} (at byte {offset})")
        return tuple(dims)

    def dtype(self, what: str) -> tuple[str, int]:
        offset = self.pos
        flag = self.number(_I32, f"the dtype flag of {what}")
        if flag in DTYPES:
            return DTYPES[flag]
        if flag in _UNLOADABLE:
            raise GraphError(
                f"{self.path}: {what} has dtype {_UNLOADABLE[flag]} (flag {flag}, at byte {offset}), "
                "which MXNet 1.9.1 cannot load"
            )
        raise self.error(f"{what} has dtype flag {flag} (at byte {offset}), which MXNet does not know")

    def array(self, index: int) -> tuple[Shape, str, str]:
        """One array's shape, dtype and storage type; its data is skipped."""
        what = f"array {index}"
        offset = self.pos
        magic = self.number(_U32, f"the header of {what}")
        if magic not in (V2_MAGIC, V3_MAGIC):
            if magic == V1_MAGIC:
                shape = self.shape(what)
            elif magic <= MAX_NDIM:  # no magic: a legacy shape's ndim, then uint32 dims
                shape = self.shape(what, legacy_ndim=magic)
            else:
                raise self.error(
                    f"{what} starts (at byte {offset}) with {magic:#x}, neither a magic nor an ndim"
                )
            self.skip(8, f"the context of {what}")
            name, itemsize = self.dtype(what)
            self.data_at.append((self.pos, itemsize * math.prod(shape)))
            self.skip(itemsize * math.prod(shape), f"the data of {what}")
            return shape, name, "default"
        flag = self.number(_I32, f"the storage type of {what}")
        if flag not in STYPES or (magic == V3_MAGIC and flag != 0):
            raise self.error(
                f"{what} has storage type {flag} (at byte {offset + 4}), which MXNet cannot load"
            )
        stype, aux_names = STYPES[flag]
        storage = self.shape(f"the storage shape of {what}") if aux_names else None
        shape = self.shape(what)
        if magic == V2_MAGIC and not shape:  # MXNet returns an empty handle, and reads no more
            self.data_at.append(None)
            return shape, "undefined", "undefined"
        self.skip(8, f"the context of {what}")
        name, itemsize = self.dtype(what)
        aux: list[tuple[int, int]] = []  # per auxiliary array: bytes per element, length
        for aux_name in aux_names:
            aux_at = self.pos + 4
            aux_size = self.dtype(f"{what}'s {aux_name}")[1]
            aux_shape = self.shape(f"{what}'s {aux_name}")
            if len(aux_shape) != 1:  # Chunk::CheckAndAllocAuxData: "shape must be 1D"
                raise self.error(f"{what}'s {aux_name} has shape {aux_shape} (at byte {aux_at}), not 1-d")
            aux.append((aux_size, aux_shape[0]))
        if storage is not None:
            default = shape if stype == "row_sparse" else (aux[-1][1],)
            storage = self.storage(what, storage, default, aux[-1][1])
        self.data_at.append(None if aux_names else (self.pos, itemsize * math.prod(shape)))
        self.skip(itemsize * math.prod(storage if storage is not None else shape), f"the data of {what}")
        for aux_name, (aux_size, length) in zip(aux_names, aux):
            self.skip(aux_size * length, f"the {aux_name} of {what}")
        return shape, name, stype

    def storage(self, what: str, stored: Shape, default: Shape, n_indices: int) -> Shape:
        """The shape of a sparse array's values as MXNet allocates it, not quite as stored.

        A stored storage shape of size 0 is replaced by ``default`` (src/ndarray/ndarray.cc, the
        sparse ``NDArray::NDArray``), and its first dimension is the number of indices, the last
        auxiliary array's length (include/mxnet/ndarray.h, ``Chunk::set_aux_shape``).
        """
        stored = default if math.prod(stored) == 0 else stored
        if not stored:  # MXNet would write past the end of a 0-d shape
            raise self.error(f"the storage shape of {what} has ndim 0")
        return (n_indices, *stored[1:])


def _open_regular(path: str) -> tuple[BinaryIO, int]:
    """The file opened for reading, and its size; refuses what is not a non-empty regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise GraphError(f"{path}: no such file") from None
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise GraphError(f"{path}: is a directory, not a .params file")
    if not stat.S_ISREG(info.st_mode):  # refused by name: opening a FIFO for reading would block
        kind = next((name for test, name in _SPECIAL if test(info.st_mode)), "a special file")
        raise GraphError(f"{path}: is {kind}, not a regular file")
    try:  # O_NONBLOCK: should a FIFO replace the file after the stat, opening it must not block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise GraphError(f"{path}: is a special file, not a regular file")
    if info.st_size == 0:
        os.close(fd)
        raise GraphError(f"{path}: the file is empty")
    return os.fdopen(fd, "rb"), info.st_size


def read_ndarray_file(path: str | os.PathLike[str]) -> list[StoredInfo]:
    """The names, shapes, dtypes and storage types of every array of an MXNet NDArray file.

    Reads what ``mx.nd.load`` reads (names, shapes, dtypes and storage types match its answer),
    in the file's order, without MXNet or numpy, and without reading the arrays' data.

    Args:
        path: a ``.params`` file (``mx.nd.save``, ``save_checkpoint``, Gluon ``export`` or
            ``save_parameters``).

    Returns:
        One :class:`StoredInfo` per array, in the file's order; names are ``None`` for a list.

    Raises:
        GraphError: one line naming the file, for a missing path, a directory, a FIFO, socket
            or device, an empty file, a file that is not an NDArray file, and a truncated or
            corrupt one (any count, length, ndim, dimension, dtype or storage type that MXNet
            could not load, or that claims more bytes than the file holds), a name that is not
            UTF-8, or a number of names that is neither 0 nor the number of arrays.
    """
    return _read_path(path)[0]


class StoredArrayData(NamedTuple):
    """One array of an NDArray file with its data.

    Attributes:
        info: its name, shape, dtype and storage type (:class:`StoredInfo`).
        data: the dense array's bytes as stored (little-endian, C order, ``info.dtype``), a view
            of the file mapped in memory: nothing is copied until a caller copies it. ``None``
            for a sparse array or an empty handle.
        offset: where ``data`` starts in the file (``None`` with it), e.g. for ``madvise``.
    """

    info: StoredInfo
    data: memoryview | None
    offset: int | None = None


def read_ndarray_data(path: str | os.PathLike[str]) -> list[StoredArrayData]:
    """Every array of an MXNet NDArray file, with the data of its dense arrays.

    The headers are read and checked as :func:`read_ndarray_file` reads them (every length is
    checked against the bytes left before anything is taken); then the file is mapped in
    memory (read-only) and each dense array's data is a view of its bytes, of every dtype
    MXNet 1.9.1 writes (float32, float64, float16, bfloat16, uint8, int8, int32, int64, bool).

    Raises:
        GraphError: as :func:`read_ndarray_file`.
    """
    infos, spans, path = _read_path(path)
    handle, _ = _open_regular(path)
    with handle:
        try:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise GraphError(f"{path}: cannot read: {exc}") from None
    view = memoryview(mapped)
    if any(span is not None and span[0] + span[1] > len(view) for span in spans):
        raise GraphError(f"{path}: the file changed while it was read")
    return [
        StoredArrayData(info, None, None)
        if span is None
        else StoredArrayData(info, view[span[0] : span[0] + span[1]], span[0])
        for info, span in zip(infos, spans)
    ]


_Headers = tuple[list[StoredInfo], list[tuple[int, int] | None], str]
_last: list[tuple[tuple[int, ...], _Headers]] = []  # the headers of the last file read, by identity


def _read_path(path: str | os.PathLike[str]) -> _Headers:
    """The arrays' headers and, per array, where its dense data lies (offset, bytes). The last
    file's are kept while it is the same file (device, inode, size, modification and change
    times): an export checks the checkpoint's headers, then reads its data."""
    path = os.fspath(path)
    handle, size = _open_regular(path)
    with handle:
        info = os.fstat(handle.fileno())
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if _last and _last[0][0] == key and _last[0][1][2] == path:
            infos, spans, _ = _last[0][1]
            return list(infos), list(spans), path
        reader = _Reader(handle, path, size)
        try:
            found = _read(reader), reader.data_at, path
        except OSError as exc:
            raise GraphError(f"{path}: cannot read: {exc.strerror or exc}") from None
    _last[:] = [(key, (list(found[0]), list(found[1]), path))]
    return found


def _read(reader: _Reader) -> list[StoredInfo]:
    head = os.pread(reader.handle.fileno(), 8, 0)
    reader.pos = len(head)
    magic = _U64.pack(LIST_MAGIC)
    if head != magic:
        if len(head) < 8 and magic.startswith(head):
            reader.take(8 - len(head), "the rest of the file's magic")  # raises: truncated
        hint = _JSON_HINT if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else ""
        raise GraphError(f"{reader.path}: not an MXNet NDArray (.params) file{hint}")
    reader.number(_U64, "the reserved field")
    n_arrays = reader.count("arrays", MIN_ARRAY_BYTES, after=8)
    arrays = [reader.array(i) for i in range(n_arrays)]
    names_at = reader.pos
    n_names = reader.count("names", 8, after=0)
    if n_names not in (0, n_arrays):
        raise reader.error(f"{n_arrays} arrays but {n_names} names (counted at byte {names_at})")
    names: list[str | None] = [None] * n_arrays
    for i in range(n_names):
        length = reader.count(f"bytes in the name of array {i}", 1, after=0)
        offset = reader.pos
        raw = reader.take(length, f"the name of array {i}")
        try:
            names[i] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GraphError(
                f"{reader.path}: the name of array {i} (at byte {offset}) is not UTF-8: "
                f"{exc.reason} at its byte {exc.start}"
            ) from None
    return [StoredInfo(name, *array) for name, array in zip(names, arrays)]
