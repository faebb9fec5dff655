"""Writes tests/data/subgraph/: one GluonCV 0.10.5 int8 graph (MKLDNN subgraph operators) and
MXNet 1.9.1's shapes for it, for the engine's tests where MXNet is not installed (run once,
commit the files; needs MXNet 1.9.1 and gluoncv 0.10.5, no network).

``resnet18_v1b_kinetics400_int8-symbol.json`` is the graph as ``scripts/gluoncv_corpus.py``
exports it (``get_model(..., pretrained=False)`` called on a symbol): 20 ``_sg_mkldnn_conv``
(with_bn, with_act, with_sum, with_postsum_act, quantized) and one float
``_sg_mkldnn_fully_connected``; ``...-shapes.json`` holds the input shape and MXNet's
``infer_shape`` over ``get_internals()`` (outputs in order, arguments, auxiliary states), as
``scripts/make_oracle.py`` writes them.

    .venv/bin/python scripts/make_subgraph_fixture.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "subgraph"
NAME = "resnet18_v1b_kinetics400_int8"


def main() -> int:
    sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
    import gluoncv_corpus

    from nin_mx._mxnet import mx

    text, shapes = gluoncv_corpus._export(NAME)
    internals = mx.sym.load_json(text).get_internals()
    args, outs, auxs = internals.infer_shape(**shapes)
    answers = {
        "inputs": {k: list(v) for k, v in shapes.items()},
        "outputs": [[n, list(s)] for n, s in zip(internals.list_outputs(), outs)],
        "args": {n: list(s) for n, s in zip(internals.list_arguments(), args)},
        "aux": {n: list(s) for n, s in zip(internals.list_auxiliary_states(), auxs)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{NAME}-symbol.json").write_text(json.dumps(json.loads(text), separators=(",", ":")) + "\n")
    (OUT / f"{NAME}-shapes.json").write_text(json.dumps(answers, separators=(",", ":")) + "\n")
    print(f"{NAME}: {len(answers['outputs'])} outputs -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
