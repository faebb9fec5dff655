"""nin_mx's own shape engine against MXNet 1.9.1's ``infer_shape``, the oracle (needs MXNet).

Every internal output (``get_internals()``), every argument and every auxiliary state is compared,
on our models, on every network of the Gluon model zoo, on one hand-built graph per operator of
the table, and on random small graphs (hypothesis). Where MXNet fails, the engine must fail at
the node MXNet names.
"""

from __future__ import annotations

import gc
import json
import re

import pytest

try:
    from nin_mx._mxnet import mx

    mx.sym  # noqa: B018 - imports MXNet now
except Exception:  # pragma: no cover - MXNet missing
    pytest.skip("MXNet cannot be imported", allow_module_level=True)

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nin_mx
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS
from nin_mx.graph.engine import engine_error, infer_graph, named_shapes
from nin_mx.graph.infer import explain_failure
from nin_mx.graph.nodes import parse_nodes

pytestmark = pytest.mark.mxnet

_FAILED_AT = re.compile(r"Error in operator ([^:\s]+):")


def _listed(shape):
    return () if shape is None else tuple(shape)


def compare(sym, shapes):
    """Asserts the engine's answer equals MXNet's; returns MXNet's outputs (or its failing node)."""
    internals = sym.get_internals()
    nodes = parse_nodes(json.loads(sym.tojson()), trusted=True)
    try:
        args, outs, auxs = internals.infer_shape_partial(**shapes)
    except mx.base.MXNetError as exc:
        failed = _FAILED_AT.search(str(exc))
        with pytest.raises((ShapeError, GraphError)) as info:
            infer_graph(nodes, shapes)
        if failed:
            assert getattr(info.value, "layer", None) == failed.group(1) or f"'{failed.group(1)}'" in str(
                info.value
            ), (str(info.value), str(exc)[:300])
        return failed.group(1) if failed else None
    inferred = infer_graph(nodes, shapes)
    ours, our_args, our_aux = named_shapes(nodes, inferred)
    names = internals.list_outputs()
    assert len(ours) == len(names), (len(ours), len(names))
    for (node, shape), name, theirs in zip(ours, names, outs):
        assert name == node or name.startswith(f"{node}_"), (name, node)
        assert _listed(shape) == tuple(theirs), (name, shape, theirs)
    assert {k: _listed(v) for k, v in our_args.items()} == dict(
        zip(internals.list_arguments(), map(tuple, args))
    )
    assert {k: _listed(v) for k, v in our_aux.items()} == dict(
        zip(internals.list_auxiliary_states(), map(tuple, auxs))
    )
    return outs


# -- our models and the Gluon model zoo --------------------------------------------------------------

_SIZES = {
    "nin_cifar10": (32, 48, 100),
    "nin_imagenet": (224, 160, 300),
    "inception_resnet_v2": (299, 139, 331),
}


@pytest.mark.parametrize("border_mode", [None, "valid", "same", "full"])
@pytest.mark.parametrize("model", sorted(_SIZES))
def test_our_models(model, border_mode):
    sym = nin_mx.get_symbol(model, border_mode=border_mode)
    for size in _SIZES[model]:
        compare(sym, {"data": (1, 3, size, size)})


_ZOO = [
    *(f"resnet{d}_v{v}" for v in (1, 2) for d in (18, 34, 50, 101, 152)),
    *(f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")),
    "alexnet",
    *(f"densenet{d}" for d in (121, 161, 169, 201)),
    "squeezenet1.0",
    "squeezenet1.1",
    "inceptionv3",
    *(f"mobilenet{m}" for m in ("1.0", "0.75", "0.5", "0.25")),
    *(f"mobilenetv2_{m}" for m in ("1.0", "0.75", "0.5", "0.25")),
]


@pytest.mark.parametrize("name", _ZOO)
def test_gluon_model_zoo(name):
    from mxnet.gluon.model_zoo import vision

    net = vision.get_model(name, pretrained=False)
    sym = net(mx.sym.var("data"))
    del net
    sizes = (299, 250, 400) if name == "inceptionv3" else (224, 193, 256)
    try:
        for size in sizes:
            compare(sym, {"data": (1, 3, size, size)})
        compare(sym, {"data": (2, 3, 64, 64)})  # small: several of them fail, at the same node
    finally:
        del sym
        gc.collect()


# -- one hand-built graph per operator ---------------------------------------------------------------


def _op(name):
    return getattr(mx.sym, name, None) or getattr(mx.sym._internal, name)


def _v(name="data"):
    return mx.sym.var(name)


_UNARY_SHAPE = {"data": (2, 3, 4)}


def _cases():
    """(operator, symbol builder, input shapes) per case."""
    cases = []
    for name, info in OPS.items():
        if info.rule.__name__ == "unary":
            cases.append((name, lambda n=name: _op(n)(_v(), name="x"), _UNARY_SHAPE))
        elif info.rule.__name__ == "scalar":
            cases.append((name, lambda n=name: _op(n)(_v(), scalar=2.0, name="x"), _UNARY_SHAPE))
        elif info.rule.__name__ == "binary":
            cases.append((name, lambda n=name: _op(n)(_v(), _v("b"), name="x"), {"data": (2, 3)}))
            cases.append(
                (name, lambda n=name: _op(n)(_v(), _v("b"), name="x"), {"data": (2, 3), "b": (3, 2)})
            )
        elif info.rule.__name__ == "broadcast":
            cases.append(
                (name, lambda n=name: _op(n)(_v(), _v("b"), name="x"), {"data": (2, 1, 4), "b": (3, 1)})
            )
            cases.append(
                (name, lambda n=name: _op(n)(_v(), _v("b"), name="x"), {"data": (2, 5), "b": (3, 5)})
            )
    s = mx.sym
    more = {
        "Convolution": [
            (
                lambda: s.Convolution(_v(), kernel=(3, 3), num_filter=8, stride=(2, 2), pad=(1, 1), name="x"),
                (2, 4, 9, 9),
            ),
            (
                lambda: s.Convolution(_v(), kernel=(3,), num_filter=4, num_group=2, dilate=(2,), name="x"),
                (1, 4, 12),
            ),
            (
                lambda: s.Convolution(_v(), kernel=(1, 2, 3), num_filter=2, no_bias=True, name="x"),
                (1, 3, 4, 5, 6),
            ),
            (lambda: s.Convolution(_v(), kernel=(3, 3), num_filter=2, layout="NHWC", name="x"), (1, 7, 7, 3)),
            (lambda: s.Convolution(_v(), kernel=(5, 5), num_filter=2, name="x"), (1, 3, 4, 9)),
            (lambda: s.Convolution(_v(), kernel=(3, 3), num_filter=2, num_group=2, name="x"), (1, 3, 7, 7)),
        ],
        "Deconvolution": [
            (
                lambda: s.Deconvolution(
                    _v(), kernel=(4, 4), num_filter=3, stride=(2, 2), pad=(1, 1), name="x"
                ),
                (1, 2, 5, 5),
            ),
            (
                lambda: s.Deconvolution(
                    _v(), kernel=(3,), num_filter=4, num_group=2, adj=(1,), stride=(2,), name="x"
                ),
                (1, 2, 5),
            ),
            (
                lambda: s.Deconvolution(
                    _v(), kernel=(3, 3), num_filter=2, stride=(2, 2), target_shape=(12, 11), name="x"
                ),
                (1, 2, 6, 6),
            ),
            (
                lambda: s.Deconvolution(_v(), kernel=(3, 3), num_filter=2, no_bias=False, name="x"),
                (1, 2, 6, 6),
            ),
        ],
        "Pooling": [
            (
                lambda: s.Pooling(_v(), kernel=(3, 3), stride=(2, 2), pool_type="max", name="x"),
                (1, 2, 10, 10),
            ),
            (
                lambda: s.Pooling(
                    _v(), kernel=(3, 3), stride=(2, 2), pooling_convention="full", pool_type="avg", name="x"
                ),
                (1, 2, 10, 10),
            ),
            (
                lambda: s.Pooling(_v(), kernel=(3,), stride=(2,), pooling_convention="same", name="x"),
                (1, 2, 10),
            ),
            (
                lambda: s.Pooling(
                    _v(), kernel=(3,), stride=(2,), pad=(0, 0, 0), pooling_convention="same", name="x"
                ),
                (1, 2, 11),
            ),
            (
                lambda: s.Pooling(_v(), global_pool=True, pool_type="avg", kernel=(1, 1), name="x"),
                (2, 3, 5, 7),
            ),
            (lambda: s.Pooling(_v(), global_pool=True, name="x"), (2, 3, 5, 7, 2)),
            (
                lambda: s.Pooling(_v(), kernel=(2, 2, 2), pad=(1, 1, 1), pool_type="sum", name="x"),
                (1, 1, 3, 4, 5),
            ),
            (lambda: s.Pooling(_v(), kernel=(5, 5), name="x"), (1, 1, 4, 8)),
        ],
        "FullyConnected": [
            (lambda: s.FullyConnected(_v(), num_hidden=7, name="x"), (2, 3, 4)),
            (lambda: s.FullyConnected(_v(), num_hidden=7, flatten=False, no_bias=True, name="x"), (2, 3, 4)),
        ],
        "BatchNorm": [
            (lambda: s.BatchNorm(_v(), name="x"), (2, 3, 4, 4)),
            (lambda: s.BatchNorm(_v(), axis=-1, output_mean_var=True, name="x"), (2, 3, 5)),
        ],
        "_contrib_SyncBatchNorm": [(lambda: s.contrib.SyncBatchNorm(_v(), key="k", name="x"), (2, 3, 4, 4))],
        "LayerNorm": [
            (lambda: s.LayerNorm(_v(), name="x"), (2, 3, 5)),
            (lambda: s.LayerNorm(_v(), axis=1, name="x"), (2, 3, 5)),
        ],
        "InstanceNorm": [(lambda: s.InstanceNorm(_v(), name="x"), (2, 3, 5, 5))],
        "GroupNorm": [(lambda: s.GroupNorm(_v(), num_groups=3, name="x"), (2, 6, 5, 5))],
        "Activation": [(lambda: s.Activation(_v(), act_type="tanh", name="x"), (2, 3))],
        "LeakyReLU": [
            (lambda t=t: s.LeakyReLU(_v(), act_type=t, name="x"), (2, 3, 4))
            for t in ("leaky", "prelu", "rrelu", "elu", "selu", "gelu")
        ],
        "Dropout": [
            (lambda: s.Dropout(_v(), p=0.2, name="x"), (2, 3)),
            (lambda: s.Dropout(_v(), axes=(1,), name="x"), (2, 3, 4)),
        ],
        "LRN": [(lambda: s.LRN(_v(), nsize=3, name="x"), (2, 3, 4, 4))],
        "SoftmaxOutput": [
            (lambda: s.SoftmaxOutput(_v(), name="x"), (2, 10)),
            (lambda: s.SoftmaxOutput(_v(), multi_output=True, name="x"), (2, 10, 3, 3)),
            (lambda: s.SoftmaxOutput(_v(), preserve_shape=True, name="x"), (2, 3, 10)),
        ],
        "SoftmaxActivation": [(lambda: s.SoftmaxActivation(_v(), mode="channel", name="x"), (2, 3, 4))],
        "softmax": [(lambda: s.softmax(_v(), axis=1, name="x"), (2, 3, 4))],
        "log_softmax": [(lambda: s.log_softmax(_v(), name="x"), (2, 3, 4))],
        "softmin": [(lambda: s.softmin(_v(), name="x"), (2, 3, 4))],
        "LinearRegressionOutput": [(lambda: s.LinearRegressionOutput(_v(), name="x"), (2, 3))],
        "LogisticRegressionOutput": [(lambda: s.LogisticRegressionOutput(_v(), name="x"), (2, 1))],
        "MAERegressionOutput": [(lambda: s.MAERegressionOutput(_v(), name="x"), (2, 3, 4))],
        "clip": [(lambda: s.clip(_v(), a_min=0, a_max=6, name="x"), (2, 3))],
        "Flatten": [
            (lambda: s.Flatten(_v(), name="x"), (2, 3, 4, 5)),
            (lambda: s.Flatten(_v(), name="x"), (2,)),
        ],
        "Concat": [
            (lambda: s.Concat(_v(), _v("b"), dim=1, name="x"), {"data": (2, 3, 4), "b": (2, 5, 4)}),
            (lambda: s.Concat(_v(), _v("b"), dim=-1, name="x"), {"data": (2, 3, 4), "b": (2, 3, 1)}),
            (lambda: s.Concat(_v(), _v("b"), dim=1, name="x"), {"data": (2, 3, 4), "b": (2, 5, 3)}),
        ],
        "add_n": [(lambda: s.add_n(_v(), _v("b"), _v("c"), name="x"), {"data": (2, 3)})],
        "Reshape": [
            (lambda: s.Reshape(_v(), shape=(0, -1), name="x"), (2, 3, 4)),
            (lambda: s.Reshape(_v(), shape=(-3, -2), name="x"), (2, 3, 4)),
            (lambda: s.Reshape(_v(), shape=(-4, 2, -1, -2), name="x"), (6, 3, 4)),
            (lambda: s.Reshape(_v(), shape=(-1, 0), reverse=True, name="x"), (2, 3, 4)),
            (lambda: s.Reshape(_v(), shape=(0, 0, 0, 0), name="x"), (2, 3, 4)),
            (lambda: s.Reshape(_v(), shape=(-1, -1), name="x"), (2, 3, 4)),
            (lambda: s.Reshape(_v(), target_shape=(0, 4), name="x"), (2, 3, 4)),
        ],
        "SliceChannel": [
            (lambda: s.SliceChannel(_v(), num_outputs=3, name="x"), (2, 6, 4)),
            (lambda: s.SliceChannel(_v(), num_outputs=3, axis=-1, squeeze_axis=True, name="x"), (2, 6, 3)),
            (lambda: s.SliceChannel(_v(), num_outputs=4, name="x"), (2, 6, 4)),
        ],
        "slice_axis": [
            (lambda: s.slice_axis(_v(), axis=1, begin=1, end=None, name="x"), (2, 6, 4)),
            (lambda: s.slice_axis(_v(), axis=-1, begin=-3, end=-1, name="x"), (2, 6, 4)),
        ],
        "transpose": [
            (lambda: s.transpose(_v(), name="x"), (2, 6, 4)),
            (lambda: s.transpose(_v(), axes=(0, 2, 1), name="x"), (2, 6, 4)),
        ],
        "expand_dims": [
            (lambda: s.expand_dims(_v(), axis=-1, name="x"), (2, 6)),
            (lambda: s.expand_dims(_v(), axis=0, name="x"), (2,)),
        ],
        "SwapAxis": [(lambda: s.SwapAxis(_v(), dim1=0, dim2=2, name="x"), (2, 6, 4))],
        "Cast": [(lambda: s.Cast(_v(), dtype="float16", name="x"), (2, 6))],
        "broadcast_like": [
            (lambda: s.broadcast_like(_v(), _v("b"), name="x"), {"data": (2, 1), "b": (2, 5)})
        ],
        "reshape_like": [(lambda: s.reshape_like(_v(), _v("b"), name="x"), {"data": (2, 6), "b": (3, 4)})],
        "broadcast_to": [(lambda: s.broadcast_to(_v(), shape=(0, 5, 3), name="x"), (2, 1, 3))],
    }
    for name in ("sum", "mean", "prod", "nansum", "nanprod", "max", "min"):
        more[name] = [
            (lambda n=name: _op(n)(_v(), name="x"), (2, 3, 4)),
            (lambda n=name: _op(n)(_v(), axis=1, keepdims=True, name="x"), (2, 3, 4)),
            (lambda n=name: _op(n)(_v(), axis=(0, -1), exclude=True, name="x"), (2, 3, 4)),
        ]
    for name, builds in more.items():
        for build, shapes in builds:
            cases.append((name, build, shapes if isinstance(shapes, dict) else {"data": shapes}))
    return cases


_CASES = _cases()


@pytest.mark.parametrize(("op", "build", "shapes"), _CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_CASES)])
def test_operator(op, build, shapes):
    compare(build(), shapes)


def test_every_operator_has_a_case():
    from tests.test_engine_ops2 import _CASES as MORE  # the operators added later, tested there
    from tests.test_engine_ops3 import _CASES as GLUONCV  # those of the GluonCV zoo
    from tests.test_engine_subgraph import CONV_CASES, FC_CASES, conv_graph, fc_graph  # MKLDNN subgraphs

    covered = {OPS[name].name for name, _, _ in _CASES}
    for _, _, build, _ in (*MORE, *GLUONCV):
        covered |= {OPS[n["op"]].name for n in json.loads(build().tojson())["nodes"] if n["op"] in OPS}
    for graph in (*(conv_graph(**c) for c in CONV_CASES), *(fc_graph(**c) for c in FC_CASES)):
        covered |= {OPS[n["op"]].name for n in graph["nodes"] if n["op"] in OPS}
    missing = {info.name for info in OPS.values()} - covered
    assert not missing


def test_failure_line_is_the_one_mxnet_path_gives():
    sym = nin_mx.get_symbol("nin_cifar10", border_mode="valid")
    nodes = parse_nodes(json.loads(sym.tojson()), trusted=True)
    shapes = {"data": (1, 3, 8, 8)}
    with pytest.raises(mx.base.MXNetError) as mxnet_exc:
        sym.get_internals().infer_shape(**shapes)
    with pytest.raises(ShapeError) as ours:
        infer_graph(nodes, shapes)
    assert str(engine_error(nodes, shapes, ours.value)) == str(explain_failure(sym, shapes, mxnet_exc.value))


# -- random small graphs -----------------------------------------------------------------------------


@st.composite
def _graphs(draw):
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 4))
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 12))
    x = mx.sym.var("data")
    prev = None
    layers = draw(st.integers(1, 6))
    for i in range(layers):
        kind = draw(
            st.sampled_from(["conv", "pool", "act", "bn", "add", "concat", "drop", "leaky", "deconv", "lrn"])
        )
        name = f"l{i}"
        if kind == "conv":
            k = draw(st.integers(1, 4))
            x = mx.sym.Convolution(
                x,
                name=name,
                kernel=(k, k),
                num_filter=draw(st.integers(1, 4)),
                stride=(draw(st.integers(1, 3)),) * 2,
                pad=(draw(st.integers(0, 2)),) * 2,
                no_bias=draw(st.booleans()),
            )
        elif kind == "deconv":
            k = draw(st.integers(1, 4))
            x = mx.sym.Deconvolution(x, name=name, kernel=(k, k), num_filter=2, stride=(2, 2))
        elif kind == "pool":
            if draw(st.booleans()):
                x = mx.sym.Pooling(x, name=name, global_pool=True, kernel=(1, 1), pool_type="avg")
            else:
                k = draw(st.integers(1, 4))
                x = mx.sym.Pooling(
                    x,
                    name=name,
                    kernel=(k, k),
                    stride=(draw(st.integers(1, 3)),) * 2,
                    pad=(draw(st.integers(0, 1)),) * 2,
                    pool_type=draw(st.sampled_from(["max", "avg", "sum"])),
                    pooling_convention=draw(st.sampled_from(["valid", "full"])),
                )
        elif kind == "act":
            x = mx.sym.Activation(x, name=name, act_type="relu")
        elif kind == "bn":
            x = mx.sym.BatchNorm(x, name=name)
        elif kind == "leaky":
            x = mx.sym.LeakyReLU(x, name=name, act_type=draw(st.sampled_from(["leaky", "prelu"])))
        elif kind == "lrn":
            x = mx.sym.LRN(x, name=name, nsize=3)
        elif kind == "drop":
            x = mx.sym.Dropout(x, name=name, p=0.5)
        elif kind == "add" and prev is not None:
            x = mx.sym.elemwise_add(x, prev, name=name)
        elif kind == "concat" and prev is not None:
            x = mx.sym.Concat(x, prev, dim=1, name=name)
        prev = x
    if draw(st.booleans()):
        x = mx.sym.FullyConnected(x, name="fc", num_hidden=3)
        x = mx.sym.SoftmaxOutput(x, name="softmax")
    return x, {"data": (n, c, h, w)}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graphs())
def test_random_graphs(graph):
    sym, shapes = graph
    compare(sym, shapes)
