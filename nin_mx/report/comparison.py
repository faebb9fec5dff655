"""Manual (``infer_shape``) pooling kernel vs ``Pooling(global_pool=True)``: build both, compare.

A common way to write a network's final "global" average pooling is to run
``infer_shape`` on the graph so far and pass that H x W as a fixed kernel. For that one
input size it is exactly ``global_pool=True``; for any other size it fails (a smaller
input) or silently pools to more than 1 x 1 (a larger one). :func:`compare_pooling`
shows both halves of that statement, by shapes and by numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nin_mx._mxnet import mx
from nin_mx.core import border
from nin_mx.core.border import parse_report_mode
from nin_mx.core.errors import ShapeError
from nin_mx.core.validate import Shape, check_dims
from nin_mx.graph.infer import infer_shapes
from nin_mx.graph.nodes import parse_nodes
from nin_mx.models import get_symbol

__all__ = [
    "PoolingComparison",
    "compare_pooling",
    "default_probe_shape",
    "manual_pool_kernel",
    "manual_symbol",
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


def default_probe_shape(data_shape: Sequence[int]) -> Shape:
    """The default second size: each spatial side scaled by 3/4 (299 -> 224, 32 -> 24)."""
    shape = tuple(data_shape)
    return shape[:2] + tuple(max(1, round(side * 3 / 4)) for side in shape[2:])


def _final_pool(symbol: Any) -> tuple[str, str]:
    """The name of the last Pooling node, and the name of the output that feeds it."""
    nodes = parse_nodes(symbol.tojson())
    pool = [n for n in nodes if n.op == "Pooling"][-1]
    return pool.name, f"{nodes[pool.inputs[0]].name}_output"


def _check_data_shape(value: Sequence[int], name: str = "data_shape") -> Shape:
    return check_dims(value, name, ndim=4)


def _pool_input_kernel(outputs: dict[str, Shape], pool_input_name: str) -> Shape:
    """The H x W entering the final pool: the kernel a hand-computed "global" pool uses."""
    return outputs[pool_input_name][2:]


def manual_pool_kernel(name: str, data_shape: Sequence[int], /, **factory_kwargs: Any) -> Shape:
    """The final pooling kernel as hand-written code computes it: ``infer_shape`` of the graph
    at ``data_shape``, read off the map that enters the final pool.

    Args:
        name: a registered model.
        data_shape: ``(N, C, H, W)``.
        **factory_kwargs: the factory's other arguments (``border_mode``, ...).

    Raises:
        ValueError: for an unknown model or an invalid argument.
        nin_mx.errors.ShapeError: if the model cannot take ``data_shape``.
    """
    shape = _check_data_shape(data_shape)
    symbol = get_symbol(name, **factory_kwargs)
    _, pool_input_name = _final_pool(symbol)
    outputs, _, _ = infer_shapes(symbol, {"data": shape})
    return _pool_input_kernel(outputs, pool_input_name)


def manual_symbol(name: str, data_shape: Sequence[int], /, **factory_kwargs: Any) -> Any:
    """A model whose final pool has the kernel :func:`manual_pool_kernel` computes at
    ``data_shape`` (``Pooling(kernel=(H, W))``) instead of ``global_pool=True``.

    The same graph as the global one at ``data_shape``; a wrong shape or an error at any other
    size (``nin_mx.check`` reports it as ``fixed-global-pool``).
    """
    if "pool_kernel" in factory_kwargs:
        raise ValueError("manual_symbol computes pool_kernel itself; do not pass it")
    kernel = manual_pool_kernel(name, data_shape, **factory_kwargs)
    return get_symbol(name, pool_kernel=kernel, **factory_kwargs)


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


def _forward(symbol: Any, pool_layer: str, args: dict[str, Any], aux: dict[str, Any]) -> list[Any]:
    internals = symbol.get_internals()
    heads = mx.sym.Group([internals[f"{pool_layer}_output"], symbol])
    executor = heads.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
    return [out.asnumpy() for out in executor.forward(is_train=False)]


def _probe(
    global_sym: Any, manual_sym: Any, pool_layer: str, pool_input_name: str, kernel: Shape, probe_shape: Shape
) -> tuple[Shape | None, str | None, Shape | None, str | None]:
    key = f"{pool_layer}_output"
    try:
        outs, _, _ = infer_shapes(global_sym, {"data": probe_shape})
    except ShapeError as exc:
        return None, str(exc), None, "the global graph cannot take this size either"
    global_out = outs[key]
    pool_input = outs[pool_input_name][2:]
    try:
        manual_outs, _, _ = infer_shapes(manual_sym, {"data": probe_shape})
    except ShapeError:
        return global_out, None, None, f"kernel {kernel} exceeds input {pool_input}"
    manual_out = manual_outs[key]
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
    **factory_kwargs: Any,
) -> PoolingComparison:
    """Builds a model with manual and with global final pooling and compares the two.

    Both graphs run one inference forward pass (BatchNorm uses its moving statistics) with
    the same seeded random weights; then both are probed at a second input size.

    Args:
        name: a registered model.
        data_shape: ``(N, C, H, W)``; the manual kernel is computed for this size.
        probe_shape: the second size; default: spatial sides scaled by 3/4.
        seed: seed of MXNet's random generator for weights and data.
        **factory_kwargs: other factory arguments (``border_mode``, ``num_classes``, ...);
            not ``pool_kernel``, which it sets itself.

    Returns:
        A :class:`PoolingComparison`.

    Raises:
        ValueError: for an unknown model or invalid arguments.
        nin_mx.errors.ShapeError: if ``data_shape`` is too small for the model.
    """
    if "pool_kernel" in factory_kwargs:
        raise ValueError("compare_pooling sets pool_kernel itself; do not pass it")
    data_shape = _check_data_shape(data_shape)
    probe = (
        _check_data_shape(probe_shape, "probe_shape")
        if probe_shape is not None
        else default_probe_shape(data_shape)
    )
    global_sym = get_symbol(name, **factory_kwargs)
    pool_layer, pool_input_name = _final_pool(global_sym)
    g_outs, g_args, g_aux = infer_shapes(global_sym, {"data": data_shape})
    kernel = _pool_input_kernel(g_outs, pool_input_name)
    manual_sym = get_symbol(name, pool_kernel=kernel, **factory_kwargs)

    m_outs, _, _ = infer_shapes(manual_sym, {"data": data_shape})
    args, aux = _random_inputs(g_args, g_aux, seed)
    g_vals = _forward(global_sym, pool_layer, args, aux)
    m_vals = _forward(manual_sym, pool_layer, args, aux)
    diff = max(float(abs(g - m).max()) for g, m in zip(g_vals, m_vals))

    probe_global, probe_global_error, probe_manual, probe_manual_error = _probe(
        global_sym, manual_sym, pool_layer, pool_input_name, kernel, probe
    )
    key = f"{pool_layer}_output"
    return PoolingComparison(
        model=name,
        data_shape=data_shape,
        pool_layer=pool_layer,
        manual_kernel=kernel,
        global_output_shape=g_outs[key],
        manual_output_shape=m_outs[key],
        shapes_equal=g_outs == m_outs,
        max_abs_diff=diff,
        probe_shape=probe,
        probe_global_output_shape=probe_global,
        probe_global_error=probe_global_error,
        probe_manual_output_shape=probe_manual,
        probe_manual_error=probe_manual_error,
        border_mode=str(parse_report_mode(factory_kwargs.get("border_mode"))),
    )
