"""Reading MXNet symbol graphs: nodes, attributes, a spatial walk, and shape inference.

Two ways to know a layer's output size, kept apart on purpose:

* :func:`infer_shapes` asks MXNet (one ``infer_shape`` over ``get_internals()``), and turns
  MXNet's C++ trace into a :class:`~nin_mx.errors.ShapeError` with one line.
* :func:`spatial_walk` follows the graph in pure Python with :mod:`nin_mx.border`, through the
  operators that change or keep spatial size. It gives the kernel, stride, pad and receptive
  field of every node, and finds the first layer whose output would be empty — without
  parsing MXNet's messages.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nin_mx import border
from nin_mx._mxnet import mx
from nin_mx.errors import GraphError, ShapeError, one_line

__all__ = [
    "Node",
    "SpatialInfo",
    "axis_name",
    "data_inputs",
    "explain_failure",
    "infer_internals",
    "infer_shapes",
    "load_symbol_file",
    "parse_nodes",
    "spatial_walk",
]

Shape = tuple[int, ...]

# Operators whose output has the spatial size of their first input.
_KEEPS_SPATIAL = frozenset(
    """Activation relu sigmoid tanh softrelu LeakyReLU BatchNorm InstanceNorm LayerNorm GroupNorm
    Dropout LRN elemwise_add elemwise_sub elemwise_mul elemwise_div _Plus _plus _add _Minus _minus
    _sub _Mul _mul _Div _div _plus_scalar _minus_scalar _rminus_scalar _mul_scalar _div_scalar
    _rdiv_scalar _power_scalar broadcast_add broadcast_sub broadcast_mul broadcast_div
    broadcast_plus broadcast_minus add_n ElementWiseSum Concat concat clip identity _copy
    BlockGrad stop_gradient Cast cast softmax log_softmax SoftmaxOutput SoftmaxActivation
    _contrib_BilinearResize2D_keep abs exp log sqrt square negative""".split()
)


@dataclass(frozen=True)
class Node:
    """One node of a symbol graph, as stored in its JSON."""

    index: int
    name: str
    op: str
    attrs: Mapping[str, str]
    inputs: tuple[int, ...]

    @property
    def is_variable(self) -> bool:
        return self.op == "null"

    def tuple_attr(self, key: str, default: Shape | None = None) -> Shape | None:
        """An attribute such as ``kernel='(3, 3)'`` as a tuple of ints."""
        raw = self.attrs.get(key)
        if raw is None or raw.strip() in ("", "()", "[]", "None"):
            return default
        text = raw.strip().strip("()[]")
        try:
            return tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise GraphError(
                f"node '{self.name}' ({self.op}): attribute {key}={raw!r} is not a tuple of integers"
            ) from None

    def bool_attr(self, key: str, default: bool = False) -> bool:
        raw = self.attrs.get(key)
        if raw is None:
            return default
        if raw.strip().lower() in ("true", "1"):
            return True
        if raw.strip().lower() in ("false", "0"):
            return False
        raise GraphError(f"node '{self.name}' ({self.op}): attribute {key}={raw!r} is not a boolean")


@dataclass(frozen=True)
class SpatialInfo:
    """What the pure-Python walk knows of one node.

    ``spatial`` is the output's spatial size (``None`` once the graph has left the spatial
    domain, or after an operator the walk does not model); ``kernel``, ``stride``, ``pad`` and
    ``dilate`` are set for convolutions and poolings; ``rf`` and ``jump`` are the receptive
    field and the step between output positions, in input pixels, per spatial axis.
    """

    spatial: Shape | None
    kernel: Shape | None = None
    stride: Shape | None = None
    pad: Shape | None = None
    dilate: Shape | None = None
    rf: Shape | None = None
    jump: Shape | None = None


def parse_nodes(symbol_json: str | Mapping[str, Any]) -> list[Node]:
    """The nodes of an MXNet symbol JSON, checked for the structure nin_mx relies on.

    Raises:
        GraphError: if the JSON lacks ``nodes`` or ``heads`` or references a missing node.
    """
    try:
        graph = json.loads(symbol_json) if isinstance(symbol_json, str) else symbol_json
    except json.JSONDecodeError as exc:
        raise GraphError(f"not a symbol JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(graph, Mapping):
        raise GraphError("not a symbol JSON: the top level is not an object")
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise GraphError("not a symbol JSON: no 'nodes' list")
    if not isinstance(graph.get("heads"), list):
        raise GraphError("not a symbol JSON: no 'heads' list")
    nodes = []
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping) or "op" not in raw or "name" not in raw:
            raise GraphError(f"not a symbol JSON: node {index} has no 'op' or 'name'")
        attrs = raw.get("attrs") or raw.get("attr") or raw.get("param") or {}
        inputs = []
        for entry in raw.get("inputs", []):
            if not isinstance(entry, list) or not entry or not isinstance(entry[0], int):
                raise GraphError(f"node '{raw['name']}' has a malformed input entry {entry!r}")
            if not 0 <= entry[0] < index:
                raise GraphError(
                    f"node '{raw['name']}' references node {entry[0]}, which does not precede it"
                )
            inputs.append(entry[0])
        nodes.append(
            Node(
                index,
                str(raw["name"]),
                str(raw["op"]),
                {str(k): str(v) for k, v in attrs.items()},
                tuple(inputs),
            )
        )
    for head in graph["heads"]:
        if (
            not isinstance(head, list)
            or not head
            or not isinstance(head[0], int)
            or not 0 <= head[0] < len(nodes)
        ):
            raise GraphError(f"not a symbol JSON: head {head!r} references no node")
    return nodes


def axis_name(axis: int, ndim: int) -> str:
    """The name of spatial axis ``axis`` of an ``ndim``-D map: width, height and width, or D, H, W."""
    names = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}
    return names.get(ndim, tuple(f"axis {i}" for i in range(ndim)))[axis]


def _window(node: Node, nd: int) -> tuple[Shape, Shape, Shape, Shape]:
    kernel = node.tuple_attr("kernel")
    if kernel is None or len(kernel) != nd:
        raise GraphError(f"node '{node.name}' ({node.op}): kernel {kernel} does not match a {nd}-D input")
    stride = node.tuple_attr("stride", (1,) * nd)
    pad = node.tuple_attr("pad", (0,) * nd)
    dilate = node.tuple_attr("dilate", (1,) * nd)
    for key, value in (("stride", stride), ("pad", pad), ("dilate", dilate)):
        if len(value) != nd:
            raise GraphError(f"node '{node.name}' ({node.op}): {key} {value} does not match a {nd}-D input")
    return kernel, stride, pad, dilate


def _merge(infos: Sequence[SpatialInfo]) -> tuple[Shape | None, Shape | None]:
    """Receptive field and jump at a merge: the largest of the inputs, per axis."""
    known = [i for i in infos if i.rf is not None and i.jump is not None]
    if not known or len({len(i.rf) for i in known}) != 1:
        return None, None
    rf = tuple(max(axis) for axis in zip(*(i.rf for i in known)))
    jump = tuple(max(axis) for axis in zip(*(i.jump for i in known)))
    return rf, jump


def _step(node: Node, inp: SpatialInfo) -> SpatialInfo:
    """Output of one convolution/pooling node from its data input, with border arithmetic."""
    n = inp.spatial
    nd = len(n)
    if node.op == "Pooling" and node.bool_attr("global_pool"):
        ones = (1,) * nd
        rf = tuple(r + (s - 1) * j for r, s, j in zip(inp.rf, n, inp.jump)) if inp.rf else None
        return SpatialInfo(ones, kernel=n, stride=ones, pad=(0,) * nd, dilate=ones, rf=rf, jump=inp.jump)
    kernel, stride, pad, dilate = _window(node, nd)
    out = []
    for axis in range(nd):
        try:
            if node.op == "Pooling":
                convention = node.attrs.get("pooling_convention", "valid")
                out.append(
                    border.pool_output_size(n[axis], kernel[axis], stride[axis], pad[axis], convention)
                )
            elif node.op == "Deconvolution":
                adj = node.tuple_attr("adj", (0,) * nd)[axis]
                out.append(
                    border.deconv_output_size(
                        n[axis], kernel[axis], stride[axis], pad[axis], dilate[axis], adj
                    )
                )
            else:
                out.append(
                    border.conv_output_size(n[axis], kernel[axis], stride[axis], pad[axis], dilate[axis])
                )
        except border.EmptyOutputError as exc:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): {exc} along {axis_name(axis, nd)}", layer=node.name
            ) from None
        except ValueError as exc:
            raise GraphError(f"node '{node.name}' ({node.op}): {exc}") from None
    rf = jump = None
    if inp.rf is not None and node.op != "Deconvolution":
        steps = [
            border.receptive_field_step(inp.rf[a], inp.jump[a], kernel[a], stride[a], dilate[a])
            for a in range(nd)
        ]
        rf = tuple(s[0] for s in steps)
        jump = tuple(s[1] for s in steps)
    return SpatialInfo(tuple(out), kernel=kernel, stride=stride, pad=pad, dilate=dilate, rf=rf, jump=jump)


def spatial_walk(nodes: Sequence[Node], input_shapes: Mapping[str, Shape]) -> list[SpatialInfo]:
    """Follows spatial sizes, windows and receptive fields through the graph in pure Python.

    Args:
        nodes: the graph's nodes, from :func:`parse_nodes`.
        input_shapes: full shapes (with batch and channel axes) of the data inputs.

    Returns:
        One :class:`SpatialInfo` per node, in graph order.

    Raises:
        ShapeError: naming the first layer (in graph order) whose output would be empty.
        GraphError: if a convolution or pooling has attributes that do not fit its input.
    """
    infos: list[SpatialInfo] = []
    for node in nodes:
        if node.is_variable:
            shape = input_shapes.get(node.name)
            if shape is not None and len(shape) > 2:
                nd = len(shape) - 2
                infos.append(SpatialInfo(tuple(shape[2:]), rf=(1,) * nd, jump=(1,) * nd))
            else:
                infos.append(SpatialInfo(None))
            continue
        data = infos[node.inputs[0]] if node.inputs else SpatialInfo(None)
        if node.op in ("Convolution", "Deconvolution", "Pooling"):
            infos.append(_step(node, data) if data.spatial is not None else SpatialInfo(None))
        elif node.op in _KEEPS_SPATIAL:
            spatial_inputs = [infos[i] for i in node.inputs if infos[i].spatial is not None]
            rf, jump = _merge(spatial_inputs)
            infos.append(SpatialInfo(data.spatial, rf=rf, jump=jump))
        else:
            infos.append(SpatialInfo(None))
    return infos


def infer_internals(
    internals: Any, input_shapes: Mapping[str, Shape]
) -> tuple[list[Shape], dict[str, Shape], dict[str, Shape]]:
    """One MXNet ``infer_shape`` over a symbol's internals (``symbol.get_internals()``).

    Returns:
        ``(outputs, arguments, aux)``: the output shapes in ``internals.list_outputs()``
        order, and argument and auxiliary shapes by name.

    Raises:
        mxnet.base.MXNetError: MXNet's own error, for the caller to explain.
        ShapeError: if MXNet leaves a shape unknown.
    """
    # Symbol.infer_shape is this call plus a print of the arguments on failure.
    args, outs, auxs = internals._infer_shape_impl(False, **{k: tuple(v) for k, v in input_shapes.items()})
    if outs is None or any(s is None or 0 in s for s in outs):
        raise ShapeError(f"shapes cannot be inferred from the inputs {_describe(input_shapes)}")
    return (
        [tuple(s) for s in outs],
        dict(zip(internals.list_arguments(), map(tuple, args))),
        dict(zip(internals.list_auxiliary_states(), map(tuple, auxs))),
    )


def infer_shapes(
    symbol: Any, input_shapes: Mapping[str, Shape]
) -> tuple[dict[str, Shape], dict[str, Shape], dict[str, Shape]]:
    """Every internal output, argument and auxiliary shape, from one MXNet ``infer_shape``.

    Args:
        symbol: an ``mx.sym.Symbol``.
        input_shapes: full shapes of the data inputs, by name.

    Returns:
        ``(outputs, arguments, aux)``: dicts from MXNet's names (``conv1_output``,
        ``conv1_weight``, ``bn_moving_mean``) to shapes.

    Raises:
        ShapeError: one line, naming the first layer that cannot take its input when the
            border arithmetic finds it, else MXNet's own check in one line.
    """
    internals = symbol.get_internals()
    try:
        outs, args, auxs = infer_internals(internals, input_shapes)
    except mx.base.MXNetError as exc:
        raise explain_failure(symbol, input_shapes, exc) from None
    return dict(zip(internals.list_outputs(), outs)), args, auxs


def _describe(input_shapes: Mapping[str, Shape]) -> str:
    return ", ".join(f"{k}={tuple(v)}" for k, v in input_shapes.items())


def explain_failure(
    symbol_or_nodes: Any, input_shapes: Mapping[str, Shape], exc: BaseException
) -> ShapeError:
    """Turns MXNet's failed ``infer_shape`` into a one-line ShapeError.

    The first layer whose output would be empty is found with the border arithmetic
    (:func:`spatial_walk`), not by parsing MXNet's message; only when the walk finds nothing
    is MXNet's own check quoted, in one line.
    """
    shapes = _describe(input_shapes)
    nodes = symbol_or_nodes if isinstance(symbol_or_nodes, list) else parse_nodes(symbol_or_nodes.tojson())
    try:
        spatial_walk(nodes, input_shapes)
    except ShapeError as found:
        return ShapeError(f"input {shapes} is too small: {found}", layer=found.layer)
    except GraphError as bad:
        return ShapeError(f"cannot infer shapes for {shapes}: {bad}")
    return ShapeError(f"cannot infer shapes for {shapes}: {one_line(exc)}")


def data_inputs(nodes: Sequence[Node]) -> list[str]:
    """Names of the graph's data inputs: variables that are the first input of an operator.

    Weights, biases, labels and BatchNorm statistics enter operators at later positions.
    """
    first = {node.inputs[0] for node in nodes if not node.is_variable and node.inputs}
    return [node.name for node in nodes if node.is_variable and node.index in first]


def load_symbol_file(path: str | os.PathLike[str]) -> tuple[Any, list[Node]]:
    """Loads a saved ``-symbol.json`` and checks it before MXNet sees it.

    Returns:
        ``(symbol, nodes)``.

    Raises:
        GraphError: one line, for a missing path, a directory, a binary or non-JSON file,
            a JSON that is not a symbol graph, or one MXNet cannot load (an unknown operator,
            a malformed attribute).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise GraphError(f"{path}: no such file")
    if os.path.isdir(path):
        raise GraphError(f"{path}: is a directory, not a -symbol.json file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise GraphError(f"{path}: cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise GraphError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        hint = (
            " (a .params file holds weights; pass the -symbol.json beside it)"
            if path.endswith(".params")
            else ""
        )
        raise GraphError(f"{path}: not a symbol JSON: binary data{hint}") from None
    try:
        nodes = parse_nodes(text)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None
    try:
        symbol = mx.sym.load_json(text)
    except mx.base.MXNetError as exc:
        raise GraphError(f"{path}: MXNet cannot load it: {one_line(exc)}") from None
    return symbol, nodes
