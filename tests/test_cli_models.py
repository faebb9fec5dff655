"""What ``nin-shape-report`` prints for nin_mx's own models, byte for byte on every Python.

The cases are scripts/cli_snapshot.py's model cases (every format, view, border mode, ``--check``,
``--min-input``, ``--diff`` against a hand-computed pool, failures and usage errors: all but the
pooling comparison's numbers); the SHA-256 of each output was recorded on Python 3.11 with MXNet
1.9.1 (``cli_snapshot.py --golden``). On Python 3.13 without MXNet the same bytes must come out:
the models are built, inferred and reported by nin_mx alone.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GOLDEN = json.loads((ROOT / "tests" / "data" / "golden" / "cli-models.json").read_text(encoding="utf-8"))


def _snapshot_module():
    spec = importlib.util.spec_from_file_location("cli_snapshot", ROOT / "scripts" / "cli_snapshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    snapshot = _snapshot_module()
    zoo = tmp_path_factory.mktemp("zoo")
    snapshot.write_manual_file(zoo)
    cases = snapshot.model_cases(zoo)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        texts = pool.map(lambda argv: snapshot.run_case(argv, zoo), cases.values())
        return {name: snapshot.digest(text) for name, text in zip(cases, texts)}


def test_the_recorded_cases_are_the_model_cases(outputs):
    assert sorted(outputs) == sorted(GOLDEN["cases"])
    assert len(outputs) >= 50


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_model_case_prints_what_it_printed_on_python_3_11(outputs, case):
    assert outputs[case] == GOLDEN["cases"][case]["sha256"], (
        f"{case}: nin-shape-report {' '.join(GOLDEN['cases'][case]['argv'])} printed other bytes "
        "(python scripts/cli_snapshot.py OUTDIR -k CASE shows them)"
    )
