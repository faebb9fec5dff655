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
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nin_mx import border
from nin_mx._mxnet import mx
from nin_mx.errors import GraphError, ShapeError, one_line

_OPERATOR = re.compile(r"Error in operator ([^:\s]+):")

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
_INT32_MAX = 2**31 - 1  # MXNet 1.9.1 (pip) stores each dimension as a 32-bit int
_FLOAT32_EXACT = 2**23  # below this, a float32 quotient rounds up to the right integer

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


# Operators that combine inputs of one spatial size (Concat along channels only, see below).
_MERGES = frozenset(
    """elemwise_add elemwise_sub elemwise_mul elemwise_div _Plus _plus _add _Minus _minus _sub _Mul
    _mul _Div _div add_n ElementWiseSum Concat concat""".split()
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


def _entry(entry: Any, nodes: Sequence[Node], where: str, what: str = "input") -> int:
    """The node index of a ``[node, output, version]`` entry, checked against ``nodes``."""
    if (
        not isinstance(entry, list)
        or not 1 <= len(entry) <= 3
        or any(isinstance(v, bool) or not isinstance(v, int) for v in entry)
    ):
        raise GraphError(f"{where} has a malformed {what} entry {entry!r} (expected [node, output, version])")
    index, output = entry[0], entry[1] if len(entry) > 1 else 0
    if not 0 <= index < len(nodes):
        raise GraphError(f"{where} references node {index}, which does not precede it")
    if output < 0 or (output > 0 and nodes[index].is_variable):
        raise GraphError(f"{where} references output {output} of node '{nodes[index].name}', which has none")
    return index


def _check_crashers(node: Node) -> None:
    """Rejects the attribute values that crash MXNet 1.9.1's process instead of raising."""
    if node.op in ("Convolution", "Deconvolution"):
        raw = node.attrs.get("num_group", "1").strip()
        if raw.lstrip("-").isdigit() and int(raw) < 1:  # a division by zero (SIGFPE) in infer_shape
            raise GraphError(f"node '{node.name}' ({node.op}): num_group must be at least 1, got {raw}")


def parse_nodes(symbol_json: str | Mapping[str, Any]) -> list[Node]:
    """The nodes of an MXNet symbol JSON, checked for the structure nin_mx relies on.

    Also rejects what would crash MXNet's process rather than raise (an empty ``heads``
    list, a negative output index, ``num_group=0``).

    Raises:
        GraphError: if the JSON lacks ``nodes`` or ``heads``, references a missing node,
            or holds a node, attribute or input entry of the wrong type.
    """
    try:
        graph = json.loads(symbol_json) if isinstance(symbol_json, str) else symbol_json
    except json.JSONDecodeError as exc:
        raise GraphError(f"not a symbol JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise GraphError("not a symbol JSON: nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise GraphError(f"not a symbol JSON: {one_line(exc)}") from None
    if not isinstance(graph, Mapping):
        raise GraphError("not a symbol JSON: the top level is not an object")
    raw_nodes = graph.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise GraphError("not a symbol JSON: no 'nodes' list")
    attrs = graph.get("attrs", {})
    version = attrs.get("mxnet_version", ["int", 0]) if isinstance(attrs, Mapping) else None
    if not isinstance(version, list) or len(version) != 2 or not isinstance(version[1], int):
        raise GraphError("not a symbol JSON: 'attrs' must be an object with mxnet_version [\"int\", N]")
    heads = graph.get("heads")
    if not isinstance(heads, list):
        raise GraphError("not a symbol JSON: no 'heads' list")
    if not heads:
        raise GraphError("not a symbol JSON: the 'heads' list is empty (the graph has no output)")
    nodes: list[Node] = []
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping) or "op" not in raw or "name" not in raw:
            raise GraphError(f"not a symbol JSON: node {index} has no 'op' or 'name'")
        if not isinstance(raw["name"], str) or not isinstance(raw["op"], str):
            raise GraphError(f"not a symbol JSON: node {index} has an 'op' or 'name' that is not a string")
        name = raw["name"]
        attrs = raw.get("attrs") or raw.get("attr") or raw.get("param") or {}
        if not isinstance(attrs, Mapping):
            raise GraphError(f"node '{name}': 'attrs' is not an object")
        for key, value in attrs.items():
            if not isinstance(value, str):
                raise GraphError(
                    f"node '{name}': attribute {key}={json.dumps(value)} must be a string, "
                    f'as MXNet writes it ({key}="{value}")'
                )
        raw_inputs = raw.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise GraphError(f"node '{name}': 'inputs' is not a list")
        inputs = tuple(_entry(entry, nodes, f"node '{name}'") for entry in raw_inputs)
        node = Node(index, name, raw["op"], dict(attrs), inputs)
        _check_crashers(node)
        nodes.append(node)
    for head in heads:
        try:
            _entry(head, nodes, "a head", "head")
        except GraphError as exc:
            raise GraphError(f"not a symbol JSON: {exc}") from None
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
    values = {"stride": stride, "pad": pad, "dilate": dilate}
    for key, value in values.items():
        # MXNet's Pooling reads the first nd entries of a longer stride or pad (and its
        # 1-D 'same' convention requires pad=(0, 0, 0)); Convolution rejects such tuples.
        if node.op == "Pooling" and len(value) > nd:
            values[key] = value = value[:nd]
        if len(value) != nd:
            raise GraphError(f"node '{node.name}' ({node.op}): {key} {value} does not match a {nd}-D input")
    return kernel, values["stride"], values["pad"], values["dilate"]


def _merge(infos: Sequence[SpatialInfo]) -> tuple[Shape | None, Shape | None]:
    """Receptive field and jump at a merge: the largest of the inputs, per axis."""
    known = [i for i in infos if i.rf is not None and i.jump is not None]
    if not known or len({len(i.rf) for i in known}) != 1:
        return None, None
    rf = tuple(max(axis) for axis in zip(*(i.rf for i in known)))
    jump = tuple(max(axis) for axis in zip(*(i.jump for i in known)))
    return rf, jump


def _check_int32(node: Node, what: str, value: int) -> None:
    if value > _INT32_MAX:
        raise GraphError(
            f"node '{node.name}' ({node.op}): {what} {value} is beyond 2^31 - 1, "
            "which overflows MXNet's 32-bit shape arithmetic"
        )


def _target_size(node: Node, axis: int, nd: int, largest: int, stride: int) -> int | None:
    """Deconvolution's ``target_shape`` along one axis, if set. MXNet then crops ``largest - target``:
    half on each side, and an odd one out as ``adj``, which must be smaller than the stride."""
    target = node.tuple_attr("target_shape")
    if not target or not any(target):
        return None
    if len(target) != nd:
        raise GraphError(
            f"node '{node.name}' ({node.op}): target_shape {target} does not match a {nd}-D input"
        )
    if target[axis] > largest:
        raise GraphError(
            f"node '{node.name}' ({node.op}): target_shape {target} exceeds the largest output "
            f"{largest} along {axis_name(axis, nd)}"
        )
    if (largest - target[axis]) % 2 and stride == 1:
        raise GraphError(
            f"node '{node.name}' ({node.op}): target_shape {target} needs an odd crop along "
            f"{axis_name(axis, nd)}, which MXNet cannot make with stride 1"
        )
    if target[axis] < 1:
        raise ShapeError(
            f"layer '{node.name}' ({node.op}): target_shape {target} is empty along {axis_name(axis, nd)}",
            layer=node.name,
        )
    return target[axis]


def _output_size(
    node: Node, n: int, kernel: int, stride: int, pad: int, dilate: int, axis: int, nd: int
) -> int:
    """One axis of a convolution/pooling output, from :mod:`nin_mx.border`."""
    _check_int32(node, "padded input", n + 2 * pad)
    _check_int32(node, "effective kernel", border.effective_kernel(kernel, dilate))
    if node.op == "Pooling":
        convention = node.attrs.get("pooling_convention", "valid")
        return border.pool_output_size(n, kernel, stride, pad, convention)
    if node.op == "Deconvolution":
        unpadded = border.deconv_output_size(n, kernel, stride, 0, dilate, 0)
        _check_int32(node, "output size", unpadded)
        target = _target_size(node, axis, nd, unpadded, stride)
        if target is not None:
            return target
        adj = node.tuple_attr("adj", (0,) * nd)
        if len(adj) != nd:
            raise GraphError(f"node '{node.name}' ({node.op}): adj {adj} does not match a {nd}-D input")
        return border.deconv_output_size(n, kernel, stride, pad, dilate, adj[axis])
    return border.conv_output_size(n, kernel, stride, pad, dilate)


def _step(node: Node, inp: SpatialInfo) -> SpatialInfo:
    """Output of one convolution/pooling node from its data input, with border arithmetic."""
    n = inp.spatial
    nd = len(n)
    if node.op == "Pooling" and node.bool_attr("global_pool"):
        ones = (1,) * nd
        rf = tuple(r + (s - 1) * j for r, s, j in zip(inp.rf, n, inp.jump)) if inp.rf else None
        return SpatialInfo(ones, kernel=n, stride=ones, pad=(0,) * nd, dilate=ones, rf=rf, jump=inp.jump)
    kernel, stride, pad, dilate = _window(node, nd)
    if node.op == "Pooling" and node.attrs.get("pooling_convention") == "full":
        # MXNet divides in float32 for 'full' pooling: exact below 2^23 only. Leave such a
        # layer (and what follows) to MXNet's shapes rather than disagree with them.
        if any(n[a] + 2 * pad[a] - kernel[a] >= _FLOAT32_EXACT for a in range(nd)):
            return SpatialInfo(None)
    out = []
    for axis in range(nd):
        try:
            out.append(
                _output_size(node, n[axis], kernel[axis], stride[axis], pad[axis], dilate[axis], axis, nd)
            )
        except border.EmptyOutputError as exc:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): {exc} along {axis_name(axis, nd)}", layer=node.name
            ) from None
        except (GraphError, ShapeError):
            raise
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


def _channels_last(node: Node) -> bool:
    """True for a layout such as NHWC, which the walk (reading shape[2:] as space) does not model."""
    layout = node.attrs.get("layout", "None").strip()
    return layout not in ("", "None") and not layout.startswith("NC")


def _keeps_spatial_of(node: Node, inputs: Sequence[SpatialInfo]) -> Shape | None:
    """The spatial size of an operator that keeps (or broadcasts) its inputs' spatial size."""
    first = inputs[0].spatial if inputs else None
    if node.op in ("Concat", "concat"):
        dim = node.attrs.get("dim", "1").strip()
        rank = len(first) + 2 if first is not None else None
        if dim not in ("1", f"-{rank - 1}" if rank else "1"):
            return None  # concatenated along a spatial (or the batch) axis
    if node.op.startswith("broadcast_"):
        shapes = [i.spatial for i in inputs]
        if any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1:
            return None
        return tuple(max(axis) for axis in zip(*shapes))
    if node.op in _MERGES:
        sizes = [i.spatial for i in inputs if i.spatial is not None]
        if len(set(sizes)) > 1:
            # MXNet stops here; a later layer the walk would find too small is not the cause.
            raise GraphError(
                f"layer '{node.name}' ({node.op}): its inputs differ in spatial size "
                f"({' vs. '.join('x'.join(map(str, s)) for s in sizes)})"
            )
    return first


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
            known = data.spatial is not None and not _channels_last(node)
            infos.append(_step(node, data) if known else SpatialInfo(None))
        elif node.op in _KEEPS_SPATIAL:
            spatial = _keeps_spatial_of(node, [infos[i] for i in node.inputs])
            rf, jump = _merge([infos[i] for i in node.inputs if infos[i].spatial is not None])
            infos.append(SpatialInfo(spatial, rf=rf, jump=jump) if spatial else SpatialInfo(None))
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
        ShapeError: if MXNet leaves a shape unknown, or an input dimension exceeds 2^31 - 1.
    """
    for name, shape in input_shapes.items():
        if any(dim > _INT32_MAX for dim in shape):
            raise ShapeError(f"input {name}={tuple(shape)}: MXNet takes dimensions up to 2^31 - 1")
    # Symbol.infer_shape is this call plus a print of the arguments on failure.
    args, outs, auxs = internals._infer_shape_impl(False, **{k: tuple(v) for k, v in input_shapes.items()})
    if outs is None or any(s is None or 0 in s for s in outs):
        raise ShapeError(f"shapes cannot be inferred from the inputs {_describe(input_shapes)}")
    if any(math.prod(s[1:]) > _INT32_MAX for s in outs):
        _check_flattened(internals, [tuple(s) for s in outs])
    return (
        [tuple(s) for s in outs],
        dict(zip(internals.list_arguments(), map(tuple, args))),
        dict(zip(internals.list_auxiliary_states(), map(tuple, auxs))),
    )


def _check_flattened(internals: Any, outs: Sequence[Shape]) -> None:
    """Flatten (and FullyConnected) of more than 2^31 - 1 values per sample: MXNet's 32-bit
    product wraps around, often to a positive but wrong size, so it must be caught here."""
    graph = json.loads(internals.tojson())
    shapes: dict[int, Shape] = {}
    for head, shape in zip(graph["heads"], outs):
        shapes.setdefault(head[0], shape)
    for node in parse_nodes(graph):
        flattens = node.op in ("Flatten", "flatten") or (
            node.op == "FullyConnected" and node.bool_attr("flatten", True)
        )
        shape = shapes.get(node.inputs[0]) if flattens and node.inputs else None
        if shape is not None and math.prod(shape[1:]) > _INT32_MAX:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): its input {'x'.join(map(str, shape[1:]))} holds "
                f"{math.prod(shape[1:]):,} values per sample, beyond 2^31 - 1, which overflows "
                "MXNet's 32-bit shape arithmetic"
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
    is MXNet's own check quoted, in one line. The walk looks no further than the operator
    MXNet names, where MXNet's graph-order inference stopped.
    """
    shapes = _describe(input_shapes)
    nodes = symbol_or_nodes if isinstance(symbol_or_nodes, list) else parse_nodes(symbol_or_nodes.tojson())
    # MXNet infers in graph order and stops at its first failure: what follows is not the cause
    # (the walk does not know channels, so it may find a later layer too small).
    stopped = _OPERATOR.search(str(exc))
    last = {node.name: node.index for node in nodes}.get(stopped.group(1)) if stopped else None
    try:
        spatial_walk(nodes if last is None else nodes[: last + 1], input_shapes)
    except ShapeError as found:
        return ShapeError(f"input {shapes} is too small: {found}", layer=found.layer)
    except GraphError as bad:
        return ShapeError(f"cannot infer shapes for {shapes}: {bad}")
    detail = one_line(exc)
    if re.search(r"-\d{5,}", detail):  # a wrapped-around size, e.g. Flatten of a huge map
        detail += " (a size beyond 2^31 - 1 overflowed MXNet's 32-bit shape arithmetic)"
    return ShapeError(f"cannot infer shapes for {shapes}: {detail}")


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
        text = raw.decode("utf-8-sig")  # a byte-order mark from an editor is harmless
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
        detail = one_line(exc)
        culprit = _unloadable_node(json.loads(text), nodes)
        if culprit is not None and f"'{culprit.name}'" not in detail:
            detail = f"node '{culprit.name}' ({culprit.op}): {detail}"
        raise GraphError(f"{path}: MXNet cannot load it: {detail}") from None
    return symbol, nodes


_ALONE = {"nodes": [{"op": "null", "name": "data", "inputs": []}], "arg_nodes": [0], "heads": [[0, 0, 0]]}


def _unloadable_node(graph: Mapping[str, Any], nodes: Sequence[Node]) -> Node | None:
    """The first operator MXNet cannot load on its own (MXNet's message does not always say)."""
    version = graph.get("attrs")
    if not isinstance(version, Mapping) or "mxnet_version" not in version:
        return None  # a legacy graph: MXNet upgrades it, and logs each load
    try:
        mx.sym.load_json(json.dumps({**_ALONE, "attrs": version}))
    except mx.base.MXNetError:
        return None  # the graph's own attributes are at fault
    for node in nodes:
        if node.is_variable:
            continue
        raw = dict(graph["nodes"][node.index])
        raw["inputs"] = [[i, 0, 0] for i in range(len(node.inputs))]
        variables = [{"op": "null", "name": f"input{i}", "inputs": []} for i in range(len(node.inputs))]
        alone = {
            "nodes": [*variables, raw],
            "arg_nodes": list(range(len(variables))),
            "heads": [[len(variables), 0, 0]],
            "attrs": version,
        }
        try:
            mx.sym.load_json(json.dumps(alone))
        except mx.base.MXNetError:
            return node
    return None
