"""The export is deterministic and needs no MXNet: the same bytes on every Python and numpy.

The hashes below were made on Python 3.11 (numpy 1.23.5, MXNet installed); the 3.13 leg
(numpy 2, no MXNet) must export the very same bytes from the same committed symbol files, with
the same seeded weights. onnxruntime then runs each model at its size and, where height and
width are symbolic, at two more, and every output's shape is the engine's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from nin_mx import Graph  # noqa: E402
from nin_mx.export import export_onnx, save_onnx  # noqa: E402
from nin_mx.graph.shapes import infer  # noqa: E402

ORACLE = Path(__file__).parent / "data" / "oracle"
# (symbol file, input shape, opset) -> sha256 of the model's bytes, made on Python 3.11
HASHES = {
    (
        "nin_cifar10-symbol.json",
        (1, 3, 32, 32),
        17,
    ): "18efec6822bc0d079bd071047f90864e64aec2cd48fe317e76f3ebf880d41b58",
    ("mobilenet0.25-symbol.json", (1, 3, 224, 224), 17): (
        "a924e63429945574fa9fc148f7bce0da9233297c0adc8a066a33f3c1e30b4633"
    ),
    # its heads are cat2 and split's output 1, which cat2 also reads: an output since the heads
    # are exported (it was left out when the outputs were the nodes no other node reads)
    ("hand_split-symbol.json", None, 18): "f41ec5c2cf6e7cdec34c1ba4e2023e4a6f1dd6b1d004cfcc079ee286b0e8ecf1",
}
CASES = list(HASHES)


def _export(name, shape, opset):
    graph = Graph.from_file(ORACLE / name)
    if shape is None:
        shape = _oracle_inputs(name)
    return graph, export_onnx(graph, input_shapes=shape, opset=opset)


def _oracle_inputs(name):
    import json

    data = json.loads((ORACLE / name.replace("-symbol.json", "-shapes.json")).read_text())
    return {k: tuple(v) for k, v in data["inputs"].items()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_export_bytes_are_the_same_everywhere(case, tmp_path):
    _graph, exported = _export(*case)
    data = exported.model.SerializeToString()
    assert hashlib.sha256(data).hexdigest() == HASHES[case]
    path = tmp_path / "m.onnx"
    save_onnx(exported.model, path)
    assert path.read_bytes() == data
    assert _export(*case)[1].model.SerializeToString() == data


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_onnxruntime_shapes_are_the_engines(case):
    graph, exported = _export(*case)
    onnx.checker.check_model(exported.model, full_check=True)
    session = ort.InferenceSession(exported.model.SerializeToString(), providers=["CPUExecutionProvider"])
    sizes = [dict(exported.input_shapes)]
    if "H" in exported.symbolic:
        ((name, (_n, c, h, w)),) = exported.input_shapes.items()
        sizes += [{name: (2, c, h + 32, w + 32)}, {name: (1, c, 2 * h + 2, 2 * w + 4)}]
    for shapes in sizes:
        feeds = {k: np.random.RandomState(0).uniform(-1, 1, v).astype(np.float32) for k, v in shapes.items()}
        outs = session.run(None, feeds)
        engine = infer(graph, shapes)
        assert len(outs) == len(graph.heads)
        for (index, k), value, got in zip(graph.heads, exported.model.graph.output, outs):
            assert got.shape == engine.outputs[index][k], (value.name, shapes)
            assert np.isfinite(got).all()


def test_a_model_past_the_protobuf_limit_keeps_its_weights_outside(tmp_path, monkeypatch):
    """Past 2 GB (here: the limit lowered), the weights go to ``OUT.onnx.data`` (onnx
    docs/ExternalData.md); the model checks by path and runs the same."""
    import nin_mx.export.save as export_model

    _, exported = _export(*CASES[0])
    monkeypatch.setattr(export_model, "_PROTOBUF_LIMIT", 1)
    monkeypatch.setattr(export_model, "_MARGIN", 0)
    path = tmp_path / "big.onnx"
    before = exported.model.SerializeToString()
    save_onnx(exported.model, path)
    assert exported.model.SerializeToString() == before  # the model keeps its weights
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.onnx", "big.onnx.data"]
    assert path.stat().st_size < 100_000 < (tmp_path / "big.onnx.data").stat().st_size
    onnx.checker.check_model(str(path), full_check=True)
    feeds = {"data": np.random.RandomState(0).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)}
    from_file = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    in_memory = ort.InferenceSession(
        exported.model.SerializeToString(), providers=["CPUExecutionProvider"]
    ).run(None, feeds)
    assert (from_file[0] == in_memory[0]).all()
