"""The GluonCV 0.10.5 model zoo as a corpus of real graphs: nin_mx's engine against MXNet 1.9.1.

For every name of ``gluoncv.model_zoo.get_model_list()`` (or the ones given), in child processes
(a few models each, so memory is given back):

1. **export**: ``get_model(name, pretrained=False, pretrained_base=False)`` (no file, no network),
   called on symbols (what ``HybridBlock.export`` writes), its JSON written to a temporary
   ``-symbol.json``;
2. **MXNet**: ``infer_shape`` of that file at the family's natural input size (classification 224,
   Inception and Xception 299, CIFAR 32, SSD 300/512, YOLOv3 416, CenterNet 512, R-CNN 600x800,
   segmentation the network's own crop size, pose 256x192, video clips (N, 3, T, H, W) ...);
3. **nin_mx**: the file read as a user's would be (``Graph.from_file``), its shapes inferred by the
   engine alone (``graph.engine.infer_graph``: no operator left to MXNet) and by
   ``graph.shapes.infer`` (the engine, MXNet's ``infer_shape`` only for an operator without a
   rule), each compared with MXNet's on every node output, argument and auxiliary state.

Each model ends in one status: ``equal`` (both of nin_mx's answers are MXNet's), ``fallback``
(equal only with MXNet's fallback), ``mismatch``, ``nin-fails`` (nin_mx refuses the file or
fails to infer it where MXNet infers it), ``mxnet-fails`` (MXNet's own ``infer_shape`` refuses it
at that size), ``not-exported`` (it does not build offline or cannot be called on symbols).

    python scripts/gluoncv_corpus.py                    # the whole zoo, 2 workers
    python scripts/gluoncv_corpus.py --only resnet18_v1 ssd_300_vgg16_atrous_voc --json

Prints one line per model and the totals (exported, inferred by MXNet, equal in nin_mx); with
``--json``, one JSON object per model and one for the totals instead. Needs MXNet 1.9.1 and
gluoncv 0.10.5 (``pip install gluoncv==0.10.5``). Exit 0 when every model MXNet infers is equal,
else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["compare_model", "family", "main", "natural_shapes"]

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("equal", "fallback", "mismatch", "nin-fails", "mxnet-fails", "not-exported")

# -- which family, which input size ---------------------------------------------------------------

_ACTION = ("ucf101", "hmdb51", "kinetics400", "kinetics700", "sthsthv2")
_ACTION_3D = ("c3d", "p3d", "r2plus1d", "i3d", "slowfast")
_SEGMENTATION = ("fcn_", "psp_", "deeplab", "icnet", "fastscnn", "danet")


def family(name: str) -> str:
    """classification, detection, segmentation, pose, action or other, by the zoo's naming."""
    if any(name.startswith(p) for p in _SEGMENTATION) or (name.startswith("hrnet") and name.endswith("_s")):
        return "segmentation"
    if name.startswith(("ssd_", "yolo3_", "faster_rcnn", "mask_rcnn", "doublehead", "center_net", "custom_")):
        return "detection"
    if "pose" in name and not name.startswith("monodepth"):
        return "pose"
    base = name[: -len("_int8")] if name.endswith("_int8") else name
    if (
        base.endswith(_ACTION)
        or name.startswith(_ACTION_3D)
        or name in ("resnet18_v1b_custom", "resnet50_v1b_custom")
    ):
        return "action"
    if name.startswith(("siamrpn", "monodepth")):
        return "other"
    return "classification"


def _frames(name: str, net: Any) -> int:
    """Frames of one clip: what each video family's reference transform feeds it."""
    fast, slow = getattr(net, "fast_frames", None), getattr(net, "slow_frames", None)
    if fast is not None and slow is not None:  # SlowFast: the fast clip, then the slow one
        return int(fast) + int(slow)
    if name.startswith("i3d_slow"):
        return 16 if "f16" in name else 8
    if name.startswith(("c3d", "p3d", "r2plus1d")):
        return 16
    return 32  # I3D


def natural_shapes(name: str, net: Any) -> dict[str, tuple[int, ...]]:
    """The input shapes a model of the zoo is built for (batch 1), by the input names it takes."""
    fam = family(name)
    if fam == "segmentation":
        up = getattr(net, "_up_kwargs", None) or {}
        crop = getattr(net, "crop_size", 480)
        h, w = up.get("height", crop), up.get("width", crop)
        if name.startswith("hrnet"):
            h, w = 512, 1024
        return {"data": (1, 3, int(h), int(w))}
    if fam == "detection":
        if name.startswith("ssd_"):
            side = int(name.split("_")[1])
        elif name.startswith("yolo3"):
            side = 416
        elif name.startswith("center_net"):
            side = 512
        else:  # R-CNN: gluoncv's presets resize the short side to 600, the long one up to 1000
            return {"data": (1, 3, 600, 800)}
        return {"data": (1, 3, side, side)}
    if fam == "pose":
        return {"data": (1, 3, 320, 256)} if name.startswith("alpha_pose") else {"data": (1, 3, 256, 192)}
    if fam == "action":
        if name.startswith(_ACTION_3D):
            side = 112 if name.startswith(("c3d", "p3d", "r2plus1d")) else 224
            return {"data": (1, 3, _frames(name, net), side, side)}
        # the int8 Kinetics graphs gluoncv ships were quantized with 7 segments: one clip is 7 frames
        batch = 7 if name.endswith("_kinetics400_int8") else 1
        return {"data": (batch, 3, 299, 299)} if "inceptionv3" in name else {"data": (batch, 3, 224, 224)}
    if name.startswith("siamrpn"):
        return {"data": (1, 3, 127, 127), "data1": (1, 3, 255, 255)}
    if name.startswith("monodepth2"):
        return {"data": (1, 6 if "posenet" in name else 3, 192, 640)}
    if name.startswith("cifar_"):
        return {"data": (1, 3, 32, 32)}
    if name.startswith(("inceptionv3", "xception")):
        return {"data": (1, 3, 299, 299)}
    if name == "nasnet_6_4032":
        return {"data": (1, 3, 331, 331)}
    return {"data": (1, 3, 224, 224)}


# -- one model ------------------------------------------------------------------------------------

_KWARGS = (
    {"pretrained": False, "pretrained_base": False},
    # the action networks of a small data set start from Kinetics weights unless told not to
    {"pretrained": False, "pretrained_base": False, "use_kinetics_pretrain": False},
    {"pretrained": False},
    {"pretrained": False, "pretrained_base": False, "classes": ("a", "b")},
    {"pretrained": False, "classes": ("a", "b")},
)


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Two mends of gluoncv 0.10.5's factories for building without weights, while they run:

    - the 2-D action networks (``resnet50_v1b_kinetics400``, ``vgg16_ucf101``...) build their
      ``ActionRec*`` base with ``pretrained_base=True`` whatever they are given (a download):
      their default becomes False;
    - their factories then call ``reset_ctx`` on every parameter, which raises for one not yet
      initialized (all of them without weights): it becomes a no-op for those.
    """
    import mxnet as mx
    from gluoncv.model_zoo.action_recognition import (
        actionrec_inceptionv1,
        actionrec_inceptionv3,
        actionrec_resnetv1b,
        actionrec_vgg16,
    )

    classes = [
        getattr(module, cls)
        for module in (actionrec_inceptionv1, actionrec_inceptionv3, actionrec_resnetv1b, actionrec_vgg16)
        for cls in dir(module)
        if cls.startswith("ActionRec")
    ]
    saved = [(cls, cls.__init__) for cls in classes]
    reset = mx.gluon.Parameter.reset_ctx

    def reset_ctx(param: Any, ctx: Any) -> None:
        if param._data or param._deferred_init:
            reset(param, ctx)

    def without_base(init: Any) -> Any:
        def __init__(self: Any, *args: Any, pretrained_base: Any = False, **kwargs: Any) -> None:
            init(self, *args, pretrained_base=pretrained_base, **kwargs)

        return __init__

    try:
        for cls, init in saved:
            cls.__init__ = without_base(init)
        mx.gluon.Parameter.reset_ctx = reset_ctx
        yield
    finally:
        for cls, init in saved:
            cls.__init__ = init
        mx.gluon.Parameter.reset_ctx = reset


def _build(name: str) -> Any:
    """The network, built offline (no pretrained weights of its own or of its base)."""
    from gluoncv import model_zoo

    errors = []
    with _offline():
        for kwargs in _KWARGS:
            try:
                return model_zoo.get_model(name, **kwargs)
            except Exception as exc:  # an argument it does not take, or one it needs
                errors.append(exc)
    raise errors[0]


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    text = next(
        (ln for ln in lines if "Error in operator" in ln or "Check failed" in ln), lines[0] if lines else ""
    )
    return f"{type(exc).__name__}: {text[:300]}"


def _export(name: str) -> tuple[str, dict[str, tuple[int, ...]]]:
    """The symbol JSON of the network (as ``HybridBlock.export`` writes it) and its input shapes."""
    import mxnet as mx

    net = _build(name)
    shapes = natural_shapes(name, net)
    out = net(*[mx.sym.var(n) for n in shapes])
    if isinstance(out, (list, tuple)):
        flat: list[Any] = []
        for o in out:
            flat.extend(o if isinstance(o, (list, tuple)) else [o])
        out = mx.sym.Group(flat)
    text = out.tojson()
    del net, out
    return text, shapes


def _listed(shape: Any) -> tuple:
    return () if shape is None else tuple(shape)


def _diff(nodes, answer, theirs) -> str | None:
    """The first difference between nin_mx's answer and MXNet's, or None."""
    from nin_mx.graph.engine import named_shapes

    outs_names, outs, args, auxs = theirs
    ours, our_args, our_aux = named_shapes(nodes, answer)
    if len(ours) != len(outs_names):
        return f"{len(ours)} internal outputs, MXNet has {len(outs_names)}"
    for (_node, shape), name, their in zip(ours, outs_names, outs):
        if _listed(shape) != tuple(their):
            return f"{name}: {_listed(shape)} != MXNet's {tuple(their)}"
    for what, mine, other in (("argument", our_args, args), ("aux", our_aux, auxs)):
        mine = {k: _listed(v) for k, v in mine.items()}
        if mine != other:
            bad = sorted(k for k in set(mine) | set(other) if mine.get(k) != other.get(k))
            k = bad[0]
            return f"{what} {k}: {mine.get(k)} != MXNet's {other.get(k)}"
    return None


def compare_model(name: str, tmp: str) -> dict[str, Any]:
    """Export, MXNet, nin_mx (alone and with the fallback) for one model of the zoo."""
    import mxnet as mx

    from nin_mx.graph.engine import infer_graph
    from nin_mx.graph.shapes import infer
    from nin_mx.graph.source import Graph

    row: dict[str, Any] = {"name": name, "family": family(name)}
    start = time.perf_counter()
    try:
        text, shapes = _export(name)
    except Exception as exc:  # any failure to build is a finding of the corpus
        return {**row, "status": "not-exported", "why": _one_line(exc)}
    finally:
        gc.collect()
    row["input"] = {k: list(v) for k, v in shapes.items()}
    path = os.path.join(tmp, f"{name}-symbol.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    ops = sorted({n["op"] for n in json.loads(text)["nodes"] if n["op"] != "null"})
    row["nodes"] = len(json.loads(text)["nodes"])
    from nin_mx.core.ops import OPS

    row["no_rule"] = [op for op in ops if op not in OPS]
    try:
        sym = mx.sym.load(path)
        internals = sym.get_internals()
        args, outs, auxs = internals.infer_shape(**shapes)
        if args is None or any(not s or 0 in s for s in [*args, *outs, *auxs]):
            raise ValueError("infer_shape left shapes unknown")
        theirs = (
            internals.list_outputs(),
            [tuple(s) for s in outs],
            dict(zip(internals.list_arguments(), map(tuple, args))),
            dict(zip(internals.list_auxiliary_states(), map(tuple, auxs))),
        )
        del sym, internals
    except Exception as exc:
        return {**row, "status": "mxnet-fails", "why": _one_line(exc)}
    try:
        graph = Graph.from_file(path)
    except Exception as exc:
        return {**row, "status": "nin-fails", "why": "reading the file: " + _one_line(exc)}
    try:
        alone = _diff(graph.nodes, infer_graph(graph.nodes, shapes), theirs)
    except Exception as exc:
        alone = "engine: " + _one_line(exc)
    try:
        with_mx = _diff(graph.nodes, infer(graph, shapes), theirs)
    except Exception as exc:
        with_mx = "with fallback: " + _one_line(exc)
    row["seconds"] = round(time.perf_counter() - start, 2)
    if alone is None and with_mx is None:
        return {**row, "status": "equal"}
    if alone is not None and with_mx is None:
        return {**row, "status": "fallback", "why": alone}
    fails = any(w and (w.startswith(("engine:", "with fallback:"))) for w in (alone, with_mx))
    return {**row, "status": "nin-fails" if fails else "mismatch", "why": alone or with_mx}


def _numpy_aliases() -> None:
    """gluoncv 0.10.5 still writes ``np.float`` and ``np.int`` (R-CNN anchors, HRNet), which numpy
    1.24 removed: on Python 3.12 (numpy 1.26) they are put back as the builtins they were."""
    import numpy as np

    for alias, builtin in (("float", float), ("int", int)):
        if alias not in np.__dict__:
            setattr(np, alias, builtin)


def _worker(names: Sequence[str]) -> None:
    """Runs in a child process: one JSON line per model on stdout."""
    sys.path.insert(0, str(ROOT))
    import nin_mx._mxnet  # noqa: F401 - numpy's bool alias before MXNet on 3.12

    _numpy_aliases()

    with tempfile.TemporaryDirectory(prefix="gluoncv-corpus-") as tmp:
        # an empty model store: no weights cached on this machine, so "builds offline" means the
        # same everywhere (and a download attempt fails at once without a network)
        os.environ["MXNET_HOME"] = home = os.path.join(tmp, "mxnet-home")
        graphs = os.path.join(tmp, "graphs")
        os.makedirs(graphs)
        for name in names:
            row = compare_model(name, graphs)
            print(json.dumps(row), flush=True)
            for f in os.listdir(graphs):
                os.unlink(os.path.join(graphs, f))
            shutil.rmtree(home, ignore_errors=True)
            gc.collect()


# -- many models ------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    """A child's environment: this tree's nin_mx first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def model_list() -> list[str]:
    """Every name of GluonCV's zoo, as ``get_model_list()`` gives them (run in a child: gluoncv's
    import is heavy)."""
    code = "import nin_mx._mxnet, gluoncv, json; print(json.dumps(list(gluoncv.model_zoo.get_model_list())))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_batch(names: Sequence[str], timeout: float) -> list[dict[str, Any]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *names]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())
        stdout, why = proc.stdout, f"worker exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        why = f"worker timed out after {timeout:.0f} s"
    rows = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith("{")]
    done = {r["name"] for r in rows}
    left = [n for n in names if n not in done]
    if left:  # the model that stopped the worker, then the rest in a new one
        rows.append({"name": left[0], "family": family(left[0]), "status": "not-exported", "why": why})
        if left[1:]:
            rows.extend(_run_batch(left[1:], timeout))
    return rows


def run(names: Sequence[str], *, jobs: int = 2, batch: int = 8, timeout: float = 900) -> list[dict[str, Any]]:
    """Every model of ``names`` compared, in order, ``jobs`` child processes at a time."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [list(names[i : i + batch]) for i in range(0, len(names), batch)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda c: _run_batch(c, timeout), chunks))
    by_name = {r["name"]: r for rows in results for r in rows}
    return [by_name[n] for n in names]


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    exported = [r for r in rows if r["status"] != "not-exported"]
    inferred = [r for r in exported if r["status"] != "mxnet-fails"]
    return {
        "models": len(rows),
        "exported": len(exported),
        "inferred_by_mxnet": len(inferred),
        "equal_in_nin_mx": sum(r["status"] == "equal" for r in rows),
        "equal_with_fallback_only": sum(r["status"] == "fallback" for r in rows),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these models only (default: the whole zoo)")
    ap.add_argument("--jobs", type=int, default=2, help="child processes at a time (default 2)")
    ap.add_argument("--batch", type=int, default=8, help="models per child process (default 8)")
    ap.add_argument("--json", action="store_true", help="one JSON object per model, then the totals")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0
    names = args.only or model_list()
    start = time.perf_counter()
    rows = run(names, jobs=args.jobs, batch=args.batch)
    total = totals(rows)
    total["seconds"] = round(time.perf_counter() - start, 1)
    for r in rows:
        if args.json:
            print(json.dumps(r))
        else:
            why = f"  {r['why']}" if "why" in r else ""
            extra = f"  [no rule: {', '.join(r['no_rule'])}]" if r.get("no_rule") else ""
            print(f"{r['status']:<13} {r['family']:<15} {r['name']}{why}{extra}")
    if args.json:
        print(json.dumps({"totals": total}))
    else:
        by = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
        print(
            f"\n{total['models']} models: {total['exported']} exported, "
            f"{total['inferred_by_mxnet']} inferred by MXNet, {total['equal_in_nin_mx']} equal in nin_mx "
            "(engine alone and with MXNet's fallback)"
        )
        print("  " + ", ".join(f"{s} {n}" for s, n in by.items()) + f"  ({total['seconds']} s)")
    return 0 if total["equal_in_nin_mx"] == total["inferred_by_mxnet"] else 1


if __name__ == "__main__":
    sys.exit(main())
