"""Writes MXNet 1.9.1's shape answers for a few graphs to tests/data/oracle/ (run once, commit the files).

For each graph: ``<name>-symbol.json`` (the symbol only, no parameters) and ``<name>-shapes.json``
(the input shapes, and MXNet's ``infer_shape_partial`` over ``get_internals()``: outputs by internal
name in order, arguments and auxiliary states). tests/test_engine.py checks nin_mx's own engine
against them without MXNet.

    .venv/bin/python scripts/make_oracle.py
"""

from __future__ import annotations

import json
import os
import sys

from nin_mx._mxnet import mx

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, os.pardir, "tests", "data", "oracle")


def _hand_graphs():
    data = mx.sym.var("data")
    x = mx.sym.Convolution(data, name="conv", num_filter=8, kernel=(3, 3), pad=(1, 1))
    x = mx.sym.Deconvolution(x, name="deconv", num_filter=4, kernel=(4, 4), stride=(2, 2), pad=(1, 1))
    x = mx.sym.Deconvolution(x, name="deconv_adj", num_filter=4, kernel=(3, 3), stride=(2, 2), adj=(1, 1))
    x = mx.sym.Deconvolution(
        x, name="deconv_target", num_filter=2, kernel=(4, 4), stride=(2, 2), target_shape=(40, 40)
    )
    yield "hand_deconv", x, {"data": (2, 3, 10, 10)}

    x = mx.sym.Reshape(data, name="r1", shape=(0, -1))
    x = mx.sym.Reshape(x, name="r2", shape=(-4, 1, -1, -2))
    x = mx.sym.Reshape(x, name="r3", shape=(-3, -2))
    x = mx.sym.Reshape(x, name="r4", shape=(0, -1, 2))
    x = mx.sym.Reshape(x, name="r5", shape=(-1, 0), reverse=True)
    x = mx.sym.FullyConnected(x, name="fc", num_hidden=5, flatten=False)
    yield "hand_reshape", x, {"data": (2, 3, 4, 4)}

    parts = mx.sym.split(data, num_outputs=3, axis=1, name="split")
    y = mx.sym.Concat(parts[2], parts[0], dim=1, name="cat")
    z = mx.sym.SliceChannel(data, num_outputs=2, axis=3, squeeze_axis=False, name="slice")
    w = mx.sym.elemwise_add(parts[1], mx.sym.slice_axis(data, axis=1, begin=1, end=2, name="sl"), name="add")
    v = mx.sym.elemwise_add(data, mx.sym.Concat(z[1], z[0], dim=3, name="cat3"), name="add2")
    y = mx.sym.Concat(y, w, v, dim=1, name="cat2")
    yield "hand_split", mx.sym.Group([y, parts[1]]), {"data": (2, 3, 6, 2)}

    x = mx.sym.Pooling(data, name="pool_full", kernel=(3, 3), stride=(2, 2), pooling_convention="full")
    x = mx.sym.BatchNorm(x, name="bn", output_mean_var=True)[0]
    x = mx.sym.LeakyReLU(x, name="prelu", act_type="prelu")
    x = mx.sym.Dropout(x, name="drop", p=0.3)
    x = mx.sym.Flatten(x, name="flat")
    x = mx.sym.SoftmaxOutput(x, name="softmax")
    yield "hand_misc", x, {"data": (4, 3, 17, 17)}


def _graphs():
    import nin_mx

    for name, size in (("nin_cifar10", 32), ("nin_imagenet", 224), ("inception_resnet_v2", 299)):
        yield name, nin_mx.get_symbol(name), {"data": (1, 3, size, size)}
    from mxnet.gluon.model_zoo import vision

    for name in ("resnet18_v1", "mobilenet0.25", "squeezenet1.1", "densenet121", "inceptionv3"):
        net = vision.get_model(name, pretrained=False)
        size = 299 if name == "inceptionv3" else 224
        yield name, net(mx.sym.var("data")), {"data": (1, 3, size, size)}
        del net
    yield from _hand_graphs()


def answers(sym, shapes):
    internals = sym.get_internals()
    args, outs, auxs = internals.infer_shape_partial(**shapes)
    return {
        "inputs": {k: list(v) for k, v in shapes.items()},
        "outputs": [[n, list(s)] for n, s in zip(internals.list_outputs(), outs)],
        "args": {n: list(s) for n, s in zip(internals.list_arguments(), args)},
        "aux": {n: list(s) for n, s in zip(internals.list_auxiliary_states(), auxs)},
    }


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    for name, sym, shapes in _graphs():
        graph = json.loads(sym.tojson())
        with open(os.path.join(OUT, f"{name}-symbol.json"), "w") as f:
            json.dump(graph, f, separators=(",", ":"))
        with open(os.path.join(OUT, f"{name}-shapes.json"), "w") as f:
            json.dump(answers(sym, shapes), f, separators=(",", ":"))
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
