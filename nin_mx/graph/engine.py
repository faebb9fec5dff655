"""nin_mx's own forward shape engine: every output of every node, in pure Python, with MXNet
1.9.1's ``infer_shape`` semantics (no MXNet, no numpy).

:func:`infer_graph` runs the operator rules of :mod:`nin_mx.core.ops` over a graph's nodes in
graph order, as MXNet's ``InferShape`` pass does, and repeats the pass while it still learns
something (a variable whose shape only a later consumer fixes): weights, biases, BatchNorm
statistics and labels are inferred backward from the operators that read them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from operator import getitem
from types import MappingProxyType
from typing import NamedTuple, Optional

from nin_mx.core.attrs import parse_shape
from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.ops import AxisError, OpInfo, op_info, setting
from nin_mx.core.validate import Shape
from nin_mx.graph.nodes import Node
from nin_mx.graph.subgraph import missing_rule, use_engine
from nin_mx.graph.walk import UNKNOWN, SpatialInfo, axis_name, walk_step

__all__ = ["Inferred", "engine_error", "failing_index", "infer_graph", "named_shapes"]

MaybeShape = Optional[Shape]
_MAX_PASSES = 8


class Inferred(NamedTuple):
    """The engine's answer.

    Attributes:
        outputs: per node index, the shapes of all its outputs (a variable has one); ``None``
            for a shape MXNet leaves unknown too, and 0 for an unknown dimension.
        visible: per node index, how many of its outputs ``get_internals()`` shows.
        aux: indices of the variables that are auxiliary states (mutated by an operator).
        complete: every shape is known.
        spatial: with ``walk=True``, the walk of :func:`nin_mx.graph.walk.spatial_walk` at
            these shapes, made in the same pass, when one pass learned every shape and the walk
            met no error; else None (the caller walks).
    """

    outputs: list[tuple[MaybeShape, ...]]
    visible: list[int]
    aux: frozenset[int]
    complete: bool
    spatial: list[SpatialInfo] | None = None


def _variable_shape(node: Node, input_shapes: Mapping[str, Shape]) -> MaybeShape:
    shape = input_shapes.get(node.name)
    if shape is not None:
        return tuple(shape)
    raw = node.attrs.get("__shape__")
    if raw is None:
        return None
    try:
        shape = parse_shape(raw, where="attribute __shape__")
    except GraphError as exc:
        raise GraphError(f"variable '{node.name}': {exc}") from None
    if not shape:  # '()' or 'None': unknown in MXNet's legacy shape semantics
        return None
    return shape


def _known(shape: MaybeShape) -> bool:
    return shape is not None and 0 not in shape


def _fail(node: Node, exc: Exception) -> Exception:
    if isinstance(exc, AxisError):
        return ShapeError(
            f"layer '{node.name}' ({node.op}): {exc} along {axis_name(exc.axis, exc.ndim)}",
            layer=node.name,
            index=node.index,
        )
    if isinstance(exc, ShapeError):
        return ShapeError(f"layer '{node.name}' ({node.op}): {exc}", layer=node.name, index=node.index)
    return GraphError(f"node '{node.name}' ({node.op}): {exc}")


def infer_graph(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    *,
    known: Mapping[int, Sequence[MaybeShape]] | None = None,
    walk: bool = False,
) -> Inferred:
    """Every output shape of every node, as MXNet 1.9.1's ``infer_shape`` finds them.

    Args:
        nodes: the graph's nodes from :func:`~nin_mx.graph.nodes.parse_nodes`.
        input_shapes: shapes of data inputs (and of any other variable), by name.
        known: output shapes already known, by node index (e.g. from MXNet), used as a start.
        walk: also step the spatial walk (windows, receptive fields) through the nodes in the
            same pass (``Inferred.spatial``).

    Returns:
        An :class:`Inferred`; shapes that stay unknown are None (or hold a 0).

    Raises:
        ShapeError: naming the first node (graph order) that cannot take its inputs.
        UnsupportedOperator: naming a node whose operator has no rule.
        GraphError: for a malformed attribute, naming the node and the attribute.
    """
    count = len(nodes)
    answers_kept = _ANSWERS
    if len(answers_kept) >= 4 * _KEPT:
        answers_kept.clear()
    shapes: list[list[MaybeShape]] = [None] * count  # type: ignore[list-item]
    infos: list[OpInfo | None] = [None] * count
    keys = [0] * count  # each node's setting, numbered
    stores: list[dict[tuple, _Answer]] = [answers_kept] * count  # where its rule's answers are kept
    visible = [1] * count
    aux: set[int] = set()
    # A graph repeats a few layer settings (Inception's blocks, ResNet's units): what the table
    # says of one setting, and what a rule answers for one setting and one set of input shapes,
    # are worked out once (_Meta; kept across calls but for a node with subgraphs). The key
    # leaves out annotations such as __block__, which no rule reads.
    metas: dict[tuple, _Meta] = {}  # the settings with subgraphs (their keys hold them)
    answers: dict[tuple, _Answer] = {}  # and their rules' answers
    settings: dict[int, tuple[Mapping[str, str], str, _Meta]] = {}  # by id of a JSON's shared mapping
    todo: list[Node] = []  # the operators, in graph order
    variables: list[int] = []
    # The walk (windows, receptive fields) steps along in the first pass, each node right after
    # its rule, which is the walk of the final shapes when that pass learns every shape.
    # (a variable's walk is UNKNOWN but for a given input; every operator's is made in the pass)
    spatial: list[SpatialInfo] | None = [UNKNOWN] * count if walk else None
    for node in nodes:
        index = node.index
        if node.op == "null":
            variables.append(index)
            start = known.get(index) if known else None  # a subgraph's inputs: no __shape__ read
            if start is not None:
                shapes[index] = [start[0]]
            elif node.name in input_shapes or "__shape__" in node.attrs:
                shapes[index] = [_variable_shape(node, input_shapes)]
            else:  # a weight, a bias, a statistic: an operator's rule gives its shape
                shapes[index] = [None]
            if spatial is not None and node.name in input_shapes:  # only a given input starts a walk
                spatial[index] = walk_step(node, spatial, input_shapes)
            continue
        todo.append(node)
        attrs = node.attrs
        # nodes built by nin_mx share one read-only mapping per setting, kept by the builder
        # from one build to the next: its setting is known by the mapping's id
        by_id = _BY_MAPPING if type(attrs) is MappingProxyType else settings
        seen = by_id.get(id(attrs))
        if seen is not None and seen[0] is attrs and seen[1] == node.op:
            meta = seen[2]
        else:
            meta = _meta(node, metas, answers)
            if by_id is _BY_MAPPING and len(_BY_MAPPING) >= _KEPT:
                _BY_MAPPING.clear()
            by_id[id(attrs)] = (attrs, node.op, meta)  # the mapping held: its id stays its own
        info, names, n_out, visible[index], mutated, keys[index], stores[index] = meta
        if names is not None and len(node.inputs) != len(names):
            raise _fail(
                node,
                GraphError(
                    f"takes {len(names)} inputs ({', '.join(names)}), the graph gives it {len(node.inputs)}"
                ),
            )
        infos[index] = info
        for slot in mutated:
            if slot < len(node.inputs) and nodes[node.inputs[slot]].op == "null":
                aux.add(node.inputs[slot])
        start = known.get(index) if known else None
        shapes[index] = list(start) if start is not None else [None] * n_out
    pending: list[Node] = []
    for _ in range(_MAX_PASSES):
        changed = False
        pending = []  # the nodes still short of a shape: only they can learn in the next pass
        for node in todo:
            index = node.index
            outs = shapes[index]
            inputs = node.inputs
            slots = node.input_outputs or _zeros(node)
            entries = tuple(map(getitem, map(shapes.__getitem__, inputs), slots))  # shapes[i][o]
            now = tuple(outs)
            # complete already (another node's rule filled it in)?
            if not (outs and outs[0] is not None and all(map(_known, now)) and all(map(_known, entries))):
                question = (keys[index], entries, now)
                store = stores[index]
                answer = store.get(question)
                if answer is None:
                    answer = store[question] = _answer(node, infos[index], entries, outs)  # type: ignore[arg-type]
                new_ins, new_outs, done = answer
                if new_ins != entries:
                    for i, o, old, new in zip(inputs, slots, entries, new_ins):
                        if new != old:
                            shapes[i][o] = new
                            changed = True
                if new_outs != now:
                    shapes[index] = list(new_outs)
                    changed = True
                if not done:
                    pending.append(node)
            if spatial is not None:
                resume = shapes[index][0] if shapes[index] else None
                try:
                    spatial[index] = walk_step(node, spatial, input_shapes, resume)  # type: ignore[arg-type]
                except Exception:  # the caller's own walk meets it again, in its order
                    spatial = None
        if pending:
            spatial = None  # a later pass learns more: the walk must follow the final shapes
        if not changed or not pending:
            break
        todo = pending
    outputs = list(map(tuple, shapes))
    complete = not pending
    for i in variables:
        shape = shapes[i][0]
        if shape is None or 0 in shape:
            complete = False
            break
    return Inferred(outputs, visible, frozenset(aux), complete, spatial)  # type: ignore[arg-type]


use_engine(infer_graph)  # a node's subgraph is inferred by this engine


class _Meta(NamedTuple):
    """What the operator table says of one operator setting, as the engine's pass reads it."""

    info: OpInfo
    names: tuple[str, ...] | None  # its input names (None for a variadic one)
    outputs: int
    visible: int
    mutated: Sequence[int]
    number: int  # the setting's number (never reused), a cheap key for the rule's answers
    answers: dict[tuple, _Answer]  # where the rule's answers for this setting are kept


# Kept across calls, as the walk's windows are (a model is reported again and again, each time
# built anew, of the same settings): the table's facts by setting, the rules' answers by setting
# and shapes, and the builder's shared mappings by id. Bounded; a setting with subgraphs is kept
# for one call only (its key holds the subgraphs).
_METAS: dict[tuple, _Meta] = {}
_ANSWERS: dict[tuple, _Answer] = {}
_BY_MAPPING: dict[int, tuple[Mapping[str, str], str, _Meta]] = {}
_NUMBERS = itertools.count()
_KEPT = 4096


def _meta(node: Node, metas: dict[tuple, _Meta], answers: dict[tuple, _Answer]) -> _Meta:
    """The :class:`_Meta` of a node's setting, worked out on its first node (``metas`` and
    ``answers``: the call's own, for a setting with subgraphs).

    Raises:
        UnsupportedOperator: for an operator (or one in its subgraphs) without a rule.
        ShapeError, GraphError: for attributes the table cannot read, naming the node.
    """
    attrs = node.attrs
    key = setting(node.op, attrs)
    plain = type(attrs) is dict or type(attrs) is MappingProxyType  # no subgraphs
    kept = _METAS if plain else metas
    meta = kept.get(key)
    if meta is not None:
        return meta
    info = op_info(node.op)
    inner = None if plain else missing_rule(attrs)
    if info is None or inner is not None:
        raise UnsupportedOperator(
            f"node '{node.name}': nin_mx has no shape rule for operator {inner or node.op}"
            + (f" (in its subgraph, {node.op})" if inner else ""),
            layer=node.name,
            op=inner or node.op,
            index=node.index,
        )
    try:
        # MXNet's FInferShape checks the count of inputs (e.g. BatchNorm's 5)
        names = None if info.variadic else tuple(info.input_names(attrs))
        meta = _Meta(
            info,
            names,
            info.num_outputs(attrs),
            info.visible(attrs),
            info.mutated_inputs(attrs),
            next(_NUMBERS),
            _ANSWERS if plain else answers,
        )
    except (GraphError, ShapeError) as exc:
        raise _fail(node, exc) from None
    if plain and len(_METAS) >= _KEPT:
        _METAS.clear()
    kept[key] = meta
    return meta


class _Answer(NamedTuple):
    """What one rule answered: the input and output shapes after it, and whether all are known."""

    ins: tuple[MaybeShape, ...]
    outs: tuple[MaybeShape, ...]
    done: bool


def _answer(node: Node, info: OpInfo, entries: tuple[MaybeShape, ...], outs: list[MaybeShape]) -> _Answer:
    """One node's rule on copies of its shapes, its failures as one line naming the node."""
    try:
        new_ins, new_outs = info.rule(node.attrs, list(entries), list(outs))
    except (GraphError, ShapeError) as exc:
        raise _fail(node, exc) from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # A combination of attributes and shapes no rule foresaw (MXNet itself divides by
        # zero or reads out of bounds on some): one line naming the node, never a trace.
        raise GraphError(
            f"node '{node.name}' ({node.op}): its attributes do not fit its inputs "
            f"({type(exc).__name__}: {exc})"
        ) from None
    ins = (*new_ins[: len(entries)], *entries[len(new_ins) :])
    outs_after = (*new_outs, *outs[len(new_outs) :])  # a rule may leave trailing outputs alone
    done = bool(outs_after) and all(map(_known, outs_after)) and all(map(_known, ins))
    return _Answer(ins, outs_after, done)


def _zeros(node: Node) -> tuple[int, ...]:
    return (0,) * len(node.inputs)


def named_shapes(
    nodes: Sequence[Node], inferred: Inferred
) -> tuple[list[tuple[str, MaybeShape]], dict[str, MaybeShape], dict[str, MaybeShape]]:
    """The engine's answer in MXNet's terms: ``(internal outputs, arguments, aux states)``.

    Internal outputs are ``(node name, shape)`` pairs in the order of
    ``symbol.get_internals().list_outputs()`` (node by node, visible outputs only); arguments and
    auxiliary states are dicts by variable name.
    """
    internals: list[tuple[str, MaybeShape]] = []
    args: dict[str, MaybeShape] = {}
    auxs: dict[str, MaybeShape] = {}
    for node in nodes:
        out = inferred.outputs[node.index]
        if node.op == "null":
            (auxs if node.index in inferred.aux else args)[node.name] = out[0]
            internals.append((node.name, out[0]))
        else:
            internals.extend((node.name, shape) for shape in out[: inferred.visible[node.index]])
    return internals, args, auxs


def _describe(input_shapes: Mapping[str, Shape]) -> str:
    return ", ".join(f"{k}={tuple(v)}" for k, v in input_shapes.items())


def engine_error(nodes: Sequence[Node], input_shapes: Mapping[str, Shape], exc: Exception) -> ShapeError:
    """The report's one line for an engine failure, worded as :func:`nin_mx.graph.infer.explain_failure`:
    ``input data=(1, 3, 8, 8) is too small: layer 'conv2' (Convolution): kernel 5 exceeds input 2
    along height`` for a window that does not fit, else ``cannot infer shapes for ...: <why>``."""
    shapes = _describe(input_shapes)
    layer, index = getattr(exc, "layer", None), getattr(exc, "index", None)
    if isinstance(exc, ShapeError) and " exceeds input " in str(exc) and " along " in str(exc):
        return ShapeError(f"input {shapes} is too small: {exc}", layer=layer, index=index)
    return ShapeError(f"cannot infer shapes for {shapes}: {exc}", layer=layer, index=index)


def failing_index(nodes: Sequence[Node], exc: Exception) -> int | None:
    """The index of the node a failure names: the one it carries, else the first operator of
    that name (MXNet's messages name a node only by its name)."""
    index = getattr(exc, "index", None)
    if index is not None:
        return index
    layer = getattr(exc, "layer", None)
    return next((n.index for n in nodes if n.name == layer and n.op != "null"), None) if layer else None
