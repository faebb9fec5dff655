"""The initializers of an export: a checkpoint's arrays, or seeded random weights.

A checkpoint's array goes into the ONNX model with one read (or, deferred, with none: the
written file gets its bytes straight from the checkpoint, :class:`Span`): the headers come from
:func:`nin_mx.graph.ndarray_file.read_ndarray_data` (every length checked), a float32 array's
bytes are read at their offset straight into the initializer's ``raw_data`` (little-endian, as
both formats store them), another dtype's through its view of the mapped file; an array stored
in another dtype than float32 is converted, as MXNet converts it when it copies parameters into
the graph's float32 arrays. Without a checkpoint, every weight is a seeded random initializer:
gamma and moving_var 1, beta, moving_mean and bias 0, every other weight uniform in
+-sqrt(3 / fan_in) (fan_in: the product of its dimensions after the first), drawn with numpy's
``RandomState`` seeded by the seed and the CRC-32 of the weight's name, so the same graph gives
the same bytes everywhere. numpy is imported only for those and for a checkpoint's array of
another dtype than float32.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Mapping
from typing import NamedTuple

from nin_mx.core.errors import GraphError
from nin_mx.export import proto
from nin_mx.export.dtypes import pack
from nin_mx.graph.ndarray_file import StoredArrayData, read_ndarray_data
from nin_mx.graph.nodes import Node

__all__ = ["CheckpointWeights", "RandomWeights", "Span"]

_ONES = ("gamma", "moving_var")
_ZEROS = ("beta", "moving_mean", "bias")


def _float_tensor(tensor: proto.Tensor, shape: tuple[int, ...], raw: bytes | None) -> None:
    tensor.data_type = proto.FLOAT
    tensor.dims = list(shape)
    tensor.raw = raw


def _filled(tensor: proto.Tensor, shape: tuple[int, ...], fill: float) -> None:
    _float_tensor(tensor, shape, pack([fill], "float32") * math.prod(shape))


class RandomWeights:
    """Seeded random initializers (the module's docstring says which values)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def __call__(
        self, tensor: proto.Tensor, node: Node, shape: tuple[int, ...], fill: float | None, slot: str
    ) -> None:
        import numpy as np

        if fill is not None or slot in _ONES or slot in _ZEROS:
            return _filled(tensor, shape, fill if fill is not None else (1.0 if slot in _ONES else 0.0))
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else max(1, math.prod(shape))
        bound = math.sqrt(3.0 / max(1, fan_in))
        state = np.random.RandomState((zlib.crc32(node.name.encode("utf-8")) ^ self.seed) & 0xFFFFFFFF)
        return _float_tensor(tensor, shape, state.uniform(-bound, bound, size=shape).astype("<f4").tobytes())


class Span(NamedTuple):
    """Where an initializer's ``raw_data`` lies in a checkpoint file: its bytes as stored there
    (a float32 array: little-endian, C order, as ONNX's raw_data holds it)."""

    path: str
    offset: int
    length: int


class CheckpointWeights:
    """The arrays of a ``.params`` file by name (``arg:``/``aux:`` prefixes removed).

    ``defer``: a float32 array's bytes are not read; the call leaves the initializer without
    ``raw_data`` and returns its :class:`Span`, which :func:`nin_mx.export.save_onnx` copies from
    the checkpoint straight into the written file (the model is never whole in memory).
    """

    def __init__(self, path: str | os.PathLike[str], *, defer: bool = False) -> None:
        self.path = os.fspath(path)
        self.defer = defer
        self.arrays: Mapping[str, StoredArrayData] = {
            _strip(stored.info.name or ""): stored for stored in read_ndarray_data(self.path)
        }

    def _pread(self, stored: StoredArrayData) -> bytes:
        """The array's bytes read straight from the file (not through the mapping, whose pages
        would stay in memory beside the model's copy)."""
        length = len(stored.data)  # type: ignore[arg-type]
        with open(self.path, "rb") as handle:
            raw = os.pread(handle.fileno(), length, stored.offset)  # type: ignore[arg-type]
        if len(raw) != length:
            raise GraphError(f"{self.path}: the file changed while it was read")
        return raw

    def __call__(
        self, tensor: proto.Tensor, node: Node, shape: tuple[int, ...], fill: float | None, slot: str
    ) -> Span | None:
        if fill is not None:  # BatchNorm's fix_gamma: 1 whatever the checkpoint holds
            return _filled(tensor, shape, fill)
        stored = self.arrays.get(node.name)
        if stored is None or stored.data is None:
            raise GraphError(f"{self.path}: holds no dense array {node.name!r}, which the graph needs")
        info = stored.info
        if math.prod(info.shape) != math.prod(shape):
            raise GraphError(f"{self.path}: {node.name} is stored {info.shape}, the graph needs {shape}")
        if info.dtype == "float32" and self.defer:  # copied from the file when the model is written
            _float_tensor(tensor, shape, None)
            return Span(self.path, stored.offset, len(stored.data))  # type: ignore[arg-type]
        if info.dtype == "float32":  # one read, from the file into the bytes the model takes
            _float_tensor(tensor, shape, self._pread(stored))
            return None
        import numpy as np

        if info.dtype == "bfloat16":  # the upper half of a float32
            bits = np.frombuffer(stored.data, dtype="<u2").astype("<u4") << 16
            return _float_tensor(tensor, shape, bits.view("<f4").tobytes())
        values = np.frombuffer(stored.data, dtype=np.dtype(info.dtype).newbyteorder("<"))
        return _float_tensor(tensor, shape, values.astype("<f4").tobytes())


def _strip(key: str) -> str:
    prefix, sep, rest = key.partition(":")
    return rest if sep and prefix in ("arg", "aux") else key
