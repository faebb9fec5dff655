"""``nin-shape-report FILE --fix OUT``: the repaired graph written, proved, and explained.

The graphs are the suite's stored ones (tests/data/oracle: our manual-kernel NIN written by
MXNet; Gluon's squeezenet1.1 and densenet121 exports with their hand-computed pools), so these
tests need no MXNet; tests/test_fix.py judges the repaired graphs with MXNet itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nin_mx import check
from tests._cli import run_cli

ORACLE = Path(__file__).resolve().parent / "data" / "oracle"
PARAMS = Path(__file__).resolve().parent / "data" / "params"


@pytest.fixture
def densenet(tmp_path):
    path = tmp_path / "densenet121-symbol.json"
    path.write_bytes((ORACLE / "densenet121-symbol.json").read_bytes())
    return path


def test_fix_writes_the_repaired_graph_and_explains_it(densenet, tmp_path):
    out = tmp_path / "fixed-symbol.json"
    done = run_cli(str(densenet), "--input", "3,224,224", "--fix", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == f"fixed: 1 edit at input data=(1, 3, 224, 224), written to {out}"
    assert lines[1].startswith("  fixed-global-pool at densenet0_pool4_fwd: global_pool False->True")
    assert "recheck: 0 findings" in done.stdout
    assert "1 changed, 0 only in a, 0 only in b, 426 same" in done.stdout
    # Only the pool's attributes differ; the rest of the file is byte for byte the original.
    before, after = densenet.read_text(), out.read_text()
    old = (
        '"attrs":{"count_include_pad":"True","global_pool":"False","kernel":"(7, 7)","layout":"NCHW",'
        '"pad":"(0, 0)","pool_type":"avg","pooling_convention":"valid","stride":"(7, 7)"}'
    )
    new = '"attrs":{"count_include_pad":"True","global_pool":"True","layout":"NCHW","pool_type":"avg",'
    new += '"pooling_convention":"valid"}'
    assert before.count(old) == 1 and after == before.replace(old, new)
    # The fixed graph checks clean, and now takes a 256 input to a 1x1 pool.
    assert not [f for f in check(str(out), (1, 3, 224, 224)) if f.rule == "fixed-global-pool"]
    report = json.loads(run_cli(str(out), "--input", "3,256,256", "--format", "json").stdout)
    pool = next(row for row in report["reports"][0]["layers"] if row["name"] == "densenet0_pool4_fwd")
    assert pool["output_shape"] == [1, 1024, 1, 1]


def test_fix_as_json(densenet, tmp_path):
    out = tmp_path / "fixed-symbol.json"
    done = run_cli(str(densenet), "--input", "3,224,224", "--fix", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["fix"]["output"] == str(out)
    (edit,) = result["fix"]["edits"]
    assert edit["rule"] == "fixed-global-pool" and edit["added"] == {"global_pool": "True"}
    assert result["fix"]["param_changes"] == [] and result["fix"]["recheck"] == []
    assert result["diff"]["counts"] == {"same": 426, "changed": 1, "only_a": 0, "only_b": 0}


def test_nothing_to_fix_writes_nothing(tmp_path):
    out = tmp_path / "fixed-symbol.json"
    done = run_cli(str(ORACLE / "resnet18_v1-symbol.json"), "--input", "3,224,224", "--fix", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("nothing to fix: no finding of fixed-global-pool")
    assert not out.exists()


def test_the_checkpoint_is_checked_against_the_fixed_graph(tmp_path):
    """The suite's Gluon export has no hand-computed pool: nothing to fix, nothing to check."""
    out = tmp_path / "fixed-symbol.json"
    done = run_cli(
        str(PARAMS / "gluon-symbol.json"),
        "--input",
        "3,16,16",
        "--fix",
        str(out),
        "--params",
        str(PARAMS / "gluon-0000.params"),
    )
    assert done.returncode == 0, done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--fix-rules", "no-such-rule"], "unknown rule 'no-such-rule'"),
        (["--fix-rules", "custom-padding"], "custom-padding"),
        (["--check"], "does not combine"),
        (["--format", "csv"], "table, markdown, json or html"),
        (["--view", "blocks"], "table, markdown, json or html"),
    ],
)
def test_fix_usage_errors(densenet, tmp_path, extra, words):
    done = run_cli(str(densenet), "--input", "3,224,224", "--fix", str(tmp_path / "o.json"), *extra)
    assert done.returncode == 2 and words in done.stderr, done.stderr


def test_fix_never_overwrites_an_input(densenet, tmp_path):
    before = densenet.read_bytes()
    for target in (densenet, tmp_path / "link-symbol.json"):
        if target != densenet:
            os.symlink(densenet, target)
        done = run_cli(str(densenet), "--input", "3,224,224", "--fix", str(target))
        assert done.returncode == 2 and "would overwrite the symbol file" in done.stderr
    params = tmp_path / "w.params"
    params.write_bytes((PARAMS / "gluon-0000.params").read_bytes())
    done = run_cli(str(densenet), "--input", "3,224,224", "--fix", str(params), "--params", str(params))
    assert done.returncode == 2 and "would overwrite the checkpoint" in done.stderr
    assert densenet.read_bytes() == before


def test_fix_rules_needs_fix(densenet):
    done = run_cli(str(densenet), "--input", "3,224,224", "--fix-rules", "fixed-global-pool")
    assert done.returncode == 2 and "--fix-rules" in done.stderr
