"""``--diff`` end to end: two graphs side by side, exit codes as diff(1).

Known answers from the construction: a graph against itself has no differences; the model with
a hand-computed final pool differs from the global one in exactly that pool; two border modes of
one model pair every layer (no one-sided rows).
"""

from __future__ import annotations

import json

import pytest
from _cli import run_cli as run

from nin_mx import manual_pool_kernel, symbol_json


@pytest.fixture(scope="module")
def manual_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("diff") / "irv2-manual-symbol.json"
    kernel = manual_pool_kernel("inception_resnet_v2", (1, 3, 299, 299))  # 8x8
    path.write_text(symbol_json("inception_resnet_v2", pool_kernel=kernel), encoding="utf-8")
    return str(path)


def test_a_model_against_itself_exits_0():
    proc = run("nin_cifar10", "--diff", "nin_cifar10")
    assert proc.returncode == 0, proc.stderr
    assert "no differences" in proc.stdout
    assert "0 changed, 0 only in a, 0 only in b, 25 same" in proc.stdout


def test_the_manual_pool_against_the_global_one_differs_in_that_pool_only(manual_file):
    proc = run("inception_resnet_v2", "--diff", manual_file, "--format", "json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == ["schema_version", "diff"]
    diff = data["diff"]
    changed = [row for row in diff["rows"] if row["status"] != "same"]
    assert len(changed) == 1
    (row,) = changed
    assert row["status"] == "changed" and row["a"]["name"] == row["b"]["name"] == "global_pool"
    assert "attrs.global_pool" in row["differences"]
    assert row["a"]["output_shape"] == row["b"]["output_shape"] == [1, 1536, 1, 1]  # same at 299
    assert diff["totals_a"] == diff["totals_b"]
    assert diff["counts"]["only_a"] == diff["counts"]["only_b"] == 0
    for row in diff["rows"]:
        assert set(row) >= {"status", "a", "b", "differences"}
    table = run("inception_resnet_v2", "--diff", manual_file)
    assert table.returncode == 3
    assert [ln.split()[0] for ln in table.stdout.splitlines() if ln.startswith("changed")] == ["changed"]


def test_at_another_size_the_manual_pool_changes_the_classifier_too(manual_file):
    # at 331 the last map is 9x9: the 8x8 kernel pools it to 2x2 and fc gets 4x the inputs
    data = json.loads(
        run("inception_resnet_v2", "--diff", manual_file, "--input", "3,331,331", "--format", "json").stdout
    )
    changed = {
        row["a"]["name"]: row["differences"] for row in data["diff"]["rows"] if row["status"] == "changed"
    }
    assert "output_shape" in changed["global_pool"] and "params" in changed["fc"]


def test_two_border_modes_of_one_model_pair_every_layer():
    proc = run("nin_imagenet", "--diff", "nin_imagenet", "--border-mode", "valid,same", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    diff = json.loads(proc.stdout)["diff"]
    assert (diff["border_mode_a"], diff["border_mode_b"]) == ("valid", "same")
    assert diff["counts"]["only_a"] == diff["counts"]["only_b"] == 0
    conv1 = next(row for row in diff["rows"] if row["a"]["name"] == "conv1")
    # 11x11 stride 4: valid pads 0, 224 -> 54; same pads 5, (224 + 10 - 11) // 4 + 1 = 56
    assert (conv1["a"]["output_shape"], conv1["b"]["output_shape"]) == ([1, 96, 54, 54], [1, 96, 56, 56])
    assert conv1["differences"][:3] == ["output_shape", "macs", "pad"]
    assert conv1["attr_changes"]["pad"] == ["(0, 0)", "(5, 5)"]
    assert all(row["status"] == "changed" for row in diff["rows"] if row["a"]["op"] == "Convolution")


def test_all_lists_every_pair_and_csv_works():
    default = run("nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "valid,full")
    every = run("nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "valid,full", "--all")
    assert every.stdout.count("\nsame ") > default.stdout.count("\nsame ")
    csv_text = run(
        "nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "valid,full", "--format", "csv"
    ).stdout
    assert csv_text.splitlines()[0].startswith("status,differences,")


def test_a_side_that_fails_is_one_line_and_the_diff_is_still_made():
    proc = run("nin_cifar10", "--diff", "nin_cifar10", "--input", "3,8,8", "--border-mode", "valid,same")
    assert proc.returncode == 3
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("nin-shape-report: a (valid): ") and "'conv2'" in line
    both = run("nin_cifar10", "--diff", "nin_cifar10", "--input", "3,1,1", "--border-mode", "valid")
    assert both.returncode == 1 and both.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("nin_cifar10", "--diff", "nin_cifar10", "--check"),
        ("nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "all"),
        ("nin_cifar10", "--diff", "nin_cifr10"),
        ("nin_cifar10", "--all"),
        ("nin_cifar10", "--diff", " "),
    ],
)
def test_usage_errors_exit_2(args):
    proc = run(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "error:" in proc.stderr
