"""nin_mx's own shape engine, checked without MXNet: stored MXNet answers and MXNet's quirks.

The answers in tests/data/oracle/ come from MXNet 1.9.1's ``infer_shape_partial`` over
``get_internals()`` (scripts/make_oracle.py); tests/test_engine_oracle.py asks MXNet live.
"""

from __future__ import annotations

import glob
import json
import os

import pytest

from nin_mx.core.errors import GraphError, ShapeError, UnsupportedOperator
from nin_mx.core.ops import OPS, AxisError, op_info
from nin_mx.core.ops.nn import _full_f32
from nin_mx.graph.engine import engine_error, infer_graph, named_shapes
from nin_mx.graph.nodes import parse_nodes
from nin_mx.graph.walk import spatial_walk, walk_step

ORACLE = os.path.join(os.path.dirname(__file__), "data", "oracle")
CASES = sorted(os.path.basename(p)[: -len("-shapes.json")] for p in glob.glob(f"{ORACLE}/*-shapes.json"))


def _listed(shape):
    return [] if shape is None else list(shape)


def test_oracle_files_exist():
    assert {"nin_cifar10", "inception_resnet_v2", "resnet18_v1", "hand_deconv", "hand_split"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_engine_matches_stored_mxnet_answers(name):
    with open(os.path.join(ORACLE, f"{name}-symbol.json")) as f:
        nodes = parse_nodes(f.read())
    with open(os.path.join(ORACLE, f"{name}-shapes.json")) as f:
        answer = json.load(f)
    inferred = infer_graph(nodes, {k: tuple(v) for k, v in answer["inputs"].items()})
    outputs, args, aux = named_shapes(nodes, inferred)
    assert len(outputs) == len(answer["outputs"])
    for (node, shape), (internal, expected) in zip(outputs, answer["outputs"]):
        assert internal == node or internal.startswith(f"{node}_")
        assert _listed(shape) == expected, internal
    assert {k: _listed(v) for k, v in args.items()} == answer["args"]
    assert {k: _listed(v) for k, v in aux.items()} == answer["aux"]
    assert inferred.complete


def _graph(*nodes, heads=None):
    """A symbol JSON from (name, op, attrs, inputs) tuples; inputs as node indices or (index, output);
    the heads (default: the last node) as node indices (MXNet keeps what they depend on)."""
    raw = []
    for name, op, attrs, inputs in nodes:
        entries = [[i, 0, 0] if isinstance(i, int) else [i[0], i[1], 0] for i in inputs]
        raw.append({"op": op, "name": name, "attrs": attrs, "inputs": entries})
    heads = [[i, 0, 0] for i in (heads or [len(raw) - 1])]
    return parse_nodes(
        {"nodes": raw, "arg_nodes": [], "heads": heads, "attrs": {"mxnet_version": ["int", 10901]}}
    )


def _conv_graph(kernel, **attrs):
    return _graph(
        ("data", "null", {}, []),
        ("c_weight", "null", {}, []),
        ("c_bias", "null", {}, []),
        ("c", "Convolution", {"kernel": kernel, "num_filter": "4", **attrs}, [0, 1, 2]),
    )


def test_convolution_infers_weight_and_bias_backward():
    nodes = _conv_graph("(3, 3)", num_group="2", stride="(2, 2)")
    out = infer_graph(nodes, {"data": (2, 6, 9, 9)}).outputs
    assert out[1] == ((4, 3, 3, 3),)
    assert out[2] == ((4,),)
    assert out[3] == ((2, 4, 4, 4),)


def test_kernel_larger_than_input_names_layer_and_axis():
    nodes = _conv_graph("(5, 3)")
    with pytest.raises(ShapeError) as info:
        infer_graph(nodes, {"data": (1, 3, 2, 8)})
    assert str(info.value) == "layer 'c' (Convolution): kernel 5 exceeds input 2 along height"
    assert info.value.layer == "c"
    line = engine_error(nodes, {"data": (1, 3, 2, 8)}, info.value)
    assert str(line) == (
        "input data=(1, 3, 2, 8) is too small: layer 'c' (Convolution): kernel 5 exceeds input 2 along height"
    )


def test_bad_attribute_names_node_and_value():
    nodes = _conv_graph("(3 3)")
    with pytest.raises(GraphError, match=r"node 'c' \(Convolution\): attribute kernel='\(3 3\)'"):
        infer_graph(nodes, {"data": (1, 3, 8, 8)})


def test_unsupported_operator():
    nodes = _graph(("data", "null", {}, []), ("x", "_NoSuchOp", {}, [0]))
    with pytest.raises(UnsupportedOperator, match=r"node 'x'.*_NoSuchOp") as info:
        infer_graph(nodes, {"data": (1, 2)})
    assert info.value.layer == "x" and info.value.op == "_NoSuchOp"


def test_gluon_shape_attribute_zero_is_unknown():
    nodes = _graph(
        ("data", "null", {}, []),
        ("w", "null", {"__shape__": "(5, 0)"}, []),
        ("fc", "FullyConnected", {"num_hidden": "5", "no_bias": "True"}, [0, 1]),
    )
    assert infer_graph(nodes, {"data": (2, 3, 4)}).outputs[1] == ((5, 12),)
    conflicting = _graph(
        ("data", "null", {}, []),
        ("w", "null", {"__shape__": "(5, 7)"}, []),
        ("fc", "FullyConnected", {"num_hidden": "5", "no_bias": "True"}, [0, 1]),
    )
    with pytest.raises(ShapeError, match="layer 'fc'"):
        infer_graph(conflicting, {"data": (2, 3, 4)})


def test_label_inferred_backward_from_softmax_output():
    nodes = _graph(
        ("data", "null", {}, []),
        ("label", "null", {}, []),
        ("sm", "SoftmaxOutput", {}, [0, 1]),
    )
    out = infer_graph(nodes, {"data": (2, 5, 3, 4)}).outputs
    assert out[1] == ((2, 5, 3),)
    multi = _graph(
        ("data", "null", {}, []),
        ("label", "null", {}, []),
        ("sm", "SoftmaxOutput", {"multi_output": "1"}, [0, 1]),
    )
    assert infer_graph(multi, {"data": (2, 5, 3, 4)}).outputs[1] == ((2, 12),)


def _weight_read_before_it_is_fixed():
    """w feeds an elemwise_add before the FullyConnected that fixes its shape."""
    return _graph(
        ("data", "null", {}, []),
        ("w", "null", {}, []),
        ("twice", "elemwise_add", {}, [1, 1]),
        ("fc", "FullyConnected", {"num_hidden": "3", "no_bias": "1"}, [0, 1]),
        heads=[2, 3],
    )


def test_second_pass_fills_a_shape_a_later_node_fixes():
    nodes = _weight_read_before_it_is_fixed()
    out = infer_graph(nodes, {"data": (2, 4)}).outputs
    by_name = {node.name: out[node.index] for node in nodes}  # in MXNet's order: w, twice, data, fc
    assert [node.name for node in nodes] == ["w", "twice", "data", "fc"]
    assert by_name["w"] == ((3, 4),) and by_name["twice"] == ((3, 4),)


def test_full_pooling_float32_rounding():
    # (2^24 + 1) / 2 is 8388608.5, but in float32 2^24 + 1 is 2^24: MXNet gets 8388608 + 1.
    assert _full_f32(2**24 + 1, 2) == 1 + 2**23
    nodes = _graph(
        ("data", "null", {}, []),
        ("p", "Pooling", {"kernel": "(1,)", "stride": "(2,)", "pooling_convention": "full"}, [0]),
    )
    assert infer_graph(nodes, {"data": (1, 1, 2**24 + 2)}).outputs[1][0] == (1, 1, 1 + 2**23)
    assert infer_graph(nodes, {"data": (1, 1, 101)}).outputs[1][0] == (1, 1, 51)


def test_flatten_beyond_int32_is_refused():
    nodes = _graph(("data", "null", {}, []), ("flat", "Flatten", {}, [0]))
    with pytest.raises(ShapeError, match=r"layer 'flat' \(Flatten\): its input 65536x32768 holds"):
        infer_graph(nodes, {"data": (1, 65536, 32768)})
    assert infer_graph(nodes, {"data": (1, 65536, 32767)}).outputs[1] == ((1, 65536 * 32767),)


def test_lrn_leaves_output_unknown_for_a_partial_input():
    nodes = _graph(("data", "null", {"__shape__": "(0, 3, 8, 8)"}, []), ("lrn", "LRN", {"nsize": "3"}, [0]))
    inferred = infer_graph(nodes, {})
    assert inferred.outputs[1] == (None, None)
    assert not inferred.complete


def test_reshape_quirks():
    nodes = _graph(("data", "null", {}, []), ("r", "Reshape", {"shape": "(4,)"}, [0]))
    # MXNet 1.9.1 does not check the sizes (the check is compiled out in matrix_op-inl.h)
    assert infer_graph(nodes, {"data": (2, 3)}).outputs[1] == ((4,),)
    bad = _graph(("data", "null", {}, []), ("r", "Reshape", {"shape": "(0, 0, 0)"}, [0]))
    with pytest.raises(ShapeError, match="layer 'r' \\(Reshape\\)"):
        infer_graph(bad, {"data": (2, 3)})


def test_visible_outputs_and_aux():
    info = op_info("BatchNorm")
    assert info.visible({}) == 1 and info.visible({"output_mean_var": "True"}) == 3
    assert info.mutated_inputs({}) == (3, 4)
    assert op_info("Dropout").visible({}) == 1 and op_info("Dropout").num_outputs({}) == 2
    assert op_info("LeakyReLU").visible({"act_type": "rrelu"}) == 2
    assert op_info("Pooling").visible({"kernel": "(2, 2)"}) == 1


def test_aliases_share_one_entry():
    for alias, name in (
        ("_Plus", "elemwise_add"),
        ("flatten", "Flatten"),
        ("concat", "Concat"),
        ("split", "SliceChannel"),
        ("identity", "_copy"),
        ("stop_gradient", "BlockGrad"),
    ):
        assert OPS[alias] is OPS[name]
    assert op_info("no_such_op") is None


def test_every_entry_is_tagged():
    for name, info in OPS.items():
        assert info.spatial in ("keeps", "merges", "windowed", "other"), name
        assert info.macs in (None, "conv", "deconv", "fc"), name
    assert OPS["Convolution"].macs == "conv" and OPS["Pooling"].spatial == "windowed"


def test_axis_error_carries_its_axis():
    exc = AxisError("kernel 5 exceeds input 2", 1, 2)
    assert (exc.axis, exc.ndim, str(exc)) == (1, 2, "kernel 5 exceeds input 2")


# --- one pass: the walk made beside the shapes, and the answers shared by repeated settings ----


@pytest.mark.parametrize("name", CASES)
def test_the_walk_made_in_the_engines_pass_is_the_walk_of_its_shapes(name):
    """``walk=True`` steps the spatial walk through the nodes in the engine's first pass; where
    it gives one, it equals ``spatial_walk`` resumed from the final shapes (stored graphs)."""
    with open(os.path.join(ORACLE, f"{name}-symbol.json")) as f:
        nodes = parse_nodes(f.read())
    with open(os.path.join(ORACLE, f"{name}-shapes.json")) as f:
        inputs = {k: tuple(v) for k, v in json.load(f)["inputs"].items()}
    inferred = infer_graph(nodes, inputs, walk=True)
    assert infer_graph(nodes, inputs).spatial is None  # only when asked
    assert inferred.outputs == infer_graph(nodes, inputs).outputs
    first = [out[0] if out else None for out in inferred.outputs]
    assert inferred.spatial is not None, "these graphs learn every shape in one pass"
    assert inferred.spatial == spatial_walk(nodes, inputs, resume=first)


def test_no_walk_from_the_pass_when_a_later_pass_learns_a_shape():
    # 'twice' reads w before the FullyConnected that fixes w's shape: a second pass is needed,
    # so the first pass's walk (made before 'twice' knew its shape) is not handed out.
    nodes = _weight_read_before_it_is_fixed()
    inferred = infer_graph(nodes, {"data": (2, 4)}, walk=True)
    assert inferred.complete and inferred.spatial is None


def test_no_walk_from_the_pass_when_the_walk_fails_there(monkeypatch):
    # The walk and the rules agree on every graph the suite has; should the walk fail where the
    # rules do not, the pass hands out no walk, and the report's own walk meets the failure in
    # its own order (as before the walk joined the pass).
    import nin_mx.graph.engine as engine

    nodes = _graph(
        ("data", "null", {}, []),
        ("pool", "Pooling", {"kernel": "(2, 2)", "stride": "(2, 2)", "pool_type": "max"}, [0]),
    )
    inferred = infer_graph(nodes, {"data": (1, 3, 8, 8)}, walk=True)
    assert inferred.spatial is not None and inferred.spatial[1].spatial == (4, 4)

    def failing(node, *args):
        if node.op == "Pooling":
            raise GraphError("a walk failure")
        return walk_step(node, *args)

    monkeypatch.setattr(engine, "walk_step", failing)
    inferred = infer_graph(nodes, {"data": (1, 3, 8, 8)}, walk=True)
    assert inferred.outputs[1][0] == (1, 3, 4, 4) and inferred.spatial is None


def test_repeated_settings_share_answers_and_keep_their_own_shapes():
    """Nodes of one setting (the same operator and attributes but for annotations such as
    __block__) share the rule's answer for the same input shapes, and each still gets the
    shapes of its own inputs: a 3x3 convolution repeated on 8x8 and on 4x4 maps."""
    conv = {"kernel": "(3, 3)", "num_filter": "4", "pad": "(1, 1)", "no_bias": "True"}
    pool = {"kernel": "(2, 2)", "stride": "(2, 2)", "pool_type": "max"}
    nodes = _graph(
        ("data", "null", {}, []),
        ("w1", "null", {}, []),
        ("c1", "Convolution", {**conv, "__block__": "a"}, [0, 1]),
        ("w2", "null", {}, []),
        ("c2", "Convolution", {**conv, "__block__": "b"}, [2, 3]),
        ("p", "Pooling", pool, [4]),
        ("w3", "null", {}, []),
        ("c3", "Convolution", {**conv, "__block__": "c"}, [5, 6]),
    )
    out = {n.name: infer_graph(nodes, {"data": (1, 4, 8, 8)}).outputs[n.index] for n in nodes}
    assert out["c1"] == out["c2"] == ((1, 4, 8, 8),)
    assert out["c3"] == ((1, 4, 4, 4),)
    assert out["w1"] == out["w2"] == out["w3"] == ((4, 4, 3, 3),)
    # the same graph with a wrong number of channels in its input fails at the first node
    with pytest.raises(ShapeError, match="c2"):
        infer_graph(nodes[:5], {"data": (1, 4, 8, 8), "w2": (4, 3, 3, 3)})


def test_settings_kept_across_calls_answer_each_graph_for_its_own_shapes():
    """What the table says of a setting and what its rule answered are kept from one call to the
    next (a model is built and reported again and again, its layers' attribute mappings shared):
    each new build still gets the shapes of its own input, by MXNet's convolution arithmetic
    (``(n + 2 * pad - kernel) // stride + 1``: 8 -> 6, 10 -> 8)."""
    from nin_mx.graph.source import Graph
    from nin_mx.models import symbol as sym

    def built() -> tuple:
        x = sym.op("Convolution", sym.var("data"), name="c", num_filter=4, kernel=(3, 3), no_bias=True)
        return Graph.from_built(sym.op("Activation", x, name="r", act_type="relu")).nodes

    for side in (8, 10, 8):
        nodes = built()
        out = {n.name: infer_graph(nodes, {"data": (1, 2, side, side)}).outputs[n.index] for n in nodes}
        assert out["r"] == ((1, 4, side - 2, side - 2),)
        assert out["c_weight"] == ((4, 2, 3, 3),)
    with pytest.raises(ShapeError, match="c"):  # a kept answer is never a failure's
        infer_graph(built(), {"data": (1, 2, 2, 2)})
