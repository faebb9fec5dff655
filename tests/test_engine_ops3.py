"""nin_mx's shape engine on the operators of the GluonCV 0.10.5 zoo added to the table (gather_nd,
reverse, broadcast_axis, _contrib_ModulatedDeformableConvolution, the random samplers, and
broadcast_like's lhs_axes/rhs_axes), against
MXNet 1.9.1's ``infer_shape`` (the oracle), refusals included, and on attribute values MXNet
would crash on."""

from __future__ import annotations

import json

import pytest

from nin_mx.core.errors import GraphError
from nin_mx.core.ops import OPS
from nin_mx.core.ops.registry import mxnet_operators
from nin_mx.core.ops.tensor import RANDOM_SAMPLERS
from nin_mx.graph.engine import infer_graph
from nin_mx.graph.nodes import parse_nodes

try:
    from nin_mx._mxnet import mx

    mx.sym  # noqa: B018 - imports MXNet now
    HAVE_MXNET = True
except Exception:  # pragma: no cover - MXNet missing
    HAVE_MXNET = False

if HAVE_MXNET:
    from tests.test_engine_oracle import compare
else:  # pragma: no cover
    compare = None


def _op(op, inputs=("data",), **attrs):
    """One node of ``op`` on variables named ``inputs``, built from JSON (every operator, even
    those the Python API does not show, such as ``_random_normal_like``)."""
    nodes = [{"op": "null", "name": n, "inputs": []} for n in inputs]
    nodes.append(
        {
            "op": op,
            "name": "x",
            "attrs": {k: str(v) for k, v in attrs.items()},
            "inputs": [[i, 0, 0] for i in range(len(inputs))],
        }
    )
    graph = {
        "nodes": nodes,
        "arg_nodes": list(range(len(inputs))),
        "heads": [[len(inputs), 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    return lambda: mx.sym.load_json(json.dumps(graph))


_MD = "_contrib_ModulatedDeformableConvolution"
_MD_IN = ("data", "offset", "mask", "weight", "bias")
_MD_NB = ("data", "offset", "mask", "weight")


def _md(shapes, **attrs):
    attrs = {"kernel": "(3, 3)", "num_filter": 6, **attrs}
    inputs = _MD_NB if attrs.get("no_bias") in ("True", "1") else _MD_IN
    return _op(_MD, inputs, **attrs), shapes


def _md_shapes(n=2, c=4, hw=(8, 8), off=18, mask=9, out=(8, 8)):
    return {"data": (n, c, *hw), "offset": (n, off, *out), "mask": (n, mask, *out)}


def _cases():
    nd = ("data", "indices")
    cases = {
        # indexing_op.h GatherNDShape: (M, Y..) indices into (X_0.., X_N-1): (Y.., X_M..)
        "gather_nd": [
            (_op("gather_nd", nd), {"data": (2, 3, 4), "indices": (2, 5)}),
            (_op("gather_nd", nd), {"data": (2, 3), "indices": (2, 5, 6)}),
            (_op("gather_nd", nd), {"data": (7, 3, 4), "indices": (1, 80)}),
            (_op("gather_nd", nd), {"data": (2, 3), "indices": (3, 5)}),  # M > N
            (_op("gather_nd", nd), {"data": (2, 3), "indices": (2,)}),  # 1-D indices
            (_op("gather_nd", nd), {"data": (1,) * 12, "indices": (11, 2)}),  # more than 10 axes
            (_op("gather_nd", nd), {"indices": (2, 5)}),  # data unknown: nothing inferred
            (_op("_npx_gather_nd", nd), {"data": (4, 3, 2), "indices": (3, 1, 2)}),
        ],
        # matrix_op.cc reverse: ElemwiseShape<1, 1>, the axes unchecked
        "reverse": [
            (_op("reverse", axis=1), {"data": (2, 3, 4)}),
            (_op("reverse", axis="(0, 2)"), {"data": (2, 3, 4)}),
            (_op("reverse", axis=7), {"data": (2, 3)}),
            (_op("flip", axis=0), {"data": (5,)}),
            (_op("reverse", axis=0), {}),
        ],
        # broadcast_reduce_op.h BroadcastAxesShape
        "broadcast_axis": [
            (_op("broadcast_axis", axis="(1, 3)", size="(4, 5)"), {"data": (2, 1, 3, 1)}),
            (_op("broadcast_axis", axis=0, size=6), {"data": (1, 3)}),
            (_op("broadcast_axes", axis=1, size=6), {"data": (2, 1, 3)}),
            (_op("broadcast_axis"), {"data": (2, 3)}),
            (_op("broadcast_axis", axis=1, size=4), {"data": (2, 3)}),  # axis of size 3
            (_op("broadcast_axis", axis=-1, size=4), {"data": (2, 1)}),  # no negative axes
            (_op("broadcast_axis", axis=2, size=4), {"data": (2, 1)}),  # out of range
            (_op("broadcast_axis", axis="(0, 1)", size=4), {"data": (1, 1)}),  # lengths differ
            (_op("broadcast_axis", axis=1, size=4), {}),
            (_op("broadcast_axis", axis="None", size="None"), {"data": (2, 3)}),  # unknown TShapes
            (_op("broadcast_axis", axis="None", size=3), {"data": (2, 1)}),
        ],
        # modulated_deformable_convolution-inl.h ModulatedDeformableConvolutionProp::InferShape
        _MD: [
            _md(_md_shapes(), pad="(1, 1)"),
            _md(_md_shapes(), pad="(1, 1)", no_bias="True"),
            _md(_md_shapes(off=18, mask=9, out=(4, 4)), pad="(1, 1)", stride="(2, 2)"),
            _md(_md_shapes(off=36, mask=18), pad="(1, 1)", num_deformable_group=2),
            _md(_md_shapes(), pad="(1, 1)", num_group=2),
            _md(_md_shapes(hw=(9, 7), out=(5, 3)), kernel="(3, 3)", dilate="(2, 2)"),
            _md(_md_shapes(n=130), pad="(1, 1)"),  # batch above im2col_step=64, not a multiple
            _md(_md_shapes(n=128), pad="(1, 1)"),
            _md(_md_shapes(n=130), pad="(1, 1)", im2col_step=130),
            _md(_md_shapes(mask=18), pad="(1, 1)"),  # mask channels
            _md(_md_shapes(mask=8), pad="(1, 1)"),
            _md({**_md_shapes(), "mask": (2, 9, 7, 8)}, pad="(1, 1)"),  # mask size
            _md({**_md_shapes(), "offset": (2, 18, 8, 7)}, pad="(1, 1)"),
            _md(_md_shapes(off=20), pad="(1, 1)"),
            _md(_md_shapes(c=5), pad="(1, 1)", num_group=2),
            _md(_md_shapes(c=6), pad="(1, 1)", num_deformable_group=4),
            _md(_md_shapes(hw=(2, 2), out=(0, 0)), kernel="(3, 3)"),
            _md({"data": (2, 4, 8, 8), "offset": (2, 18, 8, 8)}, pad="(1, 1)"),  # mask unknown
            _md({"offset": (2, 18, 8, 8), "mask": (2, 9, 8, 8)}, pad="(1, 1)"),  # data unknown
            _md({"data": (2, 4, 8), "offset": (2, 18, 8, 8), "mask": (2, 9, 8, 8)}),
        ],
        # elemwise_unary_op_basic.cc ReshapeLikeShapeCompute (the non-local blocks of I3D use
        # lhs_begin/lhs_end/rhs_begin/rhs_end); MXNet runs it, and refuses, on unknown shapes
        "reshape_like": [
            (_op("reshape_like", ("lhs", "rhs"), **kw), sh)
            for kw in (
                {},
                {"lhs_begin": 0, "lhs_end": 2, "rhs_begin": 0, "rhs_end": 1},
                {"lhs_begin": -2, "rhs_end": -1},
                {"lhs_begin": 2, "lhs_end": "None", "rhs_begin": 2},
                {"lhs_begin": 1, "lhs_end": 1},
                {"lhs_end": 4},
                {"rhs_begin": -5},
            )
            for sh in (
                {"lhs": (2, 3, 4), "rhs": (6, 4)},
                {"lhs": (1, 256, 3136), "rhs": (1, 512, 4, 28, 28)},
                {"lhs": (2, 3, 4), "rhs": (2, 3, 2, 2)},
                {"rhs": (6, 4)},
                {"lhs": (2, 3, 4)},
                {"lhs": (0, 3, 4), "rhs": (6, 4)},
            )
        ],
        # quantization/quantize_v2-inl.h, dequantize-inl.h, quantized_pooling.cc (MKL-DNN build)
        "quantization": [
            (_op("_contrib_quantize_v2", out_type="auto"), {"data": (2, 3, 4, 4)}),
            (_op("_contrib_quantize_v2", min_calib_range=-1.5, max_calib_range=2), {"data": (5,)}),
            (_op("_contrib_quantize_v2"), {}),
            (_op("_contrib_dequantize", ("data", "lo", "hi")), {"data": (2, 3)}),
            (_op("_contrib_dequantize", ("data", "lo", "hi")), {"data": (2, 3), "lo": (2,)}),
            (_op("_contrib_dequantize", ("data", "lo", "hi")), {"lo": (1,), "hi": (1,)}),
            *(
                (_op("_contrib_quantized_pooling", ("data", "lo", "hi"), **kw), sh)
                for kw in (
                    {"kernel": "(2, 2)", "stride": "(2, 2)"},
                    {"kernel": "(3, 3)", "stride": "(2, 2)", "pad": "(1, 1)", "pool_type": "avg"},
                    {"kernel": "(2, 2)", "stride": "(2, 2)", "pooling_convention": "full"},
                    {"kernel": "(1, 1)", "global_pool": "True", "pool_type": "avg"},
                    {"kernel": "(2, 2, 2)", "stride": "(2, 2, 2)"},
                    {"kernel": "(3,)"},
                    {"kernel": "(9, 9)"},
                )
                for sh in ({"data": (1, 4, 7, 7)}, {"data": (1, 4, 6, 7, 7)}, {"data": (1, 4, 7)}, {})
            ),
        ],
        # random/sample_op.h InitShape<Sample...Param>: the shape attribute, 0 unknown
        "samplers": [
            (_op("_random_normal", (), shape="(2, 3)", loc=1, scale=2), {}),
            (_op("random_normal", (), shape="(2, 3)"), {}),
            (_op("_random_normal", ()), {}),
            (_op("_random_normal", (), shape="None"), {}),
            (_op("_random_uniform", (), shape="(4, 0)"), {}),
            (_op("_random_randint", (), low=0, high=9, shape="(3,)", dtype="int64"), {}),
            (_op("_random_normal", (), shape="(65536, 65536)"), {}),  # beyond 2^31 - 1 elements
            *((_op(op, (), shape="(2, 1, 3)"), {}) for op in RANDOM_SAMPLERS if op != "_random_randint"),
            *((_op(f"{op}_like"), {"data": (3, 2)}) for op in RANDOM_SAMPLERS if op != "_random_randint"),
        ],
        # tensor/broadcast_reduce_op.h BroadcastLikeShape: with lhs_axes and rhs_axes, and without
        "broadcast_like": [
            *(
                (_op("broadcast_like", ("lhs", "rhs"), **kw), {"lhs": lhs, "rhs": rhs})
                for kw in (
                    {"lhs_axes": "(0,)", "rhs_axes": "(2,)"},
                    {"lhs_axes": "(0, -1)", "rhs_axes": "(-1, 0)"},
                    {"lhs_axes": "(1,)", "rhs_axes": "(0,)"},  # lhs axis 1 is 4, not 1: refused
                    {"lhs_axes": "(0,)", "rhs_axes": "(0, 1)"},  # sizes differ: refused
                    {"lhs_axes": "()", "rhs_axes": "()"},  # empty: refused
                    {"lhs_axes": "(3,)", "rhs_axes": "(0,)"},  # out of range: refused
                    {"lhs_axes": "(0,)"},  # one of them only: plain broadcast to rhs
                    {},
                )
                for lhs, rhs in (((1, 4, 1), (2, 3, 7)), ((1, 4, 5), (2, 4, 5)), ((1, 4), (7, 4)))
            ),
            (_op("broadcast_like", ("lhs", "rhs")), {"lhs": (1, 4, 5), "rhs": (2, 0, 5)}),
        ],
    }
    # a sampler whose output another operator fixes: MXNet's backward pass fills it
    cases["samplers"].append(
        (lambda: mx.sym.random_normal(shape=(0, 5), name="r") + mx.sym.var("data"), {"data": (4, 5)})
    )
    cases["samplers"].append((lambda: mx.sym.random_normal(name="r") + mx.sym.var("data"), {"data": (4, 5)}))
    return cases


_CASES = [
    (op, i, b, sh)
    for op, items in (_cases().items() if HAVE_MXNET else [])
    for i, (b, sh) in enumerate(items)
]


@pytest.mark.mxnet
@pytest.mark.skipif(not HAVE_MXNET, reason="MXNet cannot be imported")
@pytest.mark.parametrize(("op", "i", "build", "shapes"), _CASES, ids=[f"{c[0]}-{c[1]}" for c in _CASES])
def test_operator_against_mxnet(op, i, build, shapes):
    compare(build(), shapes)


@pytest.mark.mxnet
@pytest.mark.skipif(not HAVE_MXNET, reason="MXNet cannot be imported")
def test_cases_include_refusals():
    """The cases are not all easy: MXNet refuses some of each operator with a shape rule."""
    refused = {}
    for op, _, build, shapes in _CASES:
        try:
            build().get_internals().infer_shape_partial(**shapes)
        except mx.base.MXNetError:
            refused[op] = refused.get(op, 0) + 1
    assert set(refused) == {
        "gather_nd",
        "broadcast_axis",
        _MD,
        "reshape_like",
        "quantization",
        "samplers",
        "broadcast_like",
    }, refused


def test_every_name_is_mxnets_and_in_the_table():
    """Each operator (and alias) added is one MXNet 1.9.1 registers, with its input names."""
    names = [
        "gather_nd", "_npi_gather_nd", "_npx_gather_nd", "reverse", "flip", "broadcast_axis",
        "broadcast_axes", _MD, "uniform", "random_uniform", "normal", "random_normal", "random_randint",
        "_npi_random_randint", "_contrib_quantize_v2", "_contrib_dequantize", "_contrib_quantized_pooling",
        *RANDOM_SAMPLERS, *(f"{op}_like" for op in RANDOM_SAMPLERS if op != "_random_randint"),
    ]  # fmt: skip
    assert set(names) <= mxnet_operators()
    assert all(name in OPS for name in names), [n for n in names if n not in OPS]
    assert OPS[_MD].input_names({"kernel": "(3, 3)", "num_filter": "2"}) == _MD_IN
    assert OPS[_MD].input_names({"kernel": "(3, 3)", "num_filter": "2", "no_bias": "1"}) == _MD_NB
    assert OPS["gather_nd"].input_names({}) == ("data", "indices")
    assert OPS["_random_normal"].input_names({}) == ()
    assert (OPS[_MD].spatial, OPS[_MD].macs) == ("windowed", "conv")


# -- attribute values MXNet would crash on or refuse before any shape: one line naming the attribute


def _one_node(op, attrs, inputs, shapes):
    raw = [{"op": "null", "name": n, "inputs": []} for n in inputs]
    raw.append({"op": op, "name": "x", "attrs": attrs, "inputs": [[i, 0, 0] for i in range(len(inputs))]})
    nodes = parse_nodes({"nodes": raw, "arg_nodes": list(range(len(inputs))), "heads": [[len(inputs), 0, 0]]})
    return infer_graph(nodes, shapes)


@pytest.mark.parametrize(
    ("attrs", "word"),
    [
        ({"kernel": "(3, 3)", "num_filter": "4", "im2col_step": "0"}, "im2col_step"),
        ({"kernel": "(3, 3)", "num_filter": "4", "stride": "(0, 1)"}, "stride"),
        ({"kernel": "(3,)", "num_filter": "4"}, "kernel"),
        ({"kernel": "(3, 3)", "num_filter": "4", "layout": "NCW"}, "layout"),
    ],
)
def test_modulated_attributes_refused(attrs, word):
    shapes = {"data": (1, 4, 8, 8), "offset": (1, 18, 8, 8), "mask": (1, 9, 8, 8)}
    with pytest.raises(GraphError) as info:
        _one_node(_MD, attrs, _MD_IN, shapes)
    assert word in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.mxnet
@pytest.mark.skipif(not HAVE_MXNET, reason="MXNet cannot be imported")
@pytest.mark.parametrize(
    "attrs",
    [
        {"kernel": "(3,)", "num_filter": "4"},
        {"kernel": "(3, 3)", "num_filter": "4", "layout": "NCW"},
    ],
)
def test_modulated_attributes_mxnet_refuses_too(attrs):
    """Those MXNet refuses too (a 1-D kernel: "not implemented"), where refusing does not crash it."""
    shapes = {"data": (1, 4, 8, 8), "offset": (1, 18, 8, 8), "mask": (1, 9, 8, 8)}
    with pytest.raises(mx.base.MXNetError):
        _op(_MD, _MD_IN, **attrs)().infer_shape(**shapes)


def test_modulated_deformable_convolution_in_the_report():
    """A windowed layer with MACs: out elements x (C / groups) x kernel area (the sampling and the
    mask's multiplications aside, as for DeformableConvolution in the DCNv2 paper's count)."""
    from nin_mx.graph.source import Graph
    from nin_mx.report.rows import report_graph

    attrs = {"kernel": "(3, 3)", "num_filter": "6", "pad": "(1, 1)", "stride": "(2, 2)", "num_group": "2"}
    raw = [{"op": "null", "name": n, "inputs": []} for n in _MD_IN]
    raw.append({"op": _MD, "name": "dcn", "attrs": attrs, "inputs": [[i, 0, 0] for i in range(5)]})
    text = json.dumps({"nodes": raw, "arg_nodes": [0, 1, 2, 3, 4], "heads": [[5, 0, 0]]})
    graph = Graph.from_nodes(parse_nodes(text), text, label="dcn")
    shapes = {"data": (2, 4, 8, 8), "offset": (2, 18, 4, 4), "mask": (2, 9, 4, 4)}
    (row,) = [r for r in report_graph(graph, shapes).layers if r.name == "dcn"]
    assert row.output_shape == (2, 6, 4, 4)
    assert (row.kernel, row.stride, row.pad) == ((3, 3), (2, 2), (1, 1))
    assert row.macs == 2 * 6 * 4 * 4 * (4 // 2) * 3 * 3


def test_reverse_and_quantization_keep_the_spatial_walk():
    """A flip or a (de)quantization between two 3x3 convolutions: the second still sees a 5x5
    receptive field (two stacked 3x3 windows), its window read from its own attributes."""
    from nin_mx.graph.source import Graph
    from nin_mx.report.rows import report_graph

    conv = {"kernel": "(3, 3)", "num_filter": "2", "no_bias": "True"}
    raw = [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "w1", "inputs": []},
        {"op": "Convolution", "name": "c1", "attrs": conv, "inputs": [[0, 0, 0], [1, 0, 0]]},
        {"op": "reverse", "name": "flip", "attrs": {"axis": "3"}, "inputs": [[2, 0, 0]]},
        {"op": "_contrib_quantize_v2", "name": "q", "inputs": [[3, 0, 0]]},
        {"op": "_contrib_dequantize", "name": "dq", "inputs": [[4, 0, 0], [4, 1, 0], [4, 2, 0]]},
        {"op": "null", "name": "w2", "inputs": []},
        {"op": "Convolution", "name": "c2", "attrs": conv, "inputs": [[5, 0, 0], [6, 0, 0]]},
    ]
    text = json.dumps({"nodes": raw, "arg_nodes": [0, 1, 6], "heads": [[7, 0, 0]]})
    graph = Graph.from_nodes(parse_nodes(text), text, label="flip")
    rows = {r.name: r for r in report_graph(graph, {"data": (1, 1, 9, 9)}).layers}
    assert rows["c2"].output_shape == (1, 2, 5, 5)
    assert rows["c2"].receptive_field == (5, 5)
