"""nin_mx's shape engine on the detection, segmentation and tensor operators added to the table,
against MXNet 1.9.1's ``infer_shape`` (the oracle), and on attribute values MXNet would crash on."""

from __future__ import annotations

import json

import pytest

from nin_mx.core.errors import GraphError, ShapeError
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


def _v(name="data"):
    return mx.sym.var(name)


def _cases():
    s = mx.sym
    c = s.contrib
    v = _v
    d4 = {"data": (2, 8, 10, 12)}
    rois = {"data": (2, 8, 16, 16), "rois": (3, 5)}
    return {
        "ROIAlign": [
            (lambda: c.ROIAlign(v(), v("rois"), pooled_size=(7, 7), spatial_scale=0.5, name="x"), rois),
            (
                lambda: c.ROIAlign(
                    v(),
                    v("rois"),
                    pooled_size=(2, 2),
                    spatial_scale=0.0625,
                    position_sensitive=True,
                    name="x",
                ),
                rois,
            ),
            (
                lambda: c.ROIAlign(
                    v(), v("rois"), pooled_size=(3, 3), spatial_scale=1.0, position_sensitive=True, name="x"
                ),
                rois,
            ),
            (
                lambda: c.ROIAlign(v(), v("rois"), pooled_size=(7, 7), spatial_scale=0.5, name="x"),
                {"data": (2, 8, 16, 16)},
            ),
            (
                lambda: c.ROIAlign(v(), v("rois"), pooled_size=(7, 7), spatial_scale=0.5, name="x"),
                {"data": (2, 8, 16, 16), "rois": (3, 4)},
            ),
            (
                lambda: c.ROIAlign(v(), v("rois"), pooled_size=(7, 7), spatial_scale=0.5, name="x"),
                {"data": (2, 8, 16), "rois": (3, 5)},
            ),
        ],
        "ROIPooling": [
            (lambda: s.ROIPooling(v(), v("rois"), pooled_size=(7, 5), spatial_scale=0.25, name="x"), rois),
            (
                lambda: s.ROIPooling(v(), v("rois"), pooled_size=(7, 5), spatial_scale=0.25, name="x"),
                {"data": (2, 8, 16, 16)},
            ),
        ],
        "PSROIPooling": [
            (
                lambda: c.PSROIPooling(
                    v(), v("rois"), spatial_scale=0.5, output_dim=2, pooled_size=3, name="x"
                ),
                rois,
            ),
        ],
        "DeformablePSROIPooling": [
            (
                lambda: c.DeformablePSROIPooling(
                    v(),
                    v("rois"),
                    v("trans"),
                    spatial_scale=0.5,
                    output_dim=2,
                    pooled_size=3,
                    group_size=3,
                    name="x",
                ),
                {**rois, "trans": (3, 2, 3, 3)},
            ),
            (
                lambda: c.DeformablePSROIPooling(
                    v(),
                    v("rois"),
                    spatial_scale=0.5,
                    output_dim=2,
                    pooled_size=3,
                    group_size=3,
                    no_trans=True,
                    name="x",
                ),
                rois,
            ),
        ],
        "BilinearResize2D": [
            (lambda: c.BilinearResize2D(v(), height=5, width=7, name="x"), d4),
            (lambda: c.BilinearResize2D(v(), scale_height=1.5, scale_width=0.5, name="x"), d4),
            (
                lambda: c.BilinearResize2D(v(), scale_height=0.3, scale_width=0.7, name="x"),
                {"data": (1, 2, 7, 9)},
            ),
            (lambda: c.BilinearResize2D(v(), scale_height=1.5, name="x"), d4),
            (lambda: c.BilinearResize2D(v(), scale_width=1.5, height=3, width=4, name="x"), d4),
            (lambda: c.BilinearResize2D(v(), v("like"), mode="like", name="x"), {**d4, "like": (1, 1, 3, 4)}),
            (lambda: c.BilinearResize2D(v(), v("like"), mode="like", name="x"), d4),
            (
                lambda: c.BilinearResize2D(
                    v(), scale_height=2.0, scale_width=0.5, mode="odd_scale", name="x"
                ),
                {"data": (1, 2, 7, 8)},
            ),
            *[
                (lambda m=m: c.BilinearResize2D(v(), mode=m, name="x"), {"data": (1, 2, hw, hw + 1)})
                for m in ("to_even_down", "to_even_up", "to_odd_down", "to_odd_up")
                for hw in (6, 7)
            ],
            (lambda: c.BilinearResize2D(v(), height=5, width=7, name="x"), {"data": (1, 2, 3)}),
            (lambda: c.BilinearResize2D(v(), height=40000, width=7, name="x"), d4),
        ],
        "AdaptiveAvgPooling2D": [
            (lambda: c.AdaptiveAvgPooling2D(v(), name="x"), d4),
            (lambda: c.AdaptiveAvgPooling2D(v(), output_size=3, name="x"), d4),
            (lambda: c.AdaptiveAvgPooling2D(v(), output_size=(3, 5), name="x"), d4),
            (lambda: c.AdaptiveAvgPooling2D(v(), output_size=(3, 4, 5), name="x"), {"data": (1, 2, 3, 3, 3)}),
            (lambda: c.AdaptiveAvgPooling2D(v(), output_size=(3,), name="x"), {"data": (1, 2, 3)}),
        ],
        "box_nms": [
            (lambda: c.box_nms(v(), name="x"), {"data": (2, 10, 6)}),
            (
                lambda: c.box_non_maximum_suppression(
                    v(), id_index=0, score_index=1, coord_start=2, name="x"
                ),
                {"data": (10, 6)},
            ),
            (lambda: c.box_nms(v(), id_index=0, name="x"), {"data": (2, 10, 5)}),
            (lambda: c.box_nms(v(), score_index=3, name="x"), {"data": (2, 10, 6)}),
            (lambda: c.box_nms(v(), name="x"), {"data": (10,)}),
        ],
        "box_iou": [
            (lambda: c.box_iou(v(), v("b"), name="x"), {"data": (3, 4), "b": (2, 5, 4)}),
            (lambda: c.box_iou(v(), v("b"), name="x"), {"data": (3, 5), "b": (2, 5, 4)}),
        ],
        "bipartite_matching": [
            (lambda: c.bipartite_matching(v(), threshold=0.5, name="x"), {"data": (2, 3, 4)}),
            (lambda: c.bipartite_matching(v(), threshold=0.5, name="x"), {"data": (3, 4)}),
        ],
        "box_encode": [
            (
                lambda: c.box_encode(v("s"), v("m"), v("a"), v("r"), v("mean"), v("std"), name="x"),
                {"s": (2, 5), "m": (2, 5), "a": (2, 5, 4), "r": (2, 3, 4)},
            ),
        ],
        "box_decode": [
            (lambda: c.box_decode(v(), v("a"), name="x"), {"data": (2, 5, 4), "a": (1, 5, 4)}),
            (lambda: c.box_decode(v(), v("a"), name="x"), {"data": (2, 5, 4)}),
            (
                lambda: c.box_decode(v(), v("a"), format="corner", name="x"),
                {"data": (2, 5, 3), "a": (1, 5, 4)},
            ),
        ],
        "MultiBoxPrior": [
            (lambda: c.MultiBoxPrior(v(), name="x"), d4),
            (
                lambda: c.MultiBoxPrior(
                    v(), sizes=(0.2, 0.3, 0.4), ratios=(1, 2, 0.5), steps=(0.1, 0.1), name="x"
                ),
                d4,
            ),
            (lambda: c.MultiBoxPrior(v(), steps=(0.1, 0.1, 0.1), name="x"), d4),
            (lambda: c.MultiBoxPrior(v(), name="x"), {"data": (2, 3, 4)}),
        ],
        "MultiBoxDetection": [
            (
                lambda: c.MultiBoxDetection(v("cls"), v("loc"), v("anc"), name="x"),
                {"cls": (2, 3, 10), "loc": (2, 40), "anc": (1, 10, 4)},
            ),
            (
                lambda: c.MultiBoxDetection(v("cls"), v("loc"), v("anc"), name="x"),
                {"cls": (2, 3, 10), "loc": (2, 36), "anc": (1, 10, 4)},
            ),
        ],
        "MultiBoxTarget": [
            (
                lambda: c.MultiBoxTarget(v("anc"), v("lab"), v("cls"), name="x"),
                {"anc": (1, 10, 4), "lab": (2, 3, 5), "cls": (2, 4, 10)},
            ),
        ],
        "Proposal": [
            (
                lambda: c.Proposal(v("cls"), v("bbox"), v("info"), rpn_post_nms_top_n=50, name="x"),
                {"cls": (1, 18, 8, 8)},
            ),
            (
                lambda: c.MultiProposal(v("cls"), v("bbox"), v("info"), output_score=True, name="x"),
                {"cls": (2, 18, 8, 8)},
            ),
        ],
        "DeformableConvolution": [
            (
                lambda: c.DeformableConvolution(
                    v(), v("off"), kernel=(3, 3), num_filter=4, pad=(1, 1), name="x"
                ),
                {"data": (2, 4, 8, 8), "off": (2, 18, 8, 8)},
            ),
            (
                lambda: c.DeformableConvolution(
                    v(),
                    v("off"),
                    kernel=(3, 3),
                    num_filter=4,
                    stride=(2, 2),
                    num_group=2,
                    num_deformable_group=2,
                    no_bias=True,
                    name="x",
                ),
                {"data": (2, 4, 9, 9), "off": (2, 36, 4, 4)},
            ),
            (
                lambda: c.DeformableConvolution(v(), v("off"), kernel=(3, 3), num_filter=4, name="x"),
                {"data": (2, 4, 8, 8), "off": (2, 18, 8, 8)},
            ),
        ],
        "Embedding": [
            (lambda: s.Embedding(v(), input_dim=10, output_dim=4, name="x"), {"data": (2, 5)}),
            (lambda: s.Embedding(v(), input_dim=10, output_dim=4, name="x"), {"data": (7,)}),
        ],
        "UpSampling": [
            (lambda: s.UpSampling(v(), scale=2, sample_type="nearest", name="x"), d4),
            (
                lambda: s.UpSampling(v(), v("b"), scale=2, sample_type="nearest", num_args=2, name="x"),
                {"data": (1, 2, 4, 4), "b": (1, 3, 8, 8)},
            ),
            (
                lambda: s.UpSampling(
                    v(), v("b"), scale=2, sample_type="nearest", num_args=2, multi_input_mode="sum", name="x"
                ),
                {"data": (1, 3, 4, 4), "b": (1, 3, 2, 2)},
            ),
            (
                lambda: s.UpSampling(v(), v("b"), scale=2, sample_type="nearest", num_args=2, name="x"),
                {"data": (1, 2, 4, 4), "b": (1, 3, 3, 3)},
            ),
            (lambda: s.UpSampling(v(), scale=3, sample_type="bilinear", num_filter=8, name="x"), d4),
            (lambda: s.UpSampling(v(), scale=2, sample_type="bilinear", num_filter=8, name="x"), d4),
        ],
        "Pad": [
            (lambda: s.Pad(v(), mode="constant", pad_width=(0, 0, 0, 0, 1, 2, 3, 4), name="x"), d4),
            (
                lambda: s.pad(v(), mode="edge", pad_width=(0, 0, 0, 0, 1, 2, 3, 4, 0, 1), name="x"),
                {"data": (1, 2, 3, 4, 5)},
            ),
            (lambda: s.Pad(v(), mode="reflect", pad_width=(0, 0, 0, 0, 1, 1, 1, 1), name="x"), d4),
            (lambda: s.Pad(v(), mode="reflect", pad_width=(0, 0, 0, 0, 10, 1, 1, 1), name="x"), d4),
            (lambda: s.Pad(v(), mode="constant", pad_width=(0, 1, 0, 0, 1, 1, 1, 1), name="x"), d4),
            (lambda: s.Pad(v(), mode="constant", pad_width=(0, 0, 1, 1), name="x"), {"data": (2, 3)}),
        ],
        "Crop": [
            (lambda: s.Crop(v(), num_args=1, h_w=(3, 4), name="x"), d4),
            (lambda: s.Crop(v(), v("b"), num_args=2, name="x"), {**d4, "b": (1, 1, 5, 6)}),
            (lambda: s.Crop(v(), v("b"), num_args=2, center_crop=True, name="x"), {**d4, "b": (1, 1, 5, 6)}),
            (lambda: s.Crop(v(), num_args=1, h_w=(30, 4), name="x"), d4),
        ],
        "L2Normalization": [
            (lambda m=m: s.L2Normalization(v(), mode=m, name="x"), d4)
            for m in ("instance", "channel", "spatial")
        ]
        + [(lambda: s.L2Normalization(v(), mode="channel", name="x"), {"data": (2, 3)})],
        "slice": [
            (lambda: s.slice(v(), begin=(0, 1), end=(2, 5), name="x"), d4),
            (
                lambda: s.slice(v(), begin=(None, 1, -3), end=(None, None, None), step=(1, 2, -1), name="x"),
                d4,
            ),
            (lambda: s.slice(v(), begin=(-1,), end=(None,), step=(-2,), name="x"), d4),
            (lambda: s.crop(v(), begin=(0, 5), end=(2, 100), name="x"), d4),
            (lambda: s.slice(v(), begin=(1, 5), end=(1, 3), name="x"), d4),
            (lambda: s.slice(v(), begin=(0,), end=(2,), step=(0,), name="x"), d4),
            (lambda: s.slice(v(), begin=(0, 0, 0, 0, 0), end=(1, 1, 1, 1, 1), name="x"), d4),
        ],
        "slice_like": [
            (lambda: s.slice_like(v(), v("b"), name="x"), {**d4, "b": (1, 2, 3, 4)}),
            (lambda: s.slice_like(v(), v("b"), axes=(2, -1), name="x"), {**d4, "b": (1, 2, 3, 4)}),
            (lambda: s.slice_like(v(), v("b"), name="x"), {**d4, "b": (1, 2, 30, 4)}),
        ],
        "squeeze": [
            (lambda: s.squeeze(v(), name="x"), {"data": (1, 3, 1, 4)}),
            (lambda: s.squeeze(v(), axis=(0, -2), name="x"), {"data": (1, 3, 1, 4)}),
            (lambda: s.squeeze(v(), name="x"), {"data": (1, 1)}),
            (lambda: s.squeeze(v(), axis=1, name="x"), {"data": (1, 3, 1, 4)}),
        ],
        "stack": [
            (lambda: s.stack(v(), v("b"), axis=1, name="x"), {"data": (2, 3), "b": (2, 3)}),
            (lambda: s.stack(v(), v("b"), axis=-1, name="x"), {"data": (2, 3)}),
            (lambda: s.stack(v(), v("b"), v("c"), name="x"), {"data": (2, 3), "b": (2, 4)}),
        ],
        "tile": [
            (lambda: s.tile(v(), reps=(2, 3), name="x"), {"data": (2, 3, 4)}),
            (lambda: s.tile(v(), reps=(2, 1, 1, 3), name="x"), {"data": (2, 3)}),
            (lambda: s.tile(v(), reps=(0, 2), name="x"), {"data": (2, 3)}),
        ],
        "repeat": [
            (lambda: s.repeat(v(), repeats=3, name="x"), {"data": (2, 3)}),
            (lambda: s.repeat(v(), repeats=3, axis=-1, name="x"), {"data": (2, 3)}),
            (lambda: s.repeat(v(), repeats=0, name="x"), {"data": (2, 3)}),
            (lambda: s.repeat(v(), repeats=2, axis=2, name="x"), {"data": (2, 3)}),
        ],
        "where": [
            (lambda: s.where(v("c"), v(), v("b"), name="x"), {"c": (2, 3), "data": (2, 3)}),
            (lambda: s.where(v("c"), v(), v("b"), name="x"), {"c": (2,), "b": (2, 3)}),
            (lambda: s.where(v("c"), v(), v("b"), name="x"), {"c": (3,), "b": (2, 3)}),
            (lambda: s.where(v("c"), v(), v("b"), name="x"), {"c": (2, 3)}),
        ],
        "batch_dot": [
            (lambda: s.batch_dot(v(), v("b"), name="x"), {"data": (2, 3, 4), "b": (2, 4, 5)}),
            (
                lambda: s.batch_dot(v(), v("b"), transpose_a=True, transpose_b=True, name="x"),
                {"data": (2, 4, 3), "b": (2, 5, 4)},
            ),
            (lambda: s.batch_dot(v(), v("b"), name="x"), {"data": (2, 3, 4), "b": (2, 5, 5)}),
            (lambda: s.batch_dot(v(), v("b"), name="x"), {"data": (3, 4), "b": (4, 5)}),
        ],
        "shape_array": [
            (lambda: s.shape_array(v(), name="x"), d4),
            (lambda: s.size_array(v(), name="x"), d4),
        ],
        "arange": [
            (lambda: s.arange(start=0, stop=10, step=3, name="x"), {}),
            (lambda: s.arange(start=2, stop=10, step=0.5, repeat=2, name="x"), {}),
            (lambda: s.arange(start=5, stop=1, step=-1.5, name="x"), {}),
            (lambda: s.arange(start=5, stop=1, name="x"), {}),
        ],
        "topk": [
            (lambda r=r: s.topk(v(), k=3, ret_typ=r, name="x"), d4)
            for r in ("value", "indices", "mask", "both")
        ]
        + [
            (lambda: s.topk(v(), axis=1, k=0, ret_typ="both", name="x"), d4),
            (lambda: s.topk(v(), axis=None, k=5, name="x"), d4),
            (lambda: s.topk(v(), k=30, name="x"), d4),
            (lambda: s.argsort(v(), name="x"), d4),
            (lambda: s.argsort(v(), axis=None, name="x"), d4),
            (lambda: s.sort(v(), axis=1, name="x"), d4),
        ],
        "argmax": [
            (lambda: s.argmax(v(), axis=1, name="x"), d4),
            (lambda: s.argmin(v(), axis=-1, keepdims=True, name="x"), d4),
            (lambda: s.argmax(v(), name="x"), d4),
            (lambda: s.argmax(v(), keepdims=True, name="x"), d4),
        ],
        "pick": [
            (lambda: s.pick(v(), v("i"), axis=1, name="x"), d4),
            (lambda: s.pick(v(), v("i"), axis=1, keepdims=True, name="x"), d4),
            (lambda: s.pick(v(), v("i"), axis=-1, name="x"), {**d4, "i": (2, 8, 10, 1)}),
        ],
        # MXNet 1.9.1's _npi_concatenate reads axis (default 0, None flattens), not Concat's dim
        "_npi_concatenate": [
            *(
                (
                    lambda ax=ax: s.np.concatenate([v().as_np_ndarray(), v("b").as_np_ndarray()], axis=ax),
                    shapes,
                )
                for ax, shapes in (
                    (0, {"data": (2, 3), "b": (4, 3)}),
                    (None, {"data": (2, 3), "b": (5,)}),
                    (-1, {"data": (2, 3), "b": (2, 4)}),
                )
            ),
            (lambda: _np_concatenate_without_axis(), {"data": (2, 3), "b": (4, 3)}),
        ],
        "quadratic": [
            (lambda: c.quadratic(v(), a=1, name="x"), d4),
            (lambda: c.div_sqrt_dim(v(), name="x"), d4),
        ],
    }


def _np_concatenate_without_axis():
    """``_npi_concatenate`` with its axis left out, as MXNet's own JSON writer never writes it."""
    nodes = [{"op": "null", "name": name, "inputs": []} for name in ("data", "b")]
    nodes.append(
        {"op": "_npi_concatenate", "name": "x", "attrs": {"num_args": "2"}, "inputs": [[0, 0, 0], [1, 0, 0]]}
    )
    graph = {
        "nodes": nodes,
        "arg_nodes": [0, 1],
        "heads": [[2, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    return mx.sym.load_json(json.dumps(graph))


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


# -- attribute values MXNet would crash on: GraphError naming the attribute, never a ZeroDivisionError


def _one_node(op, attrs, inputs, shapes):
    raw = [{"op": "null", "name": n, "inputs": []} for n in inputs]
    raw.append({"op": op, "name": "x", "attrs": attrs, "inputs": [[i, 0, 0] for i in range(len(inputs))]})
    nodes = parse_nodes({"nodes": raw, "arg_nodes": list(range(len(inputs))), "heads": [[len(inputs), 0, 0]]})
    return infer_graph(nodes, shapes)


@pytest.mark.parametrize(
    ("op", "attrs", "inputs", "word"),
    [
        (
            "_contrib_DeformableConvolution",
            {"kernel": "(3, 3)", "num_filter": "4", "num_group": "0"},
            ("data", "off", "w", "b"),
            "num_group",
        ),
        (
            "_contrib_DeformableConvolution",
            {"kernel": "(3, 3)", "num_filter": "4", "num_deformable_group": "0"},
            ("data", "off", "w", "b"),
            "num_deformable_group",
        ),
        (
            "_contrib_DeformableConvolution",
            {"kernel": "(3, 3)", "num_filter": "4", "stride": "(0, 1)"},
            ("data", "off", "w", "b"),
            "stride",
        ),
        (
            "_contrib_DeformableConvolution",
            {"kernel": "(3, 3)", "num_filter": "4", "dilate": "(1, 0)"},
            ("data", "off", "w", "b"),
            "dilate",
        ),
        (
            "_contrib_ROIAlign",
            {"pooled_size": "(0, 7)", "spatial_scale": "0.5"},
            ("data", "rois"),
            "pooled_size",
        ),
        (
            "_contrib_ROIAlign",
            {"pooled_size": "(7, 7)", "spatial_scale": "2"},
            ("data", "rois"),
            "spatial_scale",
        ),
        ("ROIPooling", {"pooled_size": "(7,)", "spatial_scale": "0.5"}, ("data", "rois"), "pooled_size"),
        ("UpSampling", {"scale": "0", "sample_type": "nearest", "num_args": "1"}, ("data",), "scale"),
        ("_arange", {"start": "0", "stop": "5", "step": "0"}, (), "step"),
        ("_arange", {"start": "0", "stop": "5", "repeat": "0"}, (), "repeat"),
        ("_contrib_BilinearResize2D", {"height": "0"}, ("data",), "height"),
        ("Embedding", {"input_dim": "0", "output_dim": "3"}, ("data", "w"), "input_dim"),
        ("stack", {"num_args": "0"}, (), "num_args"),
        ("Crop", {"num_args": "4"}, ("a", "b", "c", "d"), "num_args"),
    ],
)
def test_attributes_mxnet_refuses(op, attrs, inputs, word):
    shapes = {"data": (1, 4, 8, 8), "off": (1, 18, 8, 8), "rois": (2, 5)}
    with pytest.raises(GraphError) as info:
        _one_node(op, attrs, inputs, {k: v for k, v in shapes.items() if k in inputs})
    assert word in str(info.value)
    assert "\n" not in str(info.value)


def test_slice_step_zero_is_a_shape_error_not_a_crash():
    with pytest.raises(ShapeError, match="step"):
        _one_node("slice", {"begin": "(0,)", "end": "(2,)", "step": "(0,)"}, ("data",), {"data": (3, 4)})


def test_json_roundtrip_of_case_symbols():
    """The graphs the oracle cases build parse (every node has a rule)."""
    if not HAVE_MXNET:
        pytest.skip("MXNet cannot be imported")
    for _op, _, build, _ in _CASES:
        parse_nodes(json.loads(build().tojson()), trusted=True)
