#!/usr/bin/env python
"""Records what MXNet 1.9.1 writes for nin_mx's models, the oracle of the pure-Python builder.

For a matrix of factory calls (every model under every border mode and ``None``, ``pool_kernel``
``None`` and fixed, non-default ``num_classes``, ``repeats``, ``dropout``, ``pooling_convention``,
and ``manual_symbol`` at odd input sizes) it records MXNet's ``symbol.tojson()`` of
``nin_mx.get_symbol`` / ``nin_mx.manual_symbol``: its SHA-256 and length for every call in
``tests/data/builder/calls.json``, and the whole text of a few small calls beside it, for a
readable diff when one differs.
``tests/test_builder.py`` holds the builder to those bytes on every Python, MXNet or not.

The committed files were written at commit 0eff48a, where the factories still built through
``mx.sym`` (MXNet's own naming, attribute spelling and node order): the oracle. Run on later
code, the script records MXNet's ``tojson()`` of the symbol it loads from nin_mx's own JSON, and
must write the same files (a second check, of MXNet's round trip):

    .venv/bin/python scripts/make_builder_oracle.py
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, os.pardir, "tests", "data", "builder")

MODES = (None, "valid", "same", "half", "full")

#: (case id, model, factory kwargs); manual_symbol cases carry "manual": the data shape
CALLS: list[tuple[str, str, dict]] = []
IRV2 = "inception_resnet_v2"
for _model in ("nin_cifar10", "nin_imagenet", "inception_resnet_v2"):
    for _mode in MODES:
        CALLS.append((f"{_model}-{_mode or 'reference'}", _model, {"border_mode": _mode}))
    CALLS.append((f"{_model}-kernel-2x3", _model, {"pool_kernel": (2, 3)}))
    CALLS.append((f"{_model}-kernel-list", _model, {"pool_kernel": [5, 5], "border_mode": "valid"}))
CALLS += [
    ("nin_cifar10-classes-100", "nin_cifar10", {"num_classes": 100}),
    ("nin_imagenet-classes-7", "nin_imagenet", {"num_classes": 7, "border_mode": "full"}),
    ("inception_resnet_v2-classes-5", "inception_resnet_v2", {"num_classes": 5}),
    ("nin_cifar10-floor", "nin_cifar10", {"pooling_convention": "valid"}),
    ("nin_imagenet-floor-same", "nin_imagenet", {"pooling_convention": "valid", "border_mode": "same"}),
    ("nin_cifar10-floor-full", "nin_cifar10", {"pooling_convention": "valid", "border_mode": "full"}),
    ("inception_resnet_v2-repeats-1-1-1", "inception_resnet_v2", {"repeats": (1, 1, 1)}),
    ("inception_resnet_v2-repeats-0-0-1", IRV2, {"repeats": (0, 0, 1), "border_mode": "same"}),
    ("inception_resnet_v2-repeats-list", "inception_resnet_v2", {"repeats": [2, 3, 2]}),
    ("inception_resnet_v2-dropout-0.5", "inception_resnet_v2", {"dropout": 0.5}),
    ("inception_resnet_v2-dropout-0", "inception_resnet_v2", {"dropout": 0, "repeats": (1, 1, 1)}),
    ("inception_resnet_v2-dropout-third", "inception_resnet_v2", {"dropout": 1 / 3, "repeats": (1, 1, 2)}),
    ("inception_resnet_v2-dropout-tiny", "inception_resnet_v2", {"dropout": 1e-7, "repeats": (1, 1, 1)}),
    ("nin_cifar10-manual-33", "nin_cifar10", {"manual": (1, 3, 33, 33)}),
    ("nin_cifar10-manual-valid-47", "nin_cifar10", {"manual": (2, 3, 47, 41), "border_mode": "valid"}),
    ("nin_imagenet-manual-227", "nin_imagenet", {"manual": (1, 3, 227, 227)}),
    (
        "nin_imagenet-manual-floor-257",
        "nin_imagenet",
        {"manual": (1, 3, 257, 251), "pooling_convention": "valid"},
    ),
    ("inception_resnet_v2-manual-331", "inception_resnet_v2", {"manual": (1, 3, 331, 331)}),
    ("inception_resnet_v2-manual-full-101", IRV2, {"manual": (1, 3, 101, 99), "border_mode": "full"}),
]
#: calls whose whole text is kept beside the hashes
FULL_TEXT = ("nin_cifar10-reference", "nin_imagenet-valid", "inception_resnet_v2-repeats-1-1-1")


def record(build) -> dict[str, dict]:
    """``{case id: {"model", "kwargs", "sha256", "length"}}`` of ``build(model, kwargs) -> json``."""
    out = {}
    for case, model, kwargs in CALLS:
        text = build(model, dict(kwargs))
        out[case] = {
            "model": model,
            "kwargs": kwargs,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "length": len(text),
        }
    return out


def main() -> int:
    import nin_mx
    from nin_mx._mxnet import mx

    texts: dict[str, str] = {}

    def build(model: str, kwargs: dict) -> str:
        shape = kwargs.pop("manual", None)
        if shape is not None:
            sym = nin_mx.manual_symbol(model, shape, **kwargs)
        else:
            sym = nin_mx.get_symbol(model, **kwargs)
        text = sym.tojson()
        texts[_key(model, kwargs, shape)] = text
        return text

    def _key(model, kwargs, shape):
        return json.dumps([model, sorted(kwargs.items()), shape], default=list)

    calls = record(build)
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "about": "MXNet 1.9.1's symbol.tojson() of nin_mx's factories (scripts/make_builder_oracle.py)",
        "mxnet": mx.__version__,
        "calls": calls,
    }
    with open(os.path.join(OUT, "calls.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    for case, model, kwargs in CALLS:
        if case in FULL_TEXT:
            kw = dict(kwargs)
            shape = kw.pop("manual", None)
            with open(os.path.join(OUT, f"{case}-symbol.json"), "w", encoding="utf-8") as f:
                f.write(texts[_key(model, kw, shape)])
    print(f"wrote {len(calls)} calls to {os.path.relpath(OUT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
