"""nin-shape-report end to end, in subprocesses: formats, exit codes, --output, stability."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _contract import CSV_COLUMNS

from nin_mx import symbol_json

SCRIPT = Path(sys.executable).parent / "nin-shape-report"
MODULE = [sys.executable, "-m", "nin_mx"]
REPORT_KEYS = {
    "border_mode",
    "ok",
    "error",
    "failed_at",
    "layers",
    "output_shape",
    "total_params",
    "total_aux",
    "total_macs",
}
LAYER_KEYS = {"name", "op", "output_shape", "params", "aux", "macs", "receptive_field", "jump"}


def run(*args: str, command: list[str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(command or MODULE), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def nin_json() -> subprocess.CompletedProcess:
    return run("nin_cifar10", "--format", "json")


# --- formats ------------------------------------------------------------------------------------


def test_console_script_and_module_agree(nin_json):
    assert SCRIPT.exists(), f"{SCRIPT} is not installed"
    proc = run("nin_cifar10", "--format", "json", command=[str(SCRIPT)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == nin_json.stdout


def test_json_contains_the_documented_keys(nin_json):
    assert nin_json.returncode == 0 and nin_json.stderr == ""
    data = json.loads(nin_json.stdout)
    assert data["model"] == "nin_cifar10"
    assert data["input_shape"] == [1, 3, 32, 32]  # the model's own size, batch 1
    assert [r["border_mode"] for r in data["reports"]] == ["valid", "same", "full"]
    for report in data["reports"]:
        assert REPORT_KEYS <= set(report)
        assert report["ok"] is True and report["error"] is None and report["failed_at"] is None
        assert report["output_shape"] == [1, 10]
        assert report["total_params"] == 966_986 and report["total_aux"] == 0
        for layer in report["layers"]:
            assert LAYER_KEYS <= set(layer)
    assert "pooling_comparison" not in data and "min_input" not in data
    conv1 = data["reports"][1]["layers"][0]
    assert conv1["output_shape"] == [1, 192, 32, 32]
    assert conv1["macs"] == 32 * 32 * 192 * 3 * 25
    assert (conv1["receptive_field"], conv1["jump"]) == ([5, 5], [1, 1])


def test_json_is_byte_identical_across_runs(nin_json):
    again = run("nin_cifar10", "--format", "json")
    assert again.stdout.encode() == nin_json.stdout.encode()


def test_json_with_pooling_comparison_and_min_input():
    proc = run("nin_cifar10", "--format", "json", "--compare-pooling", "--min-input")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["min_input"] == {"valid": 24, "same": 6, "full": 1}
    pooling = data["pooling_comparison"]
    assert pooling["manual_kernel"] == [8, 8]
    assert pooling["shapes_equal"] is True and pooling["max_abs_diff"] == 0.0
    assert pooling["probe_shape"] == [1, 3, 24, 24]
    assert pooling["probe_manual_output_shape"] is None and pooling["probe_manual_error"]


def test_pooling_comparison_follows_a_single_border_mode():
    # valid padding: 32 -> conv1 28 -> pool1 14 -> conv2 10 -> pool2 5 -> conv3 3, so a 3x3 kernel;
    # at the 24x24 probe: 20 -> 10 -> 6 -> 3 -> 1, and the 3x3 kernel no longer fits.
    proc = run("nin_cifar10", "--format", "json", "--compare-pooling", "--border-mode", "valid")
    assert proc.returncode == 0, proc.stderr
    pooling = json.loads(proc.stdout)["pooling_comparison"]
    assert pooling["manual_kernel"] == [3, 3]
    assert pooling["probe_manual_error"] == "kernel (3, 3) exceeds input (1, 1)"


def test_csv_parses():
    proc = run("nin_cifar10", "--format", "csv", "--border-mode", "valid,reference")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == CSV_COLUMNS
    assert {r["border_mode"] for r in rows} == {"valid", "reference"}
    assert len(rows) == 2 * 25
    conv3 = next(r for r in rows if r["border_mode"] == "reference" and r["name"] == "conv3")
    assert (conv3["output_shape"], conv3["pad"], conv3["receptive_field"]) == ("1x192x8x8", "1x1", "27x27")


def test_markdown_has_a_table():
    proc = run("nin_imagenet", "--format", "markdown", "--border-mode", "reference,valid")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("|")]
    assert "reference (CxHxW)" in lines[0] and "valid (CxHxW)" in lines[0]
    assert set(lines[1]) <= set("|-: ")
    pool3 = next(ln for ln in lines if ln.startswith("| pool3 "))
    assert "384x6x6" in pool3  # 224: 54 -> 27 -> 13 -> 6 with Caffe's ceil pools


def test_table_has_the_layers_and_fits_100_columns():
    proc = run("nin_cifar10")
    assert proc.returncode == 0, proc.stderr
    names = ["conv1", "cccp1", "pool1", "drop1", "conv2", "pool2", "conv3", "cccp6", "pool3", "softmax"]
    for name in names:
        assert any(ln.split()[:1] == [name] for ln in proc.stdout.splitlines()), name
    assert max(len(ln) for ln in proc.stdout.splitlines()) <= 100
    assert "valid (CxHxW)" in proc.stdout and "full (CxHxW)" in proc.stdout


def test_batch_and_input_options():
    proc = run(
        "nin_cifar10", "--input", "3,40,40", "--batch", "2", "--border-mode", "same", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["reports"][0]
    assert report["layers"][0]["output_shape"] == [2, 192, 40, 40]
    assert report["output_shape"] == [2, 10]


def test_help():
    for command in (MODULE, [str(SCRIPT)]):
        proc = run("--help", command=command)
        assert proc.returncode == 0
        assert proc.stdout.startswith("usage: nin-shape-report")
        for option in (
            "--input",
            "--border-mode",
            "--format",
            "--output",
            "--compare-pooling",
            "--min-input",
        ):
            assert option in proc.stdout


def test_list_models():
    proc = run("--list-models")
    assert proc.returncode == 0
    assert [ln.split()[0] for ln in proc.stdout.splitlines()] == [
        "inception_resnet_v2",
        "nin_cifar10",
        "nin_imagenet",
    ]


# --- exit codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nin_cifar"], "did you mean 'nin_cifar10'"),
        (["nin_cifar10", "--input", "3,x,32"], "--input"),
        (["nin_cifar10", "--input", "3,0,32"], "--input"),
        (["nin_cifar10", "--input", "32,32"], "C,H,W"),
        (["nin_cifar10", "--border-mode", "circular"], "circular"),
        (["nin_cifar10", "--format", "yaml"], "yaml"),
        (["nin_cifar10", "--batch", "0"], "--batch"),
        (["nin_cifar10", "--no-such-flag"], "--no-such-flag"),
        ([], "MODEL"),
    ],
)
def test_usage_errors_exit_2(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    line = _one_error_line(proc)
    assert line.startswith("nin-shape-report: error:") and message in line


def test_file_that_cannot_be_built_exits_1(tmp_path):
    not_a_graph = tmp_path / "bad-symbol.json"
    not_a_graph.write_text('{"nodes": 3}')
    unknown_op = tmp_path / "unknown-symbol.json"
    graph = json.loads(symbol_json("nin_cifar10"))
    graph["nodes"][1 + 2]["op"] = "NoSuchOperator"  # conv1, after data, weight and bias
    unknown_op.write_text(json.dumps(graph))
    for path, message in (
        (not_a_graph, "not a symbol JSON"),
        (unknown_op, "NoSuchOperator"),
        (tmp_path / "missing-symbol.json", "no such file"),
    ):
        proc = run(str(path), "--input", "3,32,32")
        assert proc.returncode == 1, proc.stderr
        assert proc.stdout == ""
        line = _one_error_line(proc)
        assert str(path) in line and message in line


def test_all_modes_failing_exits_1_naming_the_layer():
    proc = run("nin_cifar10", "--input", "3,4,4", "--border-mode", "valid")
    assert proc.returncode == 1
    assert proc.stdout == ""
    line = _one_error_line(proc)
    assert "'conv1'" in line and "valid" in line


def test_one_failing_mode_still_exits_0():
    proc = run("nin_cifar10", "--input", "3,8,8", "--format", "json")
    assert proc.returncode == 0
    line = _one_error_line(proc)
    assert "valid" in line and "'conv2'" in line
    data = json.loads(proc.stdout)
    assert [r["ok"] for r in data["reports"]] == [False, True, True]
    assert data["reports"][0]["failed_at"] == "conv2"


def test_symbol_file_is_reported_as_built(tmp_path):
    path = tmp_path / "nin-symbol.json"
    path.write_text(symbol_json("nin_cifar10", border_mode="valid"), encoding="utf-8")
    proc = run(str(path), "--input", "3,32,32", "--border-mode", "full", "--format", "json")
    assert proc.returncode == 0
    assert "as built" in _one_error_line(proc)  # the note: border modes apply to our models
    data = json.loads(proc.stdout)
    assert data["model"] == "nin-symbol.json"
    assert [r["border_mode"] for r in data["reports"]] == ["as built"]
    assert data["reports"][0]["layers"][0]["output_shape"] == [1, 192, 28, 28]  # valid, as saved


# --- --output -----------------------------------------------------------------------------------


def test_output_writes_the_file_atomically(tmp_path, nin_json):
    target = tmp_path / "report.json"
    proc = run("nin_cifar10", "--format", "json", "--output", str(target))
    assert proc.returncode == 0 and proc.stdout == ""
    assert target.read_text(encoding="utf-8") == nin_json.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary left


def test_failed_run_leaves_an_existing_file_untouched(tmp_path):
    target = tmp_path / "report.json"
    original = b'{"keep": "me"}\n\x00binary tail'
    target.write_bytes(original)
    for args in (
        ["nin_cifar10", "--input", "3,4,4", "--border-mode", "valid"],  # exit 1: no mode works
        ["nin_cifar10", "--input", "3,x,4"],  # exit 2: usage
    ):
        proc = run(*args, "--format", "json", "--output", str(target))
        assert proc.returncode in (1, 2)
        assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


# A symbol file as MXNet 0.8 wrote it ("param" instead of "attrs", two-entry inputs, no version):
# MXNet upgrades it on load and logs two lines on stderr about it.
LEGACY_SYMBOL = {
    "nodes": [
        {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "fc1_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "fc1_bias", "inputs": [], "backward_source_id": -1},
        {
            "op": "FullyConnected",
            "param": {"no_bias": "False", "num_hidden": "128"},
            "name": "fc1",
            "inputs": [[0, 0], [1, 0], [2, 0]],
            "backward_source_id": -1,
        },
    ],
    "arg_nodes": [0, 1, 2],
    "heads": [[3, 0]],
}


def test_mxnet_upgrade_of_a_legacy_file_is_one_note_not_log_lines(tmp_path):
    path = tmp_path / "legacy-symbol.json"
    path.write_text(json.dumps(LEGACY_SYMBOL), encoding="utf-8")
    proc = run(str(path), "--input", "20", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # MXNet's "Loading symbol saved by previous version" is not printed
    (report,) = json.loads(proc.stdout)["reports"]
    assert report["notes"] == ["saved by MXNet v0.8.0, upgraded on load"]
    assert report["total_params"] == 20 * 128 + 128
    table = run(str(path), "--input", "20")
    assert "  note: saved by MXNet v0.8.0, upgraded on load" in table.stdout.splitlines()
    assert table.stderr == ""
