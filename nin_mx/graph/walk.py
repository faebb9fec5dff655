"""The spatial walk: output sizes, windows and receptive fields in pure Python.

:func:`spatial_walk` follows a graph's nodes with :mod:`nin_mx.core.border` through the operators
that change or keep spatial size. It gives the kernel, stride, pad and receptive field of
every node, and finds the first layer whose output would be empty, without MXNet and without
parsing MXNet's messages. :mod:`nin_mx.graph.infer` checks it against MXNet's own shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from nin_mx.core import border
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS
from nin_mx.core.validate import INT32_MAX, Shape
from nin_mx.graph.nodes import Node

__all__ = ["UNKNOWN", "SpatialInfo", "axis_name", "channels_last", "spatial_walk", "walk_step"]

_FLOAT32_EXACT = 2**23  # below this, a float32 quotient rounds up to the right integer

# What the walk needs of each operator, from the one operator table (core.ops): whether it
# keeps its first input's spatial size ('keeps'), combines inputs of one size ('merges'), or
# slides a window ('windowed').
_KEEPS_SPATIAL = frozenset(name for name, info in OPS.items() if info.spatial in ("keeps", "merges"))
_MERGES = frozenset(name for name, info in OPS.items() if info.spatial == "merges")
_CONCAT = frozenset(name for name, info in OPS.items() if info.name == "Concat")


class SpatialInfo(NamedTuple):
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
    if len(known) < 2:
        return (known[0].rf, known[0].jump) if known else (None, None)
    fields = [i.rf for i in known]
    ndim = len(fields[0])
    for rf in fields:
        if len(rf) != ndim:
            return None, None
    return tuple(map(max, *fields)), tuple(map(max, *[i.jump for i in known]))


def _check_int32(node: Node, what: str, value: int) -> None:
    if value > INT32_MAX:
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
            index=node.index,
        )
    return target[axis]


def _output_size(
    node: Node, n: int, kernel: int, stride: int, pad: int, dilate: int, axis: int, nd: int
) -> int:
    """One axis of a convolution/pooling output, from :mod:`nin_mx.core.border`."""
    if node.op != "Deconvolution":
        convention = node.attrs.get("pooling_convention", "valid") if node.op == "Pooling" else None
        try:
            return _axis_size(node.op == "Pooling", convention, n, kernel, stride, pad, dilate)
        except OverflowError as exc:
            raise GraphError(f"node '{node.name}' ({node.op}): {exc}") from None
    _check_int32(node, "padded input", n + 2 * pad)
    _check_int32(node, "effective kernel", border.effective_kernel(kernel, dilate))
    unpadded = border.deconv_output_size(n, kernel, stride, 0, dilate, 0)
    _check_int32(node, "output size", unpadded)
    target = _target_size(node, axis, nd, unpadded, stride)
    if target is not None:
        return target
    adj = node.tuple_attr("adj", (0,) * nd)
    if len(adj) != nd:
        raise GraphError(f"node '{node.name}' ({node.op}): adj {adj} does not match a {nd}-D input")
    return border.deconv_output_size(n, kernel, stride, pad, dilate, adj[axis])


def _axis_size(
    pooling: bool, convention: str | None, n: int, kernel: int, stride: int, pad: int, dilate: int
) -> int:
    for what, value in (
        ("padded input", n + 2 * pad),
        ("effective kernel", border.effective_kernel(kernel, dilate)),
    ):
        if value > INT32_MAX:
            raise OverflowError(
                f"{what} {value} is beyond 2^31 - 1, which overflows MXNet's 32-bit shape arithmetic"
            )
    if pooling:
        return border.pool_output_size(n, kernel, stride, pad, convention)
    return border.conv_output_size(n, kernel, stride, pad, dilate)


_rf_step = functools.lru_cache(maxsize=4096)(border.receptive_field_step)


def _window_and_size(node: Node, n: Shape) -> tuple[Shape, Shape, Shape, Shape, Shape] | None:
    """``(out, kernel, stride, pad, dilate)`` of a convolution or pooling node over an input of
    spatial size ``n``; ``None`` where the walk leaves the layer to MXNet's shapes."""
    nd = len(n)
    if node.op == "Pooling" and node.bool_attr("global_pool"):
        ones = (1,) * nd
        return ones, n, ones, (0,) * nd, ones
    kernel, stride, pad, dilate = _window(node, nd)
    if node.op == "Pooling" and node.attrs.get("pooling_convention") == "full":
        # MXNet divides in float32 for 'full' pooling: exact below 2^23 only. Leave such a
        # layer (and what follows) to MXNet's shapes rather than disagree with them.
        if any(n[a] + 2 * pad[a] - kernel[a] >= _FLOAT32_EXACT for a in range(nd)):
            return None
    out = []
    for axis in range(nd):
        try:
            out.append(
                _output_size(node, n[axis], kernel[axis], stride[axis], pad[axis], dilate[axis], axis, nd)
            )
        except border.EmptyOutputError as exc:
            raise ShapeError(
                f"layer '{node.name}' ({node.op}): {exc} along {axis_name(axis, nd)}",
                layer=node.name,
                index=node.index,
            ) from None
        except (GraphError, ShapeError):
            raise
        except ValueError as exc:
            raise GraphError(f"node '{node.name}' ({node.op}): {exc}") from None
    return tuple(out), kernel, stride, pad, dilate


# Every attribute _window_and_size reads, for Convolution and Pooling (Deconvolution also reads
# target_shape and adj and is not memoised). A graph repeats a few windows over a few sizes.
_MEMO_KEYS = ("kernel", "stride", "pad", "dilate", "pooling_convention", "global_pool")
_windows: dict[tuple[object, ...], tuple[Shape, Shape, Shape, Shape, Shape] | None] = {}


def _step(node: Node, inp: SpatialInfo) -> SpatialInfo:
    """Output of one convolution/pooling node from its data input, with border arithmetic."""
    get = node.attrs.get
    key = (  # _MEMO_KEYS' values
        node.op,
        inp.spatial,
        get("kernel"),
        get("stride"),
        get("pad"),
        get("dilate"),
        get("pooling_convention"),
        get("global_pool"),
    )
    try:
        window = _windows[key]
    except KeyError:  # only results are kept: a failing layer raises again, with its own name
        window = _window_and_size(node, inp.spatial)
        if node.op != "Deconvolution":
            if len(_windows) >= 4096:
                _windows.clear()
            _windows[key] = window
    if window is None:
        return _UNKNOWN
    out, kernel, stride, pad, dilate = window
    rf = jump = None
    if inp.rf is not None and node.op != "Deconvolution":
        step = (inp.rf, inp.jump, kernel, stride, dilate)
        fields = _fields.get(step)
        if fields is None:
            if len(_fields) >= 4096:
                _fields.clear()
            fields = _fields[step] = tuple(zip(*map(_rf_step, *step)))
        rf, jump = fields
    return _info((out, kernel, stride, pad, dilate, rf, jump))


_fields: dict[tuple[Shape, ...], tuple[Shape, Shape]] = {}  # a window's receptive field and jump


def channels_last(node: Node) -> bool:
    """True for a layout such as NHWC, which the walk (reading shape[2:] as space) does not model."""
    layout = node.attrs.get("layout", "None").strip()
    return layout not in ("", "None") and not layout.startswith("NC")


def _keeps_spatial_of(node: Node, inputs: Sequence[SpatialInfo]) -> Shape | None:
    """The spatial size of an operator that keeps (or broadcasts) its inputs' spatial size."""
    first = inputs[0].spatial if inputs else None
    if node.op in _CONCAT:
        dim = node.attrs.get("dim", "1").strip()
        if dim != "1":
            rank = len(first) + 2 if first is not None else None
            if dim != (f"-{rank - 1}" if rank else "1"):
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


_UNKNOWN = SpatialInfo(None)
UNKNOWN = _UNKNOWN  #: the walk of a node whose spatial size it does not know (a weight, ...)
_info = functools.partial(tuple.__new__, SpatialInfo)  # SpatialInfo from a 7-tuple, without keywords
# Operators that combine several inputs; every other spatial-keeping operator passes its data on.
_COMBINES = _MERGES | {op for op in _KEEPS_SPATIAL if op.startswith("broadcast_")}
# Operators that pass their data input's spatial size on (ReLU, BatchNorm, ...), without its window.
_PASSES = _KEEPS_SPATIAL - _COMBINES - _CONCAT
_WINDOWED = frozenset(name for name, info in OPS.items() if info.spatial == "windowed")
_CANONICAL_WINDOWED = frozenset(OPS[name].name for name in _WINDOWED)


def spatial_walk(
    nodes: Sequence[Node],
    input_shapes: Mapping[str, Shape],
    resume: Sequence[Shape | None] | Mapping[int, Shape] | None = None,
) -> list[SpatialInfo]:
    """Follows spatial sizes, windows and receptive fields through the graph in pure Python.

    Args:
        nodes: the graph's nodes, from :func:`parse_nodes`.
        input_shapes: full shapes (with batch and channel axes) of the data inputs.
        resume: each node's first output shape (None where unknown), by node index (a list,
            or a dict), when known: after an operator the walk does not model (UpSampling, Reshape, ...) it
            resumes from these, so that later convolutions and poolings still get their windows
            (the receptive field is lost).

    Returns:
        One :class:`SpatialInfo` per node, in graph order.

    Raises:
        ShapeError: naming the first layer (in graph order) whose output would be empty.
        GraphError: if a convolution or pooling has attributes that do not fit its input.
    """
    infos: list[SpatialInfo] = []
    append = infos.append
    if isinstance(resume, Mapping):
        resume = [resume.get(i) for i in range(max((node.index for node in nodes), default=-1) + 1)]
    known = len(resume) if resume is not None else 0
    for node in nodes:
        index = node.index
        append(walk_step(node, infos, input_shapes, resume[index] if index < known else None))  # type: ignore[index]
    return infos


def walk_step(
    node: Node, infos: Sequence[SpatialInfo], input_shapes: Mapping[str, Shape], resume: Shape | None = None
) -> SpatialInfo:
    """One node of the walk: its :class:`SpatialInfo` from those of the nodes before it
    (``infos``, by node index) and, for an operator the walk does not model, its first output
    shape ``resume`` when known. :func:`spatial_walk` and the shape engine's pass both step
    through a graph with it.

    Raises:
        ShapeError: if the node's output would be empty.
        GraphError: if a convolution or pooling has attributes that do not fit its input.
    """
    op = node.op
    if op == "null":
        shape = input_shapes.get(node.name)
        if shape is not None and len(shape) > 2:
            nd = len(shape) - 2
            return SpatialInfo(tuple(shape[2:]), rf=(1,) * nd, jump=(1,) * nd)
        return _UNKNOWN
    if op in _PASSES:
        data = infos[node.inputs[0]] if node.inputs else _UNKNOWN
        info = (
            data if data.kernel is None else _info((data.spatial, None, None, None, None, data.rf, data.jump))
        )
    elif op in _WINDOWED:
        data = infos[node.inputs[0]] if node.inputs else _UNKNOWN
        if "layout" in node.attrs and channels_last(node):
            return _UNKNOWN  # its output's shape[2:] is not its spatial size
        if op not in _CANONICAL_WINDOWED:  # an alias (_npx_pooling): the rules read the name
            node = node._replace(op=OPS[op].name)
        info = _step(node, data) if data.spatial is not None else _UNKNOWN
    elif op in _KEEPS_SPATIAL:
        inputs = [infos[i] for i in node.inputs]
        spatial = _keeps_spatial_of(node, inputs)
        rf, jump = _merge([info for info in inputs if info.spatial is not None])
        info = _info((spatial, None, None, None, None, rf, jump)) if spatial else _UNKNOWN
    else:
        info = _UNKNOWN
    if info is _UNKNOWN and resume is not None and len(resume) > 2:
        return SpatialInfo(tuple(resume[2:]))
    return info
