"""Which operators of the GluonCV zoo's graphs the ONNX export cannot translate, by family.

For a sample of ``gluoncv.model_zoo.get_model_list()`` (or the names given), in child processes
(a few models each, so memory is given back), each graph is built offline and written as
``-symbol.json`` exactly as ``scripts/gluoncv_corpus.py`` does (same factories, same natural input
sizes), then read as a user's file would be (``Graph.from_file``) and exported with
``nin_mx.export.export_onnx`` (no checkpoint: seeded random initializers):

- every operator without a handler is listed with its reason (``translation_of``);
- every node is then translated one by one, so that every handler's refusal of a setting
  (``pooling_convention 'same'`` ...) is listed too, not only the first;
- when nothing is refused, the whole export runs and ``onnx.checker.check_model`` checks it.

The sample: per family at most ``--per-family`` models (classification, detection, segmentation,
pose, action), one of each architecture first (the name up to its first digit or ``_``), in the
zoo's order; ``--all`` takes every model. Needs MXNet 1.9.1, gluoncv and onnx.

    python scripts/onnx_survey.py                       # the sample, one worker
    python scripts/onnx_survey.py --only resnet18_v1 psp_resnet101_ade --json

Prints one line per model, then per family the operators with no translation and the models
they stop; with ``--json`` one JSON object per model, then one with the table. Exit 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gluoncv_corpus as corpus  # the zoo's factories, families and sizes

__all__ = ["main", "sample", "survey_model", "table"]

FAMILIES = ("classification", "detection", "segmentation", "pose", "action")


def _arch(name: str) -> str:
    return re.split(r"[\d_.]", name, maxsplit=1)[0] or name


def sample(names: Sequence[str], per_family: int) -> list[str]:
    """Up to ``per_family`` names of each family: one of each architecture first, then the rest,
    in the zoo's order."""
    chosen: list[str] = []
    for fam in FAMILIES:
        members = [n for n in names if corpus.family(n) == fam]
        firsts = list({_arch(n): n for n in reversed(members)}.values())[::-1]
        rest = [n for n in members if n not in firsts]
        chosen += (firsts + rest)[:per_family]
    return chosen


def _refusals(graph: Any, shapes: dict[str, tuple[int, ...]], opset: int) -> dict[str, str]:
    """Operator -> the first reason a node of it is not translated (each node tried alone)."""
    from nin_mx.core.errors import GraphError
    from nin_mx.core.ops._base import Attrs
    from nin_mx.export.builder import Builder, NeedsStatic
    from nin_mx.export.handlers import handler_for, translation_of
    from nin_mx.graph.shapes import infer

    found: dict[str, str] = {}
    for node in graph.nodes:
        if not node.is_variable and handler_for(node.op, opset) is None:
            found.setdefault(node.op, translation_of(node.op))
    base = infer(graph, shapes)

    def no_weights(tensor: Any, *_: Any) -> None:  # the weights do not matter here
        from nin_mx.export import proto

        tensor.data_type = proto.FLOAT

    b = Builder(graph.nodes, base, [], opset, graph.inputs, no_weights)
    for node in graph.nodes:
        handler = None if node.is_variable else handler_for(node.op, opset)
        if handler is None:
            continue
        try:
            handler(b, node, Attrs(node.attrs))
        except NeedsStatic:
            continue
        except GraphError as exc:
            text = str(exc)
            if "which the export does not write" in text:  # a node after a refused one
                continue
            found.setdefault(node.op, text.split("cannot be exported to ONNX: ", 1)[-1])
    return found


def survey_model(name: str, tmp: str, opset: int) -> dict[str, Any]:
    """One model: built, written, read, its refusals listed, exported and checked."""
    import onnx

    from nin_mx.export import export_onnx
    from nin_mx.graph.source import Graph

    row: dict[str, Any] = {"name": name, "family": corpus.family(name)}
    start = time.perf_counter()
    try:
        text, shapes = corpus._export(name)
    except Exception as exc:  # a failure to build offline is a finding of the survey
        return {**row, "status": "not-built", "why": corpus._one_line(exc)}
    finally:
        gc.collect()
    path = os.path.join(tmp, f"{name}-symbol.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    row["input"] = {k: list(v) for k, v in shapes.items()}
    try:
        graph = Graph.from_file(path)
        refused = _refusals(graph, shapes, opset)
    except Exception as exc:
        return {**row, "status": "nin-fails", "why": corpus._one_line(exc)}
    row["untranslated"] = refused
    if not refused:
        try:
            exported = export_onnx(path, input_shapes=shapes, opset=opset)
            onnx.checker.check_model(exported.model)
            row["symbolic"] = list(exported.symbolic)
            row["notes"] = list(exported.notes)
            del exported
        except Exception as exc:
            return {**row, "status": "export-fails", "why": corpus._one_line(exc)}
    row["seconds"] = round(time.perf_counter() - start, 2)
    return {**row, "status": "refused" if refused else "exported"}


def _worker(names: Sequence[str], opset: int) -> None:
    """Runs in a child process: one JSON line per model on stdout."""
    sys.path.insert(0, str(corpus.ROOT))
    import nin_mx._mxnet  # noqa: F401 - numpy's bool alias before MXNet on 3.12

    corpus._numpy_aliases()
    with tempfile.TemporaryDirectory(prefix="onnx-survey-") as tmp:
        os.environ["MXNET_HOME"] = os.path.join(tmp, "mxnet-home")  # no cached weights: offline
        for name in names:
            print(json.dumps(survey_model(name, tmp, opset)), flush=True)
            for f in os.listdir(tmp):
                if f.endswith(".json"):
                    os.unlink(os.path.join(tmp, f))
            gc.collect()


def _run_batch(names: Sequence[str], opset: int, timeout: float) -> list[dict[str, Any]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--opset", str(opset), "--worker", *names]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=corpus._env())
        stdout, why = proc.stdout, f"worker exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        why = f"worker timed out after {timeout:.0f} s"
    rows = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith("{")]
    left = [n for n in names if n not in {r["name"] for r in rows}]
    if left:  # the model that stopped the worker, then the rest in a new one
        rows.append({"name": left[0], "family": corpus.family(left[0]), "status": "not-built", "why": why})
        rows += _run_batch(left[1:], opset, timeout) if left[1:] else []
    return rows


def table(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Family -> untranslated operator -> the models it stops."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for op in row.get("untranslated", {}):
            found[row["family"]][op].append(row["name"])
    return {fam: dict(sorted(ops.items())) for fam, ops in found.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these models only")
    ap.add_argument("--all", action="store_true", help="every model of the zoo, not a sample")
    ap.add_argument("--per-family", type=int, default=12, help="models per family in the sample (12)")
    ap.add_argument("--opset", type=int, default=17, help="the ONNX opset (17)")
    ap.add_argument("--batch", type=int, default=6, help="models per child process (6)")
    ap.add_argument("--json", action="store_true", help="one JSON object per model, then the table")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.opset)
        return 0
    names = args.only or corpus.model_list()
    if not args.only and not args.all:
        names = sample(names, args.per_family)
    rows = []
    for i in range(0, len(names), args.batch):
        for row in _run_batch(names[i : i + args.batch], args.opset, timeout=900):
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                ops = ", ".join(row.get("untranslated", {}))
                why = row.get("why", "")
                print(f"{row['status']:<13} {row['family']:<15} {row['name']}  {ops or why}", flush=True)
    found = table(rows)
    if args.json:
        print(json.dumps({"table": found}))
        return 0
    for fam in FAMILIES:
        fam_rows = [r for r in rows if r["family"] == fam]
        if not fam_rows:
            continue
        done = sum(r["status"] == "exported" for r in fam_rows)
        print(f"\n{fam}: {done} of {len(fam_rows)} exported")
        for op, models in found.get(fam, {}).items():
            reason = next(r["untranslated"][op] for r in fam_rows if op in r.get("untranslated", {}))
            print(f"  {op:<32} {len(models):>3} models  ({reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
