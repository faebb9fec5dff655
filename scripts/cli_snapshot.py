#!/usr/bin/env python
"""Records what ``nin-shape-report`` prints for a fixed set of cases, to check a refactoring.

Each case's stdout, stderr and exit code go to one file in OUTDIR. Run it before and after a
change and compare the folders (``diff -r before after``): an empty diff means the command's
output stayed byte-identical. The cases cover the three models in every format and mode,
``--min-input``, ``--compare-pooling``, failing input sizes, usage errors and Gluon
model-zoo exports (built with ``pretrained=False``, exported in OUTDIR/zoo, so no download).

The cases of nin_mx's own models that need no MXNet (all but ``--compare-pooling``'s numbers and
the Gluon exports: :func:`model_cases`) are also held byte for byte on every Python by
``tests/test_cli_models.py``, against the SHA-256 of each output recorded with ``--golden``
on Python 3.11 with MXNet.

Usage:
    python scripts/cli_snapshot.py OUTDIR [--jobs 2] [-k PATTERN]
    python scripts/cli_snapshot.py --golden tests/data/golden/cli-models.json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

MODELS = ("nin_cifar10", "nin_imagenet", "inception_resnet_v2")
FORMATS = ("table", "markdown", "csv", "json")
# (name, input side that works, input side that fails)
ZOO = (
    ("resnet18_v1", 224, 16),
    ("mobilenet0.25", 224, 8),
    ("squeezenet1.1", 224, 16),
    ("densenet121", 224, 16),
    ("inceptionv3", 299, 64),
    ("alexnet", 224, 32),
)
EXTRA = (("squeezenet1.0", 224),)  # only diffed


def _cases(zoo: Path) -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for model in MODELS:
        for fmt in FORMATS:
            cases[f"{model}-{fmt}"] = [model, "--format", fmt]
        cases[f"{model}-all-reference-json"] = [model, "--border-mode", "all,reference", "--format", "json"]
        cases[f"{model}-min-input"] = [model, "--min-input"]
        cases[f"{model}-compare-pooling-json"] = [model, "--compare-pooling", "--format", "json"]
        cases[f"{model}-reference-table"] = [model, "--border-mode", "reference"]
    cases["nin_cifar10-fails"] = ["nin_cifar10", "--input", "3,8,8"]
    cases["nin_cifar10-fails-json"] = ["nin_cifar10", "--input", "3,8,8", "--format", "json"]
    cases["nin_cifar10-all-fail"] = ["nin_cifar10", "--input", "3,1,1", "--border-mode", "valid"]
    cases["nin_imagenet-floor"] = ["nin_imagenet", "--input", "3,256,256", "--batch", "2"]
    cases["inception-small"] = ["inception_resnet_v2", "--input", "3,64,64", "--format", "markdown"]
    cases["inception-compare-same"] = ["inception_resnet_v2", "--compare-pooling", "--border-mode", "same"]
    cases["nin_cifar10-compare-min-markdown"] = [
        "nin_cifar10",
        "--compare-pooling",
        "--min-input",
        "--format",
        "markdown",
    ]
    cases["usage-unknown-model"] = ["nin_cifar"]
    cases["usage-bad-mode"] = ["nin_cifar10", "--border-mode", "wide"]
    cases["usage-bad-input"] = ["nin_cifar10", "--input", "3,0,32"]
    cases["usage-csv-min"] = ["nin_cifar10", "--format", "csv", "--min-input"]
    cases["usage-file-no-input"] = [str(zoo / "resnet18_v1-symbol.json")]
    cases["list-models"] = ["--list-models"]
    cases["missing-file"] = [str(zoo / "nothing-symbol.json"), "--input", "3,32,32"]
    for name, good, bad in ZOO:
        path = str(zoo / f"{name}-symbol.json")
        cases[f"zoo-{name}-table"] = [path, "--input", f"3,{good},{good}"]
        cases[f"zoo-{name}-json"] = [path, "--input", f"3,{good},{good}", "--format", "json"]
        cases[f"zoo-{name}-fails"] = [path, "--input", f"3,{bad},{bad}"]
    cases["zoo-resnet18_v1-min-input"] = [
        str(zoo / "resnet18_v1-symbol.json"),
        "--input",
        "3,224,224",
        "--min-input",
    ]
    cases["zoo-resnet18_v1-mode-note"] = [
        str(zoo / "resnet18_v1-symbol.json"),
        "--input",
        "3,224,224",
        "--border-mode",
        "valid",
        "--format",
        "csv",
    ]
    # Views, checks, checkpoints, diffs and HTML (the issue "Layers you can see").
    for model in MODELS:
        for view in ("blocks", "stages"):
            cases[f"{model}-view-{view}"] = [model, "--view", view]
            cases[f"{model}-view-{view}-json"] = [model, "--view", view, "--format", "json"]
        cases[f"{model}-check"] = [model, "--check"]
        cases[f"{model}-html"] = [model, "--format", "html"]
    cases["irv2-stages-csv"] = ["inception_resnet_v2", "--view", "stages", "--format", "csv"]
    cases["irv2-blocks-markdown"] = ["inception_resnet_v2", "--view", "blocks", "--format", "markdown"]
    cases["nin_cifar10-check-html"] = ["nin_cifar10", "--check", "--format", "html", "--input", "3,40,40"]
    cases["nin_cifar10-check-json"] = ["nin_cifar10", "--check", "--format", "json", "--input", "3,40,40"]
    for name, good, _ in ZOO:
        path = str(zoo / f"{name}-symbol.json")
        params = str(zoo / f"{name}-0000.params")
        cases[f"zoo-{name}-check"] = [path, "--input", f"3,{good},{good}", "--check"]
        cases[f"zoo-{name}-check-json"] = [path, "--input", f"3,{good},{good}", "--check", "--format", "json"]
        cases[f"zoo-{name}-params"] = [path, "--input", f"3,{good},{good}", "--params", params]
        cases[f"zoo-{name}-params-small"] = [path, "--input", "3,331,331", "--params", params, "--check"]
        cases[f"zoo-{name}-blocks"] = [path, "--input", f"3,{good},{good}", "--view", "blocks"]
        cases[f"zoo-{name}-html"] = [path, "--input", f"3,{good},{good}", "--check", "--format", "html"]
    cases["diff-modes"] = ["nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "valid,same"]
    cases["diff-modes-all"] = ["nin_cifar10", "--diff", "nin_cifar10", "--border-mode", "valid,full", "--all"]
    for fmt in (*FORMATS, "html"):
        cases[f"diff-zoo-{fmt}"] = [
            str(zoo / "squeezenet1.1-symbol.json"),
            "--diff",
            str(zoo / "squeezenet1.0-symbol.json"),
            "--input",
            "3,224,224",
            "--format",
            fmt,
        ]
    cases["diff-irv2-manual"] = ["inception_resnet_v2", "--diff", str(zoo / "irv2-manual-symbol.json")]
    cases["diff-irv2-manual-331"] = [
        "inception_resnet_v2",
        "--diff",
        str(zoo / "irv2-manual-symbol.json"),
        "--input",
        "3,331,331",
        "--format",
        "json",
    ]
    cases["diff-usage-check"] = ["nin_cifar10", "--diff", "nin_imagenet", "--check"]
    return cases


MANUAL_FILE = "irv2-manual-symbol.json"  # the one file the model cases read


def model_cases(zoo: Path) -> dict[str, list[str]]:
    """The cases that read no Gluon export and compute no numbers: they run without MXNet."""
    return {
        name: argv
        for name, argv in _cases(zoo).items()
        if "--compare-pooling" not in argv
        and all(str(zoo) not in arg or arg == str(zoo / MANUAL_FILE) for arg in argv)
    }


def write_manual_file(zoo: Path) -> None:
    """Inception-ResNet-v2 with its final pool hand-computed at 299 x 299, written by nin_mx
    (the bytes MXNet writes: tests/test_builder.py)."""
    import nin_mx
    from nin_mx.report.comparison import manual_pool_kernel

    kernel = manual_pool_kernel("inception_resnet_v2", (1, 3, 299, 299))
    zoo.mkdir(parents=True, exist_ok=True)
    (zoo / MANUAL_FILE).write_text(
        nin_mx.symbol_json("inception_resnet_v2", pool_kernel=kernel), encoding="utf-8"
    )


def run_case(argv: list[str], zoo: Path) -> str:
    """One case's exit code, stdout and stderr, as one text (the zoo's path written ZOO)."""
    proc = subprocess.run(
        [sys.executable, "-m", "nin_mx", *argv], capture_output=True, text=True, check=False, timeout=600
    )
    text = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
    return text.replace(str(zoo), "ZOO")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _export_zoo(zoo: Path) -> None:
    from nin_mx._mxnet import mx  # not `import mxnet`: see nin_mx._mxnet's numpy.bool shim

    zoo.mkdir(parents=True, exist_ok=True)
    for name, side in (*((n, s) for n, s, _ in ZOO), *EXTRA):
        if (zoo / f"{name}-symbol.json").exists():
            continue
        mx.random.seed(0)
        net = mx.gluon.model_zoo.vision.get_model(name, pretrained=False)
        net.initialize()
        net.hybridize()
        net(mx.nd.zeros((1, 3, side, side)))
        net.export(str(zoo / name))
    if not (zoo / MANUAL_FILE).exists():
        write_manual_file(zoo)


def _run(name: str, argv: list[str], out: Path, zoo: Path) -> None:
    (out / f"{name}.txt").write_text(run_case(argv, zoo), encoding="utf-8")


def _golden(path: Path, jobs: int) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        zoo = Path(tmp) / "zoo"
        write_manual_file(zoo)
        cases = model_cases(zoo)
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            texts = dict(zip(cases, pool.map(lambda argv: run_case(argv, zoo), cases.values())))
    golden = {
        "about": "SHA-256 of the output of each model case (scripts/cli_snapshot.py --golden)",
        "cases": {
            name: {"argv": cases[name], "sha256": digest(text)} for name, text in sorted(texts.items())
        },
    }
    for case in golden["cases"].values():
        case["argv"] = [arg.replace(str(zoo), "ZOO") for arg in case["argv"]]
    path.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} model cases in {path}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, nargs="?")
    parser.add_argument("--golden", type=Path, help="write the model cases' hashes to this file instead")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("-k", metavar="PATTERN", help="only the cases whose name matches this regex")
    args = parser.parse_args()
    if args.golden is not None:
        return _golden(args.golden, args.jobs)
    if args.outdir is None:
        parser.error("give OUTDIR or --golden FILE")
    args.outdir.mkdir(parents=True, exist_ok=True)
    zoo = args.outdir.resolve().parent / "zoo"  # shared by the before and after folders
    _export_zoo(zoo)
    cases = {k: v for k, v in _cases(zoo).items() if args.k is None or re.search(args.k, k)}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(_run, name, argv, args.outdir, zoo) for name, argv in cases.items()]
        for future in futures:
            future.result()
    print(f"{len(cases)} cases in {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
