"""A fixed sample of the GluonCV 0.10.5 zoo, every family at least once, through
``scripts/gluoncv_corpus.py``: each network exported offline (``pretrained=False``,
``pretrained_base=False``), its shapes inferred by MXNet 1.9.1's ``infer_shape`` at its natural
input size, and by nin_mx's engine alone and with MXNet's fallback: every node output, argument
and auxiliary state equal. The whole zoo: ``python scripts/gluoncv_corpus.py``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mxnet

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "scripts" / "gluoncv_corpus.py"

# One or two small networks of each family; reshape_like's ranges (I3D's non-local blocks); the
# graphs nin_mx refused before it read parameters as MXNet does (issue 29): _arange's
# RangeParamParser (CenterNet, Faster R-CNN, SSD) and slice's Tuple<optional<int>> (SlowFast).
SAMPLE = {
    # mobilenet1.0_int8: MKLDNN subgraph operators (_sg_mkldnn_conv, quantized), no fallback
    "classification": ("mobilenetv3_small", "cifar_resnet20_v1", "mobilenet1.0_int8"),
    "detection": (
        "yolo3_mobilenet0.25_voc",
        "center_net_resnet18_v1b_dcnv2_voc",  # also ModulatedDeformableConvolution, gather_nd
        "faster_rcnn_resnet50_v1b_voc",  # also reverse, broadcast_axis
        "ssd_300_mobilenet0.25_voc",
    ),
    "segmentation": ("fastscnn_citys",),
    "pose": ("mobile_pose_mobilenetv3_small",),
    "action": (
        "r2plus1d_resnet18_kinetics400",
        "i3d_nl5_resnet50_v1_kinetics400",
        "slowfast_4x16_resnet50_kinetics400",
    ),
    "other": ("siamrpn_alexnet_v2_otb15",),
}

if importlib.util.find_spec("gluoncv") is None:  # pragma: no cover - the test extra installs it
    pytest.skip("gluoncv is not installed (pip install gluoncv==0.10.5)", allow_module_level=True)


def _corpus(names):
    out = subprocess.run(
        [sys.executable, str(CORPUS), "--json", "--jobs", "2", "--batch", "5", "--only", *names],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert rows, out.stderr[-2000:]
    return out.returncode, {r["name"]: r for r in rows if "name" in r}, rows[-1]["totals"]


@pytest.fixture(scope="module")
def corpus():
    return _corpus([n for names in SAMPLE.values() for n in names])


@pytest.mark.parametrize("name", [n for names in SAMPLE.values() for n in names])
def test_sample_equals_mxnet(corpus, name):
    row = corpus[1][name]
    assert row["status"] == "equal", row
    assert row["no_rule"] == [], row  # the engine alone: nothing left to MXNet


def test_every_family_is_sampled(corpus):
    families = {corpus[1][n]["family"] for names in SAMPLE.values() for n in names}
    assert families == {"classification", "detection", "segmentation", "pose", "action", "other"}
    assert all(corpus[1][n]["family"] == fam for fam, names in SAMPLE.items() for n in names)


def test_totals(corpus):
    code, rows, total = corpus
    assert total["models"] == len(rows) == sum(map(len, SAMPLE.values()))
    assert total["exported"] == total["inferred_by_mxnet"] == total["models"]
    assert total["equal_in_nin_mx"] == sum(r["status"] == "equal" for r in rows.values())
    assert code == (0 if total["equal_in_nin_mx"] == total["models"] else 1)


def test_a_model_that_does_not_exist_is_reported_not_raised():
    code, rows, total = _corpus(["no_such_model"])
    assert rows["no_such_model"]["status"] == "not-exported"
    assert total == {**total, "models": 1, "exported": 0, "inferred_by_mxnet": 0} and code == 0
