"""scripts/bench.py runs and reports every figure of issues 5 and 12 (a smoke test: no time is asserted).

The figures are ratios measured side by side on a shared machine; whether they meet their
targets is for BENCHMARKS.md, never for the test suite.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"

FIGURES = {
    "report": "a",
    "report-by-name": "a2",
    "cli-wall": "b",
    "cli-rss": "c",
    "help-wall": "d",
    "depth": "e",
    "depth-by-name": "e2",
    "pooling": "f",
    "diff": "g",
    "diff-depth": "h",
    "check": "i",
}
QUICK_REPEATS = 3


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = _run("--quick", "--json", str(out), timeout=1800)
    assert done.returncode == 0, done.stderr
    return done, json.loads(out.read_text(encoding="utf-8"))


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
        assert math.isfinite(fig["ratio"]) and fig["ratio"] > 0
        unit = "KiB" if key == "cli-rss" else "s"
        _check_series(fig["numerator"], unit)
        _check_series(fig["denominator"], unit)
        assert fig["ratio"] == pytest.approx(fig["numerator"]["median"] / fig["denominator"]["median"])
        # The verdict is reported, not asserted: only its form is checked here.
        assert (fig["status"] == "info") == (fig["target"] is None)
        assert fig["status"] in ("PASS", "FAIL", "info")
    for key in ("cli-wall", "help-wall"):
        assert set(figures[key]["cpu_time"]) == {"ratio", "numerator", "denominator"}


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
