"""A node's subgraphs: the nested symbol graphs of its JSON (``"subgraphs": [graph, ...]``), read
by the reader of the graph that holds them, and inferred by the engine (pure, no MXNet).

MXNet 1.9.1's loader reads a node's ``subgraphs`` as graphs of their own (nnvm's
``JSONGraph2Symbol`` in 3rdparty/tvm/nnvm/src/pass/saveload_json.cc: the same JSON reader, each
inner node parsed by its operator's parser) and attaches them to any node; the subgraph
operators (:mod:`nin_mx.core.ops.subgraph`) infer theirs with ``exec::InferShape`` from the
shapes of their own inputs and outputs, and no inner ``__shape__`` (src/operator/subgraph/common.h,
``DefaultSubgraphOpShapeHelper``: the pass runs without a shape attribute key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nin_mx.core.ops import op_info
from nin_mx.core.ops._base import MaybeShape, merge

__all__ = ["MAX_DEPTH", "Subgraph", "missing_rule", "use_engine"]

MAX_DEPTH = 32  # subgraphs within subgraphs: MXNet's own have one level
# The engine's inference, ``infer_graph(nodes, input_shapes, known=...)``: the engine hands it
# over when it is imported (it imports this module; the reader, which makes subgraphs, does not
# import the engine).
_ENGINE: list[Callable[..., Any]] = []


def use_engine(infer_graph: Callable[..., Any]) -> None:
    """Called once by :mod:`nin_mx.graph.engine`: the inference a subgraph runs."""
    _ENGINE[:] = [infer_graph]


class Subgraph:
    """One subgraph of a node: its nodes in MXNet's order and its heads ``(node, output)``.

    Implements :class:`nin_mx.core.ops.subgraph.InnerGraph`. Two subgraphs are equal when their
    operators, attributes and wiring are (names left out): the engine shares their answers.
    """

    __slots__ = ("_aux", "_key", "heads", "input_names", "inputs", "nodes", "num_heads", "ops")

    def __init__(self, nodes: Sequence[Any], heads: Sequence[tuple[int, int]]) -> None:
        self.nodes = tuple(nodes)
        self.heads = tuple(heads)
        self.inputs = tuple(n.index for n in self.nodes if n.is_variable)
        self.input_names = tuple(self.nodes[i].name for i in self.inputs)
        self.num_heads = len(self.heads)
        self.ops = tuple((n.op, n.attrs) for n in self.nodes if not n.is_variable)
        self._aux: tuple[int, ...] | None = None
        self._key = (
            tuple(
                (n.op, tuple(n.attrs.items()), getattr(n.attrs, "subgraphs", ()), n.inputs, n.input_outputs)
                for n in self.nodes
            ),
            self.heads,
        )

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Subgraph) and self._key == other._key

    def __repr__(self) -> str:
        return f"Subgraph({len(self.nodes)} nodes, inputs {', '.join(self.input_names)})"

    @property
    def aux_slots(self) -> tuple[int, ...]:
        """The input slots an inner operator mutates (``ListInputNames(kAuxiliaryStates)``)."""
        if self._aux is None:
            mutated: set[int] = set()
            for node in self.nodes:
                info = None if node.is_variable else op_info(node.op)
                if info is not None:
                    slots = info.mutated_inputs(node.attrs)
                    mutated.update(node.inputs[s] for s in slots if s < len(node.inputs))
            self._aux = tuple(k for k, i in enumerate(self.inputs) if i in mutated)
        return self._aux

    def infer(
        self, in_shapes: Sequence[MaybeShape], out_shapes: Sequence[MaybeShape]
    ) -> tuple[list[MaybeShape], list[MaybeShape]]:
        """Its inputs' and heads' shapes, inferred by the engine from those given.

        Raises:
            ShapeError, GraphError: naming the inner node, as the engine does.
        """
        known: dict[int, list[MaybeShape]] = {i: [shape] for i, shape in zip(self.inputs, in_shapes)}
        for (index, output), shape in zip(self.heads, out_shapes):
            node = self.nodes[index]
            if node.is_variable:
                known[index] = [merge(known.get(index, [None])[0], shape)]
                continue
            if index not in known:
                info = op_info(node.op)
                known[index] = [None] * (info.num_outputs(node.attrs) if info is not None else output + 1)
            known[index][output] = shape
        if not _ENGINE:
            raise RuntimeError("a subgraph is inferred by nin_mx.graph.engine, which is not imported")
        inferred = _ENGINE[0](self.nodes, {}, known=known)
        outputs = inferred.outputs
        return [outputs[i][0] for i in self.inputs], [outputs[n][o] for n, o in self.heads]


def missing_rule(attrs: object) -> str | None:
    """The first operator of a node's subgraphs (at any depth) that has no shape rule, or None."""
    for sub in getattr(attrs, "subgraphs", ()):
        for op, inner in sub.ops:
            if op_info(op) is None:
                return op
            found = missing_rule(inner)
            if found is not None:
                return found
    return None
