"""Properties checked against MXNet itself, over thousands of random layers and small graphs.

* Single convolution, deconvolution and pooling layers (kernel, stride, pad, dilation, adj,
  target_shape, pooling convention, 1-D, 2-D and 3-D, max/avg/sum, global): the pure-Python
  walk (``nin_mx.core.border`` through ``nin_mx.walk.spatial_walk``) gives MXNet's output size,
  and rejects exactly what MXNet rejects, naming the same layer.
* Chains of up to 30 convolution and pooling layers: one ``infer_shape`` over the internals
  checks every layer.
* Random small graphs (chains and branches of convolution, pooling, ReLU, BatchNorm, Concat,
  elemwise_add, Flatten, FullyConnected): every row of ``shape_report`` has MXNet's shape, and
  when MXNet rejects the graph the report fails at the layer MXNet names.
* Through the command: the same JSON byte for byte on every run, and 1-D and 3-D graphs
  reported with per-axis columns.

Each example costs one ``infer_shape`` (plus the report's own), so the suite stays quick.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import mxnet as mx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mxnet.base import MXNetError

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.graph.nodes import parse_nodes
from nin_mx.graph.walk import spatial_walk
from nin_mx.report.rows import shape_report

SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
_OPERATOR = re.compile(r"Error in operator ([^:\s]+):")


@dataclass(frozen=True)
class Rejected:
    """MXNet refused the graph, at ``layer`` (from its 'Error in operator X' line)."""

    layer: str | None
    message: str


def mxnet_outputs(symbol, shape) -> dict[str, tuple[int, ...]] | Rejected:
    """Every internal output shape of ``symbol`` from one infer_shape, or MXNet's refusal."""
    internals = symbol.get_internals()
    try:
        _, outs, _ = internals._infer_shape_impl(False, data=tuple(shape))
    except MXNetError as exc:
        found = _OPERATOR.search(str(exc))
        return Rejected(found.group(1) if found else None, str(exc))
    if outs is None or any(0 in out for out in outs):  # MXNet's "unknown": an empty output
        return Rejected(None, f"MXNet leaves a shape unknown: {outs}")
    return dict(zip(internals.list_outputs(), map(tuple, outs)))


def walk(symbol, shape) -> dict[str, tuple[int, ...] | None] | ValueError:
    """The walk's spatial size per node name, or its error: a ShapeError naming the first
    empty layer, or a GraphError for attributes MXNet cannot use with this input."""
    nodes = parse_nodes(symbol.tojson())
    try:
        infos = spatial_walk(nodes, {"data": tuple(shape)})
    except (ShapeError, GraphError) as exc:
        return exc
    return {node.name: info.spatial for node, info in zip(nodes, infos)}


# --- single layers and chains: border arithmetic vs MXNet ---


def _tuples(draw, nd: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(low, high)) for _ in range(nd))


@st.composite
def windows(draw, nd: int, name: str, deconvolution: bool = True):
    """One Convolution, Deconvolution or Pooling layer with random window attributes, as a
    function of x."""
    kernel = _tuples(draw, nd, 1, 7)
    stride = _tuples(draw, nd, 1, 4)
    pad = _tuples(draw, nd, 0, 4)
    op = draw(st.sampled_from(["Convolution"] * 5 + ["Deconvolution"] * deconvolution + ["Pooling"] * 5))
    if op == "Convolution":
        dilate = _tuples(draw, nd, 1, 3)
        num_filter = draw(st.integers(1, 3))
        return lambda x: mx.sym.Convolution(
            x, kernel=kernel, stride=stride, pad=pad, dilate=dilate, num_filter=num_filter, name=name
        )
    if op == "Deconvolution":
        extra = {"adj": tuple(draw(st.integers(0, s - 1)) for s in stride)}
        if draw(st.booleans()):
            extra = {"target_shape": _tuples(draw, nd, 1, 40)}
        return lambda x: mx.sym.Deconvolution(
            x, kernel=kernel, stride=stride, pad=pad, num_filter=2, name=name, **extra
        )
    pool_type = draw(st.sampled_from(["max", "avg", "sum"]))
    if draw(st.integers(0, 9)) == 0:
        return lambda x: mx.sym.Pooling(x, kernel=kernel, global_pool=True, pool_type=pool_type, name=name)
    if nd == 1 and pool_type == "max" and draw(st.integers(0, 4)) == 0:
        # The only 'same' MXNet 1.9.1 accepts: 1-D max pooling with a three-entry zero pad.
        return lambda x: mx.sym.Pooling(
            x,
            kernel=kernel,
            stride=stride,
            pad=(0, 0, 0),
            pooling_convention="same",
            pool_type="max",
            name=name,
        )
    convention = draw(st.sampled_from(["valid", "full"]))
    return lambda x: mx.sym.Pooling(
        x,
        kernel=kernel,
        stride=stride,
        pad=pad,
        pooling_convention=convention,
        pool_type=pool_type,
        name=name,
    )


def _assert_walk_matches(symbol, shape, layer_names) -> None:
    expected = mxnet_outputs(symbol, shape)
    found = walk(symbol, shape)
    if isinstance(expected, Rejected):
        assert isinstance(found, ValueError), f"MXNet rejects {expected.layer}, the walk gives {found}"
        if expected.layer is None:  # MXNet's check names no operator (a negative size)
            return
        if isinstance(found, ShapeError):
            assert found.layer == expected.layer, (found, expected.message)
        else:
            assert f"'{expected.layer}'" in str(found), (found, expected.message)
        return
    assert not isinstance(found, ValueError), f"the walk rejects what MXNet accepts: {found}"
    for name in layer_names:
        assert found[name] == expected[f"{name}_output"][2:], name


@settings(max_examples=1500, **SETTINGS)
@given(st.data())
def test_single_layer_matches_mxnet(data):
    nd = data.draw(st.sampled_from([1, 2, 2, 3]), label="nd")
    shape = (1, data.draw(st.integers(1, 3)), *data.draw(st.tuples(*[st.integers(1, 24)] * nd), label="size"))
    layer = data.draw(windows(nd, "layer"))
    _assert_walk_matches(layer(mx.sym.var("data")), shape, ["layer"])


@settings(max_examples=250, **SETTINGS)
@given(st.data())
def test_chain_of_layers_matches_mxnet(data):
    """Up to 30 layers in a row, all checked by one infer_shape over the internals."""
    nd = data.draw(st.sampled_from([1, 2]), label="nd")
    shape = (1, 2, *data.draw(st.tuples(*[st.integers(8, 400)] * nd), label="size"))
    names = [f"layer{i}" for i in range(data.draw(st.integers(1, 30), label="depth"))]
    x = mx.sym.var("data")
    for name in names:
        # MXNet lets an empty Deconvolution output through to the next layer: single layers only.
        x = data.draw(windows(nd, name, deconvolution=False))(x)
    _assert_walk_matches(x, shape, names)


# --- random small graphs: shape_report vs MXNet ---


@st.composite
def graphs(draw):
    """A random small graph on a 1-D or 2-D input, and the input shape."""
    nd = draw(st.sampled_from([1, 2]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), *draw(st.tuples(*[st.integers(1, 20)] * nd)))
    counter = iter(range(1000))

    def layer(x):
        i = next(counter)
        kind = draw(st.sampled_from(["conv", "conv", "pool", "relu", "bn"]))
        if kind == "conv":
            k = _tuples(draw, nd, 1, 4)
            pad = tuple(draw(st.integers(0, (ki - 1) // 2 + 1)) for ki in k)
            return mx.sym.Convolution(
                x,
                kernel=k,
                stride=_tuples(draw, nd, 1, 2),
                pad=pad,
                dilate=_tuples(draw, nd, 1, 2),
                num_filter=draw(st.sampled_from([2, 3, 4])),
                name=f"conv{i}",
            )
        if kind == "pool":
            if draw(st.integers(0, 7)) == 0:
                return mx.sym.Pooling(x, kernel=(1,) * nd, global_pool=True, pool_type="avg", name=f"pool{i}")
            return mx.sym.Pooling(
                x,
                kernel=_tuples(draw, nd, 1, 3),
                stride=_tuples(draw, nd, 1, 2),
                pad=_tuples(draw, nd, 0, 1),
                pool_type=draw(st.sampled_from(["max", "avg"])),
                pooling_convention=draw(st.sampled_from(["valid", "full"])),
                name=f"pool{i}",
            )
        if kind == "relu":
            return mx.sym.Activation(x, act_type="relu", name=f"relu{i}")
        return mx.sym.BatchNorm(x, name=f"bn{i}")

    x = mx.sym.var("data")
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            x = layer(x)
            continue
        branches = []
        for _ in range(draw(st.integers(2, 3))):
            y = x
            for _ in range(draw(st.integers(0, 2))):
                y = layer(y)
            branches.append(y)
        i = next(counter)
        if draw(st.booleans()):
            x = mx.sym.Concat(*branches, dim=1, name=f"concat{i}")
        elif len(branches) == 2:
            x = mx.sym.elemwise_add(*branches, name=f"add{i}")
        else:
            x = mx.sym.add_n(*branches, name=f"sum{i}")
    ending = draw(st.sampled_from(["none", "flatten-fc", "fc"]))
    if ending == "flatten-fc":
        x = mx.sym.Flatten(x, name="flatten")
    if ending != "none":
        x = mx.sym.FullyConnected(x, num_hidden=draw(st.integers(1, 5)), name="fc")
    return x, shape


@settings(max_examples=500, **SETTINGS)
@given(graphs())
def test_random_graph_report_matches_mxnet(graph):
    symbol, shape = graph
    expected = mxnet_outputs(symbol, shape)
    report = shape_report(symbol, shape)
    assert report.input_shape == shape
    if isinstance(expected, Rejected):
        assert not report.ok
        assert report.error and "\n" not in report.error
        assert expected.layer is not None, expected.message
        if report.failed_at is not None:  # a layer too small: MXNet stopped at the same one
            assert report.failed_at == expected.layer, (report.error, expected.message)
        else:  # shapes that disagree, in MXNet's own words, naming its operator
            assert f"'{expected.layer}'" in report.error, (report.error, expected.message)
        return
    assert report.ok, report.error
    nodes = [n for n in parse_nodes(symbol.tojson()) if not n.is_variable]
    assert [row.name for row in report.layers] == [n.name for n in nodes]
    for row in report.layers:
        assert row.output_shape == expected[f"{row.name}_output"], row.name
    assert report.output_shape == expected[symbol.list_outputs()[0]]


def test_random_graphs_reach_both_outcomes():
    """The generator must produce graphs MXNet accepts and graphs it rejects, for both kinds."""
    outcomes = {"ok": 0, "too small": 0, "disagree": 0}

    @settings(max_examples=300, **SETTINGS)
    @given(graphs())
    def count(graph):
        symbol, shape = graph
        expected = mxnet_outputs(symbol, shape)
        if not isinstance(expected, Rejected):
            outcomes["ok"] += 1
        elif "exceed" in expected.message:
            outcomes["too small"] += 1
        else:
            outcomes["disagree"] += 1

    count()
    assert all(n >= 10 for n in outcomes.values()), outcomes


def test_the_walk_rejects_what_it_cannot_compute_as_a_graph_error():
    """A merge of different spatial sizes is MXNet's first failure, so the walk stops there."""
    x = mx.sym.var("data")
    a = mx.sym.Convolution(x, kernel=(3, 3), num_filter=2, name="a")
    b = mx.sym.Convolution(x, kernel=(1, 1), num_filter=2, name="b")
    tail = mx.sym.Convolution(mx.sym.elemwise_add(a, b, name="sum"), kernel=(9, 9), num_filter=1, name="tail")
    with pytest.raises(GraphError, match="'sum'"):
        spatial_walk(parse_nodes(tail.tojson()), {"data": (1, 1, 8, 8)})
    report = shape_report(tail, (1, 1, 8, 8))
    assert not report.ok and report.failed_at is None and "'sum'" in report.error


# --- through the command ---


def _run(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nin_mx", *args],
        capture_output=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["inception_resnet_v2", "--format", "json", "--border-mode", "all"], id="irv2"),
        pytest.param(
            ["nin_cifar10", "--format", "json", "--min-input", "--compare-pooling"], id="cifar-extras"
        ),
    ],
)
def test_json_output_is_byte_identical_across_runs(tmp_path, args):
    first = _run(*args, cwd=tmp_path, env={"PYTHONHASHSEED": "1"})
    second = _run(*args, cwd=tmp_path, env={"PYTHONHASHSEED": "2"})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert json.loads(first.stdout)["reports"]


def _save(symbol, folder, name: str) -> str:
    (folder / name).write_text(symbol.tojson())
    return name


def test_one_dimensional_graph_through_the_command(tmp_path):
    # N x C x L: conv 5 (stride 2, pad 1) -> max pool 3/2 -> conv 3 dilated 2 -> global average.
    x = mx.sym.var("data")
    x = mx.sym.Convolution(x, kernel=(5,), stride=(2,), pad=(1,), num_filter=4, name="conv1")
    x = mx.sym.Pooling(x, kernel=(3,), stride=(2,), pool_type="max", name="pool1")
    x = mx.sym.Convolution(x, kernel=(3,), dilate=(2,), num_filter=4, name="conv2")
    x = mx.sym.Pooling(x, kernel=(1,), global_pool=True, pool_type="avg", name="gap")
    name = _save(x, tmp_path, "signal-symbol.json")
    proc = _run(name, "--input", "2,100", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["reports"][0]["layers"]}
    # 100 -> floor((100 + 2 - 5) / 2) + 1 = 49 -> floor((49 - 3) / 2) + 1 = 24 -> 24 - 4 = 20 -> 1
    assert [rows[n]["output_shape"] for n in rows] == [[1, 4, 49], [1, 4, 24], [1, 4, 20], [1, 4, 1]]
    assert rows["conv1"]["kernel"] == [5] and rows["conv1"]["stride"] == [2] and rows["conv1"]["pad"] == [1]
    # receptive fields: 5 (jump 2) -> 5 + 2*2 = 9 (jump 4) -> 9 + 4*4 = 25 -> 25 + 19*4 = 101
    assert [rows[n]["receptive_field"] for n in rows] == [[5], [9], [25], [101]]
    assert [rows[n]["jump"] for n in rows] == [[2], [4], [4], [4]]
    table = _run(name, "--input", "2,100", cwd=tmp_path)
    assert table.returncode == 0 and b"4x49" in table.stdout


def test_three_dimensional_graph_through_the_command(tmp_path):
    # N x C x D x H x W: conv 3x3x3 (pad 1) -> max pool 2x2x2/2 -> conv (1, 3, 3) stride (1, 2, 2).
    x = mx.sym.var("data")
    x = mx.sym.Convolution(x, kernel=(3, 3, 3), pad=(1, 1, 1), num_filter=8, name="conv1")
    x = mx.sym.Pooling(x, kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="max", name="pool1")
    x = mx.sym.Convolution(x, kernel=(1, 3, 3), stride=(1, 2, 2), num_filter=4, name="conv2")
    x = mx.sym.Flatten(x, name="flatten")
    name = _save(x, tmp_path, "volume-symbol.json")
    proc = _run(name, "--input", "1,8,32,32", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["reports"][0]
    rows = {row["name"]: row for row in report["layers"]}
    # 8x32x32 -> 8x32x32 -> 4x16x16 -> 4x7x7 (floor((16 - 3) / 2) + 1 = 7)
    assert rows["conv1"]["output_shape"] == [1, 8, 8, 32, 32]
    assert rows["pool1"]["output_shape"] == [1, 8, 4, 16, 16]
    assert rows["conv2"]["output_shape"] == [1, 4, 4, 7, 7]
    assert rows["flatten"]["output_shape"] == [1, 4 * 4 * 7 * 7]
    assert rows["conv2"]["kernel"] == [1, 3, 3] and rows["conv2"]["stride"] == [1, 2, 2]
    # receptive fields per axis: 3 -> 4 (jump 2) -> depth 4, height and width 4 + 2*2 = 8 (jump 4)
    assert rows["conv1"]["receptive_field"] == [3, 3, 3]
    assert rows["pool1"]["receptive_field"] == [4, 4, 4]
    assert rows["conv2"]["receptive_field"] == [4, 8, 8] and rows["conv2"]["jump"] == [2, 4, 4]
    assert rows["flatten"]["receptive_field"] is None
    assert report["total_macs"] == (8 * 8 * 32 * 32 * 1 * 27) + (4 * 4 * 7 * 7 * 8 * 9)
    too_small = _run(name, "--input", "1,1,32,32", cwd=tmp_path)
    assert too_small.returncode == 1
    assert b"'pool1'" in too_small.stderr and b"depth" in too_small.stderr
