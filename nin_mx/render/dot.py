"""A graph drawing without MXNet: Graphviz ``dot`` text of a symbol graph, and its SVG.

:func:`to_dot` writes the drawing ``mx.viz.plot_network`` makes of a symbol (apache/mxnet 1.9.1
python/mxnet/visualization.py: the box labels ``Convolution`` / ``5x5/1x1, 192`` (kernel /
stride, filters), ``Pooling`` / ``avg, 3x3/2x2``, ``FullyConnected`` / ``1000``,
``Activation`` / ``relu``, any other operator by its node's name; data inputs as ovals; learned
weights hidden; each edge labelled with the tensor's shape without the batch axis) for any graph
nin_mx reads, with the shapes from nin_mx's engine. So it needs neither MXNet nor the Python
``graphviz`` package (which comes with MXNet); the drawing reads top to bottom, inputs first.
:func:`dot_svg` renders the text with Graphviz's ``dot`` program, where it is installed
(Debian's ``graphviz`` package, which ``scripts/bootstrap.sh`` installs).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.shapes import infer
from nin_mx.graph.source import Graph

__all__ = ["NODE_COLORS", "dot_svg", "to_dot"]

#: Fill colour by kind of node: the palette of ``mx.viz.plot_network`` (ColorBrewer's Set3).
NODE_COLORS: Mapping[str, str] = {
    "input": "#8dd3c7",
    "Convolution": "#fb8072",
    "FullyConnected": "#fb8072",
    "Activation": "#ffffb3",
    "LeakyReLU": "#ffffb3",
    "BatchNorm": "#bebada",
    "Pooling": "#80b1d3",
    "Concat": "#fdb462",
    "Flatten": "#fdb462",
    "Reshape": "#fdb462",
    "Softmax": "#b3de69",
    "other": "#fccde5",
}

_NODE_ATTRS = {"shape": "box", "style": "filled", "height": "0.5"}


def _quote(text: str) -> str:
    """A dot string: double-quoted, with quotes, backslashes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in attrs.items())


def _x(values: Sequence[int]) -> str:
    return "x".join(map(str, values))


def _tuple(node: Node, key: str) -> str | None:
    value = node.tuple_attr(key)
    return _x(value) if value else None


def _label(node: Node) -> tuple[str, str]:
    """The box's two lines (or one) and its fill colour, as ``mx.viz.plot_network`` labels them."""
    attrs = node.attrs
    if node.op == "Convolution":
        stride = _tuple(node, "stride") or "1"
        return f"Convolution\n{_tuple(node, 'kernel')}/{stride}, {attrs.get('num_filter')}", node.op
    if node.op == "FullyConnected":
        return f"FullyConnected\n{attrs.get('num_hidden')}", node.op
    if node.op in ("Activation", "LeakyReLU"):
        return f"{node.op}\n{attrs.get('act_type', 'leaky')}", node.op
    if node.op == "Pooling":
        pool_type = attrs.get("pool_type", "max")
        if node.bool_attr("global_pool"):
            return f"Pooling\n{pool_type}, global", node.op
        return f"Pooling\n{pool_type}, {_tuple(node, 'kernel')}/{_tuple(node, 'stride') or '1'}", node.op
    return node.name, node.op if node.op in NODE_COLORS else "other"


def to_dot(
    source: Any,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    title: str = "plot",
    hide_weights: bool = True,
    node_attrs: Mapping[str, str] | None = None,
    graph_attrs: Mapping[str, str] | None = None,
) -> str:
    """The Graphviz ``dot`` text of a graph's drawing, with its shapes on the edges.

    Args:
        source: what :meth:`nin_mx.Graph.resolve` takes: a Graph, a model name, a
            ``-symbol.json`` path, a symbol of nin_mx's builder or an ``mx.sym.Symbol``.
        input_shapes: the data inputs' shapes (batch axis first), e.g. ``{"data": (1, 3, 32, 32)}``;
            ``None``: edges without shapes.
        title: the graph's name (the SVG's ``<title>``).
        hide_weights: leave out the variables that are not data inputs (weights, biases,
            BatchNorm's statistics, labels), as ``plot_network`` does by default.
        node_attrs: Graphviz attributes of every node, over the defaults (boxes that fit their
            labels, filled).
        graph_attrs: Graphviz attributes of the graph, e.g. ``{"ranksep": "0.3"}``.

    Returns:
        The dot text: one statement per line; a node's id is its name (its index after it where
        two nodes share a name).

    Raises:
        ValueError: for a source :meth:`~nin_mx.Graph.resolve` refuses.
        nin_mx.errors.ShapeError: if the graph cannot take ``input_shapes``.
    """
    graph = Graph.resolve(source)
    shapes = None
    if input_shapes is not None:
        shapes = infer(graph, {name: tuple(shape) for name, shape in input_shapes.items()})
    data = set(graph.inputs)
    shown = [
        node for node in graph.nodes if not (hide_weights and node.is_variable and node.name not in data)
    ]
    ids: dict[int, str] = {}
    taken: set[str] = set()
    for node in shown:
        ident = node.name if node.name not in taken else f"{node.name}#{node.index}"
        ids[node.index] = ident
        taken.add(ident)
    lines = [f"digraph {_quote(title)} {{"]
    if graph_attrs:
        lines.append(f"  graph [{_attrs(graph_attrs)}]")
    lines.append(f"  node [{_attrs({**_NODE_ATTRS, **(node_attrs or {})})}]")
    for node in shown:
        if node.is_variable:
            label, kind, shape = node.name, "input", {"shape": "oval"}
        else:
            (label, kind), shape = _label(node), {}
        attrs = {"label": label, **shape, "fillcolor": NODE_COLORS[kind]}
        lines.append(f"  {_quote(ids[node.index])} [{_attrs(attrs)}]")
    for node in shown:
        outputs = node.input_outputs or (0,) * len(node.inputs)
        for source_index, output in zip(node.inputs, outputs):
            if source_index not in ids:
                continue
            edge = {}
            if shapes is not None:
                edge["label"] = _x(_edge_shape(shapes.outputs[source_index], output))
            suffix = f" [{_attrs(edge)}]" if edge else ""
            lines.append(f"  {_quote(ids[source_index])} -> {_quote(ids[node.index])}{suffix}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_shape(outputs: Sequence[Shape | None], output: int) -> Shape:
    shape = outputs[output] if output < len(outputs) else None
    return tuple(shape[1:]) if shape else ()


def dot_svg(text: str, *, timeout: float = 60.0) -> str:
    """``dot -Tsvg`` of a dot text: the SVG document (an XML prolog, then ``<svg ...>``).

    Raises:
        RuntimeError: one line, where Graphviz's ``dot`` is not installed or refuses the text.
    """
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            "Graphviz's dot program is not installed (Debian: apt-get install graphviz, "
            "which scripts/bootstrap.sh runs); the dot text can be rendered elsewhere"
        )
    proc = subprocess.run(
        [program, "-Tsvg"], input=text, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no message"])[0]
        raise RuntimeError(f"dot -Tsvg failed (exit {proc.returncode}): {first}")
    return proc.stdout
