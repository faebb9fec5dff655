"""``--check`` and ``--params`` end to end: findings under the table and in JSON, exit codes.

Graphs are written by MXNet here (symbol files and checkpoints of small nets, a Gluon export,
our models with a hand-computed pool); expected findings come from the construction.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mxnet as mx
import pytest
from _cli import run_cli as run
from mxnet.gluon import nn

from nin_mx import check, get_symbol, list_models
from nin_mx.checks.findings import Finding, Severity
from nin_mx.core.errors import ShapeError

FINDING_KEYS = ["rule", "severity", "layer", "message", "detail"]


def _net(num_hidden: int = 10) -> mx.sym.Symbol:
    """conv 3x3/2 pad 1 (4 channels) -> Flatten -> fc: at 32x32 the fc weight is (n, 4*16*16)."""
    data = mx.sym.var("data")
    x = mx.sym.Convolution(data, name="conv", num_filter=4, kernel=(3, 3), stride=(2, 2), pad=(1, 1))
    x = mx.sym.FullyConnected(mx.sym.Flatten(x, name="flatten"), name="fc", num_hidden=num_hidden)
    return mx.sym.SoftmaxOutput(x, name="softmax")


def _save(tmp_path: Path, symbol: mx.sym.Symbol, side: int, name: str = "net") -> tuple[str, str]:
    """The symbol file and an mx.model.save_checkpoint of ones at ``side`` (arg:/aux: names)."""
    args, _, auxs = symbol.infer_shape(data=(1, 3, side, side))
    arg = {
        n: mx.nd.ones(s) for n, s in zip(symbol.list_arguments(), args) if n not in ("data", "softmax_label")
    }
    aux = {n: mx.nd.ones(s) for n, s in zip(symbol.list_auxiliary_states(), auxs)}
    prefix = str(tmp_path / name)
    mx.model.save_checkpoint(prefix, 0, symbol, arg, aux)
    return f"{prefix}-symbol.json", f"{prefix}-0000.params"


def _one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("name", list_models())
def test_our_models_pass_check_with_exit_0(name):
    proc = run(name, "--check", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    for report in json.loads(proc.stdout)["reports"]:
        assert all(f["severity"] == "info" for f in report["findings"])
        for finding in report["findings"]:
            assert list(finding) == FINDING_KEYS


def test_a_hand_computed_global_pool_is_found_and_exits_3(tmp_path):
    path = tmp_path / "manual-symbol.json"
    get_symbol("nin_cifar10", pool_kernel=(8, 8)).save(str(path))  # 8x8: the map at 32x32
    proc = run(str(path), "--input", "3,32,32", "--check")
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    header = lines.index("findings under as built: 3 (1 warning, 2 info)")
    warning = [ln for ln in lines[header + 1 :] if ln.startswith("  warning ")]
    assert len(warning) == 1 and warning[0].startswith("  warning fixed-global-pool at pool3: ")
    assert "global_pool=True" in warning[0]

    text = run(str(path), "--input", "3,32,32", "--check", "--format", "json").stdout
    lines = [ln.strip().rstrip(",") for ln in text.splitlines() if '"rule": ' in ln]
    assert len(lines) == 3 and all(json.loads(ln)["rule"] for ln in lines)  # one finding a line
    data = json.loads(text)
    (report,) = data["reports"]
    (fixed,) = [f for f in report["findings"] if f["severity"] == "warning"]
    assert fixed["rule"] == "fixed-global-pool" and fixed["layer"] == "pool3"
    assert fixed["detail"]["kernel"] == [8, 8]
    markdown = run(str(path), "--input", "3,32,32", "--check", "--format", "markdown")
    assert markdown.returncode == 3 and "- warning fixed-global-pool at pool3: " in markdown.stdout


def test_findings_follow_each_border_mode():
    # nin_imagenet's conv1, 11x11 stride 4, at 224: valid (pad 0): windows start at 0, 4, ..., 212
    # and end at row 222, so input row 223 is never read. full (pad 10): input rows are padded
    # rows 10..233; the last window covers padded rows 232..242, past the input's last row.
    data = json.loads(
        run("nin_imagenet", "--check", "--border-mode", "valid,full", "--format", "json").stdout
    )
    rules = [{(f["rule"], f["layer"]) for f in r["findings"]} for r in data["reports"]]
    assert ("unread-border", "conv1") in rules[0]
    assert ("unread-border", "conv1") not in rules[1]


def test_without_check_the_json_has_no_findings():
    data = json.loads(run("nin_cifar10", "--format", "json").stdout)
    assert all("findings" not in report for report in data["reports"])


def test_params_of_a_save_checkpoint_fit_and_exit_0(tmp_path):
    symbol_file, params = _save(tmp_path, _net(), 32)
    proc = run(symbol_file, "--input", "3,32,32", "--params", params)
    assert proc.returncode == 0, proc.stderr
    assert "findings under as built: none" in proc.stdout.splitlines()


def test_params_of_a_gluon_export_fit(tmp_path):
    net = nn.HybridSequential(prefix="tiny_")
    with net.name_scope():
        net.add(nn.Conv2D(4, 3), nn.BatchNorm(), nn.Dense(5))  # shapes deferred, as usual
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros((1, 3, 16, 16)))
    net.export(str(tmp_path / "tiny"))  # arg:/aux: names, BatchNorm statistics as aux
    symbol_file, params = str(tmp_path / "tiny-symbol.json"), str(tmp_path / "tiny-0000.params")
    proc = run(symbol_file, "--input", "3,16,16", "--params", params, "--check")
    assert proc.returncode == 0, proc.stderr
    assert not [ln for ln in proc.stdout.splitlines() if ln.startswith(("  error", "  warning"))]


def test_params_saved_at_another_input_size_name_the_size_they_fit(tmp_path):
    # the checkpoint's fc weight is (10, 4 * 16 * 16): conv 3x3/2 pad 1 gives a 16x16 map at 31 and 32
    symbol_file, params = _save(tmp_path, _net(), 32)
    proc = run(symbol_file, "--input", "3,40,40", "--params", params)
    assert proc.returncode == 3, proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("  error params-shape")]
    assert "(10, 1024)" in line and "(10, 1600)" in line  # 40x40 -> 20x20 map: 4 * 400
    assert "3x31x31 to 3x32x32" in line


def test_params_with_the_wrong_number_of_classes_exit_3(tmp_path):
    symbol_file, _ = _save(tmp_path, _net(10), 32, "ten")
    _, params = _save(tmp_path, _net(7), 32, "seven")
    data = json.loads(run(symbol_file, "--input", "3,32,32", "--params", params, "--format", "json").stdout)
    (report,) = data["reports"]
    assert {(f["rule"], f["severity"]) for f in report["findings"]} == {("params-shape", "error")}
    assert sorted(f["detail"]["array"] for f in report["findings"]) == ["fc_bias", "fc_weight"]
    assert run(symbol_file, "--input", "3,32,32", "--params", params).returncode == 3


def test_params_and_check_together(tmp_path):
    symbol_file, params = _save(tmp_path, _net(), 32)
    proc = run(symbol_file, "--input", "3,32,32", "--params", params, "--check", "--format", "json")
    assert proc.returncode == 0, proc.stderr  # the fc after Flatten is only an info finding
    (report,) = json.loads(proc.stdout)["reports"]
    assert [f["rule"] for f in report["findings"]] == ["input-size-dependent-params"]


@pytest.mark.parametrize("content", [b"", b"not an ndarray file\n", None])
def test_a_file_that_is_not_a_checkpoint_is_one_line_and_exit_1(tmp_path, content):
    symbol_file, params = _save(tmp_path, _net(), 32)
    bad = tmp_path / "bad.params"
    if content is None:  # a truncated checkpoint
        bad.write_bytes(Path(params).read_bytes()[:100])
    else:
        bad.write_bytes(content)
    proc = run(symbol_file, "--input", "3,32,32", "--params", str(bad))
    assert proc.returncode == 1 and proc.stdout == ""
    assert _one_line(proc).startswith("nin-shape-report: ")


def test_a_missing_checkpoint_is_exit_1(tmp_path):
    proc = run("nin_cifar10", "--params", str(tmp_path / "nothing.params"))
    assert proc.returncode == 1 and "nothing.params" in _one_line(proc)


@pytest.mark.parametrize(
    "args",
    [
        ("nin_cifar10", "--check", "--format", "csv"),
        ("nin_cifar10", "--params", "x.params", "--format", "csv"),
        ("nin_cifar10", "--params", " "),
    ],
)
def test_usage_errors_exit_2(args):
    proc = run(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "error:" in _one_line(proc)


def test_check_api_returns_findings_and_raises_for_a_size_that_fails():
    findings = check("nin_cifar10", (1, 3, 32, 32), pool_kernel=(8, 8))
    assert all(isinstance(f, Finding) for f in findings)
    assert [f.rule for f in findings if f.severity >= Severity.WARNING] == ["fixed-global-pool"]
    assert not [f for f in check("nin_cifar10", (1, 3, 32, 32)) if f.severity >= "warning"]
    with pytest.raises(ShapeError, match="'conv2'"):
        check("nin_cifar10", (1, 3, 8, 8), border_mode="valid")
