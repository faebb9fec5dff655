"""nin_mx's own models exported to ONNX, judged by MXNet: every model in every border mode.

Each model is built through ``nin_mx.Graph.from_model``; seeded random weights are saved with
``mx.nd.save`` and exported through ``params=``; onnxruntime's outputs must equal MXNet's
forward (tests/_onnx.py), at the model's own size and, for a size-free model, at two more.
"""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

from _onnx import check_shapes, judge, save_checkpoint

import nin_mx
from nin_mx.export import export_onnx, to_onnx

pytestmark = pytest.mark.mxnet

MODES = [None, "valid", "same", "full"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", nin_mx.list_models())
def test_model_exports_match_mxnet(name, mode, tmp_path):
    graph = nin_mx.Graph.from_model(name, border_mode=mode)
    shape = (1, *graph.default_input_shape)
    _, params = save_checkpoint(graph.symbol, tmp_path, name, {"data": shape})
    exported = export_onnx(graph, params=params, input_shapes=shape)
    assert exported.input_shapes == {"data": shape}
    more = []
    if "H" in exported.symbolic:
        assert exported.notes == ()
        c, h, w = graph.default_input_shape
        more = [{"data": (2, c, h + 8, w + 16)}, {"data": (1, c, h + 21, w + 5)}]
    else:
        assert len(exported.notes) == 1
    judge(exported.model, graph.symbol, params, {"data": shape}, more)
    static = to_onnx(graph, params=params, input_shapes=shape, dynamic=False)
    assert check_shapes(static, graph.symbol, {"data": shape}) > 10
