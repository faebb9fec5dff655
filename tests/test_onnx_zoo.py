"""All 34 ``gluon.model_zoo.vision`` networks exported to ONNX through a checkpoint, judged by MXNet.

Each network is built with ``pretrained=False``, initialised with seeded weights, exported by
Gluon to ``-symbol.json`` and ``.params`` (mx.nd.save with ``arg:``/``aux:`` keys), exported
by nin_mx from those files (``params=``), and run by onnxruntime beside MXNet's forward
(tests/_onnx.py). Cost: the networks whose size is free are run at small inputs (VGG's
and AlexNet's Dense layers infer their input size, so the 400 MB first fully connected weight of
VGG at 224 shrinks to 8 MB at 32; ResNet and MobileNet pool globally); DenseNet, SqueezeNet and Inception v3,
whose last pooling window is fixed, at their published size. Each network is freed before the next.
"""

from __future__ import annotations

import gc

import pytest

pytest.importorskip("onnxruntime")

import mxnet as mx
from _onnx import check_shapes, judge, save_checkpoint
from mxnet.gluon.model_zoo import vision

from nin_mx.export import export_onnx, to_onnx

pytestmark = pytest.mark.mxnet

NAMES = (
    *(f"resnet{d}_v{v}" for v in (1, 2) for d in (18, 34, 50, 101, 152)),
    *(f"vgg{d}{bn}" for bn in ("", "_bn") for d in (11, 13, 16, 19)),
    "alexnet",
    *(f"densenet{d}" for d in (121, 161, 169, 201)),
    "squeezenet1.0",
    "squeezenet1.1",
    "inceptionv3",
    *(f"mobilenet{m}" for m in ("1.0", "0.75", "0.5", "0.25")),
    *(f"mobilenetv2_{m}" for m in ("1.0", "0.75", "0.5", "0.25")),
)
# the published size where a fixed pooling window needs it (DenseNet's 7x7, Inception's 8x8),
# else small: VGG's Dense layers and the global pooling of the others take any size
SIDES = {
    "inceptionv3": 299,
    **{n: 224 for n in NAMES if n.startswith(("densenet", "squeezenet"))},
    "alexnet": 64,
}


def test_every_zoo_network_is_listed():
    import inspect

    source = inspect.getsource(vision.get_model)
    assert len(NAMES) == 34 and all(f"'{name}'" in source for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_zoo_export_matches_mxnet(name, tmp_path):
    side = SIDES.get(name, 32 if name.startswith("vgg") else 64)
    shape = (1, 3, side, side)
    net = vision.get_model(name, pretrained=False)
    net.collect_params().setattr("grad_req", "null")
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.zeros(shape))
    symbol = net._cached_graph[1]
    del net
    gc.collect()
    sym_path, params = save_checkpoint(symbol, tmp_path, name, {"data": shape})
    exported = export_onnx(str(sym_path), params=params, input_shapes=shape)
    more = []
    if "H" in exported.symbolic:
        more = [{"data": (2, 3, side + 32, side + 32)}, {"data": (1, 3, side - 31, side - 17)}]
    else:
        assert len(exported.notes) == 1, exported.notes
    judge(exported.model, symbol, params, {"data": shape}, more)
    del exported
    static = to_onnx(str(sym_path), params=params, input_shapes=shape, dynamic=False)
    assert check_shapes(static, symbol, {"data": shape}) > 5
    del static
    gc.collect()
