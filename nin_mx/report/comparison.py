"""Manual (``infer_shape``) pooling kernel vs ``Pooling(global_pool=True)``: build both, compare.

A common way to write a network's final "global" average pooling is to run
``infer_shape`` on the graph so far and pass that H x W as a fixed kernel. For that one
input size it is exactly ``global_pool=True``; for any other size it fails (a smaller
input) or silently pools to more than 1 x 1 (a larger one). :func:`compare_pooling`
shows both halves of that statement, by shapes and by numbers.

Every shape here comes from nin_mx's engine (:func:`nin_mx.graph.shapes.infer`), the kernel
too, so :func:`manual_pool_kernel` needs no MXNet; only the forward pass of
:func:`compare_pooling`, which computes numbers, runs the two graphs in MXNet.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from nin_mx._mxnet import mx, require_mxnet
from nin_mx.core import border
from nin_mx.core.border import parse_report_mode
from nin_mx.core.errors import ShapeError
from nin_mx.core.validate import Shape, check_dims
from nin_mx.graph.shapes import Shapes, infer
from nin_mx.graph.source import Graph
from nin_mx.models import get_symbol

__all__ = [
    "Forward",
    "PoolingComparison",
    "compare_pooling",
    "default_probe_shape",
    "manual_pool_kernel",
    "manual_symbol",
    "mxnet_forward",
]


@dataclass(frozen=True)
class PoolingComparison:
    """Manual vs global final pooling of one model, at its size and at a probe size.

    Attributes:
        model: the model's name.
        data_shape: the input ``(N, C, H, W)`` the manual kernel was computed for.
        pool_layer: name of the final pooling layer.
        manual_kernel: the kernel ``infer_shape`` gave, i.e. the H x W entering the pool.
        global_output_shape: output shape of the pooling layer with ``global_pool=True``.
        manual_output_shape: output shape of the pooling layer with the manual kernel.
        shapes_equal: whether every internal output shape of the two graphs is the same.
        max_abs_diff: the largest absolute difference between the two graphs' pooled
            features and softmax outputs, from one inference forward pass with the same
            random weights.
        probe_shape: a second input shape.
        probe_global_output_shape: the global graph's pooled shape there (``None`` if even
            the global graph cannot take it; see ``probe_global_error``).
        probe_global_error: one line, or ``None``.
        probe_manual_output_shape: the manual graph's pooled shape there, or ``None`` if it
            fails.
        probe_manual_error: one line saying why the manual kernel does not work at the probe
            size (it fails, or pools to more than 1 x 1), or ``None`` if it happens to work.
        border_mode: the padding both graphs were built with (``reference``: published).
        runtime: what ran the forward passes: ``MXNet 1.9.1``, or ``onnxruntime <version>``
            where MXNet cannot run (:func:`nin_mx.export.compare.compare_pooling`).
    """

    model: str
    data_shape: Shape
    pool_layer: str
    manual_kernel: Shape
    global_output_shape: Shape
    manual_output_shape: Shape
    shapes_equal: bool
    max_abs_diff: float
    probe_shape: Shape
    probe_global_output_shape: Shape | None
    probe_global_error: str | None
    probe_manual_output_shape: Shape | None
    probe_manual_error: str | None
    border_mode: str = "reference"
    runtime: str = "MXNet 1.9.1"


#: ``forward(graph, pool_layer, data_shape, seed) -> ([pooled, output], runtime)``: one inference
#: pass of a graph with seeded random weights that depend on the seed and the weights' names only
#: (so two graphs with the same variables get the same weights), and what ran it.
Forward = Callable[[Graph, str, Shape, int], tuple[list[Any], str]]


def default_probe_shape(data_shape: Sequence[int]) -> Shape:
    """The default second size: each spatial side scaled by 3/4 (299 -> 224, 32 -> 24)."""
    shape = tuple(data_shape)
    return shape[:2] + tuple(max(1, round(side * 3 / 4)) for side in shape[2:])


class _FinalPool(NamedTuple):
    """The last Pooling node of a graph and the output that feeds it, by node index."""

    index: int
    name: str
    source: int
    source_output: int

    def output(self, shapes: Shapes) -> Shape:
        return shapes.outputs[self.index][0]

    def kernel(self, shapes: Shapes) -> Shape:
        """The H x W entering the final pool: the kernel a hand-computed "global" pool uses."""
        return shapes.outputs[self.source][self.source_output][2:]


def _final_pool(graph: Graph) -> _FinalPool:
    pool = [n for n in graph.nodes if n.op == "Pooling"][-1]
    return _FinalPool(pool.index, pool.name, pool.inputs[0], pool.input_outputs[0])


def _check_data_shape(value: Sequence[int], name: str = "data_shape") -> Shape:
    return check_dims(value, name, ndim=4)


def manual_pool_kernel(name: str, data_shape: Sequence[int], /, **factory_kwargs: Any) -> Shape:
    """The final pooling kernel as hand-written code computes it: the shapes of the graph at
    ``data_shape`` (``infer_shape``'s answer, here from nin_mx's engine: no MXNet), read off the
    map that enters the final pool.

    Args:
        name: a registered model.
        data_shape: ``(N, C, H, W)``.
        **factory_kwargs: the factory's other arguments (``border_mode``, ...).

    Raises:
        ValueError: for an unknown model or an invalid argument.
        nin_mx.errors.ShapeError: if the model cannot take ``data_shape``.
    """
    shape = _check_data_shape(data_shape)
    graph = Graph.from_model(name, **factory_kwargs)
    return _final_pool(graph).kernel(infer(graph, {"data": shape}))


def manual_symbol(name: str, data_shape: Sequence[int], /, **factory_kwargs: Any) -> Any:
    """A model whose final pool has the kernel :func:`manual_pool_kernel` computes at
    ``data_shape`` (``Pooling(kernel=(H, W))``) instead of ``global_pool=True``, as an
    ``mx.sym.Symbol`` (``nin_mx.symbol_json(name, pool_kernel=manual_pool_kernel(...))`` is its
    JSON, without MXNet).

    The same graph as the global one at ``data_shape``; a wrong shape or an error at any other
    size (``nin_mx.check`` reports it as ``fixed-global-pool``).
    """
    if "pool_kernel" in factory_kwargs:
        raise ValueError("manual_symbol computes pool_kernel itself; do not pass it")
    kernel = manual_pool_kernel(name, data_shape, **factory_kwargs)
    return get_symbol(name, pool_kernel=kernel, **factory_kwargs)


def _variable_shapes(graph: Graph, shapes: Shapes) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """The arguments and the auxiliary states with their shapes, in MXNet's order
    (``list_arguments()``, ``list_auxiliary_states()``: the variables in graph order)."""
    args: dict[str, Shape] = {}
    aux: dict[str, Shape] = {}
    for node in graph.nodes:
        if node.is_variable:
            (aux if node.index in shapes.aux else args)[node.name] = shapes.outputs[node.index][0]
    return args, aux


def _visible(shapes: Shapes) -> list[tuple[Any, ...]]:
    return [tuple(out[:n]) for out, n in zip(shapes.outputs, shapes.visible)]


def _random_inputs(
    arg_shapes: dict[str, Shape], aux_shapes: dict[str, Shape], seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seeded random weights, valid BatchNorm statistics, uniform data.

    Weights are uniform in ``±sqrt(6 / fan_in)`` (He's variance, ``2 / fan_in``): MXNet draws
    uniform numbers faster than normal ones, and drawing them dominates this function.
    """
    mx.random.seed(seed)
    cpu = mx.cpu()
    args = {}
    for name, shape in arg_shapes.items():
        if name.endswith("_label"):
            args[name] = mx.nd.zeros(shape, ctx=cpu)
        elif name.endswith("_gamma"):
            args[name] = mx.nd.ones(shape, ctx=cpu)
        elif name.endswith("_weight"):
            bound = (6.0 / max(1, math.prod(shape[1:]))) ** 0.5
            args[name] = mx.nd.random.uniform(-bound, bound, shape=shape, ctx=cpu)
        elif name.endswith(("_bias", "_beta")):
            args[name] = mx.nd.random.uniform(-0.02, 0.02, shape=shape, ctx=cpu)
        else:  # data
            args[name] = mx.nd.random.uniform(0, 1, shape=shape, ctx=cpu)
    aux = {}
    for name, shape in aux_shapes.items():
        if name.endswith("_moving_var"):
            aux[name] = mx.nd.random.uniform(0.5, 1.5, shape=shape, ctx=cpu)
        else:
            aux[name] = mx.nd.random.uniform(-0.02, 0.02, shape=shape, ctx=cpu)
    return args, aux


def mxnet_forward(graph: Graph, pool_layer: str, data_shape: Shape, seed: int) -> tuple[list[Any], str]:
    """The :data:`Forward` of MXNet: its random weights (MXNet's generator seeded by ``seed``),
    one bound inference pass, the pooled map and the output as numpy arrays."""
    require_mxnet("the pooling comparison's forward pass")
    shapes = infer(graph, {"data": data_shape})
    args, aux = _random_inputs(*_variable_shapes(graph, shapes), seed)
    return _forward(graph, pool_layer, args, aux), f"MXNet {mx.__version__}"


def _forward(graph: Graph, pool_layer: str, args: dict[str, Any], aux: dict[str, Any]) -> list[Any]:
    internals = graph.internals
    heads = mx.sym.Group([internals[f"{pool_layer}_output"], graph.symbol])
    executor = heads.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
    return [out.asnumpy() for out in executor.forward(is_train=False)]


def _probe(
    global_graph: Graph, manual_graph: Graph, pool: _FinalPool, kernel: Shape, probe_shape: Shape
) -> tuple[Shape | None, str | None, Shape | None, str | None]:
    try:
        outs = infer(global_graph, {"data": probe_shape})
    except ShapeError as exc:
        return None, str(exc), None, "the global graph cannot take this size either"
    global_out = pool.output(outs)
    pool_input = pool.kernel(outs)
    try:
        manual_outs = infer(manual_graph, {"data": probe_shape})
    except ShapeError:
        return global_out, None, None, f"kernel {kernel} exceeds input {pool_input}"
    manual_out = pool.output(manual_outs)
    expected = tuple(border.pool_output_size(n, k) for n, k in zip(pool_input, kernel))
    if manual_out[2:] != (1,) * len(kernel):
        return (
            global_out,
            None,
            manual_out,
            (f"kernel {kernel} on input {pool_input} pools to {expected}, not to 1 x 1"),
        )
    return global_out, None, manual_out, None


def compare_pooling(
    name: str,
    data_shape: Sequence[int],
    /,
    *,
    probe_shape: Sequence[int] | None = None,
    seed: int = 0,
    forward: Forward | None = None,
    **factory_kwargs: Any,
) -> PoolingComparison:
    """Builds a model with manual and with global final pooling and compares the two.

    Both graphs run one inference forward pass (BatchNorm uses its moving statistics) with
    the same seeded random weights; then both are probed at a second input size.

    Args:
        name: a registered model.
        data_shape: ``(N, C, H, W)``; the manual kernel is computed for this size.
        probe_shape: the second size; default: spatial sides scaled by 3/4.
        seed: seed of the random weights and data.
        forward: what runs the two graphs (:data:`Forward`); default :func:`mxnet_forward`.
        **factory_kwargs: other factory arguments (``border_mode``, ``num_classes``, ...);
            not ``pool_kernel``, which it sets itself.

    Returns:
        A :class:`PoolingComparison`.

    Raises:
        ValueError: for an unknown model or invalid arguments.
        nin_mx.errors.ShapeError: if ``data_shape`` is too small for the model.
        nin_mx._mxnet.MXNetUnavailable: where MXNet cannot run (its forward pass computes the
            numbers).
    """
    if "pool_kernel" in factory_kwargs:
        raise ValueError("compare_pooling sets pool_kernel itself; do not pass it")
    data_shape = _check_data_shape(data_shape)
    probe = (
        _check_data_shape(probe_shape, "probe_shape")
        if probe_shape is not None
        else default_probe_shape(data_shape)
    )
    global_graph = Graph.from_model(name, **factory_kwargs)
    if forward is None:
        require_mxnet("the pooling comparison's forward pass")
        forward = mxnet_forward
    pool = _final_pool(global_graph)
    g_shapes = infer(global_graph, {"data": data_shape})
    kernel = pool.kernel(g_shapes)
    manual_graph = Graph.from_model(name, pool_kernel=kernel, **factory_kwargs)
    m_shapes = infer(manual_graph, {"data": data_shape})

    g_vals, runtime = forward(global_graph, pool.name, data_shape, seed)
    m_vals, _ = forward(manual_graph, pool.name, data_shape, seed)
    diff = max(float(abs(g - m).max()) for g, m in zip(g_vals, m_vals))

    probe_global, probe_global_error, probe_manual, probe_manual_error = _probe(
        global_graph, manual_graph, pool, kernel, probe
    )
    return PoolingComparison(
        model=name,
        data_shape=data_shape,
        pool_layer=pool.name,
        manual_kernel=kernel,
        global_output_shape=pool.output(g_shapes),
        manual_output_shape=pool.output(m_shapes),
        shapes_equal=_visible(g_shapes) == _visible(m_shapes),
        max_abs_diff=diff,
        probe_shape=probe,
        probe_global_output_shape=probe_global,
        probe_global_error=probe_global_error,
        probe_manual_output_shape=probe_manual,
        probe_manual_error=probe_manual_error,
        border_mode=str(parse_report_mode(factory_kwargs.get("border_mode"))),
        runtime=runtime,
    )
