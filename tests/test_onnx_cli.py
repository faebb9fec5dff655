"""``nin-shape-report ... --onnx OUT [--opset N]``: the model written, or one line and nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from _cli import run_cli  # noqa: E402

ORACLE = Path(__file__).parent / "data" / "oracle"
NIN = str(ORACLE / "nin_cifar10-symbol.json")


def test_a_file_is_exported_with_symbolic_sizes(tmp_path):
    out = tmp_path / "nin.onnx"
    done = run_cli(NIN, "--input", "3,32,32", "--onnx", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out}: ONNX opset 17, input data (N,3,H,W), seeded random weights\n"
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    assert [o.name for o in model.graph.output] == ["softmax_output"]


def test_opset_and_a_locked_size_note(tmp_path):
    out = tmp_path / "m.onnx"
    # the file's 6x6 pool is global only at 224: exported at that size, with one note
    graph = json.loads((ORACLE / "nin_cifar10-symbol.json").read_text())
    for node in graph["nodes"]:
        if node["op"] == "Pooling" and node["attrs"].get("global_pool") in ("True", "1"):
            node["attrs"] = {"kernel": "(8, 8)", "pool_type": "avg"}
    locked = tmp_path / "locked-symbol.json"
    locked.write_text(json.dumps(graph))
    done = run_cli(str(locked), "--input", "3,32,32", "--onnx", str(out), "--opset", "13")
    assert done.returncode == 0, done.stderr
    assert "input data (N,3,32,32)" in done.stdout
    assert done.stderr.count("\n") == 1 and "fixed-global-pool" in done.stderr and "--fix" in done.stderr
    assert onnx.load(str(out)).opset_import[0].version == 13
    # --fix first, then --onnx of the fixed file: a size-free model
    fixed = tmp_path / "fixed-symbol.json"
    assert run_cli(str(locked), "--input", "3,32,32", "--fix", str(fixed)).returncode == 0
    done = run_cli(str(fixed), "--input", "3,32,32", "--onnx", str(out))
    assert done.returncode == 0 and done.stderr == "" and "input data (N,3,H,W)" in done.stdout


@pytest.mark.mxnet
def test_the_checkpoint_becomes_the_initializers(tmp_path):
    import mxnet as mx

    symbol = mx.sym.load(NIN)
    args, _, _ = symbol.infer_shape(data=(1, 3, 32, 32))
    arrays = {
        f"arg:{n}": mx.nd.array(mx.nd.random.uniform(shape=s).asnumpy())
        for n, s in zip(symbol.list_arguments(), args)
        if n not in ("data", "softmax_label")
    }
    params = tmp_path / "nin-0000.params"
    mx.nd.save(str(params), arrays)
    out = tmp_path / "nin.onnx"
    done = run_cli(NIN, "--input", "3,32,32", "--params", str(params), "--onnx", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("the checkpoint's weights\n")
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(str(out)).graph.initializer}
    for key, array in mx.nd.load(str(params)).items():
        assert (inits[key[4:]] == array.asnumpy()).all(), key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--opset", "12"], "nin_mx writes ONNX opsets 13 to 21"),
        (["--params", str(ORACLE / "nin_cifar10-shapes.json")], "not an MXNet NDArray (.params) file"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(args, message, tmp_path):
    out = tmp_path / "m.onnx"
    done = run_cli(NIN, "--input", "3,32,32", "--onnx", str(out), *args)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_operator_without_translation_is_named(tmp_path):
    graph = {
        "nodes": [
            {"op": "null", "name": "data", "inputs": []},
            {"op": "_contrib_box_nms", "name": "nms", "inputs": [[0, 0, 0]]},
        ],
        "arg_nodes": [0],
        "heads": [[1, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    path = tmp_path / "nms-symbol.json"
    path.write_text(json.dumps(graph))
    out = tmp_path / "nms.onnx"
    done = run_cli(str(path), "--input", "10,6", "--onnx", str(out))
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "nin-shape-report: layer 'nms' (_contrib_box_nms): cannot be exported to ONNX"
    )
    assert not out.exists()


def test_a_checkpoint_that_does_not_fit_is_refused(tmp_path):
    mobilenet = ORACLE / "mobilenet0.25-symbol.json"
    params = tmp_path / "empty.params"
    # an NDArray file of no arrays (mx.nd.save of {}): every weight of the graph is missing
    params.write_bytes((0x112).to_bytes(8, "little") + bytes(8) + bytes(8) + bytes(8))
    out = tmp_path / "m.onnx"
    done = run_cli(str(mobilenet), "--input", "3,64,64", "--params", str(params), "--onnx", str(out))
    assert done.returncode == 1
    assert "the checkpoint does not fit the graph" in done.stderr and done.stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("target", ["symbol", "params"])
def test_onnx_onto_an_input_is_refused_in_one_line(target, tmp_path):
    params = tmp_path / "x.params"
    params.write_bytes((0x112).to_bytes(8, "little") + bytes(24))
    onto = NIN if target == "symbol" else str(params)
    done = run_cli(NIN, "--input", "3,32,32", "--params", str(params), "--onnx", onto)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("nin-shape-report: --onnx would overwrite") and done.stderr.count("\n") == 1
    assert params.read_bytes() == (0x112).to_bytes(8, "little") + bytes(24)


@pytest.mark.parametrize(
    "args",
    [
        ["--opset", "17"],
        ["--onnx", "x.onnx", "--check"],
        ["--onnx", "x.onnx", "--output", "y"],
        ["--onnx", ""],
    ],
)
def test_usage_errors(args):
    assert run_cli(NIN, "--input", "3,32,32", *args).returncode == 2
