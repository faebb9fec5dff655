#!/usr/bin/env python
"""Writes the small MXNet NDArray files that tests/test_ndarray_file.py reads (needs MXNet 1.9.1).

Every ``NAME.params`` in the output folder comes with ``NAME.json``: what ``mx.nd.load``
answers for it, a list of ``[name or null, shape, dtype, stype]`` in the file's order, so that
the tests of :mod:`nin_mx.graph.ndarray_file` check against MXNet's own reading without MXNet.
The files cover ``mx.nd.save`` of dicts (with and without ``arg:``/``aux:`` prefixes), of a
list and of an empty dict; every dtype MXNet 1.9.1 saves; empty arrays; arrays saved under
numpy shape semantics (a 0-d scalar, a zero-size dimension); row_sparse and csr arrays; a
Gluon ``export`` and ``save_parameters``; ``mx.model.save_checkpoint``; and two layouts older
MXNet versions wrote (no magic, uint32 dims; and the V1 magic), built byte by byte here since
MXNet 1.9.1 no longer writes them, but read back by ``mx.nd.load``. The output is the same
at every run (seeded).

Usage:
    python scripts/make_test_checkpoints.py [OUTDIR]   # default: tests/data/params
"""

from __future__ import annotations

import ctypes
import json
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nin_mx._mxnet import mx  # noqa: E402  (the shim: never a plain "import mxnet" first)

DTYPES = ("float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool")
V1_MAGIC = 0xF993FAC8


def _dtype_name(dtype: object) -> str:
    if np.dtype(dtype) == np.dtype([("bfloat16", np.uint16)]):  # how mx.nd.load shows flag 12
        return "bfloat16"
    return np.dtype(dtype).name


def _answer(path: Path, np_shape: bool = False) -> list[list[object]]:
    """What ``mx.nd.load`` says about the file: ``[name, shape, dtype, stype]`` per array."""
    with mx.util.np_shape(np_shape):
        loaded = mx.nd.load(str(path))
        items = loaded.items() if isinstance(loaded, dict) else ((None, v) for v in loaded)
        return [[name, list(a.shape), _dtype_name(a.dtype), a.stype] for name, a in items]


def _sidecar(path: Path, np_shape: bool = False) -> None:
    answer = _answer(path, np_shape)
    text = "[\n" + ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in answer) + "\n]\n"
    path.with_suffix(".json").write_text("[]\n" if not answer else text, encoding="utf-8")


def _bfloat16(array: mx.nd.NDArray) -> mx.nd.NDArray:
    """``amp_cast`` to bfloat16, called without the Python wrapper (whose numpy has no such dtype)."""
    from mxnet._ctypes.ndarray import _imperative_invoke
    from mxnet.base import _LIB, c_str, check_call

    handle = ctypes.c_void_p()
    check_call(_LIB.NNGetOpHandle(c_str("amp_cast"), ctypes.byref(handle)))
    return _imperative_invoke(handle.value, [array], ["dtype"], ["bfloat16"], None, False, False)


def _random(shape: Sequence[int], dtype: str, rng: np.random.RandomState) -> mx.nd.NDArray:
    values = rng.uniform(-3, 3, size=tuple(shape))
    return mx.nd.array(values > 0 if dtype == "bool" else values, dtype=dtype)


def _legacy(out: Path, name: str, arrays: Sequence[tuple[Sequence[int], int]], v1: bool) -> Path:
    """An NDArray file as MXNet before 1.0 wrote it: per array its shape, context, type flag, data.

    Without ``v1``, a shape is a uint32 ndim and uint32 dims, and there is no magic (the ndim
    comes first); with it, the V1 magic, an int32 ndim and int64 dims.
    """
    sizes = {0: 4, 1: 8, 4: 4, 6: 8}
    body = struct.pack("<QQQ", 0x112, 0, len(arrays))
    for index, (shape, flag) in enumerate(arrays):
        if v1:
            body += struct.pack(f"<Ii{len(shape)}q", V1_MAGIC, len(shape), *shape)
        else:
            body += struct.pack(f"<I{len(shape)}I", len(shape), *shape)
        body += struct.pack("<iii", 1, 0, flag)
        count = int(np.prod(shape))
        body += bytes((index * 7 + i) % 251 for i in range(count * sizes[flag]))
    body += struct.pack("<Q", len(arrays))
    for index in range(len(arrays)):
        key = f"arg:legacy{index}".encode()
        body += struct.pack("<Q", len(key)) + key
    path = out / name
    path.write_bytes(body)
    return path


def _gluon(out: Path) -> list[Path]:
    from mxnet import gluon

    mx.random.seed(0)
    net = gluon.nn.HybridSequential(prefix="tiny_")
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, 3, in_channels=3), gluon.nn.BatchNorm(in_channels=4), gluon.nn.Dense(5))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.ones((1, 3, 8, 8)))
    net.export(str(out / "gluon"), epoch=0)
    net.save_parameters(str(out / "gluon_save_parameters.params"))
    return [out / "gluon-0000.params", out / "gluon_save_parameters.params"]


def _module(out: Path, rng: np.random.RandomState) -> Path:
    data = mx.sym.var("data")
    net = mx.sym.Convolution(data, num_filter=4, kernel=(3, 3), name="conv0")
    net = mx.sym.BatchNorm(net, name="bn0")
    net = mx.sym.FullyConnected(mx.sym.Activation(net, act_type="relu"), num_hidden=3, name="fc0")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    args, _, aux = net.infer_shape(data=(1, 3, 8, 8))
    skip = {"data", "softmax_label"}
    arg_params = {k: _random(s, "float32", rng) for k, s in zip(net.list_arguments(), args) if k not in skip}
    aux_params = {k: _random(s, "float32", rng) for k, s in zip(net.list_auxiliary_states(), aux)}
    mx.model.save_checkpoint(str(out / "module"), 3, net, arg_params, aux_params)
    return out / "module-0003.params"


def main(argv: Sequence[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "tests" / "data" / "params"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(0)
    mx.random.seed(0)
    made: list[tuple[Path, bool]] = []

    def save(name: str, data: object, np_shape: bool = False) -> None:
        path = out / name
        with mx.util.np_shape(np_shape):
            mx.nd.save(str(path), data)
        made.append((path, np_shape))

    layers = {"conv0_weight": (4, 3, 3, 3), "conv0_bias": (4,), "fc0_weight": (5, 16), "fc0_bias": (5,)}
    aux = {"bn0_moving_mean": (4,), "bn0_moving_var": (4,)}
    prefixed = {f"arg:{k}": _random(s, "float32", rng) for k, s in layers.items()}
    prefixed.update({f"aux:{k}": _random(s, "float32", rng) for k, s in aux.items()})
    save("arg_aux.params", prefixed)
    plain = {k: _random(s, "float32", rng) for k, s in {**layers, **aux}.items()}
    plain["größe_γ"] = _random((2, 2), "float16", rng)  # a name that is not ASCII
    plain[""] = _random((1,), "float32", rng)  # and an empty one
    save("plain_names.params", plain)
    save("list.params", [_random((2, 3), "float32", rng), _random((7,), "int64", rng)])
    save("empty.params", {})
    dtypes = {dtype: _random((2, 3), dtype, rng) for dtype in DTYPES}
    dtypes["bfloat16"] = _bfloat16(_random((3, 2), "float32", rng))
    save("dtypes.params", dtypes)
    empties = {"zero": mx.nd.array(np.zeros((0,))), "three_by_zero": mx.nd.array(np.zeros((3, 0)))}
    empties["long"] = _random((2, 1, 3, 1, 2, 1), "int8", rng)  # six dims: past TShape's stack cache
    save("empty_arrays.params", empties)
    with mx.util.np_shape(True):
        scalars = {
            "scalar": mx.nd.array(np.float32(2.5)),
            "two_by_zero": mx.nd.zeros((2, 0)),
            "zero": mx.nd.zeros((0,), dtype="int32"),
            "pair": mx.nd.ones((1, 2), dtype="int64"),
        }
    save("np_shape.params", scalars, np_shape=True)
    sparse = {
        "rows": mx.nd.sparse.row_sparse_array((rng.rand(2, 3).astype("float32"), [1, 4]), shape=(6, 3)),
        "csr": mx.nd.sparse.csr_matrix(
            (np.array([1.0, 2.0, 3.0]), np.array([0, 2, 1]), np.array([0, 1, 2, 3])), shape=(3, 4)
        ),
        "no_rows": mx.nd.sparse.zeros("row_sparse", (5, 2), dtype="float16"),
        "no_values": mx.nd.sparse.zeros("csr", (2, 7), dtype="int32"),
    }
    save("sparse.params", sparse)
    save("sparse_list.params", [sparse["csr"], mx.nd.ones((2,)), sparse["rows"]])
    made += [(path, False) for path in _gluon(out)]
    made.append((_module(out, rng), False))
    made.append((_legacy(out, "legacy_v0.params", [((2, 3), 0), ((), 6), ((4,), 4)], v1=False), False))
    made.append((_legacy(out, "legacy_v1.params", [((2, 2, 1), 1), ((), 0), ((0, 5), 0)], v1=True), False))
    for path, np_shape in made:
        _sidecar(path, np_shape)
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
