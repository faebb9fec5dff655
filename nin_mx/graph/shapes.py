"""A graph's shapes at one input size: nin_mx's engine, or MXNet for an operator it has no rule for.

:func:`infer` is the one way the report, the checks and the size search learn shapes. It runs
the pure-Python engine (:mod:`nin_mx.graph.engine`, MXNet's semantics, no MXNet); only a graph
with an operator the engine has no rule for goes to MXNet's ``infer_shape``, when MXNet is
installed. Either way the answer is a :class:`Shapes`: every output of every node by index,
and which variables are auxiliary states.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Optional

from nin_mx._mxnet import import_failure, mxnet_usable
from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.validate import INT32_MAX, Shape
from nin_mx.graph.engine import engine_error, failing_index, infer_graph
from nin_mx.graph.infer import mxnet_shapes, mxnet_shapes_before
from nin_mx.graph.nodes import Node
from nin_mx.graph.walk import SpatialInfo, spatial_walk

if TYPE_CHECKING:
    from nin_mx.graph.source import Graph

__all__ = ["Shapes", "check_input_dims", "describe", "infer", "infer_before"]

MaybeShape = Optional[Shape]


class Shapes(NamedTuple):
    """Every shape of a graph at one input size.

    Attributes:
        outputs: per node index, the shapes of its outputs (a variable has one: its own).
        visible: per node index, how many of its outputs MXNet's ``get_internals()`` shows
            (the first ones).
        aux: indices of the variable nodes that are auxiliary states.
        by_mxnet: the shapes came from MXNet (the graph has an operator the engine has no
            rule for), not from the engine.
        spatial: with ``walk=True``, the walk (:func:`nin_mx.graph.walk.spatial_walk`) of every
            node at these shapes, made in the engine's pass; None where it was not made there.
    """

    outputs: Sequence[tuple[MaybeShape, ...]]
    visible: Sequence[int]
    aux: frozenset[int]
    by_mxnet: bool = False
    spatial: Sequence[SpatialInfo] | None = None


def describe(input_shapes: Mapping[str, Shape]) -> str:
    """``data=(1, 3, 32, 32)``, as every shape error names its inputs."""
    return ", ".join(f"{k}={tuple(v)}" for k, v in input_shapes.items())


def check_input_dims(input_shapes: Mapping[str, Shape]) -> None:
    """MXNet stores each dimension as a 32-bit integer; so does the engine.

    Raises:
        ShapeError: for a dimension beyond 2^31 - 1.
    """
    for name, shape in input_shapes.items():
        if any(dim > INT32_MAX for dim in shape):
            raise ShapeError(f"input {name}={tuple(shape)}: MXNet takes dimensions up to 2^31 - 1")


def _known(shape: MaybeShape) -> bool:
    return shape is not None and 0 not in shape


def _flatten_overflow(nodes: Sequence[Node], outputs: Sequence[tuple[MaybeShape, ...]]) -> None:
    """Flatten (and FullyConnected) of more than 2^31 - 1 values per sample: MXNet's 32-bit
    product wraps around, so the size it would give is wrong; said here in one line."""
    for node in nodes:
        if node.op not in _FLATTENING:
            continue
        flattens = node.op != "FullyConnected" or node.bool_attr("flatten", True)
        if not flattens or not node.inputs:
            continue
        shape = outputs[node.inputs[0]][node.input_outputs[0] if node.input_outputs else 0]
        if shape is not None and math.prod(shape[1:]) > INT32_MAX:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): its input {'x'.join(map(str, shape[1:]))} holds "
                f"{math.prod(shape[1:]):,} values per sample, beyond 2^31 - 1, which overflows "
                "MXNet's 32-bit shape arithmetic"
            )


_FLATTENING = frozenset(("Flatten", "flatten", "FullyConnected"))


def infer(graph: Graph, input_shapes: Mapping[str, Shape], *, walk: bool = False) -> Shapes:
    """Every output shape of ``graph`` at ``input_shapes`` (full shapes by input name); with
    ``walk``, also the spatial walk, from the same pass over the nodes where it can be.

    Raises:
        ShapeError: one line: ``input data=(...) is too small: layer 'conv2' (Convolution):
            kernel 5 exceeds input 2 along height`` (with ``layer`` set) when a window does
            not fit, else ``cannot infer shapes for data=(...): <why>``; for an operator
            without a rule where MXNet is not installed, naming that layer.
        GraphError: for a malformed attribute, naming the node and the attribute.
    """
    check_input_dims(input_shapes)
    key = tuple(sorted((name, tuple(shape)) for name, shape in input_shapes.items()))
    kept = graph.inferred
    found, walked = kept.get(key, (None, False))
    if found is not None and (walked or not walk):
        return found
    found = _infer(graph, input_shapes, walk)
    if len(kept) >= _KEPT:
        del kept[next(iter(kept))]
    kept[key] = (found, walk)
    return found


_KEPT = 4  # input sizes whose shapes a Graph keeps


def _infer(graph: Graph, input_shapes: Mapping[str, Shape], walk: bool) -> Shapes:
    nodes = graph.nodes
    try:
        inferred = infer_graph(nodes, input_shapes, walk=walk)
    except UnsupportedOperator as exc:
        return _by_mxnet(graph, input_shapes, exc)
    except ShapeError as exc:
        raise _explained(nodes, input_shapes, exc) from None
    except GraphError as exc:
        raise ShapeError(f"cannot infer shapes for {describe(input_shapes)}: {exc}") from None
    outputs = inferred.outputs
    visible = inferred.visible
    if not inferred.complete and not all(
        _known(s) for node in nodes for s in outputs[node.index][: visible[node.index]]
    ):
        raise ShapeError(f"shapes cannot be inferred from the inputs {describe(input_shapes)}")
    _flatten_overflow(nodes, outputs)
    return Shapes(outputs, visible, inferred.aux, spatial=inferred.spatial)


def _by_mxnet(graph: Graph, input_shapes: Mapping[str, Shape], unsupported: UnsupportedOperator) -> Shapes:
    """The shapes of a graph with an operator the engine has no rule for, from MXNet.

    Raises:
        ShapeError: where MXNet is not installed, naming the layer; or as MXNet's path words it.
    """
    if not mxnet_usable():  # an installed MXNet that fails to import is absent too
        failure = import_failure()
        why = "is not installed" if failure is None else f"cannot be imported ({failure})"
        raise ShapeError(
            f"layer '{unsupported.layer}' ({unsupported.op}): nin_mx has no shape rule for "
            f"{unsupported.op} and MXNet {why} to infer it",
            layer=unsupported.layer,
            index=unsupported.index,
        )
    found = _from_mxnet(mxnet_shapes(graph, input_shapes))
    for node in graph.nodes:
        if not node.is_variable and not found.visible[node.index]:
            raise ShapeError(
                f"cannot infer shapes for {describe(input_shapes)}: layer '{node.name}' ({node.op}) "
                "has no output (MXNet infers none from its attributes)"
            )
    return found


def _explained(nodes: Sequence[Node], input_shapes: Mapping[str, Shape], exc: ShapeError) -> ShapeError:
    """The engine's error as the report says it. As on MXNet's path
    (:func:`nin_mx.graph.infer.explain_failure`), the border arithmetic speaks first, up to the
    failing node: the first layer whose output would be empty (``failed_at``), or a window
    that does not fit its input's rank; else the engine's own reason, without ``failed_at``."""
    last = failing_index(nodes, exc)
    if last is not None:
        try:
            spatial_walk(nodes[: last + 1], input_shapes)
        except ShapeError as found:
            return ShapeError(
                f"input {describe(input_shapes)} is too small: {found}", layer=found.layer, index=found.index
            )
        except GraphError as bad:
            return ShapeError(f"cannot infer shapes for {describe(input_shapes)}: {bad}")
    error = engine_error(nodes, input_shapes, exc)
    if not str(error).startswith("input "):
        error.layer = error.index = None
    return error


def infer_before(graph: Graph, input_shapes: Mapping[str, Shape], stop: int) -> Shapes | None:
    """The shapes of the nodes before node ``stop`` (a failing layer), or None when even those
    cannot be inferred: the rows a failed report still shows."""
    nodes = graph.nodes[:stop]
    try:
        inferred = infer_graph(nodes, input_shapes)
    except UnsupportedOperator:
        if not mxnet_usable():
            return None
        found = mxnet_shapes_before(graph, input_shapes, stop)
        return None if found is None else _from_mxnet(found)
    except (ShapeError, GraphError):
        return None
    return Shapes(inferred.outputs, inferred.visible, inferred.aux)


def _from_mxnet(found: tuple[list[tuple[MaybeShape, ...]], frozenset[int]]) -> Shapes:
    outputs, aux = found  # MXNet's internal outputs: the visible ones only (None: none at all)
    return Shapes(outputs, [0 if o == (None,) else len(o) for o in outputs], aux, by_mxnet=True)
