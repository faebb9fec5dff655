"""nin_mx.render.dot: the drawing mx.viz.plot_network makes, written without MXNet, and its SVG.

Judged by MXNet's own drawing (apache/mxnet 1.9.1 python/mxnet/visualization.py,
``plot_network``: the same boxes with the same labels, the same edges with the same shapes) where
MXNet runs, and everywhere by the shapes MXNet's ``infer_shape`` recorded for our models
(tests/data/oracle, scripts/make_oracle.py) and by Graphviz's ``dot``, which must render the text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import nin_mx
from nin_mx.models import symbol as builder
from nin_mx.render.dot import dot_svg, to_dot

ORACLE = Path(__file__).resolve().parent / "data" / "oracle"
_STRING = r'"(?:[^"\\]|\\.)*"|[^\s\]]+'
_NODE = re.compile(rf"^\s+({_STRING}) \[label=({_STRING})", re.M)
_EDGE = re.compile(rf"^\s+({_STRING}) -> ({_STRING})(?: \[label=({_STRING}))?", re.M)


def _unquote(text: str | None) -> str:
    """A dot ID or label as text (quotes off; ``\\n`` or a real line break as a line break)."""
    if text is None:
        return ""
    if text.startswith('"'):
        text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text[1:-1])
    return text


def _nodes(dot: str) -> dict[str, str]:
    return {_unquote(ident): _unquote(label) for ident, label in _NODE.findall(dot)}


def _edges(dot: str) -> set[tuple[str, str, str]]:
    """(input, consumer, label) of every edge."""
    return {(_unquote(a), _unquote(b), _unquote(label)) for a, b, label in _EDGE.findall(dot)}


def _require_dot():
    if shutil.which("dot") is None:
        pytest.fail("Graphviz 'dot' is missing: run scripts/bootstrap.sh (Debian package graphviz)")


@pytest.mark.parametrize(
    "model,side", [("nin_cifar10", 32), ("nin_imagenet", 224), ("inception_resnet_v2", 299)]
)
def test_edge_shapes_are_mxnets(model, side):
    """Every edge carries the shape MXNet's infer_shape gave its tensor (recorded), batch axis off."""
    recorded = json.loads((ORACLE / f"{model}-shapes.json").read_text(encoding="utf-8"))
    shapes = {name: tuple(shape) for name, shape in recorded["outputs"]}
    edges = _edges(to_dot(model, {"data": (1, 3, side, side)}))
    graph = nin_mx.Graph.from_model(model)
    kinds = {node.name: node.op for node in graph.nodes}
    assert edges
    for source, _, label in edges:
        key = source if kinds[source] == "null" else f"{source}_output"
        assert label == "x".join(map(str, shapes[key][1:])), (source, label)
    # every operator's data input is drawn, and nothing else (weights hidden)
    drawn = {(a, b) for a, b, _ in edges}
    expected = {
        (graph.nodes[i].name, node.name)
        for node in graph.nodes
        if not node.is_variable
        for i in node.inputs
        if not graph.nodes[i].is_variable or graph.nodes[i].name in graph.inputs
    }
    assert drawn == expected


def _mxnet_drawing(symbol, shape):
    from nin_mx._mxnet import mx

    return mx.viz.plot_network(symbol, shape=shape).source


def _same_drawing(ours: str, theirs: str) -> None:
    mine, mxnets = _nodes(ours), _nodes(theirs)
    labels = {name for name in mxnets if name.endswith("_label")}  # a label: MXNet draws it, we hide it
    assert set(mine) == set(mxnets) - labels
    for name, label in mine.items():
        if label.startswith("Pooling\n") and label.endswith(", global"):
            # MXNet prints a global pool's unused kernel ("[]/1"); we say what it does
            assert mxnets[name].startswith(label.split(", ")[0] + ", "), (name, mxnets[name])
        else:
            assert label == mxnets[name], name
    # MXNet draws each edge from the consumer back to its input (dir=back); ours run forward.
    theirs_edges = {(b, a, label) for a, b, label in _edges(theirs) if b not in labels}
    assert _edges(ours) == theirs_edges


@pytest.mark.mxnet
@pytest.mark.parametrize("model,side", [("nin_cifar10", 32), ("nin_imagenet", 224)])
def test_the_drawing_is_mxnets_for_our_models(model, side):
    shape = {"data": (1, 3, side, side)}
    _same_drawing(to_dot(model, shape), _mxnet_drawing(nin_mx.get_symbol(model), shape))


@pytest.mark.mxnet
@pytest.mark.parametrize("name", ["squeezenet1.1", "mobilenet0.25", "hand_split"])
def test_the_drawing_is_mxnets_for_saved_graphs(name):
    from nin_mx._mxnet import mx

    path = ORACLE / f"{name}-symbol.json"
    recorded = json.loads((ORACLE / f"{name}-shapes.json").read_text(encoding="utf-8"))
    shape = {key: tuple(value) for key, value in recorded["inputs"].items()}
    _same_drawing(to_dot(path, shape), _mxnet_drawing(mx.sym.load(str(path)), shape))


def test_dot_renders_the_text_as_svg():
    _require_dot()
    block = builder.op(
        "Convolution", builder.var("data"), name="conv", kernel=(3, 3), num_filter=4, pad=(1, 1)
    )
    svg = dot_svg(to_dot(block, {"data": (1, 2, 5, 5)}, title="one conv"))
    assert "<svg" in svg and "<title>one conv</title>" in svg
    assert ">Convolution</text>" in svg and ">3x3/1, 4</text>" in svg  # no stride given: 1
    assert ">2x5x5</text>" in svg  # the edge data -> conv


def test_names_are_quoted_for_dot():
    """A node name with quotes, backslashes or a line break (any file may hold one) stays one ID."""
    _require_dot()
    name = 'odd "name" \\ with\nbreak'
    pool = builder.op("Pooling", builder.var("data"), name=name, kernel=(2, 2), pool_type="avg")
    text = to_dot(pool, {"data": (1, 1, 4, 4)})
    assert _nodes(text)[name.replace("\r", "")] == "Pooling\navg, 2x2/1"
    svg = dot_svg(text)
    assert "<title>odd &quot;name&quot; " in svg  # the quotes are the name's, not dot's
    assert svg.count('class="node"') == 2 and svg.count('class="edge"') == 1  # data -> the pool


def test_hide_weights_false_draws_every_variable():
    graph = nin_mx.Graph.from_model("nin_cifar10")
    nodes = _nodes(to_dot(graph, hide_weights=False))
    assert set(nodes) == {node.name for node in graph.nodes}
    edges = _edges(to_dot(graph, hide_weights=False))
    assert ("conv1_weight", "conv1", "") in edges  # no shapes asked: edges without labels


def test_shared_names_get_distinct_ids():
    data = builder.var("data")
    first = builder.op("Activation", data, name="act", act_type="relu")
    second = builder.op("Activation", first, name="act", act_type="tanh")
    nodes = _nodes(to_dot(second, {"data": (1, 3)}))
    assert sorted(nodes.values()) == ["Activation\nrelu", "Activation\ntanh", "data"]
    assert len(nodes) == 3


def test_a_missing_dot_is_one_line(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="Graphviz's dot program is not installed"):
        dot_svg("digraph {}")
