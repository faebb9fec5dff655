"""The same JSON on every Python: with MXNet (3.11, 3.12) and without it (3.13, numpy 2).

The golden files in tests/data/golden were written on Python 3.11 with MXNet 1.9.1 installed:

    python -m nin_mx tests/data/params/gluon-symbol.json --input 3,16,16 --check \\
        --params tests/data/params/gluon-0000.params --format json > tests/data/golden/gluon-check-params.json
    python -m nin_mx tests/data/oracle/densenet121-symbol.json --input 3,224,224 --check \\
        --format json > tests/data/golden/densenet121-check.json

Every CI leg runs the same commands and must print them byte for byte; where MXNet is installed,
the shapes in them are also held against MXNet's own ``infer_shape`` and ``nd.load``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
CASES = {
    "gluon-check-params.json": (
        [
            *(str(DATA / "params" / "gluon-symbol.json"), "--input", "3,16,16", "--check"),
            *("--params", str(DATA / "params" / "gluon-0000.params"), "--format", "json"),
        ],
        3,
    ),
    "densenet121-check.json": (
        [
            str(DATA / "oracle" / "densenet121-symbol.json"),
            "--input",
            "3,224,224",
            "--check",
            "--format",
            "json",
        ],
        3,
    ),
}


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    code = "import sys; from nin_mx.cli import main; code = main(sys.argv[1:]); "
    code += "print('MXNET', 'mxnet.base' in sys.modules, file=sys.stderr); sys.exit(code)"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, timeout=300)


@pytest.mark.parametrize("golden", sorted(CASES))
def test_the_json_is_byte_for_byte_the_golden_file(golden):
    argv, code = CASES[golden]
    done = _run(argv)
    assert done.returncode == code, done.stderr
    assert done.stdout == (DATA / "golden" / golden).read_bytes()
    assert done.stderr.decode().splitlines()[-1] == "MXNET False"  # a file's report needs no MXNet


@pytest.mark.mxnet
def test_the_golden_shapes_are_mxnets():
    from nin_mx._mxnet import mx

    report = json.loads((DATA / "golden" / "gluon-check-params.json").read_text())["reports"][0]
    symbol = mx.sym.load(str(DATA / "params" / "gluon-symbol.json"))
    internals = symbol.get_internals()
    _, outs, _ = internals.infer_shape(data=(1, 3, 16, 16))
    named = dict(zip(internals.list_outputs(), outs))
    for row in report["layers"]:
        assert tuple(row["output_shape"]) == named[f"{row['name']}_output"]
    # The checkpoint was exported at 8x8: it fits there (MXNet says so), and the one finding of
    # the golden file on it is the dense weight, which fits input 3x8x8 only.
    stored = mx.nd.load(str(DATA / "params" / "gluon-0000.params"))
    args, _, auxs = symbol.infer_shape(data=(1, 3, 8, 8))
    expected = {**dict(zip(symbol.list_arguments(), args)), **dict(zip(symbol.list_auxiliary_states(), auxs))}
    for key, array in stored.items():
        assert array.shape == expected[key.split(":", 1)[1]]
    (params,) = [f for f in report["findings"] if f["rule"].startswith("params-")]
    assert params["detail"]["fits_input"] == [[3, 8, 8], [3, 8, 8]]
    assert tuple(params["detail"]["stored"]) == stored["arg:tiny_dense0_weight"].shape
