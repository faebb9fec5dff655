"""diff_reports: known answers from how the two graphs were built, and the diff renderers.

Every expectation comes from the construction of the pair (the factory's names and channel
counts, docs/reference.md's shapes, MXNet's own automatic names), never from a diff's output.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import subprocess
import sys

import mxnet as mx
import pytest

import nin_mx
from nin_mx import Graph, list_models, manual_symbol, shape_report
from nin_mx.analysis.align import is_automatic_name
from nin_mx.analysis.diff import DiffCounts, GraphDiff, RowStatus, diff_reports, graph_attrs
from nin_mx.document import Document
from nin_mx.render import (
    SCHEMA_VERSION,
    diff_to_dict,
    render_diff,
    render_diff_csv,
    render_diff_json,
    render_diff_markdown,
    render_diff_table,
    render_json,
)
from nin_mx.report.comparison import manual_pool_kernel
from nin_mx.report.rows import LayerRow, Report

IRV2 = "inception_resnet_v2"
S299 = (1, 3, 299, 299)


def _diff(graph_a: Graph, graph_b: Graph, shape=S299, *, attrs: bool = True) -> GraphDiff:
    report_a, report_b = shape_report(graph_a, shape), shape_report(graph_b, shape)
    assert report_a.ok and report_b.ok
    if not attrs:
        return diff_reports(report_a, report_b)
    return diff_reports(report_a, report_b, attrs_a=graph_attrs(graph_a), attrs_b=graph_attrs(graph_b))


def _operators(graph: Graph) -> list[str]:
    """The graph's operator node names in graph order: the rows a report has."""
    return [node.name for node in graph.nodes if not node.is_variable]


def _by_status(diff: GraphDiff, status: RowStatus) -> list:
    return [row for row in diff.rows if row.status is status]


def _edited(graph: Graph, edit) -> Graph:
    """The graph's symbol JSON changed by ``edit(nodes)``, loaded back by MXNet."""
    raw = json.loads(graph.symbol.tojson())
    edit(raw["nodes"])
    return Graph.from_symbol(mx.sym.load_json(json.dumps(raw)), label=graph.label)


def _automatic_names(nodes: list[dict]) -> None:
    """Renames every operator the way MXNet's NameManager names an unnamed one: the operator,
    lower-cased, and a counter per operator (``convolution0``, ``batchnorm7``)."""
    counters: collections.Counter[str] = collections.Counter()
    for node in nodes:
        if node["op"] != "null":
            hint = node["op"].lower()
            node["name"] = f"{hint}{counters[hint]}"
            counters[hint] += 1


@pytest.fixture(scope="module")
def irv2() -> Graph:
    return Graph.from_model(IRV2)


@pytest.fixture(scope="module")
def irv2_9() -> Graph:
    """One block35 fewer (docs/reference.md: 10 x block35 by default)."""
    return Graph.from_model(IRV2, repeats=(9, 20, 10))


@pytest.fixture(scope="module")
def manual_pool_diff(irv2: Graph) -> GraphDiff:
    return _diff(irv2, Graph.from_symbol(manual_symbol(IRV2, S299), label="manual"))


@pytest.fixture(scope="module")
def block_removed_diff(irv2: Graph, irv2_9: Graph) -> GraphDiff:
    return _diff(irv2, irv2_9)


# --- known answers ---------------------------------------------------------------------


@pytest.mark.parametrize("model", list_models())
def test_a_graph_against_itself_is_all_same(model):
    graph = Graph.from_model(model)
    shape = (1, *graph.default_input_shape)
    diff = _diff(graph, graph, shape)
    n = len(_operators(graph))
    assert diff.counts == DiffCounts(same=n, changed=0, only_a=0, only_b=0)
    assert not diff.has_differences
    assert [row.a.name for row in diff.rows] == [row.b.name for row in diff.rows] == _operators(graph)
    assert all(row.a == row.b and row.differences == () for row in diff.rows)


@pytest.mark.parametrize("model", list_models())
def test_manual_pool_differs_in_the_final_pool_attributes_only(model):
    graph = Graph.from_model(model)
    shape = (1, *graph.default_input_shape)
    kernel = manual_pool_kernel(model, shape)
    diff = _diff(graph, Graph.from_symbol(manual_symbol(model, shape)), shape)
    final_pool = [node.name for node in graph.nodes if node.op == "Pooling"][-1]
    (changed,) = _by_status(diff, RowStatus.CHANGED)
    assert diff.counts == DiffCounts(same=len(_operators(graph)) - 1, changed=1, only_a=0, only_b=0)
    assert changed.a.name == changed.b.name == final_pool
    # layers.final_pool: Pooling(global_pool=True, kernel=(1, 1)) vs Pooling(kernel=K, stride=(1, 1)).
    # Same output (1 x 1), same effective window: only the attributes differ.
    assert changed.differences == ("attrs.global_pool", "attrs.kernel", "attrs.stride")
    assert changed.attr_changes == (
        ("global_pool", "True", None),
        ("kernel", "(1, 1)", str(tuple(kernel))),
        ("stride", None, "(1, 1)"),
    )


def test_manual_pool_of_inception_resnet_v2_is_8x8_and_invisible_to_shapes(irv2, manual_pool_diff):
    (changed,) = _by_status(manual_pool_diff, RowStatus.CHANGED)
    assert changed.attr_changes[1] == ("kernel", "(1, 1)", "(8, 8)")  # 8 x 8 x 1536 enters the pool
    assert changed.a.output_shape == changed.b.output_shape == (1, 1536, 1, 1)
    shapes_only = _diff(irv2, Graph.from_symbol(manual_symbol(IRV2, S299)), attrs=False)
    assert not shapes_only.attrs_compared and manual_pool_diff.attrs_compared
    assert not shapes_only.has_differences  # the whole point of passing the attributes


def test_one_block_removed_is_exactly_that_blocks_rows(irv2, irv2_9, block_removed_diff):
    diff = block_removed_diff
    removed = [name for name in _operators(irv2) if name.startswith("block35_10_")]
    assert len(removed) == 23  # 3 + 6 + 9 (three branches of conv-bn-relu), concat, up, scale, add, relu
    assert [row.a.name for row in _by_status(diff, RowStatus.ONLY_A)] == removed
    assert diff.counts == DiffCounts(same=len(_operators(irv2_9)), changed=0, only_a=23, only_b=0)
    report = shape_report(irv2, S299)
    block_params = sum(row.params for row in report.layers if row.name in removed)
    assert diff.totals_a.params - diff.totals_b.params == block_params > 0


def test_one_block_added_is_only_in_b(irv2, irv2_9):
    diff = _diff(irv2_9, irv2)
    assert [row.b.name for row in _by_status(diff, RowStatus.ONLY_B)] == [
        name for name in _operators(irv2) if name.startswith("block35_10_")
    ]
    assert diff.counts.changed == diff.counts.only_a == 0


def test_one_block_removed_with_automatic_names(irv2, irv2_9):
    auto_10, auto_9 = _edited(irv2, _automatic_names), _edited(irv2_9, _automatic_names)
    report_10, report_9 = shape_report(auto_10, S299), shape_report(auto_9, S299)
    # The pitfall: counters shift after the removed block, so one name means two layers.
    rows_9 = {row.name: row for row in report_9.layers}
    shifted = [r for r in report_10.layers if r.name in rows_9 and r[3:11] != rows_9[r.name][3:11]]
    assert len(shifted) > 100  # a join by name would report these as changed
    diff = diff_reports(report_10, report_9, attrs_a=graph_attrs(auto_10), attrs_b=graph_attrs(auto_9))
    assert diff.counts == DiffCounts(same=len(report_9.layers), changed=0, only_a=23, only_b=0)
    named = shape_report(irv2, S299)
    block = sorted((r.op, r.output_shape) for r in named.layers if r.name.startswith("block35_10_"))
    assert sorted((r.a.op, r.a.output_shape) for r in _by_status(diff, RowStatus.ONLY_A)) == block


def _wider_b1_3x3(nodes: list[dict]) -> None:
    """block35_<i>_b1_3x3: 32 -> 48 filters, in every block35."""
    for node in nodes:
        if node["name"].startswith("block35_") and node["name"].endswith("_b1_3x3"):
            assert node["attrs"]["num_filter"] == "32"
            node["attrs"]["num_filter"] = "48"


@pytest.mark.parametrize("attrs", [True, False])
def test_a_filter_count_changed_in_every_block(irv2, attrs):
    diff = _diff(irv2, _edited(irv2, _wider_b1_3x3), attrs=attrs)
    num_filter = ("attrs.num_filter",) if attrs else ()
    expected = {}
    for i in range(1, 11):
        block = f"block35_{i}"
        expected[f"{block}_b1_3x3"] = ("output_shape", "params", "macs", *num_filter)
        expected[f"{block}_b1_3x3_bn"] = ("output_shape", "params", "aux")  # gamma, beta; mean, var
        expected[f"{block}_b1_3x3_relu"] = ("output_shape",)
        expected[f"{block}_concat"] = ("output_shape",)  # 32 + 48 + 64 = 144 channels, not 128
        expected[f"{block}_up"] = ("params", "macs")  # the 1x1 up projection reads 144 channels
    changed = {row.a.name: row.differences for row in _by_status(diff, RowStatus.CHANGED)}
    assert changed == expected
    assert diff.counts == DiffCounts(len(_operators(irv2)) - 50, 50, 0, 0)
    assert all(row.a.name == row.b.name for row in diff.rows)


def _small_net(named: bool, inserted: bool = False, batch_norm: bool = False):
    """conv 3x3 -> [bn] -> relu -> [conv 1x1 -> relu] -> conv 3x3 -> [bn] -> relu -> max pool
    -> flatten -> fc."""

    def name(text: str) -> dict:
        return {"name": text} if named else {}

    with mx.name.NameManager():  # counters from 0, as in a fresh script
        return _build_small_net(name, inserted, batch_norm)


def _build_small_net(name, inserted: bool, batch_norm: bool) -> Graph:
    x = mx.sym.var("data")
    x = mx.sym.Convolution(x, num_filter=8, kernel=(3, 3), pad=(1, 1), **name("conv1"))
    if batch_norm:
        x = mx.sym.BatchNorm(x, **name("conv1_bn"))
    x = mx.sym.Activation(x, act_type="relu", **name("relu1"))
    if inserted:
        x = mx.sym.Convolution(x, num_filter=8, kernel=(1, 1), **name("conv_extra"))
        x = mx.sym.Activation(x, act_type="relu", **name("relu_extra"))
    x = mx.sym.Convolution(x, num_filter=8, kernel=(3, 3), pad=(1, 1), **name("conv2"))
    if batch_norm:
        x = mx.sym.BatchNorm(x, **name("conv2_bn"))
    x = mx.sym.Activation(x, act_type="relu", **name("relu2"))
    x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max", **name("pool"))
    x = mx.sym.Flatten(x, **name("flatten"))
    return Graph.from_symbol(mx.sym.FullyConnected(x, num_hidden=10, **name("fc")))


def test_automatic_and_explicit_names_pair_up_as_same():
    auto, named = _small_net(named=False), _small_net(named=True)
    assert _operators(auto)[:2] == ["convolution0", "activation0"]  # MXNet's own names
    diff = _diff(auto, named, (1, 3, 16, 16))
    # A name difference alone is not a difference: every pair is 'same'.
    assert diff.counts == DiffCounts(same=7, changed=0, only_a=0, only_b=0)
    assert [(row.a.name, row.b.name) for row in diff.rows] == list(zip(_operators(auto), _operators(named)))


def test_a_layer_inserted_with_automatic_names_is_found_by_structure():
    before, after = _small_net(named=False), _small_net(named=False, inserted=True)
    diff = _diff(before, after, (1, 3, 16, 16))
    # MXNet's counters shift: 'convolution1' is the inserted 1x1 conv in b, the 3x3 one in a.
    pairs = {row.a.name: row.b.name for row in diff.rows if row.a is not None and row.b is not None}
    assert pairs["convolution1"] == "convolution2"
    assert pairs["convolution0"] == "convolution0"
    assert diff.counts == DiffCounts(same=7, changed=0, only_a=0, only_b=2)
    assert sorted(row.b.op for row in _by_status(diff, RowStatus.ONLY_B)) == ["Activation", "Convolution"]
    assert [row.b.name for row in _by_status(diff, RowStatus.ONLY_B) if row.b.op == "Convolution"] == [
        "convolution1"
    ]


@pytest.mark.parametrize("named", [True, False])
def test_extra_batch_norm_rows_are_only_in_b(named):
    plain, with_bn = _small_net(named=named), _small_net(named=named, batch_norm=True)
    diff = _diff(plain, with_bn, (1, 3, 16, 16))
    assert diff.counts == DiffCounts(same=7, changed=0, only_a=0, only_b=2)
    only_b = [row.b for row in _by_status(diff, RowStatus.ONLY_B)]
    assert [row.op for row in only_b] == ["BatchNorm", "BatchNorm"]
    assert [row.inputs for row in only_b] == [(_operators(with_bn)[0],), (_operators(with_bn)[3],)]
    assert diff.totals_b.params - diff.totals_a.params == 2 * 2 * 8  # gamma and beta of 8 channels
    assert [(row.a.op, row.b.op) for row in diff.rows if row.a and row.b] == [
        (op, op) for op in ("Convolution", "Activation") * 2 + ("Pooling", "Flatten", "FullyConnected")
    ]


def test_valid_against_same_pairs_every_layer_by_name():
    valid = Graph.from_model(IRV2, border_mode="valid")
    same = Graph.from_model(IRV2, border_mode="same")
    diff = _diff(valid, same)
    names = _operators(valid)
    assert diff.counts.only_a == diff.counts.only_b == 0
    assert [row.a.name for row in diff.rows] == [row.b.name for row in diff.rows] == names
    # Stem and reductions: 35/17/8 (valid) vs 38/19/10 (same) at 299; from the pool on: 1 x 1.
    assert [row.a.name for row in _by_status(diff, RowStatus.SAME)] == ["flatten", "dropout", "fc", "softmax"]
    pool = names.index("global_pool")
    assert ["output_shape" in row.differences for row in diff.rows] == [i < pool for i in range(len(names))]
    assert diff.rows[pool].differences == ("kernel",)  # the whole map: 8 x 8 vs 10 x 10
    pads_a = {n.name: n.attrs.get("pad") for n in valid.nodes}
    pads_b = {n.name: n.attrs.get("pad") for n in same.nodes}
    border_layers = [name for name in names if pads_a[name] != pads_b[name]]
    assert "stem_conv1a_3x3" in border_layers and "mixed_7a_b3_pool" in border_layers
    assert [row.a.name for row in diff.rows if "attrs.pad" in row.differences] == border_layers
    assert [row.a.name for row in diff.rows if "pad" in row.differences] == border_layers


def test_our_models_have_no_automatic_names_and_mxnet_s_are_recognised():
    for model in list_models():
        graph = Graph.from_model(model)
        assert not [n.name for n in graph.nodes if not n.is_variable and is_automatic_name(n.name, n.op)]
    x = mx.sym.var("data")
    y = mx.sym.Activation(mx.sym.Convolution(x, num_filter=2, kernel=(1, 1)), act_type="relu")
    z = mx.sym.LeakyReLU((y + y) * 2.0 - 1)
    for node in Graph.from_symbol(mx.sym.Concat(z, z, dim=1)).nodes:
        if not node.is_variable:
            assert is_automatic_name(node.name, node.op), node.name
    assert is_automatic_name("resnetv10_stage1_conv0_fwd", "Convolution")  # Gluon's block names


# --- hand-made rows: the alignment alone ------------------------------------------------


def _row(name: str, op: str, inputs=("data",), shape=(1, 8, 4, 4), params: int = 0) -> LayerRow:
    return LayerRow(name, op, tuple(inputs), shape, params, 0, 0)


def _report(rows, model: str = "m") -> Report:
    rows = tuple(rows)
    return Report(
        model=model,
        border_mode="as built",
        input_shapes={"data": (1, 3, 8, 8)},
        ok=True,
        error=None,
        failed_at=None,
        layers=rows,
        output_shape=rows[-1].output_shape,
        total_params=sum(r.params for r in rows),
        total_aux=0,
        total_macs=0,
        activation_bytes=0,
    )


def _chain(spec: list[tuple[str, str]]) -> list[LayerRow]:
    """Rows fed one by the next, from (name, op) pairs."""
    rows, previous = [], "data"
    for name, op in spec:
        rows.append(_row(name, op, (previous,)))
        previous = name
    return rows


def test_one_layer_replaced_by_another_operator_is_changed():
    a = _chain([("c1", "Convolution"), ("act", "Activation"), ("fc", "FullyConnected")])
    b = _chain([("c1", "Convolution"), ("prelu", "LeakyReLU"), ("fc", "FullyConnected")])
    diff = diff_reports(_report(a), _report(b))
    assert [row.status for row in diff.rows] == [RowStatus.SAME, RowStatus.CHANGED, RowStatus.SAME]
    assert diff.rows[1].differences == ("op",)
    assert (diff.rows[1].a.name, diff.rows[1].b.name) == ("act", "prelu")


def test_layers_built_in_another_order_are_paired_by_name():
    x, y = _row("x", "Convolution", params=10), _row("y", "Convolution", params=20)
    cat = _row("cat", "Concat", ("x", "y"), (1, 16, 4, 4))
    diff = diff_reports(_report([x, y, cat]), _report([y, x, cat]))
    assert diff.counts == DiffCounts(same=3, changed=0, only_a=0, only_b=0)
    assert [row.a.name for row in diff.rows] == [row.b.name for row in diff.rows] == ["x", "y", "cat"]


def test_long_stretches_without_unique_keys_are_aligned_by_operator():
    """1200 rows of repeated conv/relu pairs with automatic names, so that no key is unique
    (a periodic run): the first and last rows are replaced, and b lacks a flatten in the middle."""
    n = 600

    def ops(middle: bool) -> list[str]:
        body = ["Convolution", "Activation"] * n
        return body[:n] + (["Flatten"] if middle else []) + body[n:]

    def rows(first: str, last: str, middle: bool) -> list[LayerRow]:
        spec = [first, *ops(middle), last]
        counters: collections.Counter[str] = collections.Counter()
        named = []
        for op in spec:
            named.append((f"{op.lower()}{counters[op]}", op))
            counters[op] += 1
        return _chain(named)

    diff = diff_reports(_report(rows("Pooling", "Pooling", True)), _report(rows("Dropout", "Dropout", False)))
    statuses = [row.status for row in diff.rows]
    assert statuses[0] is statuses[-1] is RowStatus.CHANGED
    assert diff.rows[0].differences == diff.rows[-1].differences == ("op",)
    assert [row.a.op for row in _by_status(diff, RowStatus.ONLY_A)] == ["Flatten"]
    assert diff.counts == DiffCounts(same=2 * n, changed=2, only_a=1, only_b=0)
    assert all(row.a.op == row.b.op for row in _by_status(diff, RowStatus.SAME))


def test_the_diff_is_deterministic_and_symmetric(block_removed_diff, irv2, irv2_9):
    again = _diff(irv2, irv2_9)
    assert again == block_removed_diff
    back = _diff(irv2_9, irv2)
    forward = [(r.a and r.a.name, r.b and r.b.name) for r in block_removed_diff.rows]
    assert [(r.b and r.b.name, r.a and r.a.name) for r in back.rows] == forward


def test_importing_the_diff_does_not_import_mxnet():
    code = (
        "import sys, nin_mx.analysis.diff; "
        "print(any(m.startswith(('mxnet', 'nin_mx._mxnet')) for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_the_package_exports_diff_reports():
    assert nin_mx.diff_reports is diff_reports
    assert nin_mx.graph_attrs is graph_attrs


# --- renderers ---------------------------------------------------------------------------

DIFF_KEYS = [
    "model_a",
    "model_b",
    "border_mode_a",
    "border_mode_b",
    "input_shapes_a",
    "input_shapes_b",
    "error_a",
    "error_b",
    "attrs_compared",
    "has_differences",
    "counts",
    "totals_a",
    "totals_b",
    "rows",
]
DIFF_CSV_COLUMNS = [
    "status",
    "differences",
    "name_a",
    "name_b",
    "op_a",
    "op_b",
    "output_shape_a",
    "output_shape_b",
    "params_a",
    "params_b",
    "aux_a",
    "aux_b",
    "macs_a",
    "macs_b",
    "kernel_a",
    "kernel_b",
    "stride_a",
    "stride_b",
    "pad_a",
    "pad_b",
    "dilate_a",
    "dilate_b",
    "attr_changes",
]


def test_json_layout(block_removed_diff, irv2, irv2_9):
    text = render_diff_json(block_removed_diff)
    data = json.loads(text)
    assert list(data) == ["schema_version", "diff"] and data["schema_version"] == SCHEMA_VERSION
    body = data["diff"]
    assert list(body) == DIFF_KEYS
    assert body["counts"] == {"same": len(_operators(irv2_9)), "changed": 0, "only_a": 23, "only_b": 0}
    report_a, report_b = shape_report(irv2, S299), shape_report(irv2_9, S299)
    assert body["totals_a"] == {
        "params": report_a.total_params,
        "aux": report_a.total_aux,
        "macs": report_a.total_macs,
    }
    assert body["totals_b"]["params"] == report_b.total_params
    assert body["input_shapes_a"] == {"data": list(S299)} and body["has_differences"] is True
    # a and b are the layer objects of the report's own JSON (reports[].layers[]), or null.
    layers_a = json.loads(render_json(Document(IRV2, report_a.input_shapes, [report_a])))["reports"][0][
        "layers"
    ]
    layers_b = json.loads(render_json(Document(IRV2, report_b.input_shapes, [report_b])))["reports"][0][
        "layers"
    ]
    assert [row["a"] for row in body["rows"] if row["a"] is not None] == layers_a
    assert [row["b"] for row in body["rows"] if row["b"] is not None] == layers_b
    for row in body["rows"]:
        assert list(row) == ["status", "a", "b", "differences", "attr_changes"]
        assert (row["b"] is None) == (row["status"] == "only_a")
    assert text.endswith("}\n") and text == _encode_again(text)
    for line in text.splitlines():  # one layer object per line
        if line.lstrip().startswith(('"a": {', '"b": {')):
            json.loads(line.split(": ", 1)[1].rstrip(","))


def _encode_again(text: str) -> str:
    from nin_mx.render.cells import encode

    return encode(json.loads(text)) + "\n"


def test_json_attribute_changes(manual_pool_diff):
    (row,) = [r for r in diff_to_dict(manual_pool_diff)["diff"]["rows"] if r["status"] == "changed"]
    assert row["differences"] == ["attrs.global_pool", "attrs.kernel", "attrs.stride"]
    assert row["attr_changes"] == {
        "global_pool": ["True", None],
        "kernel": ["(1, 1)", "(8, 8)"],
        "stride": [None, "(1, 1)"],
    }


def test_csv_rows_and_header(block_removed_diff, irv2):
    rows = list(csv.reader(io.StringIO(render_diff_csv(block_removed_diff))))
    assert rows[0] == DIFF_CSV_COLUMNS
    assert len(rows) == 1 + 23
    first = dict(zip(rows[0], rows[1]))
    assert first["status"] == "only_a" and first["name_a"] == "block35_10_b0_1x1" and first["name_b"] == ""
    assert first["output_shape_a"] == "1x32x35x35" and first["kernel_a"] == "1x1" and first["macs_b"] == ""
    every = list(csv.reader(io.StringIO(render_diff_csv(block_removed_diff, all_rows=True))))
    assert len(every) == 1 + len(_operators(irv2))


def _summary(diff: GraphDiff, counts: str, a: Report, b: Report) -> str:
    def delta(label: str, x: int, y: int) -> str:
        return f"{label} {x:,} -> {y:,} ({y - x:+,})"

    deltas = [delta("params", a.total_params, b.total_params), delta("aux", a.total_aux, b.total_aux)]
    deltas.append(delta("MACs", a.total_macs, b.total_macs))
    return f"{counts}; " + "; ".join(deltas)


def test_table_shows_changed_and_one_sided_rows_by_default(manual_pool_diff, irv2):
    names = _operators(irv2)
    text = render_diff_table(manual_pool_diff)
    assert "global_pool" in text and "stem_conv1a_3x3" not in text
    assert "attrs.kernel (1, 1)->(8, 8)" in text and "attrs.global_pool True->unset" in text
    every = render_diff_table(manual_pool_diff, all_rows=True)
    assert all(name in every for name in names)
    report = shape_report(irv2, S299)
    summary = _summary(
        manual_pool_diff, f"1 changed, 0 only in a, 0 only in b, {len(names) - 1} same", report, report
    )
    assert summary in text.splitlines() and summary in every.splitlines()
    assert "(+0)" in summary


def test_table_summary_gives_the_removed_blocks_deltas(block_removed_diff, irv2, irv2_9):
    text = render_diff_table(block_removed_diff)
    a, b = shape_report(irv2, S299), shape_report(irv2_9, S299)
    counts = f"0 changed, 23 only in a, 0 only in b, {len(_operators(irv2_9))} same"
    assert _summary(block_removed_diff, counts, a, b) in text.splitlines()
    assert f"({b.total_params - a.total_params:+,})" in text and b.total_params < a.total_params
    body = [line for line in text.splitlines() if line.startswith("only_a")]
    assert len(body) == 23 and all("block35_10_" in line for line in body)


def test_table_of_identical_graphs(irv2):
    diff = _diff(irv2, irv2)
    text = render_diff_table(diff)
    assert "no differences" in text.splitlines()
    assert f"0 changed, 0 only in a, 0 only in b, {len(_operators(irv2))} same;" in text


def test_shapes_only_diff_says_so(irv2):
    text = render_diff_table(_diff(irv2, irv2, attrs=False))
    assert "note: operator attributes not compared (shapes, counts and windows only)" in text


def test_markdown(manual_pool_diff):
    text = render_diff_markdown(manual_pool_diff)
    lines = text.splitlines()
    assert lines[0].startswith("### diff: a = inception_resnet_v2 (reference, input data 1x3x299x299)")
    assert lines[2].startswith("| status") and lines[3].startswith("|---")
    assert sum(line.startswith("| changed") for line in lines) == 1
    assert lines[-1].startswith("- 1 changed, 0 only in a, 0 only in b")


def test_render_diff_dispatches_every_format(manual_pool_diff):
    assert render_diff(manual_pool_diff) == render_diff_table(manual_pool_diff)
    assert render_diff(manual_pool_diff, "table", all_rows=True) == render_diff_table(manual_pool_diff, True)
    assert render_diff(manual_pool_diff, "markdown") == render_diff_markdown(manual_pool_diff)
    assert render_diff(manual_pool_diff, "csv", all_rows=True) == render_diff_csv(manual_pool_diff, True)
    assert render_diff(manual_pool_diff, "json") == render_diff_json(manual_pool_diff)
    assert render_diff(manual_pool_diff, "json", all_rows=True) == render_diff_json(manual_pool_diff)
    with pytest.raises(ValueError, match="format must be one of"):
        render_diff(manual_pool_diff, "yaml")
