"""A checkpoint (``.params``) checked against a graph at one input size; no MXNet.

:func:`load_params` reads the names and shapes of an MXNet NDArray file, as ``mx.nd.save``,
``Module.save_checkpoint``/``mx.model.save_checkpoint`` and Gluon's ``export`` write it
(names with or without the ``arg:``/``aux:`` prefixes), from its headers alone
(:func:`nin_mx.graph.ndarray_file.read_ndarray_file`). :func:`check_params` compares them with
the argument and auxiliary shapes inferred for the graph (:func:`nin_mx.graph.shapes.infer`)
and returns :class:`~nin_mx.checks.findings.Finding` objects of the rules in
:data:`PARAMS_RULES`. For a FullyConnected weight that depends on the input size, it says which
square input the checkpoint fits (searched with the border arithmetic, confirmed by inference).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Union

from nin_mx.checks.findings import Finding, Rule, Severity
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.validate import Shape
from nin_mx.graph.ndarray_file import read_ndarray_file
from nin_mx.graph.nodes import Node, data_inputs
from nin_mx.graph.shapes import Shapes, infer
from nin_mx.graph.sides import flattened_map, side_interval, spatial_at, spatial_input
from nin_mx.graph.source import Graph
from nin_mx.graph.walk import spatial_walk

__all__ = ["PARAMS_RULES", "StoredArray", "check_params", "load_params"]

_KINDS = ("arg", "aux")


class StoredArray(NamedTuple):
    """One array of a checkpoint: its prefix (``'arg'``, ``'aux'`` or ``None``) and shape."""

    kind: str | None
    shape: Shape


Params = Union[str, "os.PathLike[str]", Mapping[str, StoredArray]]


def load_params(path: str | os.PathLike[str]) -> dict[str, StoredArray]:
    """The arrays of an MXNet ``.params`` file, by name without its ``arg:``/``aux:`` prefix.

    Raises:
        GraphError: one line, for a missing path, a directory, an empty or unreadable file, a
            file that is not an NDArray file (or is truncated), arrays saved as a list without
            names, or a name stored twice.
    """
    path = os.fspath(path)
    loaded = read_ndarray_file(path)
    if loaded and loaded[0].name is None:  # mx.nd.save of a list
        raise GraphError(
            f"{path}: holds {len(loaded)} arrays without names (saved as a list); "
            "a checkpoint must save a dict of name -> array"
        )
    arrays: dict[str, StoredArray] = {}
    for stored in loaded:
        key, value = stored.name or "", stored
        prefix, sep, rest = key.partition(":")
        kind, name = (prefix, rest) if sep and prefix in _KINDS else (None, key)
        if name in arrays:
            raise GraphError(f"{path}: stores the array {name!r} twice")
        arrays[name] = StoredArray(kind, tuple(value.shape))
    return arrays


def _x(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


class _Unknown(Exception):
    """The walk does not follow the graph at another input size."""


class _Context:
    """The stored arrays, the graph's expected ones, and how to search input sizes."""

    def __init__(
        self, graph: Graph, input_shapes: Mapping[str, Shape], stored: Mapping[str, StoredArray]
    ) -> None:
        self.graph, self.nodes, self.stored = graph, graph.nodes, stored
        nodes = self.nodes
        self.input_shapes = {name: tuple(shape) for name, shape in input_shapes.items()}
        self.shapes = infer(graph, self.input_shapes)
        args, auxs = _variables(nodes, self.shapes)
        inputs = set(self.input_shapes) | set(data_inputs(nodes))
        self.expected: dict[str, StoredArray] = {
            name: StoredArray("arg", shape)
            for name, shape in args.items()
            if name not in inputs and not name.endswith("_label")
        }
        self.expected.update((name, StoredArray("aux", shape)) for name, shape in auxs.items())
        self.inputs = inputs | {name for name in args if name.endswith("_label")}
        # The operator each variable feeds, and at which input slot.
        self.users: dict[str, tuple[Node, int]] = {}
        for node in nodes:
            for slot, i in enumerate(node.inputs):
                self.users.setdefault(nodes[i].name, (node, slot))
        self.where = ", ".join(f"{name}={_x(s)}" for name, s in self.input_shapes.items())
        if len(self.input_shapes) == 1:
            self.where = _x(next(iter(self.input_shapes.values())))

    def _output(self, node: Node) -> Shape | None:
        if node.is_variable:
            return self.input_shapes.get(node.name)
        return self.shapes.outputs[node.index][0]

    def layer(self, name: str) -> str | None:
        user = self.users.get(name)
        return user[0].name if user else None

    def square_fit(self, name: str, features: int) -> tuple[bool, tuple[Shape, Shape | None] | None]:
        """For the weight of a FullyConnected that flattens a spatial map: whether its shape
        depends on the input size, and the square inputs ``(C, side, side)`` (smallest, largest)
        at which it has ``features`` inputs, the smallest confirmed by MXNet."""
        node, slot = self.users.get(name, (None, -1))
        found = spatial_input(self.input_shapes)
        if node is None or slot != 1 or node.op != "FullyConnected" or not node.bool_attr("flatten", True):
            return False, None
        resume = [self._output(n) or None for n in self.nodes]
        infos = spatial_walk(self.nodes, self.input_shapes, resume=resume)
        source = flattened_map(self.nodes, infos, node.index)
        shape = resume[source] if source is not None else None
        if found is None or source is None or shape is None or len(shape) < 3:
            return False, None
        input_name, current = found
        channels, nd = shape[1], len(current)

        def count(side: int) -> int:
            spatial = spatial_at(self.nodes, self.input_shapes, source, input_name, (side,) * nd)
            if spatial is None:
                raise _Unknown
            return channels * math.prod(spatial)

        def order(side: int) -> int:
            try:
                value = count(side)
            except (ShapeError, GraphError):
                return -1
            return (value > features) - (value < features)

        try:
            if count(2 * max(current)) == math.prod(shape[1:]):
                return False, None  # the same at twice the size: pooled globally before
            span = side_interval(order, current[0])
        except (_Unknown, ShapeError, GraphError):
            return False, None
        if span is None:
            return True, None
        smallest = (*self.input_shapes[input_name][:2], *(span[0],) * nd)
        try:  # confirmed by inference
            args, _ = _variables(self.nodes, infer(self.graph, {**self.input_shapes, input_name: smallest}))
        except (ShapeError, GraphError):
            return True, None
        if args.get(name, (0, 0))[1] != features:
            return True, None
        largest = None if span[1] is None else (smallest[1], *(span[1],) * nd)
        return True, (smallest[1:], largest)


def _variables(nodes: Sequence[Node], shapes: Shapes) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """The arguments and auxiliary states of a graph by name, in MXNet's order (that of
    ``list_arguments()`` and ``list_auxiliary_states()``), with their shapes."""
    args: dict[str, Shape] = {}
    auxs: dict[str, Shape] = {}
    for node in nodes:
        if node.is_variable:
            shape = shapes.outputs[node.index][0]
            (auxs if node.index in shapes.aux else args).setdefault(node.name, shape)  # type: ignore[arg-type]
    return args, auxs


def _missing(ctx: _Context) -> Iterator[Finding]:
    """An array the graph needs that the checkpoint lacks, or stores under the other prefix."""
    for name, want in ctx.expected.items():
        have = ctx.stored.get(name)
        if have is not None and have.kind in (None, want.kind):
            continue
        what = "an argument" if want.kind == "arg" else "an auxiliary state"
        if have is None:
            message = (
                f"{name} {want.shape} is not in the checkpoint, so loading it fails (allow_missing=True "
                "initialises the array instead; check that the checkpoint belongs to this graph)"
            )
        else:
            message = (
                f"{name} is stored as {have.kind}:{name}, but it is {what} of the graph: MXNet loads it into "
                f"{have.kind}_params, where the graph does not look for it; save it as {want.kind}:{name}"
            )
        yield Finding(
            "params-missing",
            Severity.ERROR,
            ctx.layer(name),
            message,
            {
                "array": name,
                "kind": want.kind,
                "stored_kind": have and have.kind,
                "expected": list(want.shape),
            },
        )


def _unexpected(ctx: _Context) -> Iterator[Finding]:
    """An array of the checkpoint that the graph does not have."""
    for name, have in ctx.stored.items():
        if name in ctx.expected:
            continue
        role = "a data input or label" if name in ctx.inputs else "no array"
        yield Finding(
            "params-unexpected",
            Severity.ERROR,
            ctx.layer(name) if name in ctx.inputs else None,
            f"{(have.kind + ':') if have.kind else ''}{name} {have.shape} is in the checkpoint, but "
            f"{name} is {role} of the graph; drop it, or check that the checkpoint belongs to this graph",
            {"array": name, "kind": have.kind, "stored": list(have.shape)},
        )


def _shape(ctx: _Context) -> Iterator[Finding]:
    """An array whose stored shape differs from the inferred one (with the input size it fits)."""
    for name, want in ctx.expected.items():
        have = ctx.stored.get(name)
        if have is None or have.kind not in (None, want.kind) or have.shape == want.shape:
            continue
        user = ctx.users.get(name, (None, -1))[0]
        fc = user is not None and user.op == "FullyConnected" and len(have.shape) == len(want.shape)
        depends, fit = False, None
        if fc and len(have.shape) == 2 and have.shape[1] != want.shape[1]:
            depends, fit = ctx.square_fit(name, have.shape[1])
        parts = [f"{name} is stored as {have.shape}, the graph needs {want.shape} at input {ctx.where}"]
        if fc and have.shape[0] != want.shape[0]:
            parts.append(
                f"build the graph with num_hidden {have.shape[0]} here (num_classes, for a classifier)"
            )
        if depends and fit is None:
            parts.append("the weight depends on the input size, and the checkpoint fits no square input")
        elif depends:
            smallest, largest = fit
            if smallest == largest:
                sizes = f"input {_x(smallest)}: run it at that size"
            else:
                upper = f"to {_x(largest)}" if largest else "and larger"
                sizes = f"inputs {_x(smallest)} {upper}: run it at one of them"
            parts.append(f"the weight depends on the input size, and the checkpoint fits {sizes}")
        elif not (fc and have.shape[0] != want.shape[0]):
            parts.append("the checkpoint was saved for other layer sizes: build the graph it came from")
        detail: dict[str, Any] = {
            "array": name,
            "stored": list(have.shape),
            "expected": list(want.shape),
            "depends_on_input": depends,
            "fits_input": [list(s) if s else None for s in fit] if fit else None,
        }
        yield Finding("params-shape", Severity.ERROR, ctx.layer(name), "; ".join(parts), detail)


# The table the README lists: id -> severity, summary (the check's docstring), check.
PARAMS_RULES: Mapping[str, Rule] = {
    "params-missing": Rule.of(Severity.ERROR, _missing),
    "params-unexpected": Rule.of(Severity.ERROR, _unexpected),
    "params-shape": Rule.of(Severity.ERROR, _shape),
}


def check_params(graph: Graph, input_shapes: Mapping[str, Shape], params: Params) -> list[Finding]:
    """Checks a checkpoint's names and shapes against a graph at one input size.

    Data inputs and ``*_label`` arguments are not expected in the file. A name may carry the
    ``arg:``/``aux:`` prefix; if it does, it must be the right one.

    Args:
        graph: the resolved graph.
        input_shapes: full shapes of the data inputs, by name.
        params: a ``.params`` path, or what :func:`load_params` returned.

    Returns:
        The findings of :data:`PARAMS_RULES`, in the graph's argument order, arrays the graph
        does not have last.

    Raises:
        GraphError: for a file :func:`load_params` rejects, or a checkpoint that shares no
            array name with the graph (e.g. Gluon's ``save_parameters``, which names blocks).
        ShapeError: if the graph cannot take the input shapes.
    """
    label = f"{os.fspath(params)}: " if isinstance(params, (str, os.PathLike)) else ""
    stored = load_params(params) if isinstance(params, (str, os.PathLike)) else dict(params)
    ctx = _Context(graph, input_shapes, stored)
    if ctx.expected and stored and not set(ctx.expected) & set(stored):
        some = next(iter(stored))
        hint = (
            " (names like that come from Gluon's save_parameters: load them into the net and export() it)"
            if "." in some
            else ""
        )
        raise GraphError(
            f"{label}the checkpoint shares no array name with the graph: it stores {some}, "
            f"the graph needs {next(iter(ctx.expected))}{hint}"
        )
    order = {name: i for i, name in enumerate(ctx.expected)}
    findings = [f for rule in PARAMS_RULES.values() for f in rule.check(ctx)]
    return sorted(findings, key=lambda f: order.get(f.detail["array"], len(order)))
