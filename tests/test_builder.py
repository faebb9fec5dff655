"""nin_mx's symbol builder against MXNet 1.9.1: the same JSON, byte for byte.

The recorded bytes (tests/data/builder/calls.json: MXNet's ``tojson()`` of the factories as they
built through ``mx.sym`` before the builder, scripts/make_builder_oracle.py) are checked on every
Python, MXNet or not. Where MXNet runs, it judges more: its ``load_json`` round trip, its
``infer_shape`` against the engine on every node, and small graphs built both ways.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nin_mx
from nin_mx.graph.shapes import infer
from nin_mx.models import symbol as S
from nin_mx.models import symbol_json
from nin_mx.report.comparison import manual_pool_kernel

DATA = Path(__file__).parent / "data" / "builder"
CALLS = json.loads((DATA / "calls.json").read_text(encoding="utf-8"))["calls"]


def _kwargs(call: dict) -> dict:
    """The factory's arguments of a recorded call (a ``manual`` call: the kernel computed)."""
    kwargs = dict(call["kwargs"])
    shape = kwargs.pop("manual", None)
    if shape is not None:
        kwargs["pool_kernel"] = manual_pool_kernel(call["model"], shape, **kwargs)
    return kwargs


def _build(call: dict) -> str:
    return symbol_json(call["model"], **_kwargs(call))


@pytest.mark.parametrize("case", sorted(CALLS))
def test_builder_writes_mxnets_bytes(case):
    text = _build(CALLS[case])
    assert len(text) == CALLS[case]["length"]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == CALLS[case]["sha256"]


@pytest.mark.parametrize("path", sorted(DATA.glob("*-symbol.json")), ids=lambda p: p.name)
def test_builder_text_equals_the_recorded_text(path):
    case = path.name[: -len("-symbol.json")]
    assert _build(CALLS[case]) == path.read_text(encoding="utf-8")


def test_every_model_and_factory_argument_is_recorded():
    recorded = {(c["model"], key) for c in CALLS.values() for key in c["kwargs"]}
    for model in nin_mx.list_models():
        for arg in inspect.signature(nin_mx.models.get_model_entry(model).builder).parameters:
            assert (model, arg) in recorded, (model, arg)
        assert (model, "manual") in recorded


def test_graph_from_model_needs_no_mxnet():
    code = (
        "import sys\n"
        "import nin_mx\n"
        "r = nin_mx.shape_report('inception_resnet_v2', (1, 3, 299, 299))\n"
        "g = nin_mx.Graph.from_model('nin_cifar10', border_mode='valid')\n"
        "assert r.ok and g.text == nin_mx.symbol_json('nin_cifar10', border_mode='valid')\n"
        "maps = open('/proc/self/maps').read()\n"
        "print('mxnet.base' in sys.modules, 'libmxnet' in maps)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "False"]


def test_builder_refuses_what_it_cannot_write():
    x = S.var("data")
    with pytest.raises(ValueError, match="not in nin_mx's operator table"):
        S.op("NoSuchOp", x, name="n")
    with pytest.raises(ValueError, match="takes 2 inputs"):
        S.op("elemwise_add", x, x, x, name="add")
    with pytest.raises(ValueError, match="double underscores"):
        S.var("w", init="zeros")
    with pytest.raises(IndexError):
        S.op("Activation", x, name="a", act_type="relu")[1]


# -- with MXNet, the judge -----------------------------------------------------------------------


def _mx():
    from nin_mx._mxnet import mx

    return mx


@pytest.mark.mxnet
@pytest.mark.parametrize("case", sorted(CALLS))
def test_mxnet_round_trip_and_shapes(case):
    mx = _mx()
    call = CALLS[case]
    text = _build(call)
    symbol = mx.sym.load_json(text)
    assert symbol.tojson() == text
    entry = nin_mx.models.get_model_entry(call["model"])
    shape = tuple(call["kwargs"].get("manual") or (1, *entry.input_shape))
    graph = nin_mx.Graph.from_model(call["model"], **_kwargs(call))
    assert graph.text == text
    internals = symbol.get_internals()
    try:
        shapes = infer(graph, {"data": shape})
    except nin_mx.ShapeError:  # a fixed kernel larger than its map: MXNet refuses it too
        with pytest.raises(mx.base.MXNetError):
            internals.infer_shape(data=shape)
        return
    _, outs, _ = internals.infer_shape(data=shape)
    ours = [s for node in graph.nodes for s in shapes.outputs[node.index][: shapes.visible[node.index]]]
    assert ours == [tuple(s) for s in outs]


def _both(build):
    """``build(api)`` with MXNet's ``mx.sym`` and with nin_mx's builder, as JSON texts."""
    mx = _mx()

    class Mx:
        var = staticmethod(mx.sym.var)

        @staticmethod
        def op(operator, *inputs, **attrs):
            function = getattr(mx.sym, operator, None) or getattr(mx.sym._internal, operator)
            return function(*inputs, **attrs)

        @staticmethod
        def scope(**attrs):
            return mx.AttrScope(**attrs)

        @staticmethod
        def group(heads):
            return mx.sym.Group(heads)

    return build(Mx).tojson(), build(_Ours).tojson()


def _hand(api):
    data = api.var("data")
    with api.scope(__block__="outer", __tag__='a "b"\n'):
        x = api.op("Convolution", data, name="c1", num_filter=8, kernel=(3, 3), pad=[1, 1], no_bias=True)
        with api.scope(__block__="inner"):
            x = api.op(
                "BatchNorm", x, name="bn", eps=2e-5, momentum=0.9, fix_gamma=False, use_global_stats=True
            )
            x = api.op("LeakyReLU", x, name="prelu", act_type="prelu")
        y = api.op(
            "Pooling", x, name="p", kernel=(2, 2), stride=(2, 2), pool_type="max", pooling_convention="full"
        )
        z = api.op("Pooling", x, name="gp", kernel=(1, 1), global_pool=True, pool_type="avg")
    w = api.var("w", lr_mult=0.5)
    fc = api.op("FullyConnected", z, w, name="fc", num_hidden=3, flatten=False, no_bias=True)
    parts = api.op("SliceChannel", y, name="split", num_outputs=2, axis=1)
    many = api.op("Concat", *([parts[1], parts[0]] * 6), name="cat", dim=1)
    s = api.op("_mul_scalar", many, name="s", scalar=1 / 3)
    t = api.op("_plus_scalar", s, name="t", scalar=1e-7)
    d = api.op("Dropout", t, name="drop", p=0.25, mode="always")
    return api.group([d, fc, parts[1], api.op("SoftmaxOutput", fc, name="softmax", grad_scale=2.0)])


@pytest.mark.mxnet
def test_small_graphs_built_both_ways_are_the_same_bytes():
    theirs, ours = _both(_hand)
    assert ours == theirs
    assert ours == _mx().sym.load_json(ours).tojson()


def test_a_graph_of_the_builder_is_reported_without_mxnet():
    data = S.var("data")
    x = S.op("Convolution", data, name="c", num_filter=4, kernel=(3, 3), pad=(1, 1))
    y = S.op("Pooling", x, name="p", kernel=(2, 2), stride=(2, 2), pool_type="max")
    report = nin_mx.shape_report(y, (2, 3, 8, 8))
    assert (report.ok, report.output_shape, report.total_params) == (True, (2, 4, 4, 4), 4 * 3 * 9 + 4)
    assert [row.name for row in report.layers] == ["c", "p"]
    graph = nin_mx.Graph.resolve(S.group([y, x]))
    assert graph.label == "symbol" and graph.text == S.group([y, x]).tojson()


class _Ours:
    """nin_mx's builder behind the small API of :func:`_both`."""

    var = staticmethod(S.var)
    op = staticmethod(S.op)
    scope = staticmethod(S.attr_scope)
    group = staticmethod(S.group)


@pytest.mark.mxnet
def test_internal_outputs_are_mxnets_get_internals():
    """``Symbol.internal(name)`` is ``get_internals()[name]``: the same sub-graph, byte for byte,
    for every output MXNet lists (variables, single- and multi-output operators)."""
    built = _hand(_Ours)
    internals = _mx().sym.load_json(built.tojson()).get_internals()
    names = internals.list_outputs()
    assert {"split_output1", "w", "c1_output", "softmax_output"} <= set(names)
    for name in names:
        assert built.internal(name).tojson() == internals[name].tojson(), name
    assert built.heads[0].internal("c1").tojson() == internals["c1_output"].tojson()
    with pytest.raises(KeyError, match="no output 'nope_output'"):
        built.internal("nope_output")


def test_conv_padding_kept_by_kernel_and_its_type():
    """conv's padding is worked out once per border mode and kernel, told apart by type too: a
    kernel of 3.0 after one of 3 (equal, same hash) is still refused, as nin_mx refuses a float."""
    from nin_mx.models.layers import conv

    x = S.var("data")
    assert conv(x, "a", 4, (3, 3), border_mode="same", relu=False).node.attrs["pad"] == "(1, 1)"
    assert conv(x, "b", 4, (1, 7), border_mode="same", relu=False).node.attrs["pad"] == "(0, 3)"
    with pytest.raises(ValueError, match=r"kernel must be an integer, got 3\.0"):
        conv(x, "c", 4, (3.0, 3), border_mode="same")
    with pytest.raises(ValueError, match="kernel must be an integer, got True"):
        conv(x, "d", 4, (True, 1), border_mode="same")
