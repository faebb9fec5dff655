"""Gluon HybridBlocks reported in memory, without export files: every model of the model zoo.

References are Gluon's own: its forward pass (output shape), its parameter count
(``sum(p.data().size for p in net.collect_params().values())``, weights and running statistics)
and MXNet's ``infer_shape`` over the symbol the block itself makes. ``pretrained=False``:
random init, no download.
"""

from __future__ import annotations

import gc
import math

import mxnet as mx
import pytest
from _gluon import export, initialize, mxnet_shapes, output_of, small_net
from mxnet.gluon import nn
from mxnet.gluon.model_zoo import vision

from nin_mx import Graph, compare_border_modes, min_input_size, shape_report
from nin_mx.core.errors import GraphError


def _zoo_names() -> list[str]:
    """Every model ``vision.get_model`` knows, from its own list (it keeps the dict private)."""
    with pytest.raises(ValueError) as info:
        vision.get_model("no such model")
    names = sorted(info.value.args[0].split("are\n\t", 1)[1].split("\n\t"))
    assert len(names) >= 30 and "resnet18_v1" in names and "inceptionv3" in names
    return names


ZOO = _zoo_names()


@pytest.fixture(autouse=True)
def _free_mxnet_memory():
    """Each test's networks are run and freed before the next test builds its own.

    MXNet runs operators asynchronously, and no test here reads a value: without a wait, the
    initializations and forward passes of the whole zoo pile up in MXNet's engine, with every
    network's parameters and activations (12 GB when the first export finally waits). A Gluon
    block lives in reference cycles, so it is freed only by a collection; ``waitall`` then runs
    what is pending, the deletions of its arrays included.
    """
    yield
    gc.collect()
    mx.nd.waitall()


def _side(name: str) -> int:
    return 299 if name.startswith("inception") else 224


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_block_matches_mxnet_and_gluon(name):
    net = vision.get_model(name, pretrained=False)
    shape = (1, 3, _side(name), _side(name))
    report = shape_report(net, shape)  # before Gluon has run it: parameters still deferred
    assert report.ok, report.error
    assert report.border_mode == "as built" and report.model == net.name

    initialize(net)  # the model's own initializers, without gradient buffers
    out = net(mx.nd.zeros(shape))
    gluon_count = sum(p.data().size for p in net.collect_params().values())
    assert report.total_params + report.total_aux == gluon_count
    assert report.output_shape == out.shape

    ref = mxnet_shapes(net(mx.sym.var("data")), {"data": shape})
    for row in report.layers:
        assert row.output_shape == output_of(ref, row.name), row.name
    learnable = sum(math.prod(s) for n, s in ref.args.items() if n != "data")
    assert report.total_params == learnable
    assert report.total_aux == sum(math.prod(s) for s in ref.aux.values())


@pytest.mark.parametrize("name", ["resnet18_v1", "squeezenet1.1", "mobilenetv2_0.25"])
def test_a_block_reports_like_its_export(tmp_path, name):
    """Names come from the block's prefixes: the same rows as its -symbol.json, hybridized or not."""
    shape = (1, 3, 224, 224)
    net = vision.get_model(name, pretrained=False)  # one instance: Gluon numbers each new prefix
    plain = shape_report(net, shape)
    exported = export(net, name, tmp_path, shape)  # initializes, hybridizes, runs and exports it
    assert shape_report(str(exported.path), shape).layers == plain.layers
    assert shape_report(net, shape).layers == plain.layers  # hybridized now


def test_small_block_with_operators_print_summary_misses():
    net = small_net()
    net.initialize()
    out = net(mx.nd.zeros((1, 3, 16, 16)))
    report = shape_report(net, (1, 3, 16, 16))
    assert report.output_shape == out.shape == (1, 10)
    assert report.total_params + report.total_aux == sum(p.data().size for p in net.collect_params().values())


def test_min_input_size_and_compare_border_modes_take_a_block():
    net = vision.get_model("resnet18_v1", pretrained=False)
    side = min_input_size(net)
    symbol = net(mx.sym.var("data"))
    symbol.infer_shape(data=(1, 3, side, side))  # MXNet accepts the size found
    with pytest.raises(mx.base.MXNetError):
        symbol.infer_shape(data=(1, 3, side - 1, side - 1))  # and not one pixel less
    (report,) = compare_border_modes(net, (1, 3, 224, 224))
    assert report.border_mode == "as built" and report.ok


def test_graph_from_block_is_built_once_and_reused():
    net = vision.get_model("alexnet", pretrained=False)
    graph = Graph.from_block(net)
    assert graph.label == net.name and net.name.startswith("alexnet") and graph.inputs == ("data",)
    first = shape_report(graph, (1, 3, 224, 224))
    assert shape_report(graph, (1, 3, 224, 224)) == first
    assert shape_report(graph, (2, 3, 256, 256)).output_shape == (2, 1000)


class _Eager(nn.Block):
    def forward(self, x):
        return x * 2


class _NumpyInside(nn.HybridBlock):
    def hybrid_forward(self, F, x):
        return F.relu(x) + float(x.asnumpy().sum())  # works on NDArrays, not on symbols


def test_a_plain_block_gets_one_line():
    with pytest.raises(ValueError) as info:
        shape_report(_Eager(prefix="eager_"), (1, 3, 8, 8))
    text = str(info.value)
    assert "\n" not in text and "eager" in text and "HybridBlock" in text


def test_a_block_that_cannot_run_on_symbols_gets_one_line():
    with pytest.raises(GraphError) as info:
        shape_report(_NumpyInside(prefix="numpy_"), (1, 3, 8, 8))
    text = str(info.value)
    assert "\n" not in text and text.startswith("numpy: cannot be exported to a symbol")
