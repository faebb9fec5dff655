"""The pure-Python reader of MXNet NDArray files (nin_mx.graph.ndarray_file).

Without MXNet: the files of tests/data/params (written by scripts/make_test_checkpoints.py)
against the answers ``mx.nd.load`` gave for them (the ``.json`` beside each), every truncation
and a seeded sample of bit flips of them, crafted hostile headers (in a subprocess with 512 MiB
of address space and a timeout), and files that are not regular files. With MXNet (marked
``mxnet``): the reader against ``mx.nd.load`` on the fixtures, on random checkpoints, and on
our own NIN's; and a 50 MB checkpoint read through a few kilobytes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nin_mx.core.errors import GraphError
from nin_mx.graph.ndarray_file import DTYPES, MAX_NDIM, StoredInfo, read_ndarray_file

DATA = Path(__file__).parent / "data" / "params"
FIXTURES = sorted(DATA.glob("*.params"))
V1, V2, V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA
FLAGS = {name: (flag, size) for flag, (name, size) in DTYPES.items()}
CORRUPT = "truncated or corrupt MXNet NDArray file"


def _rows(infos: Sequence[StoredInfo]) -> list[list[Any]]:
    return [[info.name, list(info.shape), info.dtype, info.stype] for info in infos]


def _sidecar(path: Path) -> list[list[Any]]:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


# ----- crafting files byte by byte ------------------------------------------------------------


def _list(arrays: Sequence[bytes], names: Sequence[bytes] = (), count: int | None = None) -> bytes:
    body = struct.pack("<QQQ", 0x112, 0, len(arrays) if count is None else count) + b"".join(arrays)
    return body + struct.pack("<Q", len(names)) + b"".join(struct.pack("<Q", len(n)) + n for n in names)


def _shape(dims: Sequence[int]) -> bytes:
    return struct.pack(f"<i{len(dims)}q", len(dims), *dims)


def _dense(dims: Sequence[int], dtype: str = "float32", magic: int = V2, data: int | None = None) -> bytes:
    flag, size = FLAGS[dtype]
    nbytes = size * _prod(dims) if data is None else data
    return struct.pack("<Ii", magic, 0) + _shape(dims) + struct.pack("<iii", 1, 0, flag) + bytes(nbytes)


def _prod(dims: Sequence[int]) -> int:
    out = 1
    for dim in dims:
        out *= dim
    return out


ONE = _dense((2,))  # one valid float32 array of 2 elements
TAIL = struct.pack("<iii", 1, 0, 0) + bytes(8)  # context, float32, data of (2,)


def _sparse(
    stype: int, storage: Sequence[int], dims: Sequence[int], aux: Sequence[Sequence[int]], values: int
) -> bytes:
    """A float32 row_sparse (1) or csr (2) array with int64 auxiliary arrays of shapes ``aux``."""
    body = struct.pack("<Ii", V2, stype) + _shape(storage) + _shape(dims) + struct.pack("<iii", 1, 0, 0)
    body += b"".join(struct.pack("<i", 6) + _shape(shape) for shape in aux)
    return body + bytes(4 * values) + b"".join(bytes(8 * _prod(shape)) for shape in aux)


TWO = ["a", [2], "float32", "default"]
# name -> (file bytes, what the reader answers)
VALID: dict[str, tuple[bytes, list[list[Any]]]] = {
    # V2 ndim 0: MXNet's Load returns an empty handle and reads nothing more of that array
    "none": (
        _list([struct.pack("<Iii", V2, 0, 0), ONE], [b"x", b"a"]),
        [["x", [], "undefined", "undefined"], TWO],
    ),
    "v3 scalar": (_list([_dense((), magic=V3)], [b"s"]), [["s", [], "float32", "default"]]),
    "bfloat16": (_list([_dense((3,), "bfloat16")]), [[None, [3], "bfloat16", "default"]]),
    "gpu context": (
        _list([struct.pack("<Ii", V2, 0) + _shape((2,)) + struct.pack("<iii", 2, 3, 0) + bytes(8)]),
        [[None, [2], "float32", "default"]],
    ),
    "trailing bytes": (_list([ONE], [b"a"]) + b"ignored by MXNet too", [TWO]),
    "reserved set": (struct.pack("<QQQQ", 0x112, 7, 0, 0), []),
    "a name twice": (_list([ONE, ONE], [b"a", b"a"]), [TWO, TWO]),
    "legacy 0-d": (_list([struct.pack("<Iiii", 0, 1, 0, 6) + bytes(8)]), [[None, [], "int64", "default"]]),
    "32 dims": (_list([_dense((1,) * 32)]), [[None, [1] * 32, "float32", "default"]]),
    # MXNet sizes a sparse array's values by its indices: the stored first dimension is ignored...
    "row_sparse storage[0] ignored": (
        _list([_sparse(1, (99, 3), (6, 3), [(2,)], values=6), ONE], [b"r", b"a"]),
        [["r", [6, 3], "float32", "row_sparse"], TWO],
    ),
    # ... and a storage shape of size 0 is replaced: by the dense shape (row_sparse) or the indices'
    "row_sparse storage of size 0": (
        _list([_sparse(1, (0, 0), (6, 3), [(2,)], values=6), ONE], [b"r", b"a"]),
        [["r", [6, 3], "float32", "row_sparse"], TWO],
    ),
    "csr storage of size 0": (
        _list([_sparse(2, (0,), (3, 4), [(4,), (3,)], values=3), ONE], [b"c", b"a"]),
        [["c", [3, 4], "float32", "csr"], TWO],
    ),
}

# name -> (file bytes, a fragment of the one-line error)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "count 1e18": (_list([ONE], [b"a"], count=10**18), "1000000000000000000 arrays"),
    "count 2^64-1": (_list([], count=2**64 - 1), "18446744073709551615 arrays"),
    "names 1e18": (_list([ONE])[:-8] + struct.pack("<Q", 10**18), "1000000000000000000 names"),
    "key length 6e9": (_list([ONE])[:-8] + struct.pack("<QQ", 1, 6 * 10**9) + b"a", "6000000000 bytes"),
    "ndim -1": (struct.pack("<QQQIii", 0x112, 0, 1, V2, 0, -1) + TAIL, "ndim -1"),
    "ndim 2^31": (struct.pack("<QQQIiI", 0x112, 0, 1, V2, 0, 2**31) + TAIL, "ndim -2147483648"),
    "ndim 33": (struct.pack("<QQQIii", 0x112, 0, 1, V2, 0, 33) + bytes(400), f"must be 0..{MAX_NDIM}"),
    "legacy ndim 33": (struct.pack("<QQQI", 0x112, 0, 1, 33) + bytes(400), "neither a magic nor an ndim"),
    "v1 ndim -1": (struct.pack("<QQQIi", 0x112, 0, 1, V1, -1) + TAIL, "ndim -1"),
    "dims 2^62": (_list([_dense((2**62, 2**62), data=0)], [b"a"]), "the data of array 0 needs"),
    "negative dim": (_list([_dense((3, -2), data=0)], [b"a"]), "negative dimension"),
    "dim -1 in v3": (_list([_dense((-1,), magic=V3, data=0)]), "negative dimension"),
    "dtype flag 99": (_list([ONE[:-12] + struct.pack("<i", 99) + bytes(8)]), "dtype flag 99"),
    "dtype flag -1": (_list([ONE[:-12] + struct.pack("<i", -1) + bytes(8)]), "dtype flag -1"),
    "uint16": (_list([ONE[:-12] + struct.pack("<i", 9) + bytes(4)]), "uint16 (flag 9"),
    "storage type 3": (_list([struct.pack("<Ii", V2, 3) + ONE[8:]]), "storage type 3"),
    "storage type -1": (_list([struct.pack("<Ii", V2, -1) + ONE[8:]]), "storage type -1"),
    "sparse under v3": (_list([struct.pack("<Ii", V3, 1) + _shape((1,)) + ONE[8:]]), "storage type 1"),
    "aux dtype 42": (
        _list([struct.pack("<Ii", V2, 1) + _shape((0,)) + _shape((2,)) + struct.pack("<iiii", 1, 0, 0, 42)]),
        "array 0's indices has dtype flag 42",
    ),
    "2-d indices": (_list([_sparse(1, (2, 3), (6, 3), [(2, 1)], values=6)]), "not 1-d"),
    "0-d storage shape": (_list([_sparse(1, (), (6, 3), [(2,)], values=6)]), "has ndim 0"),
    "data past the end": (_list([_dense((1000,), data=16)], [b"a"]), "needs 4000 bytes"),
    "names mismatch": (_list([ONE, ONE], [b"a"]), "2 arrays but 1 names"),
    "not utf-8": (_list([ONE, ONE], [b"a", b"\xff\xfe"]), "the name of array 1 (at byte"),
    "legacy magic": (struct.pack("<QQQI", 0x112, 0, 1, 0x12345678) + bytes(40), "0x12345678"),
    "bad list magic": (struct.pack("<QQQ", 0x113, 0, 0) + bytes(8), "not an MXNet NDArray (.params) file"),
    "json": (b'{\n  "nodes": []\n}\n', "(it holds JSON; a -symbol.json is the graph"),
    "json after a bom": (b'\xef\xbb\xbf  {"nodes": []}', "(it holds JSON"),
    "three bytes": (b"abc", "not an MXNet NDArray (.params) file"),
    "magic prefix": (b"\x12\x01\x00", CORRUPT),
}


def _check_error(path: Path | str, exc: GraphError, fragment: str = "") -> None:
    message = str(exc)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    assert fragment in message, message


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Fails (rather than hangs) a block that takes longer than ``seconds`` (main thread, POSIX)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bytes_read() -> int | None:
    """Bytes this process has read with read(2) so far (Linux ``/proc/self/io``), or None."""
    try:
        with open("/proc/self/io", encoding="ascii") as handle:
            return int(next(line for line in handle if line.startswith("rchar:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return None


# ----- without MXNet ----------------------------------------------------------------------------


def test_fixtures_are_there_and_small() -> None:
    names = {path.name for path in FIXTURES}
    assert {
        "arg_aux.params",
        "list.params",
        "sparse.params",
        "gluon-0000.params",
        "legacy_v0.params",
    } <= names
    assert all(path.with_suffix(".json").is_file() for path in FIXTURES)
    assert all(path.stat().st_size < 50_000 for path in FIXTURES)
    assert sum(path.stat().st_size for path in DATA.iterdir()) < 300_000


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_matches_mxnet(path: Path) -> None:
    assert _rows(read_ndarray_file(path)) == _sidecar(path)
    assert read_ndarray_file(str(path)) == read_ndarray_file(path)


def test_fixtures_cover_every_dtype_stype_and_layout() -> None:
    rows = [row for path in FIXTURES for row in _sidecar(path)]
    assert {row[2] for row in rows} == {name for name, _ in DTYPES.values()}
    assert {row[3] for row in rows} == {"default", "row_sparse", "csr"}
    assert [] in (row[1] for row in rows) and any(0 in row[1] for row in rows)
    heads = {path.read_bytes()[24:28] for path in FIXTURES if path.stat().st_size > 40}
    assert {struct.pack("<I", magic) for magic in (V1, V2, V3)} <= heads
    assert struct.pack("<I", 2) in heads  # legacy: no magic, the ndim first


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_truncation_is_one_graph_error(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    data = path.read_bytes()
    copy.write_bytes(data)
    expected = read_ndarray_file(path)
    with _deadline(30):
        for size in range(len(data), -1, -1):
            os.truncate(copy, size)
            if size == len(data):
                assert read_ndarray_file(copy) == expected
                continue
            with pytest.raises(GraphError) as caught:
                read_ndarray_file(copy)
            _check_error(copy, caught.value, CORRUPT if size else "the file is empty")


def test_bit_flips_raise_graph_error_or_read(tmp_path: Path) -> None:
    rng = random.Random(0)
    sources = [path.read_bytes() for path in FIXTURES]
    target = tmp_path / "flipped.params"
    outcomes = {"read": 0, "error": 0}
    with _deadline(30):
        for _ in range(400):
            data = bytearray(rng.choice(sources))
            position = rng.randrange(min(len(data), 400))  # mostly headers: the data has none
            data[position] ^= 1 << rng.randrange(8)
            target.write_bytes(data)
            try:
                infos = read_ndarray_file(target)
            except GraphError as exc:
                _check_error(target, exc)
                outcomes["error"] += 1
            else:
                outcomes["read"] += 1
                for info in infos:
                    assert all(isinstance(d, int) and d >= 0 for d in info.shape)
                    assert info.stype in ("default", "row_sparse", "csr", "undefined")
    assert outcomes["read"] > 20 and outcomes["error"] > 100, outcomes


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_header(case: str, tmp_path: Path) -> None:
    data, fragment = HOSTILE[case]
    path = tmp_path / "hostile.params"
    path.write_bytes(data)
    with _deadline(10), pytest.raises(GraphError) as caught:
        read_ndarray_file(path)
    _check_error(path, caught.value, fragment)


_BOUNDED = """
import json, resource, sys
from nin_mx.core.errors import GraphError
from nin_mx.graph.ndarray_file import read_ndarray_file
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
errors = []
for path in sys.argv[1:]:
    try:
        read_ndarray_file(path)
        errors.append(None)
    except GraphError as exc:
        errors.append(str(exc))
try:  # this process's peak (ru_maxrss would count the parent's, inherited through vfork and exec)
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([errors, peak]))
"""


@pytest.mark.skipif(importlib.util.find_spec("resource") is None, reason="needs resource (POSIX)")
def test_hostile_headers_in_bounded_memory_and_time(tmp_path: Path) -> None:
    paths = []
    for index, (data, _) in enumerate(HOSTILE.values()):
        paths.append(tmp_path / f"{index}.params")
        paths[-1].write_bytes(data)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _BOUNDED, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    errors, peak_kib = json.loads(done.stdout)
    assert all(
        error is not None and fragment in error for error, (_, fragment) in zip(errors, HOSTILE.values())
    )
    assert peak_kib < 200 * 1024, peak_kib


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_crafted_layouts(case: str, tmp_path: Path) -> None:
    data, expected = VALID[case]
    path = tmp_path / "valid.params"
    path.write_bytes(data)
    assert _rows(read_ndarray_file(path)) == expected


def test_not_a_regular_file(tmp_path: Path) -> None:
    cases: dict[Path, str] = {tmp_path / "missing.params": "no such file", tmp_path: "is a directory"}
    (tmp_path / "empty.params").write_bytes(b"")
    cases[tmp_path / "empty.params"] = "the file is empty"
    (tmp_path / "dangling.params").symlink_to(tmp_path / "nowhere")
    cases[tmp_path / "dangling.params"] = "no such file"
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.params")
        cases[tmp_path / "fifo.params"] = "is a FIFO, not a regular file"
    if os.path.exists("/dev/null"):
        cases[Path("/dev/null")] = "is a character device"
    with _deadline(10):  # a FIFO opened for reading would block until a writer comes
        for path, fragment in cases.items():
            with pytest.raises(GraphError) as caught:
                read_ndarray_file(path)
            _check_error(path, caught.value, fragment)


def test_reads_headers_only(tmp_path: Path) -> None:
    """A 50 MB file (sparse on disk) of five 10 MB arrays: read through a few kilobytes."""
    path = tmp_path / "big.params"
    with open(path, "wb") as handle:
        handle.write(struct.pack("<QQQ", 0x112, 0, 5))
        for _ in range(5):
            handle.write(_dense((2500, 1000), data=0))
            handle.seek(10_000_000, os.SEEK_CUR)
        handle.write(
            struct.pack("<Q", 5) + b"".join(struct.pack("<Q", 1) + bytes([97 + i]) for i in range(5))
        )
    before = _bytes_read()
    infos = read_ndarray_file(path)
    after = _bytes_read()
    assert _rows(infos) == [[chr(97 + i), [2500, 1000], "float32", "default"] for i in range(5)]
    if before is not None and after is not None:
        assert after - before < 200_000 < path.stat().st_size // 100


# ----- with MXNet -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mx() -> Any:
    if importlib.util.find_spec("mxnet") is None:
        pytest.skip("needs MXNet 1.9.1")
    from nin_mx._mxnet import mx

    return mx


def _mx_rows(mx: Any, path: Path, np_shape: bool = False) -> list[list[Any]]:
    import numpy as np

    bfloat16 = np.dtype([("bfloat16", np.uint16)])
    with mx.util.np_shape(np_shape):
        loaded = mx.nd.load(str(path))
    items = loaded.items() if isinstance(loaded, dict) else ((None, value) for value in loaded)
    return [
        [
            name,
            list(a.shape),
            "bfloat16" if np.dtype(a.dtype) == bfloat16 else np.dtype(a.dtype).name,
            a.stype,
        ]
        for name, a in items
    ]


@pytest.mark.mxnet
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_matches_mx_nd_load(mx: Any, path: Path) -> None:
    assert _rows(read_ndarray_file(path)) == _mx_rows(mx, path, np_shape=path.stem == "np_shape")


@pytest.mark.mxnet
@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_crafted_layouts_as_mx_nd_load_reads_them(mx: Any, case: str, tmp_path: Path) -> None:
    path = tmp_path / "valid.params"
    path.write_bytes(VALID[case][0])
    rows = _rows(read_ndarray_file(path))
    if case == "none":  # MXNet's C++ loads it; its Python side has no class for storage type -1
        with pytest.raises(Exception, match="unknown storage type: -1"):
            mx.nd.load(str(path))
        return
    once = list({row[0]: row for row in rows}.values()) if rows and rows[0][0] is not None else rows
    assert once == _mx_rows(mx, path, np_shape=case.startswith("v3"))  # a dict keeps one of each name


_ARRAYS = st.lists(
    st.tuples(
        st.sampled_from(("float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool")),
        st.lists(st.integers(0, 4), min_size=1, max_size=5),
        st.booleans(),  # row_sparse, for 2-d float arrays
    ),
    max_size=6,
)


@pytest.mark.mxnet
@settings(max_examples=30, deadline=None)
@given(arrays=_ARRAYS, as_dict=st.booleans())
def test_random_checkpoints_match_mx_nd_load(
    mx: Any, arrays: list[tuple[str, list[int], bool]], as_dict: bool
) -> None:
    import numpy as np

    made = []
    for index, (dtype, shape, sparse) in enumerate(arrays):
        array = mx.nd.array(np.arange(_prod(shape)).reshape(shape) % 3, dtype=dtype)
        if sparse and len(shape) == 2 and dtype in ("float32", "float64") and 0 not in shape:
            array = array.tostype("row_sparse")
        made.append((f"arg:layer{index}_weight", array))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.params"
        mx.nd.save(str(path), dict(made) if as_dict else [a for _, a in made])
        assert _rows(read_ndarray_file(path)) == _mx_rows(mx, path)


@pytest.mark.mxnet
def test_nin_cifar10_checkpoint(mx: Any, tmp_path: Path) -> None:
    from nin_mx import get_symbol

    symbol = get_symbol("nin_cifar10")
    args, _, aux = symbol.infer_shape(data=(1, 3, 32, 32))
    inputs = {"data", "softmax_label"}
    arg_params = {n: mx.nd.zeros(s) for n, s in zip(symbol.list_arguments(), args) if n not in inputs}
    aux_params = {n: mx.nd.zeros(s) for n, s in zip(symbol.list_auxiliary_states(), aux)}
    mx.model.save_checkpoint(str(tmp_path / "nin"), 7, symbol, arg_params, aux_params)
    path = tmp_path / "nin-0007.params"
    rows = _rows(read_ndarray_file(path))
    assert rows == _mx_rows(mx, path)
    stored = {name: tuple(shape) for name, shape, _, _ in rows}
    assert stored == {
        **{f"arg:{n}": a.shape for n, a in arg_params.items()},
        **{f"aux:{n}": a.shape for n, a in aux_params.items()},
    }


@pytest.mark.mxnet
def test_big_checkpoint_reads_few_bytes(mx: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.params"
    arrays = {f"arg:w{i}": mx.nd.zeros((1250, 1000)) for i in range(10)}  # 10 x 5 MB
    arrays["aux:tiny"] = mx.nd.ones((3,), dtype="int64")
    mx.nd.save(str(path), arrays)
    assert path.stat().st_size > 50_000_000
    before = _bytes_read()
    rows = _rows(read_ndarray_file(path))
    after = _bytes_read()
    assert rows == _mx_rows(mx, path)
    if before is not None and after is not None:
        assert after - before < path.stat().st_size // 100
