"""Hostile files and targets (issue 20): crash inputs refused first, non-regular files, outputs
that never replace an input, CSV and terminal output that cannot be turned against the reader.

No MXNet: every file here is read by nin_mx itself (MXNet crashed on several of these inputs,
with SIGFPE or a segmentation fault; the reasons are in nin_mx/core/ops/registry.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nin_mx.core.text import csv_cell, terminal_safe
from tests._cli import run_cli

ORACLE = Path(__file__).resolve().parent / "data" / "oracle"
PARAMS = Path(__file__).resolve().parent / "data" / "params"


def _graph(*nodes, heads=None):
    raw = []
    for name, op, attrs, inputs in nodes:
        raw.append({"op": op, "name": name, "attrs": attrs, "inputs": [[*i, 0] for i in inputs]})
    return {
        "nodes": raw,
        "arg_nodes": [0],
        "heads": heads or [[len(raw) - 1, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }


DATA = ("data", "null", {}, [])
CRASHERS = {
    # a SIGFPE in MXNet: num_group read as 0 ('+0' is MXNet's 0)
    "num-group-plus-zero": _graph(
        DATA, ("c", "Convolution", {"num_filter": "4", "kernel": "(3,3)", "num_group": "+0"}, [[0, 0]])
    ),
    "groupnorm-zero-groups": _graph(DATA, ("g", "GroupNorm", {"num_groups": "0"}, [[0, 0]])),
    "correlation-stride2-zero": _graph(
        DATA, ("d2", "null", {}, []), ("k", "Correlation", {"stride2": "0"}, [[0, 0], [1, 0]])
    ),
    "reshape-codes": _graph(DATA, ("r", "Reshape", {"shape": "(1,-4,-1,0,-2)"}, [[0, 0]])),
    # MXNet reads memory it should not: output 99 of a one-output node
    "output-index": _graph(
        DATA,
        ("c", "Convolution", {"num_filter": "4", "kernel": "(3,3)"}, [[0, 0]]),
        ("c2", "Convolution", {"num_filter": "4", "kernel": "(1,1)"}, [[1, 99]]),
    ),
    "split-v2-sections-zero": _graph(
        DATA, ("s", "_split_v2", {"sections": "0", "indices": "()", "axis": "1"}, [[0, 0]])
    ),
}
CYCLE = _graph(DATA, ("a", "relu", {}, [[0, 0]]), ("b", "relu", {}, [[1, 0]]))
CYCLE["nodes"][1]["control_deps"] = [2]


@pytest.mark.parametrize("name", [*CRASHERS, "control-dependency-cycle"])
def test_crash_inputs_are_one_line_and_exit_1(tmp_path, name):
    path = tmp_path / f"{name}-symbol.json"
    path.write_text(json.dumps(CRASHERS.get(name, CYCLE)), encoding="utf-8")
    done = run_cli(str(path), "--input", "3,16,16")
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "internal error" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe-symbol.json"
    os.mkfifo(fifo)
    done = run_cli(str(fifo), "--input", "3,16,16")  # a read would block: the timeout would fire
    assert done.returncode == 1 and "is a FIFO, not a -symbol.json file" in done.stderr


def test_a_device_is_refused_before_any_read():
    done = run_cli("/dev/zero", "--input", "3,16,16")
    assert done.returncode == 1 and "is a device" in done.stderr


def test_a_symbol_file_beyond_256_mib_is_refused_unread(tmp_path):
    path = tmp_path / "huge-symbol.json"
    with open(path, "wb") as handle:  # sparse: no disk, no memory
        handle.truncate(257 * 2**20)
    done = run_cli(str(path), "--input", "3,16,16")
    assert done.returncode == 1 and "256 MiB" in done.stderr


def test_output_never_replaces_the_checkpoint(tmp_path):
    params = tmp_path / "w.params"
    params.write_bytes((PARAMS / "gluon-0000.params").read_bytes())
    link = tmp_path / "link.params"
    os.symlink(params, link)
    symbol = str(PARAMS / "gluon-symbol.json")
    for target in (params, link):
        done = run_cli(symbol, "--input", "3,16,16", "--params", str(params), "--output", str(target))
        assert done.returncode == 2 and "would overwrite the checkpoint" in done.stderr
    assert params.read_bytes() == (PARAMS / "gluon-0000.params").read_bytes()


def test_output_to_dev_stdout_into_a_pipe():
    done = subprocess.run(
        f"{sys.executable} -m nin_mx {ORACLE / 'nin_cifar10-symbol.json'} --input 3,32,32 "
        "--output /dev/stdout | cat",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert "as built: output 1x10" in done.stdout


def test_diff_with_three_border_modes_is_a_usage_error():
    done = run_cli("nin_cifar10", "--diff", "nin_imagenet", "--border-mode", "valid,same,full")
    assert done.returncode == 2 and "--diff takes one border mode, or two" in done.stderr


def test_a_file_name_that_is_not_utf8_renders_in_html(tmp_path):
    name = os.fsdecode(b"net-\xff-symbol.json")
    path = tmp_path / name
    path.write_bytes((ORACLE / "nin_cifar10-symbol.json").read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", os.fsencode(path), "--input", "3,32,32", "--format", "html"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert b"net-\\udcff-symbol.json" in done.stdout


# --- CSV: formulas neutralised, CR/LF quoted, rows as the csv module ends them ------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "-"),
        ("-12", "-12"),
        ("-1.5", "-1.5"),
        ("conv1", "conv1"),
        (42, 42),
    ],
)
def test_csv_cells_that_begin_a_formula_get_a_quote(cell, written):
    assert csv_cell(cell) == written


def test_csv_of_hostile_names(tmp_path):
    graph = _graph(DATA, ("=HYPERLINK(evil)\r\nx", "Activation", {"act_type": "relu"}, [[0, 0]]))
    path = tmp_path / "names-symbol.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", str(path), "--input", "3,4,4", "--format", "csv"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 2  # the header and one row: the CR/LF in the name is quoted
    assert rows[1][rows[0].index("name")] == "'=HYPERLINK(evil)\r\nx"


# --- terminal output: escapes shown, never sent ------------------------------------------


def test_terminal_safe_shows_controls_and_bidi_overrides():
    assert terminal_safe("a\x1b]0;owned\x07b") == "a\\x1b]0;owned\\x07b"
    assert terminal_safe("x\u202egnp.exe") == "x\\u202egnp.exe"
    assert terminal_safe("c1\x9b2J") == "c1\\x9b2J"
    assert terminal_safe("tab\tkept") == "tab\tkept"
    assert terminal_safe("two\nlines") == "two\\x0alines"


def test_table_findings_and_errors_escape_names(tmp_path):
    graph = _graph(
        DATA,
        ("p\x1b[2J", "Pooling", {"kernel": "(4,4)", "pool_type": "avg"}, [[0, 0]]),
        ("bad\u202e", "Convolution", {"num_filter": "2", "kernel": "(9,9)"}, [[1, 0]]),
    )
    path = tmp_path / "esc-symbol.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    table = run_cli(str(path), "--input", "3,4,4", "--check")
    assert "\x1b" not in table.stdout + table.stderr and "\u202e" not in table.stdout + table.stderr
    assert "bad\\u202e" in table.stderr  # the failing layer, named in the error line, escaped
    graph["nodes"].pop()
    graph["heads"] = [[1, 0, 0]]
    path.write_text(json.dumps(graph), encoding="utf-8")
    found = run_cli(str(path), "--input", "3,4,4", "--check")
    assert found.returncode == 3 and "p\\x1b[2J" in found.stdout and "\x1b" not in found.stdout
    as_json = json.loads(run_cli(str(path), "--input", "3,4,4", "--format", "json").stdout)
    assert as_json["reports"][0]["layers"][0]["name"] == "p\x1b[2J"  # JSON keeps the exact name
