"""Files MXNet 1.9.1 cannot load are still inspected, with a note saying MXNet would refuse them.

nin_mx reads symbol files with Python's json module, which takes more than MXNet's own reader
(dmlc-core's JSONReader: no ``\\u`` escape, no unknown field, graph attributes as registered
``[type, value]`` pairs). Each variant below is loaded by MXNet's ``mx.sym.load_json`` in a child
process (``tests/_mxnet_child.py``) and by nin_mx: nin_mx notes "MXNet 1.9.1 cannot load this
file" exactly where MXNet refuses it, and reports the graph either way.
"""

from __future__ import annotations

import json

import pytest

from nin_mx.graph.files import load_symbol_file
from nin_mx.report.rows import shape_report
from tests._mxnet_child import ask_mxnet

pytestmark = pytest.mark.mxnet

BASE = {
    "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "relu", "name": "r", "inputs": [[0, 0, 0]]},
    ],
    "arg_nodes": [0],
    "heads": [[1, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10901]},
}


def _text(attrs=None, replace=None, **fields) -> str:
    graph = json.loads(json.dumps(BASE))
    if attrs is not None:
        graph["attrs"] = attrs
    graph.update(fields)
    text = json.dumps(graph)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    return text


V = {"mxnet_version": ["int", 10901]}
VARIANTS = {
    "plain": _text(),
    "u-escape": _text(replace={'"name": "r"': '"name": "\\u0072"'}),
    "nul-in-name": _text(replace={'"name": "r"': '"name": "r\\u0000"'}),
    "lone-surrogate": _text(replace={'"name": "r"': '"name": "r\\ud800"'}),
    "slash-escape": _text(replace={'"name": "r"': '"name": "a\\/b"'}),
    "quote-escape": _text(replace={'"name": "r"': '"name": "a\\"b"'}),
    "raw-utf8": _text(replace={'"name": "r"': '"name": "\u00e9"'}),
    "attr-string": _text(attrs={**V, "foo": "bar"}),
    "attr-str": _text(attrs={**V, "foo": ["str", "bar"]}),
    "attr-list_str": _text(attrs={**V, "foo": ["list_str", ["a"]]}),
    "attr-list_shape": _text(attrs={**V, "foo": ["list_shape", [[1, 2]]]}),
    "attr-float": _text(attrs={**V, "foo": ["float", 3.5]}),
    "attr-str-of-int": _text(attrs={**V, "foo": ["str", 1]}),
    "version-int32-max": _text(attrs={"mxnet_version": ["int", 2**31 - 1]}),
    "version-beyond-int32": _text(attrs={"mxnet_version": ["int", 2**31]}),
    "no-attrs": json.dumps({k: v for k, v in BASE.items() if k != "attrs"}),
    "no-arg_nodes": json.dumps({k: v for k, v in BASE.items() if k != "arg_nodes"}),
    "node_row_ptr": _text(node_row_ptr=[0, 1, 2]),
    "unknown-field": _text(foo=1),
    "unknown-node-field": _text(replace={'"op": "relu"': '"op": "relu", "foo": 1'}),
}
NOTE = "MXNet 1.9.1 cannot load this file: "


@pytest.fixture(scope="module")
def verdicts():
    return dict(zip(VARIANTS, ask_mxnet([["load", text] for text in VARIANTS.values()])))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_note_exactly_where_mxnet_refuses_to_load(tmp_path, verdicts, name):
    path = tmp_path / f"{name}-symbol.json"
    path.write_text(VARIANTS[name], encoding="utf-8")
    loaded = load_symbol_file(path)
    notes = [note for note in loaded.notes if note.startswith(NOTE)]
    assert verdicts[name][0] in ("ok", "refused"), verdicts[name]
    assert bool(notes) == (verdicts[name][0] == "refused"), (verdicts[name], loaded.notes)
    assert len(notes) <= 1 and all("\n" not in note for note in notes)
    report = shape_report(str(path), (1, 3, 8, 8))  # inspected all the same
    assert report.error is None and report.output_shape == (1, 3, 8, 8)


def test_check_makes_it_an_error_finding_and_the_report_stands(tmp_path):
    from tests._cli import run_cli

    path = tmp_path / "nul-symbol.json"
    path.write_text(VARIANTS["nul-in-name"], encoding="utf-8")
    plain = run_cli(str(path), "--input", "3,8,8")
    assert plain.returncode == 0, plain.stderr
    assert f"note: {NOTE}its JSON reader knows no string escape \\u" in plain.stdout
    checked = run_cli(str(path), "--input", "3,8,8", "--check")
    assert checked.returncode == 3, checked.stderr
    assert f"error mxnet-cannot-load: {NOTE}" in checked.stdout
