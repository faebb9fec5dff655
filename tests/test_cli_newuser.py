"""What a new user trips over (issue 23): factory arguments from the command line, a
channels-last input, the checkpoint's findings once, the pooling comparison's border mode,
and what ``--border-mode all`` means."""

from __future__ import annotations

import json

import pytest

from tests._cli import run_cli

pytestmark = pytest.mark.mxnet  # builds our models


@pytest.fixture(scope="module")
def nin100(tmp_path_factory):
    """A checkpoint of nin_cifar10 saved with num_classes=100."""
    from nin_mx import get_symbol
    from nin_mx._mxnet import mx

    sym = get_symbol("nin_cifar10", num_classes=100)
    args, _, _ = sym.infer_shape(data=(1, 3, 32, 32))
    arrays = {
        f"arg:{n}": mx.nd.zeros(s)
        for n, s in zip(sym.list_arguments(), args)
        if n not in ("data", "softmax_label")
    }
    path = tmp_path_factory.mktemp("ckpt") / "nin100-0000.params"
    mx.nd.save(str(path), arrays)
    return str(path)


def test_model_arg_builds_the_graph_the_checkpoint_came_from(nin100):
    fits = run_cli("nin_cifar10", "--model-arg", "num_classes=100", "--params", nin100, "--format", "json")
    assert fits.returncode == 0, fits.stderr
    doc = json.loads(fits.stdout)
    assert [r["output_shape"] for r in doc["reports"]] == [[1, 100]] * 3
    assert all(r["findings"] == [] for r in doc["reports"])


def test_the_checkpoints_findings_that_every_mode_shares_are_printed_once(nin100):
    done = run_cli("nin_cifar10", "--params", nin100)
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert "findings under valid: none" in lines and "findings under full: none" in lines
    shared = [line for line in lines if line.startswith("checkpoint findings")]
    assert shared == ["checkpoint findings, the same under every border mode: 2 (2 errors)"]
    assert sum("cccp6_weight is stored as (100, 192, 1, 1)" in line for line in lines) == 1


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        (
            "classes=100",
            "takes no argument 'classes' (it takes num_classes, pool_kernel, pooling_convention)",
        ),
        ("num_classes=ten", "num_classes takes an integer"),
        ("num_classes", "NAME=VALUE"),
        ("border_mode=same", "--border-mode"),
        ("pool_kernel=8,x", "pool_kernel"),
    ],
)
def test_model_arg_usage_errors(arg, words):
    done = run_cli("nin_cifar10", "--model-arg", arg)
    assert done.returncode == 2 and words in done.stderr, done.stderr


def test_model_arg_types_follow_the_factory():
    done = run_cli(
        "inception_resnet_v2",
        "--model-arg",
        "repeats=1,2,1",
        "--model-arg",
        "dropout=0.5",
        "--border-mode",
        "valid",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    names = [row["name"] for row in json.loads(done.stdout)["reports"][0]["layers"]]
    assert "block17_2_up" in names and "block17_3_up" not in names


def test_a_channels_last_input_gets_a_hint():
    done = run_cli("nin_cifar10", "--input", "32,32,3", "--border-mode", "full")
    assert done.returncode == 0
    assert "did you mean C,H,W = 3,32,32?" in done.stderr
    quiet = run_cli("nin_cifar10", "--input", "3,32,32", "--border-mode", "full")
    assert quiet.stderr == ""


def test_compare_pooling_names_its_border_mode():
    done = run_cli("nin_cifar10", "--compare-pooling", "--border-mode", "valid", "--format", "json")
    assert json.loads(done.stdout)["pooling_comparison"]["border_mode"] == "valid"
    table = run_cli("nin_cifar10", "--compare-pooling")
    assert "pooling (reference): manual kernel 8x8" in table.stdout


def test_border_mode_all_is_what_help_says():
    assert "all, which is valid,same,full" in " ".join(run_cli("--help").stdout.split())
    every = json.loads(run_cli("nin_cifar10", "--border-mode", "all", "--format", "json").stdout)
    assert [r["border_mode"] for r in every["reports"]] == ["valid", "same", "full"]


def test_compare_pooling_builds_the_model_with_its_model_args():
    done = run_cli("nin_imagenet", "--model-arg", "pooling_convention=valid", "--compare-pooling")
    assert "manual kernel 5x5 at input 1x3x224x224" in done.stdout  # floor pools: a 5x5 last map


def test_a_stage_leaves_by_its_trunk_and_prints_rf_as_the_layer_view():
    """docs/reference.md: 17x17x1088 after Mixed_6a and the block17s; Mixed_7a's branches are
    not the stage's output, though their 1x1 convolutions come last in graph order."""
    doc = json.loads(run_cli("inception_resnet_v2", "--view", "stages", "--format", "json").stdout)
    rows = {row["name"]: row for row in doc["reports"][0]["view_rows"]}  # valid
    assert rows["stage6"]["output_shape"] == [1, 1088, 17, 17]
    assert rows["stage7"]["input_shape"] == [1, 1088, 17, 17]
    assert rows["stage5"]["output_shape"] == [1, 320, 35, 35]
    table = run_cli("nin_cifar10", "--view", "stages").stdout.splitlines()
    stage1 = next(line for line in table if line.startswith("stage1 "))
    assert stage1.endswith(" 5x5")
