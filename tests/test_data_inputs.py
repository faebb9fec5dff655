"""A variable the user names by ``--input`` (the graph's ``data``) is a data input whatever
annotations it carries: MXNet's own ``save_000800.json`` (tests/data/legacy/SOURCE.md), an MXNet
0.8 MLP whose ``data`` has an ``lr_mult``, is inferred as MXNet infers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nin_mx.graph.files import load_symbol_file
from nin_mx.graph.nodes import data_inputs
from tests._cli import run_cli

LEGACY = Path(__file__).resolve().parent / "data" / "legacy" / "save_000800.json"


def test_the_annotated_data_variable_is_the_data_input():
    nodes = load_symbol_file(LEGACY).nodes
    assert data_inputs(nodes) == ["data"]


def test_the_cli_reports_it_with_an_unnamed_input():
    done = run_cli(str(LEGACY), "--input", "1,28,28")
    assert done.returncode == 0, done.stderr
    assert "as built: output 1x10," in done.stdout
    assert "note: saved by MXNet v0.8.0, upgraded on load" in done.stdout


@pytest.mark.mxnet
def test_mxnet_infers_the_same_shapes():
    from nin_mx._mxnet import mx
    from nin_mx.graph.shapes import infer
    from nin_mx.graph.source import Graph

    sym = mx.sym.load(str(LEGACY))
    args, outs, _ = sym.infer_shape(data=(1, 1, 28, 28))
    graph = Graph.from_file(LEGACY)
    shapes = infer(graph, {"data": (1, 1, 28, 28)})
    ours = dict(zip((n.name for n in graph.nodes), shapes.outputs))
    assert outs == [ours["softmax"][0]]
    for name, shape in zip(sym.list_arguments(), args):
        assert ours[name][0] == shape, name
