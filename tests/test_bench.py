"""scripts/bench.py runs and reports every figure of issues 5, 12 and 17-20 (a smoke test: no time
is asserted).

The figures are ratios measured side by side on a shared machine; whether they meet their
targets is for BENCHMARKS.md, never for the test suite.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"

FIGURES = {
    "report": "a",
    "report-by-name": "a2",
    "cli-wall": "b",
    "file-cli": "b2",
    "file-cli-3": "b3",
    "params-cli": "p",
    "cli-rss": "c",
    "help-wall": "d",
    "depth": "e",
    "depth-by-name": "e2",
    "depth-file": "e3",
    "pooling": "f",
    "diff": "g",
    "diff-depth": "h",
    "check": "i",
}
WALL_FIGURES = ("cli-wall", "file-cli", "file-cli-3", "help-wall")  # with their CPU time
QUICK_REPEATS = 3


def _run(*args: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict, Path]:
    folder = tmp_path_factory.mktemp("bench")
    out, scratch = folder / "bench.json", folder / "tmp"
    scratch.mkdir()
    # Its own temporary folder, to see that the files the bench writes (a 220 MB checkpoint) go.
    done = _run("--quick", "--json", str(out), timeout=1800, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    return done, json.loads(out.read_text(encoding="utf-8")), scratch


@pytest.fixture(scope="module")
def quick(quick_run) -> tuple[subprocess.CompletedProcess[str], dict]:
    return quick_run[:2]


def _check_series(series: dict, unit: str) -> None:
    assert series["unit"] == unit
    assert series["n"] == len(series["samples"]) == QUICK_REPEATS
    assert all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in series["samples"])
    assert 0 < series["min"] <= series["median"] <= series["max"]
    assert series["label"]


def test_quick_run_reports_every_figure(quick):
    _, document = quick
    figures = {fig["key"]: fig for fig in document["figures"]}
    assert set(figures) == set(FIGURES)
    for key, fig in figures.items():
        assert fig["letter"] == FIGURES[key]
        unit = "KiB" if key == "cli-rss" else "s"
        if key == "params-cli":  # a difference of two wall times: any sign on a noisy machine
            assert math.isfinite(fig["ratio"])
            _check_difference(fig)
        else:
            assert math.isfinite(fig["ratio"]) and fig["ratio"] > 0
            _check_series(fig["numerator"], unit)
        _check_series(fig["denominator"], unit)
        assert fig["ratio"] == pytest.approx(fig["numerator"]["median"] / fig["denominator"]["median"])
        # The verdict is reported, not asserted: only its form is checked here.
        assert (fig["status"] == "info") == (fig["target"] is None)
        assert fig["status"] in ("PASS", "FAIL", "info")
    for key in WALL_FIGURES:
        assert set(figures[key]["cpu_time"]) == {"ratio", "numerator", "denominator"}


def _check_difference(fig: dict) -> None:
    """(p): each sample is one round's run with --params minus its neighbour without."""
    added, parts = fig["numerator"], fig["parts"]
    assert set(parts) == {"with", "without"}
    _check_series(parts["with"], "s")
    _check_series(parts["without"], "s")
    assert added["unit"] == "s" and added["n"] == len(added["samples"]) == QUICK_REPEATS
    assert added["samples"] == pytest.approx(
        [a - b for a, b in zip(parts["with"]["samples"], parts["without"]["samples"])]
    )
    assert added["min"] <= added["median"] <= added["max"]


def test_quick_run_removes_the_files_it_wrote(quick_run):
    _, document, scratch = quick_run
    notes = {fig["key"]: fig["note"] for fig in document["figures"]}
    assert "MB" in notes["params-cli"] and "MXNet imported:" in notes["file-cli"]
    assert list(scratch.iterdir()) == []  # the symbol files and the checkpoint are gone


def test_quick_run_describes_the_machine(quick):
    _, document = quick
    machine = document["machine"]
    assert machine["cpus"] >= 1 and machine["cpu_model"]
    assert machine["python"] and machine["mxnet"] == "1.9.1"
    assert document["settings"]["quick"] is True


def test_quick_run_prints_each_ratio_with_its_medians(quick):
    done, document = quick
    for fig in document["figures"]:
        assert f"({fig['letter']}) {fig['key']}:" in done.stdout
        assert f"| ({fig['letter']}) {fig['key']} | {fig['ratio']:.2f} |" in done.stdout


def test_unknown_figure_is_a_usage_error():
    done = _run("--only", "nope", timeout=120)
    assert done.returncode == 2
    assert "unknown figure 'nope'" in done.stderr
