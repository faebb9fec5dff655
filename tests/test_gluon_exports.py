"""Real graphs nobody here wrote: gluon.model_zoo.vision exports, reported like any file.

Models are built with ``pretrained=False`` (random init, no download), hybridized, run once,
exported to ``-symbol.json`` in a temporary folder, then reported through the API and the
CLI. Gluon's own parameter count and forward output are the references; torchvision's
published parameter counts and GFLOPS (multiply-accumulates, for the same architectures)
are the second.
"""

from __future__ import annotations

import json

import mxnet as mx
import pytest
from _cli import run_cli as _cli
from _gluon import (
    Export,
    aux_total,
    export_zoo,
    learnable_total,
    mxnet_shapes,
    output_of,
    visible_output_counts,
)

from nin_mx import shape_report
from nin_mx.graph.infer import internal_outputs
from nin_mx.graph.nodes import parse_nodes

# (name, input side); the small and mid-sized members of the zoo, chosen for runtime
ZOO = (
    ("resnet18_v1", 224),
    ("resnet18_v2", 224),
    ("mobilenet0.25", 224),
    ("mobilenetv2_0.25", 224),
    ("squeezenet1.1", 224),
    ("densenet121", 224),
    ("inceptionv3", 299),
)
NAMES = [name for name, _ in ZOO]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Export]:
    folder = tmp_path_factory.mktemp("zoo")
    return {name: export_zoo(name, folder, side) for name, side in ZOO}


@pytest.fixture(scope="module")
def reports(exports):
    return {name: shape_report(str(e.path), e.input_shape) for name, e in exports.items()}


@pytest.mark.parametrize("name", NAMES)
def test_api_counts_match_gluon(name, exports, reports):
    export, report = exports[name], reports[name]
    assert report.ok, report.error
    assert report.border_mode == "as built"
    assert report.model == f"{name}-symbol.json"
    assert report.input_shapes == {"data": export.input_shape}
    assert report.total_params + report.total_aux == export.gluon_count
    assert report.output_shape == export.output_shape == (1, 1000)


@pytest.mark.parametrize("name", NAMES)
def test_rows_match_mxnet_infer_shape(name, exports, reports):
    export, report = exports[name], reports[name]
    symbol = mx.sym.load(str(export.path))
    ref = mxnet_shapes(symbol, {"data": export.input_shape})
    nodes = json.loads(symbol.tojson())["nodes"]
    assert [r.name for r in report.layers] == [n["name"] for n in nodes if n["op"] != "null"]
    for row in report.layers:
        assert row.output_shape == output_of(ref, row.name), row.name
    assert report.total_params == learnable_total(ref, {"data": export.input_shape})
    assert report.total_aux == aux_total(ref)
    # every layer on a 4-D map has a receptive field (the walk models all of these operators)
    assert all(r.receptive_field for r in report.layers if len(r.output_shape) == 4)
    assert report.layers[-1].receptive_field is None  # the classifier's (N, 1000)


# torchvision's documented num_params (learnable; BatchNorm running statistics excluded) and
# GFLOPS (which are multiply-accumulates) for the same architectures at 224 (299 for Inception).
TORCHVISION = {
    "resnet18_v1": (11_689_512, 1.81),
    "squeezenet1.1": (1_235_496, 0.35),
    "densenet121": (7_978_856, 2.83),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_params_and_macs_match_torchvision(name, reports):
    params, gmacs = TORCHVISION[name]
    report = reports[name]
    assert report.total_params == params
    assert round(report.total_macs / 1e9, 2) == gmacs


def test_macs_of_mobilenet_and_inception_match_their_papers(reports):
    # MobileNet v1 paper, Table 6: 0.25 MobileNet-224 has 41 million mult-adds, 0.5 M params
    assert round(reports["mobilenet0.25"].total_macs / 1e6) == 41
    assert round(reports["mobilenet0.25"].total_params / 1e6, 1) == 0.5
    # Inception v3 at 299 without the auxiliary head: torchvision lists 5.71 GFLOPS
    assert round(reports["inceptionv3"].total_macs / 1e9, 2) == 5.71


def test_depthwise_convolutions_count_one_input_channel(reports):
    """MobileNet's depthwise 3x3 layers: num_group = channels, so C_in / groups = 1."""
    depthwise = [r for r in reports["mobilenet0.25"].layers if r.op == "Convolution" and r.kernel == (3, 3)][
        1
    ]  # the first 3x3 after the stem: 8 channels at 112 x 112
    assert depthwise.output_shape == (1, 8, 112, 112)
    assert depthwise.params == 8 * 1 * 3 * 3
    assert depthwise.macs == 8 * 112 * 112 * 1 * 3 * 3


@pytest.mark.parametrize("name", NAMES)
def test_cli_json_matches_gluon(name, exports):
    export = exports[name]
    side = export.input_shape[-1]
    proc = _cli(str(export.path), "--input", f"3,{side},{side}", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert data["model"] == f"{name}-symbol.json"
    assert data["input_shape"] == list(export.input_shape)
    (report,) = data["reports"]
    assert report["ok"] is True and report["border_mode"] == "as built"
    assert report["total_params"] + report["total_aux"] == export.gluon_count
    assert report["output_shape"] == list(export.output_shape)


@pytest.mark.parametrize("name", NAMES)
def test_internal_outputs_are_what_get_internals_lists(name, exports):
    """The report reads each node's outputs from the symbol's JSON (node_row_ptr and the
    visible-outputs table); on graphs nobody here wrote, that is MXNet's own get_internals()."""
    symbol = mx.sym.load(str(exports[name].path))
    graph = json.loads(symbol.tojson(remove_amp_cast=False))
    expected = visible_output_counts(symbol)
    assert internal_outputs(parse_nodes(graph), graph["node_row_ptr"], sum(expected)) == expected
