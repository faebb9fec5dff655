"""Careless input to ``nin-shape-report``: one clear line on stderr, the right exit code, no trace.

Every case runs the real command in a subprocess (``python -m nin_mx``) and checks what a user
sees: exit code 2 for usage errors and 1 for model, shape and file errors; one to three lines on
stderr, none of them a Python or MXNet trace; nothing on stdout. Each case also names the words
its message must contain, so a case cannot pass by failing for another reason.

The symbol files are written by the tests (a small hand-written graph in MXNet's JSON layout,
then one defect each); ``test_the_base_graph_works`` proves the undamaged graph is accepted.
"""

from __future__ import annotations

import copy
import json
import os
import random
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

MODULE = [sys.executable, "-m", "nin_mx"]
TRACE_MARKERS = ("Traceback", "Stack trace", "[bt]", ".cc:", "Check failed", "internal error")

# conv1 3x3 (8) -> relu1 -> pool1 max 2x2/2 -> flatten -> fc (10), in MXNet 1.9.1's JSON layout.
BASE: dict[str, Any] = {
    "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "conv1_weight", "inputs": []},
        {"op": "null", "name": "conv1_bias", "inputs": []},
        {
            "op": "Convolution",
            "name": "conv1",
            "attrs": {"kernel": "(3, 3)", "num_filter": "8"},
            "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]],
        },
        {"op": "Activation", "name": "relu1", "attrs": {"act_type": "relu"}, "inputs": [[3, 0, 0]]},
        {
            "op": "Pooling",
            "name": "pool1",
            "attrs": {"kernel": "(2, 2)", "stride": "(2, 2)", "pool_type": "max"},
            "inputs": [[4, 0, 0]],
        },
        {"op": "Flatten", "name": "flatten", "inputs": [[5, 0, 0]]},
        {"op": "null", "name": "fc_weight", "inputs": []},
        {"op": "null", "name": "fc_bias", "inputs": []},
        {
            "op": "FullyConnected",
            "name": "fc",
            "attrs": {"num_hidden": "10"},
            "inputs": [[6, 0, 0], [7, 0, 0], [8, 0, 0]],
        },
    ],
    "arg_nodes": [0, 1, 2, 7, 8],
    "heads": [[9, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]},
}
CONV1, POOL1 = 3, 5  # node indexes in BASE


def _mutate(change) -> dict[str, Any]:
    graph = copy.deepcopy(BASE)
    change(graph)
    return graph


def _set(index: int, key: str, value: Any):
    return lambda g: g["nodes"][index]["attrs"].__setitem__(key, value)


def _branch(num_filter: str, kernel: str) -> dict[str, Any]:
    """conv1 and a second convolution of data, summed: shapes differ unless they agree."""
    graph = copy.deepcopy(BASE)
    graph["nodes"][4:] = [
        {"op": "null", "name": "conv2_weight", "inputs": []},
        {"op": "null", "name": "conv2_bias", "inputs": []},
        {
            "op": "Convolution",
            "name": "conv2",
            "attrs": {"kernel": kernel, "num_filter": num_filter},
            "inputs": [[0, 0, 0], [4, 0, 0], [5, 0, 0]],
        },
        {"op": "elemwise_add", "name": "sum", "inputs": [[3, 0, 0], [6, 0, 0]]},
    ]
    graph["arg_nodes"] = [0, 1, 2, 4, 5]
    graph["heads"] = [[7, 0, 0]]
    return graph


def _drop(key: str):
    return lambda g: g.pop(key)


# file name -> content: a dict is written as JSON, str as text, bytes as bytes.
FILES: dict[str, Any] = {
    "base-symbol.json": BASE,
    "empty.json": "",
    "blank.json": "  \n\t\n",
    "not-json.json": "this is not json\n",
    "truncated.json": json.dumps(BASE, indent=2)[:400],
    "array.json": "[1, 2, 3]",
    "null.json": "null",
    "no-heads.json": _mutate(_drop("heads")),
    "empty-heads.json": _mutate(lambda g: g.__setitem__("heads", [])),
    "no-nodes.json": _mutate(_drop("nodes")),
    "missing-node.json": _mutate(lambda g: g["nodes"][CONV1]["inputs"].__setitem__(0, [42, 0, 0])),
    "head-missing-node.json": _mutate(lambda g: g.__setitem__("heads", [[42, 0, 0]])),
    "negative-output.json": _mutate(lambda g: g["nodes"][CONV1]["inputs"].__setitem__(0, [0, -1, 0])),
    "inputs-not-a-list.json": _mutate(lambda g: g["nodes"][CONV1].__setitem__("inputs", "data")),
    "attrs-not-an-object.json": _mutate(lambda g: g["nodes"][CONV1].__setitem__("attrs", ["kernel"])),
    "graph-attrs-malformed.json": _mutate(lambda g: g.__setitem__("attrs", {"mxnet_version": ["int", "x"]})),
    "unknown-operator.json": _mutate(lambda g: g["nodes"][4].__setitem__("op", "FancyConvolution")),
    "kernel-not-integers.json": _mutate(_set(CONV1, "kernel", "(3, x)")),
    "num-filter-abc.json": _mutate(_set(CONV1, "num_filter", "abc")),
    "num-filter-number.json": _mutate(_set(CONV1, "num_filter", 8)),
    "num-filter-zero.json": _mutate(_set(CONV1, "num_filter", "0")),
    "num-group-zero.json": _mutate(_set(CONV1, "num_group", "0")),
    "num-group-divides-not.json": _mutate(_set(CONV1, "num_group", "2")),
    "unknown-attribute.json": _mutate(_set(CONV1, "colour", "blue")),
    "no-kernel.json": _mutate(lambda g: g["nodes"][CONV1]["attrs"].pop("kernel")),
    "kernel-3d.json": _mutate(_set(CONV1, "kernel", "(3, 3, 3)")),
    "stride-zero.json": _mutate(_set(CONV1, "stride", "(0, 0)")),
    "pool-type-median.json": _mutate(_set(POOL1, "pool_type", "median")),
    "global-pool-maybe.json": _mutate(_set(POOL1, "global_pool", "maybe")),
    "sizes-differ.json": _branch("8", "(1, 1)"),
    "channels-differ.json": _branch("4", "(3, 3)"),
    "garbage.json": random.Random(6).randbytes(512),
    "garbage.bin": random.Random(7).randbytes(512),
    "nul-bytes.json": b"\x00" * 64,
    "nested-too-deeply.json": "[" * 100_000 + "]" * 100_000,
    "huge-number.json": '{"nodes": [' + "9" * 5000 + "]}",
}
# Two data inputs, a and b, each into its own layer, summed.
FILES["two-inputs-symbol.json"] = {
    "nodes": [
        {"op": "null", "name": "a", "inputs": []},
        {"op": "Activation", "name": "relu_a", "attrs": {"act_type": "relu"}, "inputs": [[0, 0, 0]]},
        {"op": "null", "name": "b", "inputs": []},
        {"op": "Activation", "name": "relu_b", "attrs": {"act_type": "relu"}, "inputs": [[2, 0, 0]]},
        {"op": "elemwise_add", "name": "sum", "inputs": [[1, 0, 0], [3, 0, 0]]},
    ],
    "arg_nodes": [0, 2],
    "heads": [[4, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]},
}
FOLDER = "folder-symbol.json"  # a directory with a symbol file's name
PARAMS = "weights-0000.params"  # written with mx.nd.save


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, content in FILES.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    (folder / FOLDER).mkdir()
    import mxnet as mx

    mx.nd.save(str(folder / PARAMS), {"arg:conv1_weight": mx.nd.ones((8, 3, 3, 3))})
    return folder


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*MODULE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int, words: tuple[str, ...]) -> None:
    """Exit ``code``; one to three lines on stderr naming ``words``; no trace; stdout empty."""
    lines = proc.stderr.splitlines()
    assert proc.returncode == code, proc.stderr
    assert 1 <= len(lines) <= 3, proc.stderr
    assert all(line.startswith("nin-shape-report: ") for line in lines), proc.stderr
    for marker in TRACE_MARKERS:
        assert marker not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)
    assert proc.stdout == ""


# --- usage errors: exit 2, before MXNet is imported ---

SYMBOL = "base-symbol.json"
USAGE_ERRORS = [
    pytest.param([], ("MODEL or FILE",), id="no-model"),
    pytest.param(["resnet50"], ("unknown model 'resnet50'", "nin_cifar10"), id="unknown-model"),
    pytest.param(["nin_cifar"], ("did you mean 'nin_cifar10'",), id="model-typo"),
    pytest.param(["NIN_CIFAR10"], ("unknown model",), id="model-upper-case"),
    pytest.param(["nin_cifar10", "--input", "3,32"], ("2-D image input",), id="input-too-few-dims"),
    pytest.param(["nin_cifar10", "--input", "32"], ("2-D image input",), id="input-one-dim"),
    pytest.param(["nin_cifar10", "--input", "3,32,32,32"], ("2-D image input",), id="input-too-many-dims"),
    pytest.param(["nin_cifar10", "--input", "3,0,32"], ("positive",), id="input-zero"),
    pytest.param(["nin_cifar10", "--input", "3,-32,32"], ("positive",), id="input-negative"),
    pytest.param(["nin_cifar10", "--input", "3,32.5,32"], ("integers",), id="input-float"),
    pytest.param(["nin_cifar10", "--input", "3,1e3,32"], ("integers",), id="input-exponent"),
    pytest.param(["nin_cifar10", "--input", "3,a,32"], ("integers",), id="input-letter"),
    pytest.param(["nin_cifar10", "--input", "3,,32"], ("integers",), id="input-empty-field"),
    pytest.param(["nin_cifar10", "--input", "3,32,32,"], ("integers",), id="input-trailing-comma"),
    pytest.param(["nin_cifar10", "--input", ""], ("--input is empty",), id="input-empty"),
    pytest.param(["nin_cifar10", "--input", "3,99999999999,32"], ("2^31 - 1",), id="input-beyond-int32"),
    pytest.param(["nin_cifar10", "--input"], ("expected one argument",), id="input-without-value"),
    pytest.param(["nin_cifar10", "--shape", "data=1,3,32"], ("2-D image input",), id="shape-too-few-dims"),
    pytest.param(["nin_cifar10", "--shape", "data=1,3,32,32,32"], ("2-D image input",), id="shape-too-many"),
    pytest.param(["nin_cifar10", "--shape", "data=1,3,0,32"], ("positive",), id="shape-zero"),
    pytest.param(["nin_cifar10", "--shape", "data=1,3,x,32"], ("integers",), id="shape-letter"),
    pytest.param(["nin_cifar10", "--shape", "data"], ("NAME=N,C,H,W",), id="shape-without-dims"),
    pytest.param(["nin_cifar10", "--shape", "=1,3,32,32"], ("NAME=N,C,H,W",), id="shape-without-name"),
    pytest.param(
        ["nin_cifar10", "--shape", "image=1,3,32,32"], ("one input, 'data'",), id="shape-wrong-name"
    ),
    pytest.param(
        ["nin_cifar10", "--shape", "data=1,3,32,32", "--input", "3,32,32"], ("either",), id="shape-and-input"
    ),
    pytest.param(
        [SYMBOL, "--shape", "data=1,3,16,16", "--shape", "data=1,3,8,8"], ("twice",), id="shape-given-twice"
    ),
    pytest.param(["nin_cifar10", "--border-mode", "sideways"], ("unknown border mode",), id="mode-unknown"),
    pytest.param(["nin_cifar10", "--border-mode", ""], ("unknown border mode",), id="mode-empty"),
    pytest.param(["nin_cifar10", "--border-mode", "valid,,same"], ("unknown border mode",), id="mode-gap"),
    pytest.param(["nin_cifar10", "--format", "xml"], ("unknown format 'xml'",), id="format-unknown"),
    pytest.param(["nin_cifar10", "--format", ""], ("unknown format",), id="format-empty"),
    pytest.param(["nin_cifar10", "--batch", "0"], ("--batch must be one positive integer",), id="batch-zero"),
    pytest.param(["nin_cifar10", "--batch", "-2"], ("--batch must be one positive integer",), id="batch-neg"),
    pytest.param(
        ["nin_cifar10", "--batch", "1.5"], ("--batch must be one positive integer",), id="batch-float"
    ),
    pytest.param(
        ["nin_cifar10", "--batch", "two"], ("--batch must be one positive integer",), id="batch-word"
    ),
    pytest.param(
        ["nin_cifar10", "--batch", "2,3"], ("--batch must be one positive integer",), id="batch-two"
    ),
    pytest.param(["nin_cifar10", "--batch", "99999999999"], ("2^31 - 1",), id="batch-beyond-int32"),
    pytest.param(["nin_cifar10", "--output", ""], ("--output is empty",), id="output-empty"),
    pytest.param(
        ["nin_cifar10", "--output", "nowhere/r.txt"], ("does not exist",), id="output-missing-folder"
    ),
    pytest.param(["nin_cifar10", "--output", FOLDER], ("is a folder",), id="output-is-a-folder"),
    pytest.param(
        [SYMBOL, "--input", "3,16,16", "--output", SYMBOL], ("overwrite",), id="output-is-the-input"
    ),
    pytest.param(["nin_cifar10", "--inptu", "3,32,32"], ("unrecognized arguments",), id="misspelt-option"),
    pytest.param(["nin_cifar10", "nin_imagenet"], ("unrecognized arguments",), id="two-models"),
    pytest.param([SYMBOL], ("needs --input",), id="symbol-file-without-input"),
    pytest.param(
        [SYMBOL, "--input", "3,16,16", "--compare-pooling"], ("--compare-pooling",), id="compare-file"
    ),
    pytest.param(
        ["nin_cifar10", "--min-input", "--format", "csv"], ("--min-input", "json"), id="min-input-csv"
    ),
]


@pytest.mark.parametrize(("args", "words"), USAGE_ERRORS)
def test_usage_error(corpus, args, words):
    assert_clean_failure(run(args, corpus), 2, words)


def test_usage_errors_do_not_import_mxnet(corpus):
    """All usage errors above (and --help) in one interpreter: MXNet's core is never loaded."""
    argvs = [list(p.values[0]) for p in USAGE_ERRORS] + [["--help"], ["--list-models"]]
    script = (
        "import contextlib, io, json, sys\n"
        "from nin_mx.cli.main import main\n"
        "codes = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            codes.append(main(argv))\n"
        "        except SystemExit as exc:\n"
        "            codes.append(exc.code)\n"
        "print(json.dumps({'codes': codes, 'mxnet': 'mxnet.base' in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=corpus,
        timeout=60,
    )
    result = json.loads(proc.stdout)
    assert result["codes"] == [2] * len(USAGE_ERRORS) + [0, 0]
    assert result["mxnet"] is False


# --- symbol files that are not what they claim: exit 1 ---

FILE_ERRORS = [
    pytest.param("empty.json", ("empty",), id="empty"),
    pytest.param("blank.json", ("empty",), id="blank"),
    pytest.param("not-json.json", ("not a symbol JSON",), id="not-json"),
    pytest.param("truncated.json", ("not a symbol JSON",), id="truncated"),
    pytest.param("array.json", ("not an object",), id="json-array"),
    pytest.param("null.json", ("not an object",), id="json-null"),
    pytest.param("no-heads.json", ("'heads'",), id="missing-heads"),
    pytest.param("empty-heads.json", ("'heads'",), id="empty-heads"),
    pytest.param("no-nodes.json", ("'nodes'",), id="missing-nodes"),
    pytest.param("missing-node.json", ("conv1", "node 42"), id="input-references-no-node"),
    pytest.param("head-missing-node.json", ("head", "node 42"), id="head-references-no-node"),
    pytest.param("negative-output.json", ("conv1", "output -1"), id="negative-output-index"),
    pytest.param("inputs-not-a-list.json", ("conv1", "'inputs'"), id="inputs-not-a-list"),
    pytest.param("attrs-not-an-object.json", ("conv1", "'attrs'"), id="attrs-not-an-object"),
    pytest.param("graph-attrs-malformed.json", ("mxnet_version",), id="graph-attrs-malformed"),
    pytest.param("unknown-operator.json", ("FancyConvolution", "relu1"), id="unknown-operator"),
    pytest.param("kernel-not-integers.json", ("conv1", "kernel", "(3, x)"), id="kernel-not-integers"),
    pytest.param("num-filter-abc.json", ("conv1", "num_filter", "abc"), id="num-filter-abc"),
    pytest.param("num-filter-number.json", ("conv1", "num_filter", "string"), id="num-filter-not-a-string"),
    pytest.param("num-filter-zero.json", ("conv1", "num_filter"), id="num-filter-zero"),
    pytest.param("num-group-zero.json", ("conv1", "num_group"), id="num-group-zero"),
    pytest.param("num-group-divides-not.json", ("conv1", "group"), id="num-group-does-not-divide"),
    pytest.param("unknown-attribute.json", ("conv1", "colour"), id="unknown-attribute"),
    pytest.param("no-kernel.json", ("conv1", "kernel"), id="missing-kernel"),
    pytest.param("kernel-3d.json", ("conv1", "kernel", "2-D"), id="kernel-rank"),
    pytest.param("stride-zero.json", ("conv1", "stride"), id="stride-zero"),
    pytest.param("pool-type-median.json", ("pool1", "median"), id="pool-type-unknown"),
    pytest.param("global-pool-maybe.json", ("pool1", "global_pool"), id="global-pool-not-boolean"),
    pytest.param("sizes-differ.json", ("'sum'", "14x14 vs. 16x16"), id="summed-sizes-differ"),
    pytest.param("channels-differ.json", ("'sum'",), id="summed-channels-differ"),
    pytest.param("garbage.json", ("binary",), id="binary-garbage"),
    pytest.param("garbage.bin", ("binary",), id="binary-garbage-no-extension"),
    pytest.param("nul-bytes.json", ("not a symbol JSON",), id="nul-bytes"),
    pytest.param("nested-too-deeply.json", ("not a symbol JSON", "nested"), id="nested-too-deeply"),
    pytest.param("huge-number.json", ("not a symbol JSON", "digits"), id="huge-number"),
    pytest.param(FOLDER, ("directory",), id="a-directory"),
    pytest.param("missing-symbol.json", ("no such file",), id="missing-path"),
    pytest.param("nowhere/model-symbol.json", ("no such file",), id="missing-folder"),
    pytest.param(PARAMS, (".params", "-symbol.json"), id="params-file"),
]


@pytest.mark.parametrize(("name", "words"), FILE_ERRORS)
def test_bad_symbol_file(corpus, name, words):
    assert_clean_failure(run([name, "--input", "3,16,16"], corpus), 1, words)


def test_the_base_graph_works(corpus):
    """The graph every bad file is made from is fine: each failure above is its one defect."""
    proc = run([SYMBOL, "--input", "3,16,16", "--format", "json"], corpus)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["reports"][0]["layers"]
    assert [(r["name"], r["output_shape"]) for r in rows] == [
        ("conv1", [1, 8, 14, 14]),
        ("relu1", [1, 8, 14, 14]),
        ("pool1", [1, 8, 7, 7]),
        ("flatten", [1, 392]),
        ("fc", [1, 10]),
    ]


@pytest.mark.parametrize("name", ["sizes-differ.json", "channels-differ.json"])
def test_each_branch_alone_works(name):
    """The two summed graphs fail at the sum only: each branch on its own has a shape."""
    import mxnet as mx

    from nin_mx.report.rows import shape_report

    for head in (3, 6):  # conv1, conv2
        graph = copy.deepcopy(FILES[name])
        graph["heads"] = [[head, 0, 0]]
        report = shape_report(mx.sym.load_json(json.dumps(graph)), (1, 3, 16, 16))
        assert report.ok, report.error


def test_a_byte_order_mark_is_accepted(corpus):
    (corpus / "bom-symbol.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE).encode())
    proc = run(["bom-symbol.json", "--input", "3,16,16", "--format", "csv"], corpus)
    assert proc.returncode == 0, proc.stderr
    assert "pool1" in proc.stdout


# --- inputs too small for a border mode: exit 1 when every requested mode fails ---

TOO_SMALL = [
    # NIN CIFAR-10, valid: conv1 5x5 needs 5 pixels.
    pytest.param(["nin_cifar10", "--input", "3,4,4", "--border-mode", "valid"], ("'conv1'",), id="cifar-4"),
    # 8 -> conv1 4 -> pool1 (3/2, ceil) 2 -> conv2 5x5 cannot fit.
    pytest.param(["nin_cifar10", "--input", "3,8,8", "--border-mode", "valid"], ("'conv2'",), id="cifar-8"),
    # 32 -> conv1 (11/4, pad 5) 8 -> pool1 4 -> pool2 2 -> pool3 3x3 cannot fit.
    pytest.param(
        ["nin_imagenet", "--input", "3,32,32", "--border-mode", "same"], ("'pool3'",), id="imagenet-32"
    ),
    # 32 -> 15, 13, 13, 6, 6, 4, 1 through the stem; Mixed_6a's 3x3/2 (valid) cannot fit.
    pytest.param(
        ["inception_resnet_v2", "--input", "3,32,32", "--border-mode", "valid"], ("mixed_6a",), id="irv2-32"
    ),
    # The very first layer fails: no row precedes it.
    pytest.param(
        ["inception_resnet_v2", "--input", "3,1,1", "--border-mode", "valid"], ("conv1a",), id="irv2-1"
    ),
    # Every mode fails: one line per mode, three in all (full pads conv1 to 5 and would work).
    pytest.param(
        ["nin_cifar10", "--input", "3,1,1", "--border-mode", "valid,same,reference"],
        ("valid:", "same:", "reference:"),
        id="cifar-1",
    ),
    pytest.param([SYMBOL, "--input", "3,2,2"], ("'conv1'", "kernel 3 exceeds input 2"), id="file-conv"),
    pytest.param([SYMBOL, "--input", "3,3,3"], ("'pool1'",), id="file-pool"),
    pytest.param([SYMBOL, "--input", "3,16"], ("conv1", "1-D"), id="file-wrong-rank"),
    pytest.param([SYMBOL, "--shape", "data=1,3,50000,50000"], ("2^31 - 1",), id="file-flatten-overflows"),
    # The reports work at 74 x 74, but not the reference padding --compare-pooling builds.
    pytest.param(
        ["inception_resnet_v2", "--input", "3,74,74", "--compare-pooling"],
        ("--compare-pooling", "mixed_7a"),
        id="compare-pooling-too-small",
    ),
    pytest.param(
        ["two-inputs-symbol.json", "--input", "3,8,8"], ("2 data inputs",), id="two-inputs-one-shape"
    ),
    pytest.param(
        ["two-inputs-symbol.json", "--shape", "a=1,3,8,8", "--shape", "b=1,3,8,8", "--min-input"],
        ("--min-input", "one data input"),
        id="min-input-two-inputs",
    ),
]


@pytest.mark.parametrize(("args", "words"), TOO_SMALL)
def test_input_too_small(corpus, args, words):
    assert_clean_failure(run(args, corpus), 1, words)


def test_debug_shows_the_traceback(corpus):
    proc = run(["empty.json", "--input", "3,16,16", "--debug"], corpus)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "GraphError" in proc.stderr


@pytest.mark.parametrize("model", ["inception_resnet_v2", "nin_imagenet"])
def test_huge_inputs_work_quickly(corpus, model):
    start = time.monotonic()
    proc = run([model, "--input", "3,2048,2048", "--border-mode", "all", "--format", "json"], corpus)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert doc["input_shape"] == [1, 3, 2048, 2048]
    assert [r["ok"] for r in doc["reports"]] == [True, True, True]
    assert all(r["output_shape"] == [1, 1000] for r in doc["reports"])
    assert elapsed < 20, f"{model} at 2048x2048 took {elapsed:.1f} s: shapes only, no executor"


# --- --output: never lose a user's file ---


def _snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    return {
        p.name: (p.read_bytes() if p.is_file() else None, p.stat().st_mode) for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize(
    ("args", "code"),
    [
        pytest.param(["nin_cifar10", "--input", "3,4,4", "--border-mode", "valid"], 1, id="too-small"),
        pytest.param(["broken-symbol.json", "--input", "3,16,16"], 1, id="bad-file"),
        pytest.param(["nin_cifar10", "--format", "xml"], 2, id="usage-error"),
    ],
)
def test_a_failed_run_leaves_the_output_file_as_it_was(tmp_path, args, code):
    (tmp_path / "broken-symbol.json").write_text('{"nodes": [')
    report = tmp_path / "report.txt"
    report.write_bytes(b"yesterday's report\n\x00\xff kept byte for byte")
    before = _snapshot(tmp_path)
    proc = run([*args, "--output", "report.txt"], tmp_path)
    assert_clean_failure(proc, code, ())
    assert _snapshot(tmp_path) == before  # same bytes, same mode, no temporary file left


def test_an_unwritable_output_is_one_line_and_leaves_no_temporary_file(tmp_path):
    name = "x" * 300  # longer than a file name may be
    proc = run(["nin_cifar10", "--output", name], tmp_path)
    assert_clean_failure(proc, 1, ("--output: cannot write", "File name too long"))
    assert list(tmp_path.iterdir()) == []


def test_output_replaces_a_file_atomically_and_keeps_its_mode(tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old")
    report.chmod(0o600)
    proc = run(["nin_cifar10", "--format", "json", "--output", "report.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert json.loads(report.read_text())["model"] == "nin_cifar10"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_through_a_symbolic_link_writes_its_target(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    (tmp_path / "link.json").symlink_to(target)
    proc = run(["nin_cifar10", "--format", "json", "--output", "link.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(target.read_text())["model"] == "nin_cifar10"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_output_to_a_pipe_writes_into_the_pipe(tmp_path):
    """--output /dev/stdout and named pipes are written to, not replaced by a regular file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    proc = run(["nin_cifar10", "--format", "csv", "--output", str(fifo)], tmp_path)
    reader.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].startswith("border_mode,ok,error,name,op")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


# --- one_line against the messages MXNet 1.9.1 really gives ---


def _load(graph):
    import mxnet as mx

    return lambda: mx.sym.load_json(json.dumps(graph))


def _infer(build, shape=(1, 3, 16, 16)):
    import mxnet as mx

    return lambda: build(mx).get_internals()._infer_shape_impl(False, data=shape)


ONE_LINE = [
    # "Check failed: cond (a vs. b) : message"
    pytest.param(
        _infer(lambda mx: mx.sym.Convolution(mx.sym.var("data"), kernel=(30, 30), num_filter=2, name="big")),
        "operator 'big': kernel size exceed input (30 vs. 16)",
        id="check-with-numbers",
    ),
    # "Check failed: cond: message" (dmlc/tvm style): the condition is dropped.
    pytest.param(
        _infer(lambda mx: mx.sym.Pooling(mx.sym.var("data"), kernel=(30, 30), pool_type="max", name="p")),
        "operator 'p': kernel size (30) exceeds input (16 padded to 16)",
        id="check-colon-style",
    ),
    pytest.param(
        _infer(
            lambda mx: mx.sym.Concat(
                mx.sym.Convolution(mx.sym.var("data"), kernel=(3, 3), num_filter=2, name="a"),
                mx.sym.Convolution(mx.sym.var("data"), kernel=(1, 1), num_filter=2, name="b"),
                name="cat",
            )
        ),
        "operator 'cat': Incompatible input shape: expected [1,-1,14,14], got [1,2,16,16]",
        id="concat-mismatch",
    ),
    # "Error in operator X: message" without a check: the operator is not repeated.
    pytest.param(
        _load(FILES["unknown-operator.json"]),
        "operator 'relu1' (FancyConvolution): Operator FancyConvolution is not registered",
        id="failed-loading-op",
    ),
    # Parameter errors: the argument dump and the list of parameters are dropped.
    pytest.param(
        _load(FILES["kernel-not-integers.json"]),
        "Invalid Parameter format for kernel expect Shape(tuple) but value='(3, x)'",
        id="argument-dump",
    ),
    pytest.param(
        _load(FILES["unknown-attribute.json"]), "Cannot find argument 'colour'", id="parameter-list"
    ),
    pytest.param(
        _load(FILES["num-filter-zero.json"]),
        "value 0 for Parameter num_filter should be greater equal to 1",
        id="two-line-message",
    ),
]


@pytest.mark.parametrize(("trigger", "expected"), ONE_LINE)
def test_one_line_of_real_mxnet_errors(trigger, expected):
    from mxnet.base import MXNetError

    from nin_mx.core.errors import one_line

    with pytest.raises(MXNetError) as info:
        trigger()
    assert one_line(info.value) == expected
