"""nin_mx's own ONNX messages (nin_mx.export.proto) and constants (nin_mx.export.dtypes.pack)
are byte for byte what onnx and numpy make of the same values: onnx's ``helper`` and
``numpy_helper`` with ``SerializeToString()`` (protobuf's encoding of onnx/onnx.proto), numpy's
casts. The whole exports are held by test_onnx_bytes.py (hashes) and by every export test.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nin_mx.core.errors import GraphError  # noqa: E402
from nin_mx.export import proto, save_onnx  # noqa: E402
from nin_mx.export.dtypes import DTYPES, filled_tensor, pack, round_to  # noqa: E402

INTS = [0, 1, 127, 128, 300, 2**31, -1, -128, -(2**63), 2**63 - 1, True, False]
FLOATS = [0.0, -0.0, 0.1, 1.0, -2.5, 1e-45, 1e-39, 3.4028234663852886e38, 3.4028235677973362e38]
FLOATS += [3.4028235677973366e38, 1e39, -1e39, math.inf, -math.inf, 1e300]


@pytest.mark.parametrize("value", INTS + FLOATS + ["", "same", "ünï", b"\x00\xff"], ids=repr)
def test_a_scalar_attribute_is_onnxs(value):
    ours = proto.Attribute.of("a", value).encode()
    assert ours == helper.make_attribute("a", value).SerializeToString()


def test_a_nan_attribute_is_onnxs():
    assert (
        proto.Attribute.of("f", math.nan).encode() == helper.make_attribute("f", math.nan).SerializeToString()
    )


@pytest.mark.parametrize(
    "value",
    [[1, 2, 3], [0], [-1, 2**40], (3, 3), [1.5, -0.25], [1, 2.5], [0.1] * 5, ["a", "bc"], [b"x"]],
    ids=repr,
)
def test_a_list_attribute_is_onnxs(value):
    assert proto.Attribute.of("xs", value).encode() == helper.make_attribute("xs", value).SerializeToString()


def test_an_attribute_of_no_onnx_type_is_refused():
    with pytest.raises(TypeError, match="no ONNX attribute type"):
        proto.Attribute.of("xs", [])


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("value", [0, 1])
def test_a_filled_tensor_attribute_is_make_tensors(dtype, value):
    ours = proto.Attribute.of("value", filled_tensor(DTYPES[dtype], value)).encode()
    theirs = helper.make_attribute("value", helper.make_tensor("value", DTYPES[dtype], [1], [value]))
    assert ours == theirs.SerializeToString()


def test_a_node_is_make_nodes():
    attrs = {"kernel_shape": [3, 3], "alpha": 0.2, "mode": "constant", "group": 4}
    ours = proto.node(
        "Conv",
        ["x", "w", ""],
        ["y"],
        "conv0",
        [proto.Attribute.of(k, v).encode() for k, v in sorted(attrs.items())],
    )
    theirs = helper.make_node("Conv", ["x", "w", ""], ["y"], name="conv0", **attrs)
    assert ours == theirs.SerializeToString()


@pytest.mark.parametrize("dims", [[], [1], ["N", 3, "H", "W"], [0, 2**33, "d_1"]], ids=repr)
def test_a_value_info_is_make_tensor_value_infos(dims):
    ours = proto.ValueInfo("data", proto.FLOAT, dims).encode()
    assert ours == helper.make_tensor_value_info("data", TensorProto.FLOAT, dims).SerializeToString()


def test_the_ir_version_is_onnxs():
    for opset in range(13, 22):
        assert proto.ir_version(opset) == helper.find_min_ir_version_for([helper.make_opsetid("", opset)])


_CAST_VALUES = [300.0, -1.0, -2.7, 2.7, 1e20, math.inf, math.nan, 3e9, -3e9, 256.5, 0.0, 127.0]


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool"]
)
def test_constants_are_numpys_casts(dtype):
    """``pack`` is ``from_array(np.asarray(values, dtype))``'s raw data: a float rounded to the
    nearest of the type (an infinity past it), an integer type as C (and numpy on x86) casts a
    double: truncated, the "integer indefinite" value past 32 (64) bits, wrapped to the width."""
    values = [*FLOATS, math.nan, 1e-8, 6e-8, 65519.0, 65520.0, -70000.0, 1e5]
    if dtype.startswith(("int", "uint")):
        if platform.machine() not in ("x86_64", "AMD64"):
            pytest.skip("out-of-range casts are the x86 ones")
        values = _CAST_VALUES
    with np.errstate(all="ignore"):
        want = np.array(values, dtype=np.float64).astype(dtype).tobytes()
    assert pack(values, dtype) == want
    assert pack([3, -7, 0], dtype) == np.array([3, -7, 0]).astype(dtype).tobytes()


def test_a_constant_tensor_is_from_arrays():
    values = [0.5, -1.25, 3.0, 1e-3, 7.0, 8.0]
    ours = proto.Tensor("c", proto.FLOAT, (2, 3), pack(values, "float32")).encode()
    theirs = numpy_helper.from_array(np.asarray(values, np.float32).reshape(2, 3), "c")
    assert ours == theirs.SerializeToString()
    assert proto.Tensor("e", proto.INT64, (0,), b"").encode() == (
        numpy_helper.from_array(np.zeros((0,), np.int64), "e").SerializeToString()
    )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "uint8"])
def test_arithmetic_in_a_type_is_numpys(dtype):
    """``round_to`` after each operation is numpy's arithmetic in that type (an arange's
    ``start + (i // repeat) * step``)."""
    kind = np.dtype(dtype).type
    for start, step, repeat, n in ((0.5, 0.2, 1, 13), (12, -0.75, 2, 9), (3, 1, 1, 12), (1e-3, 1.1, 3, 20)):
        first, every = round_to(start, dtype), round_to(step, dtype)
        ours = [
            round_to(first + round_to(round_to(i // repeat, dtype) * every, dtype), dtype) for i in range(n)
        ]
        with np.errstate(all="ignore"):
            theirs = kind(start) + (np.arange(n, dtype=np.int64) // repeat).astype(kind) * kind(step)
        assert pack(ours, dtype) == theirs.astype(dtype).tobytes()


def test_a_model_is_onnxs_and_to_onnx_parses_it():
    model = proto.Model(17)
    model.name = "g"
    model.nodes.append(proto.node("Relu", ["x"], ["y"], "relu", [proto.Attribute.of("alpha", 0.5).encode()]))
    model.initializers.append(proto.Tensor("w", proto.FLOAT, (2,), pack([1.0, 2.0], "float32")))
    model.inputs.append(proto.ValueInfo("x", proto.FLOAT, ["N", 2]))
    model.outputs.append(proto.ValueInfo("y", proto.FLOAT, ["N", 2]))
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu", alpha=0.5)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "w")],
    )
    theirs = onnx.ModelProto(ir_version=8, producer_name="nin_mx", graph=graph)
    theirs.opset_import.append(helper.make_opsetid("", 17))
    assert model.encode() == theirs.SerializeToString()
    assert model.to_onnx().SerializeToString() == theirs.SerializeToString()
    assert model.to_onnx(release=True) == theirs and model.initializers[0].raw is None


def _small(tmp_path):
    model = proto.Model(17)
    model.initializers.append(proto.Tensor("w", proto.FLOAT, (4,), pack([1.0, 2.0, 3.0, 4.0], "float32")))
    return model


def test_saving_over_a_file_replaces_it_in_one_step(tmp_path, monkeypatch):
    """Over an existing file the new one is put in place by an exchange (the old one is
    removed with the temporary folder); where there is none, by ``os.replace``: the same file."""
    import nin_mx.export.save as save

    model, path = _small(tmp_path), tmp_path / "m.onnx"
    path.write_bytes(b"old")
    os.link(path, tmp_path / "other-name")  # a second name of the old file keeps the old bytes
    save_onnx(model, path)
    assert path.read_bytes() == model.encode()
    assert (tmp_path / "other-name").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "other-name"]
    monkeypatch.setattr(save, "_exchange", lambda a, b: False)  # no renameat2 here
    path.write_bytes(b"old")
    save_onnx(model, path)
    assert path.read_bytes() == model.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "other-name"]


def test_saving_onto_a_folder_or_a_link(tmp_path):
    """A folder is not replaced (one line, the folder and its files kept); a symbolic link is
    replaced by the file, as ``os.replace`` does, and what it pointed to is untouched."""
    model = _small(tmp_path)
    folder = tmp_path / "m.onnx"
    folder.mkdir()
    (folder / "keep").write_text("x")
    with pytest.raises(GraphError, match="cannot write"):
        save_onnx(model, folder)
    assert (folder / "keep").read_text() == "x"
    target, link = tmp_path / "target", tmp_path / "link.onnx"
    target.write_bytes(b"target")
    link.symlink_to(target)
    save_onnx(model, link)
    assert not link.is_symlink() and link.read_bytes() == model.encode()
    assert target.read_bytes() == b"target"


def _checkpoint(path, graph, shapes):
    """An NDArray file of zeros for every weight of ``graph`` (apache/mxnet 1.9.1
    src/ndarray/ndarray.cc, NDArray::Save: list magic 0x112, then per array the V2 magic,
    storage type 0, int32 ndim and int64 dims, the context, dtype flag 0 = float32, the data;
    then the names, ``arg:``/``aux:`` prefixed)."""
    import struct

    arrays, names = [], []
    for node in graph.nodes:
        if not node.is_variable or node.name == "data" or node.name.endswith("_label"):
            continue
        shape = shapes.outputs[node.index][0]
        arrays.append(
            struct.pack(f"<Iii{len(shape)}qiii", 0xF993FAC9, 0, len(shape), *shape, 1, 0, 0)
            + bytes(4 * math.prod(shape))
        )
        kind = "aux" if node.name.endswith(("moving_mean", "moving_var")) else "arg"
        names.append(f"{kind}:{node.name}".encode())
    body = struct.pack("<QQQ", 0x112, 0, len(arrays)) + b"".join(arrays)
    path.write_bytes(
        body + struct.pack("<Q", len(names)) + b"".join(struct.pack("<Q", len(n)) + n for n in names)
    )


def test_the_cli_export_imports_neither_onnx_nor_numpy(tmp_path):
    """``--onnx`` with a checkpoint of float32 weights writes the model with nin_mx's own
    messages: afterwards neither onnx, protobuf nor numpy is loaded (seeded random weights,
    without a checkpoint, take numpy's generator; never onnx)."""
    from nin_mx import Graph
    from nin_mx.graph.shapes import infer

    graph = Graph.from_model("nin_cifar10")
    params = tmp_path / "nin-0000.params"
    _checkpoint(params, graph, infer(graph, {"data": (1, 3, 32, 32)}))
    code = (
        "import sys\n"
        "from nin_mx.cli import main\n"
        "sys.argv = ['nin-shape-report', 'nin_cifar10', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('loaded:', sorted({m.split('.')[0] for m in sys.modules} & {'onnx', 'google', 'numpy'}))\n"
    )
    for extra, loaded in ((["--params", str(params)], "[]"), ([], "['numpy']")):
        out = tmp_path / "m.onnx"
        args = [sys.executable, "-c", code, "--onnx", str(out), *extra]
        done = subprocess.run(args, capture_output=True, text=True, check=True)
        assert f"loaded: {loaded}" in done.stdout, done.stdout + done.stderr
        onnx.checker.check_model(str(out), full_check=True)
