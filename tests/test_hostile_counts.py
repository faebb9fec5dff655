"""Counts an attacker can set to 2^31 - 1 (a split's outputs, a list operator's num_args) are
answered in one line, not by allocating them: each run is capped at 2 GiB of address space."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HUGE = "2147483647"
CASES = {
    "SliceChannel": {"num_outputs": HUGE},
    "Concat": {"num_args": HUGE},
    "add_n": {"num_args": HUGE},
    "stack": {"num_args": HUGE},
    "UpSampling": {"num_args": HUGE, "scale": "2", "sample_type": "nearest"},
}


def _capped() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize("op", sorted(CASES))
def test_a_huge_count_is_one_line(tmp_path, op):
    graph = {
        "nodes": [
            {"op": "null", "name": "data", "inputs": []},
            {"op": op, "name": "s", "attrs": CASES[op], "inputs": [[0, 0, 0]]},
        ],
        "arg_nodes": [0],
        "heads": [[1, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    path = tmp_path / f"{op}-symbol.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    for extra in ((), ("--check",)):
        done = subprocess.run(
            [sys.executable, "-m", "nin_mx", str(path), "--input", "6,8,8", *extra],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            cwd=ROOT,
            preexec_fn=_capped,
        )
        assert done.returncode in (0, 1, 3), done.stderr
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.count("\n") <= 1, done.stderr
