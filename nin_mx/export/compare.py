"""The pooling comparison wherever nin_mx runs: MXNet's numbers where MXNet runs, onnxruntime's
where it cannot (Python 3.13 and later, or no MXNet installed).

:func:`compare_pooling` is :func:`nin_mx.report.comparison.compare_pooling` with its forward pass
chosen: MXNet's (:func:`~nin_mx.report.comparison.mxnet_forward`, today's numbers), or
:func:`onnxruntime_forward`, which exports each graph with nin_mx's exporter (the same seeded
random weights in both graphs: they depend on the seed and the weights' names only) and runs it
in onnxruntime. ``PoolingComparison.runtime`` says which ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from nin_mx._mxnet import MXNetUnavailable, mxnet_available
from nin_mx.core.validate import Shape
from nin_mx.export.model import to_onnx
from nin_mx.graph.nodes import parse_nodes
from nin_mx.graph.source import Graph
from nin_mx.report import comparison
from nin_mx.report.comparison import PoolingComparison

__all__ = ["compare_pooling", "onnxruntime_forward"]


def _up_to(graph: Graph, layer: str) -> Graph:
    """The graph cut after ``layer``: that layer's output is its one output (the nodes no longer
    needed are dropped, as MXNet drops the nodes no head depends on)."""
    raw = json.loads(graph.text or "")
    index = next(i for i, node in enumerate(raw["nodes"]) if node["name"] == layer)
    raw["heads"] = [[index, 0, 0]]
    text = json.dumps(raw)
    return Graph.from_nodes(parse_nodes(raw), text, label=f"{graph.label} up to {layer}")


def onnxruntime_forward(graph: Graph, pool_layer: str, data_shape: Shape, seed: int) -> tuple[list[Any], str]:
    """The pooling comparison's :data:`~nin_mx.report.comparison.Forward` in onnxruntime: the
    graph cut after the pool and the whole graph, each exported (:func:`nin_mx.to_onnx`, seeded
    random weights, fixed sizes) and run on the same data (uniform in [0, 1), numpy's
    ``RandomState(seed)``).

    Raises:
        MXNetUnavailable: where onnxruntime is not installed either (one line).
    """
    try:
        import onnxruntime
    except ImportError:
        raise MXNetUnavailable(
            "the pooling comparison's forward pass needs MXNet 1.9.1 or onnxruntime, and neither is "
            "installed; run: pip install 'nin_mx[onnx]'"
        ) from None
    data = np.random.RandomState(seed).uniform(0, 1, size=data_shape).astype(np.float32)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    outputs = []
    for part in (_up_to(graph, pool_layer), graph):
        model = to_onnx(part, input_shapes={"data": tuple(data_shape)}, dynamic=False, seed=seed)
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        (output,) = session.run(None, {"data": data})
        outputs.append(output)
    return outputs, f"onnxruntime {onnxruntime.__version__}"


def compare_pooling(name: str, data_shape: Sequence[int], /, **kwargs: Any) -> PoolingComparison:
    """:func:`nin_mx.report.comparison.compare_pooling` (same arguments), its numbers from MXNet
    where MXNet runs, else from onnxruntime (:func:`onnxruntime_forward`)."""
    if "forward" not in kwargs and not mxnet_available():
        kwargs["forward"] = onnxruntime_forward
    return comparison.compare_pooling(name, data_shape, **kwargs)
