#!/usr/bin/env python
"""The performance figures of issues 5, 12, 17-20, 27 and 28, each a ratio measured side by side in one run.

Every figure divides a nin_mx measurement by a baseline measured in the same run: the two
are sampled in alternating (ABBA) order after a warm-up, and the ratio is the ratio of the
medians. The absolute medians and the min-max of both sides are printed next to it, and the
ratio is compared with the issue's target (reported, never enforced: the exit code is 0
whenever the measurements ran, 1 on a setup error).

    (a) report     shape_report(symbol) ÷ mx.viz.print_summary(symbol), in process
    (b) cli-wall   `nin-shape-report inception_resnet_v2 --border-mode valid,same,full
                   --format json` wall time ÷ `python -c "import mxnet"` wall time
    (b2) file-cli  `nin-shape-report IRV2-symbol.json --input 3,299,299 --format json` (a
                   saved Inception-ResNet-v2) wall time ÷ `python -c "import mxnet"` wall time
    (p) params-cli the same command with `--params CKPT` (a 220 MB checkpoint of the graph)
                   minus the command without it, paired round by round, ÷ the same baseline
    (c) cli-rss    the commands of (b): peak RSS
    (d) help-wall  `nin-shape-report --help` wall time ÷ `python -c "import mxnet"`
    (e) depth      shape_report of inception_resnet_v2(repeats=(100, 200, 100)) ÷ default
    (e3) depth-file the same of the two symbols saved to files, shape_report(path)
    (f) pooling    compare_pooling ÷ one bound forward pass (bind included) of the same graph
    (g) diff       diff_reports of inception_resnet_v2, default vs manual pool ÷ one shape_report
    (h) diff-depth diff_reports of the repeats=(100, 200, 100) report against itself ÷ the
                   default-depth report against itself
    (i) check      a report with --check's findings ÷ the report alone

    (a2) by-name   shape_report by model name (nin_mx's own build included) ÷ print_summary
    (e2) depth-name the depth ratio of (e) by model name, builds included

    (o1) onnx-vgg16    `nin-shape-report vgg16-symbol.json --params vgg16-0000.params --onnx
                   OUT` (Gluon vgg16, seeded weights, about 530 MB) wall ÷ `cp` of the checkpoint
    (o2) onnx-vgg16-rss the same command's peak RSS ÷ the checkpoint's size
    (o3) onnx-irv2     `nin-shape-report inception_resnet_v2 --params IRV2.params --onnx OUT`
                   (seeded weights, about 220 MB) wall ÷ `cp` of the checkpoint
    (o4) onnx-irv2-rss the same command's peak RSS ÷ the checkpoint's size
    (o5) onnx-vgg16-api peak RSS of `save_onnx(to_onnx(...))` (the model whole in memory, as
                   the API returns it) ÷ the checkpoint's size (information)

The (o) figures (issue 28) run only when asked for (`--only o1,o2,...` or `--only onnx`): their
files (about 750 MB, written by a child process with MXNet) are too large for the default run.

plus one informational figure (no target): (b3) three CLI runs, one per file of the valid,
same and full symbols, their total wall time ÷ `import mxnet`'s. Since issue 27 a model is
built by nin_mx without MXNet, so (b), (a2) and (e2) import no MXNet on nin_mx's side.

The files of (b2), (b3) and (p) -- four symbol files and the checkpoint, about 220 MB -- are
written once per run by a separate process into a temporary folder, deleted at the end of the
figures (also on an error), so that the bench process itself has not run MXNet when the
subprocess figures are measured.

On Python 3.12 a plain ``import mxnet`` fails (MXNet 1.9.1 reads ``numpy.bool``, which numpy 1.26
lacks), so there the baseline of (b)-(d), (b2), (b3) and (p) imports MXNet through
``nin_mx._mxnet``, which puts the alias back first; the bench itself always does.

Usage:
    python scripts/bench.py                     # full run, about 2 min (130 s at load 2-2.7)
    python scripts/bench.py --quick             # 3 repeats: a smoke test, about 1 min
    python scripts/bench.py --only a,f --repeats 9 --json results.json
    python scripts/bench.py --profile b         # cProfile of one figure's nin_mx side
                                                # (a, b, b2, p, e, e3, f, g, h)

Results and the profile of the slow figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

MODEL = "inception_resnet_v2"
SHAPE = (1, 3, 299, 299)
DEEP_REPEATS = (100, 200, 100)
REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("nin-shape-report"))
CLI_ARGS = (MODEL, "--border-mode", "valid,same,full", "--format", "json")
SYMBOL_FILE = "IRV2-symbol.json"  # (b2), (p): get_symbol(MODEL) (the published padding), saved
MODE_FILES = tuple(f"IRV2-{mode}-symbol.json" for mode in ("valid", "same", "full"))  # (b3)
CHECKPOINT = "IRV2-0000.params"  # (p): zero arrays of every argument and auxiliary state
FILE_ARGS = ("--input", ",".join(map(str, SHAPE[1:])), "--format", "json")
TIMEOUT = 600  # seconds, for one command
IMPORT_MXNET = "import mxnet" if sys.version_info < (3, 12) else "from nin_mx._mxnet import mx; mx.base"

# Runs each wrapped command and writes "<wall s> <max RSS KiB> <user+sys CPU s> <exit code>".
# A child's ru_maxrss also counts the memory of the process it was forked from before its
# exec, so the measured command is started from this small process, never from the bench
# (whose RSS grows to hundreds of MiB once it has run MXNet).
_LAUNCHER = """\
import os, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    handle.write(f"{wall!r} {usage.ru_maxrss} {cpu!r} {os.waitstatus_to_exitcode(status)}")
"""


_TIME_FORMAT = "%M %U %S"  # GNU time: max RSS (KiB), user and system CPU seconds


class BenchError(Exception):
    """A setup error: the thing to measure cannot run; the bench exits with status 1."""


@dataclass(frozen=True)
class Spec:
    """One figure: what is divided by what, and the issue's target (None: information only)."""

    key: str
    letter: str
    group: str
    title: str
    numerator: str
    denominator: str
    target: float | None


SPECS = (
    Spec(
        "report",
        "a",
        "report",
        "shape_report ÷ mx.viz.print_summary (one mode, in process)",
        f"shape_report(symbol, {SHAPE})",
        "mx.viz.print_summary(symbol, shape=...) to a StringIO",
        0.8,
    ),
    Spec(
        "report-by-name",
        "a2",
        "report",
        "shape_report by name (symbol build included) ÷ mx.viz.print_summary",
        f"shape_report({MODEL!r}, {SHAPE}, border_mode='valid')",
        "mx.viz.print_summary(symbol, shape=...) to a StringIO",
        0.5,
    ),
    Spec(
        "cli-wall",
        "b",
        "cli",
        f"nin-shape-report (3 modes, json) wall ÷ python -c '{IMPORT_MXNET}' wall",
        "nin-shape-report " + " ".join(CLI_ARGS),
        f"python -c '{IMPORT_MXNET}'",
        0.15,
    ),
    Spec(
        "file-cli",
        "b2",
        "cli",
        f"nin-shape-report {SYMBOL_FILE} (a saved symbol, json) wall ÷ python -c '{IMPORT_MXNET}' wall",
        f"nin-shape-report {SYMBOL_FILE} " + " ".join(FILE_ARGS),
        f"python -c '{IMPORT_MXNET}'",
        0.2,
    ),
    Spec(
        "file-cli-3",
        "b3",
        "cli",
        f"3 runs of nin-shape-report, a file each (valid, same, full): total wall ÷ '{IMPORT_MXNET}'",
        "nin-shape-report IRV2-{valid,same,full}-symbol.json " + " ".join(FILE_ARGS) + ", 3 processes, total",
        f"python -c '{IMPORT_MXNET}'",
        None,
    ),
    Spec(
        "params-cli",
        "p",
        "cli",
        f"what --params (220 MB checkpoint) adds to a file's report, wall ÷ python -c '{IMPORT_MXNET}' wall",
        f"nin-shape-report {SYMBOL_FILE} ... --params {CHECKPOINT} minus the same without --params",
        f"python -c '{IMPORT_MXNET}'",
        0.1,
    ),
    Spec(
        "cli-rss",
        "c",
        "cli",
        f"nin-shape-report (3 modes, json) peak RSS ÷ python -c '{IMPORT_MXNET}' peak RSS",
        "nin-shape-report " + " ".join(CLI_ARGS),
        f"python -c '{IMPORT_MXNET}'",
        1.3,
    ),
    Spec(
        "help-wall",
        "d",
        "cli",
        f"nin-shape-report --help wall ÷ python -c '{IMPORT_MXNET}' wall",
        "nin-shape-report --help",
        f"python -c '{IMPORT_MXNET}'",
        0.5,
    ),
    Spec(
        "depth",
        "e",
        "depth",
        f"shape_report, repeats={DEEP_REPEATS} ÷ default repeats (symbols prebuilt)",
        f"shape_report(inception_resnet_v2(repeats={DEEP_REPEATS}))",
        "shape_report(inception_resnet_v2())",
        12.0,
    ),
    Spec(
        "depth-by-name",
        "e2",
        "depth",
        "the same by model name (symbol builds included)",
        f"shape_report({MODEL!r}, repeats={DEEP_REPEATS})",
        f"shape_report({MODEL!r})",
        11.0,
    ),
    Spec(
        "depth-file",
        "e3",
        "depth",
        f"shape_report of a saved symbol file, repeats={DEEP_REPEATS} ÷ default repeats",
        f"shape_report('IRV2-deep-symbol.json', {SHAPE}), repeats={DEEP_REPEATS}",
        f"shape_report('{SYMBOL_FILE}', {SHAPE})",
        11.0,
    ),
    Spec(
        "pooling",
        "f",
        "pooling",
        "compare_pooling ÷ one bound forward pass (bind + forward + asnumpy)",
        f"compare_pooling({MODEL!r}, {SHAPE})",
        "sym.bind(args, aux) + forward(is_train=False) + asnumpy()",
        3.5,
    ),
    Spec(
        "diff",
        "g",
        "diff",
        "diff_reports (default vs manual pool, attributes compared) ÷ one shape_report",
        "diff_reports(report, manual_report, attrs_a=graph_attrs(...), attrs_b=graph_attrs(...))",
        f"shape_report(symbol, {SHAPE})",
        3.0,
    ),
    Spec(
        "diff-depth",
        "h",
        "diff",
        f"diff_reports of a report against itself, repeats={DEEP_REPEATS} ÷ default repeats",
        f"diff_reports(deep report, deep report again, attrs ...), repeats={DEEP_REPEATS}",
        "diff_reports(report, report again, attrs ...), default repeats",
        15.0,
    ),
    Spec(
        "check",
        "i",
        "check",
        "shape report + --check's findings ÷ the shape report alone (issue 11)",
        f"diagnose(graph, report_graph(graph, {SHAPE}))",
        f"report_graph(graph, {SHAPE})",
        1.3,
    ),
)
ONNX_SPECS = (
    Spec(
        "onnx-vgg16",
        "o1",
        "onnx",
        "nin-shape-report vgg16-symbol.json --params (530 MB) --onnx OUT wall ÷ cp of the checkpoint wall",
        "nin-shape-report vgg16-symbol.json --input 3,224,224 --params vgg16-0000.params --onnx OUT",
        "cp vgg16-0000.params COPY",
        3.0,
    ),
    Spec(
        "onnx-vgg16-rss",
        "o2",
        "onnx",
        "the same export's peak RSS ÷ the checkpoint's size",
        "nin-shape-report vgg16-symbol.json ... --onnx OUT, peak RSS",
        "the size of vgg16-0000.params",
        1.5,
    ),
    Spec(
        "onnx-irv2",
        "o3",
        "onnx",
        f"nin-shape-report {MODEL} --params (220 MB) --onnx OUT wall ÷ cp of the checkpoint wall",
        f"nin-shape-report {MODEL} --params IRV2-onnx-0000.params --onnx OUT",
        "cp IRV2-onnx-0000.params COPY",
        3.0,
    ),
    Spec(
        "onnx-irv2-rss",
        "o4",
        "onnx",
        "the same export's peak RSS ÷ the checkpoint's size",
        f"nin-shape-report {MODEL} ... --onnx OUT, peak RSS",
        "the size of IRV2-onnx-0000.params",
        1.5,
    ),
    Spec(
        "onnx-vgg16-api",
        "o5",
        "onnx",
        "save_onnx(to_onnx(vgg16, params=...)) (the model in memory) peak RSS ÷ the checkpoint's size",
        "python -c 'save_onnx(to_onnx(...), OUT)', peak RSS",
        "the size of vgg16-0000.params",
        None,
    ),
)
OPT_IN = frozenset(s.key for s in ONNX_SPECS)  # measured only when --only names them
SPECS = SPECS + ONNX_SPECS
GROUPS = (
    "cli",
    "onnx",
    "report",
    "depth",
    "pooling",
    "diff",
    "check",
)  # subprocesses first, before MXNet runs here
DEFAULT_REPEATS = {"cli": 10, "onnx": 5, "report": 21, "depth": 9, "pooling": 7, "diff": 15, "check": 21}
QUICK_REPEATS = 3


@dataclass
class Series:
    """Samples of one measured quantity."""

    label: str
    unit: str  # "s" or "KiB"
    samples: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "median": statistics.median(self.samples),
            "min": min(self.samples),
            "max": max(self.samples),
            "n": len(self.samples),
            "samples": self.samples,
        }


def _figure(
    spec: Spec,
    numerator: Series,
    denominator: Series,
    note: str = "",
    cpu: tuple[Series, Series] | None = None,
) -> dict[str, Any]:
    """A figure's result; ``cpu``: the CPU time (user + sys) of both sides, for information."""
    num, den = numerator.summary(), denominator.summary()
    ratio = num["median"] / den["median"]
    if spec.target is None:
        status = "info"
    else:
        status = "PASS" if ratio <= spec.target else "FAIL"
    figure = {
        "key": spec.key,
        "letter": spec.letter,
        "title": spec.title,
        "ratio": ratio,
        "target": spec.target,
        "status": status,
        "numerator": num,
        "denominator": den,
        "note": note,
    }
    if cpu is not None:
        cpu_num, cpu_den = cpu[0].summary(), cpu[1].summary()
        figure["cpu_time"] = {
            "ratio": cpu_num["median"] / cpu_den["median"] if cpu_den["median"] > 0 else None,
            "numerator": cpu_num,
            "denominator": cpu_den,
        }
    return figure


def _sample(calls: dict[str, Callable[[], dict[str, float]]], repeats: int, warmup: int) -> dict[str, list]:
    """Runs every call ``warmup`` times, then ``repeats`` rounds in ABBA order.

    Each call returns its measurements by metric; the result maps ``name/metric`` to samples.
    """
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    samples: dict[str, list] = {}
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else reversed(names):
            for metric, value in calls[name]().items():
                samples.setdefault(f"{name}/{metric}", []).append(value)
    return samples


def _timed(fn: Callable[[], Any], before: Callable[[], Any] | None = None) -> Callable[[], dict[str, float]]:
    """A call timing ``fn`` after a full garbage collection (and ``before``, untimed)."""

    def call() -> dict[str, float]:
        if before is not None:
            before()
        gc.collect()
        start = time.perf_counter()
        fn()
        return {"time": time.perf_counter() - start}

    return call


# --- subprocess figures: (b), (b2), (b3), (c), (d), (p) --------------------------------


def _time_tool() -> str | None:
    """``/usr/bin/time`` if it works here (GNU time: ``-f FORMAT -o FILE``), else None."""
    tool = shutil.which("time", path="/usr/bin:/bin") or shutil.which("time")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rss")
        try:
            done = subprocess.run(
                [tool, "-f", _TIME_FORMAT, "-o", out, PYTHON, "-c", "pass"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
            with open(out) as handle:
                int(handle.read().split()[-3])
        except (OSError, ValueError, IndexError, subprocess.SubprocessError):
            return None
    return tool if done.returncode == 0 else None


def _command(argv: Sequence[str], time_tool: str | None, tmp: str) -> Callable[[], dict[str, float]]:
    """A call running ``argv`` (stdout to /dev/null) for its wall time, peak RSS and CPU time.

    With GNU time, the wall time is measured here around ``time``; without it, by the
    launcher around the command. Either way the command is not started from the bench.
    """
    out = os.path.join(tmp, "measure")
    if time_tool is not None:
        wrapped = [time_tool, "-f", _TIME_FORMAT, "-o", out, *argv]
    else:
        wrapped = [PYTHON, "-c", _LAUNCHER, out, *argv]

    def call() -> dict[str, float]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out)  # never read the previous run's figures
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=err)
            except OSError as exc:
                raise BenchError(f"{' '.join(argv)}: {exc}") from None
            # A blocking wait: subprocess's wait(timeout=...) polls with sleeps of up to
            # 50 ms, which would add to the wall time. A timer kills a hung command instead.
            watchdog = threading.Timer(TIMEOUT, proc.kill)
            watchdog.start()
            returncode = proc.wait()
            wall = time.perf_counter() - start
            watchdog.cancel()
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        try:
            with open(out) as handle:
                text = handle.read().split()
            if time_tool is not None:  # "[Command exited with non-zero status N]" then "%M %U %S"
                rss, cpu, code = float(text[-3]), float(text[-2]) + float(text[-1]), returncode
            else:
                wall, rss, cpu, code = float(text[0]), float(text[1]), float(text[2]), int(text[3])
        except (OSError, ValueError, IndexError):
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            raise BenchError(f"{' '.join(argv)}: no measurement (status {returncode}): {tail}") from None
        if code != 0:
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            raise BenchError(f"{' '.join(argv)} exited with status {code}: {tail}")
        return {"wall": wall, "rss": rss, "cpu": cpu}

    return call


# Writes the files of (b2), (b3) and (p) into a folder, in a process of its own: the bench
# process must not have run MXNet while the subprocess figures are measured. Prints what it wrote.
_WRITER = """\
import json, os, sys
from nin_mx import get_symbol
from nin_mx._mxnet import mx
folder, spec = sys.argv[1], json.loads(sys.argv[2])
shape = tuple(spec["shape"])
symbol = get_symbol(spec["model"])
symbol.save(os.path.join(folder, spec["symbol_file"]))
written = {"nodes": len(json.loads(symbol.tojson())["nodes"])}
for mode, name in spec["mode_files"]:
    get_symbol(spec["model"], border_mode=mode).save(os.path.join(folder, name))
if spec["checkpoint"]:
    # As Module.save_checkpoint writes one: every argument but the inputs, every auxiliary state.
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=shape)
    arrays = {
        f"arg:{name}": mx.nd.zeros(s)
        for name, s in zip(symbol.list_arguments(), arg_shapes)
        if name != "data" and not name.endswith("_label")
    }
    aux_names = symbol.list_auxiliary_states()
    arrays.update({f"aux:{name}": mx.nd.zeros(s) for name, s in zip(aux_names, aux_shapes)})
    path = os.path.join(folder, spec["checkpoint"])
    mx.nd.save(path, arrays)
    written.update(arrays=len(arrays), bytes=os.path.getsize(path))
print(json.dumps(written))
"""

# Runs the CLI's main() on argv in process and prints which heavy modules it imported.
_IMPORTS = """\
import contextlib, json, os, sys
from nin_mx.cli.main import main
with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
    code = main(sys.argv[1:])
# nin_mx._mxnet puts a lazy placeholder under sys.modules["mxnet"]: mxnet.base is the real import.
print(json.dumps({"code": code, "mxnet": "mxnet.base" in sys.modules, "numpy": "numpy" in sys.modules}))
"""


def _write_files(tmp: str, modes: bool, checkpoint: bool) -> dict[str, Any]:
    """The symbol files (and the checkpoint) of the file figures, written by a child process."""
    spec = {
        "model": MODEL,
        "shape": list(SHAPE),
        "symbol_file": SYMBOL_FILE,
        "mode_files": list(zip(("valid", "same", "full"), MODE_FILES)) if modes else [],
        "checkpoint": CHECKPOINT if checkpoint else None,
    }
    done = subprocess.run(
        [PYTHON, "-c", _WRITER, tmp, json.dumps(spec)], capture_output=True, text=True, timeout=TIMEOUT
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise BenchError(f"writing the symbol files and the checkpoint failed: {tail}")
    written = json.loads(done.stdout.strip().splitlines()[-1])
    imports = subprocess.run(
        [PYTHON, "-c", _IMPORTS, os.path.join(tmp, SYMBOL_FILE), *FILE_ARGS],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if imports.returncode != 0:
        tail = " | ".join(imports.stderr.strip().splitlines()[-3:])
        raise BenchError(f"the report of {SYMBOL_FILE} failed: {tail}")
    written["imports"] = json.loads(imports.stdout.strip().splitlines()[-1])
    return written


def _total(calls: Sequence[Callable[[], dict[str, float]]]) -> Callable[[], dict[str, float]]:
    """A call running ``calls`` one after the other: total wall and CPU time, largest peak RSS."""

    def call() -> dict[str, float]:
        parts = [one() for one in calls]
        return {
            "wall": sum(part["wall"] for part in parts),
            "rss": max(part["rss"] for part in parts),
            "cpu": sum(part["cpu"] for part in parts),
        }

    return call


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def run_cli(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    """(b), (b2), (b3), (c), (d), (p): subprocesses, each against ``import mxnet``.

    The calls are sampled in the order import, (b), (d), (b2), (p), (b3) and back, so that the
    two commands (p) subtracts always run next to each other; (p)'s numerator is the difference
    of each round's pair (with --params minus without), its ratio the median difference ÷ the
    median ``import mxnet``.
    """
    if not os.path.exists(CLI):
        raise BenchError(f"{CLI} not found: install nin_mx into this Python ({PYTHON}) first")
    time_tool = _time_tool()
    files = selected & {"file-cli", "file-cli-3", "params-cli"}
    written: dict[str, Any] = {}
    # The checkpoint is about 220 MB: written once per run, removed with the folder (also on errors).
    with tempfile.TemporaryDirectory(prefix="nin_mx-bench-") as tmp:
        if files:
            written = _write_files(tmp, "file-cli-3" in files, "params-cli" in files)
        symbol_file = os.path.join(tmp, SYMBOL_FILE)
        calls = {"import": _command([PYTHON, "-c", IMPORT_MXNET], time_tool, tmp)}
        if selected & {"cli-wall", "cli-rss"}:
            calls["cli"] = _command([CLI, *CLI_ARGS], time_tool, tmp)
        if "help-wall" in selected:
            calls["help"] = _command([CLI, "--help"], time_tool, tmp)
        if selected & {"file-cli", "params-cli"}:
            calls["file"] = _command([CLI, symbol_file, *FILE_ARGS], time_tool, tmp)
        if "params-cli" in selected:
            checkpoint = os.path.join(tmp, CHECKPOINT)
            calls["params"] = _command([CLI, symbol_file, *FILE_ARGS, "--params", checkpoint], time_tool, tmp)
        if "file-cli-3" in selected:
            calls["files3"] = _total(
                [_command([CLI, os.path.join(tmp, name), *FILE_ARGS], time_tool, tmp) for name in MODE_FILES]
            )
        samples = _sample(calls, repeats, max(warmup, 1))  # the warm-up also checks exit codes
    how = f"peak RSS from {time_tool} -f %M" if time_tool else "peak RSS from os.wait4 in a launcher"
    wall_note = "subprocess wall time, stdout to /dev/null"
    if files:
        imported = written["imports"]
        rss = statistics.median(samples["file/rss" if "file/rss" in samples else "files3/rss"])
        file_note = (
            f"{written['nodes']} nodes; MXNet imported: {'yes' if imported['mxnet'] else 'no'}, "
            f"numpy: {'yes' if imported['numpy'] else 'no'}; peak RSS {_mib(rss)} "
            f"(import mxnet {_mib(statistics.median(samples['import/rss']))}); {wall_note}"
        )
    specs = {s.key: s for s in SPECS}
    results = []
    for key, numerator, metric, unit in (
        ("cli-wall", "cli", "wall", "s"),
        ("file-cli", "file", "wall", "s"),
        ("file-cli-3", "files3", "wall", "s"),
        ("cli-rss", "cli", "rss", "KiB"),
        ("help-wall", "help", "wall", "s"),
    ):
        if key in selected:
            spec = specs[key]
            cpu = None
            if metric == "wall":
                cpu = (
                    Series("CPU time (user + sys)", "s", samples[f"{numerator}/cpu"]),
                    Series("CPU time (user + sys)", "s", samples["import/cpu"]),
                )
            note = how if metric == "rss" else file_note if numerator in ("file", "files3") else wall_note
            results.append(
                _figure(
                    spec,
                    Series(spec.numerator, unit, samples[f"{numerator}/{metric}"]),
                    Series(spec.denominator, unit, samples[f"import/{metric}"]),
                    note,
                    cpu,
                )
            )
    if "params-cli" in selected:
        spec = specs["params-cli"]
        with_params, without = (
            Series("with --params", "s", samples["params/wall"]),
            Series("without --params", "s", samples["file/wall"]),
        )
        added = [a - b for a, b in zip(with_params.samples, without.samples)]
        figure = _figure(
            spec,
            Series(spec.numerator, "s", added),
            Series(spec.denominator, "s", samples["import/wall"]),
            f"checkpoint {written['arrays']} arrays, {written['bytes'] / 1e6:.0f} MB (zeros, in the page "
            f"cache); each round's difference of two neighbouring runs; peak RSS "
            f"{_mib(statistics.median(samples['params/rss']))} with, "
            f"{_mib(statistics.median(samples['file/rss']))} without",
        )
        figure["parts"] = {"with": with_params.summary(), "without": without.summary()}
        results.append(figure)
    return results


# --- export figures (issue 28): (o1)-(o5) --------------------------------------------------

# Writes Gluon vgg16 (pretrained=False, seeded Xavier weights, exported by Gluon) and a seeded
# checkpoint of Inception-ResNet-v2 into a folder, in a process of its own (with MXNet).
_ONNX_WRITER = """\
import json, os, sys
import numpy as np
from nin_mx._mxnet import mx
from mxnet.gluon.model_zoo import vision
from nin_mx import get_symbol
folder, irv2 = sys.argv[1], sys.argv[2]
mx.random.seed(0)
net = vision.get_model("vgg16", pretrained=False)
net.initialize(mx.init.Xavier())
net.hybridize()
net(mx.nd.zeros((1, 3, 224, 224)))
net.export(os.path.join(folder, "vgg16"))
del net
symbol = get_symbol(irv2)
arg_shapes, _, aux_shapes = symbol.infer_shape(data=(1, 3, 299, 299))
rng = np.random.RandomState(0)
arrays = {}
for kind, names, shapes in (("arg", symbol.list_arguments(), arg_shapes),
                            ("aux", symbol.list_auxiliary_states(), aux_shapes)):
    for name, shape in zip(names, shapes):
        if name != "data" and not name.endswith("_label"):
            value = rng.uniform(0.5, 1.5, shape) if name.endswith("_var") else rng.uniform(-0.1, 0.1, shape)
            arrays[f"{kind}:{name}"] = mx.nd.array(value.astype(np.float32))
mx.nd.save(os.path.join(folder, "IRV2-onnx-0000.params"), arrays)
print(json.dumps({name: os.path.getsize(os.path.join(folder, name))
                  for name in ("vgg16-0000.params", "IRV2-onnx-0000.params")}))
"""

# The in-memory API: the whole model in memory, then written (what to_onnx's callers do).
_ONNX_API = """\
import sys
from nin_mx.export import save_onnx, to_onnx
save_onnx(to_onnx(sys.argv[1], params=sys.argv[2], input_shapes=(1, 3, 224, 224)), sys.argv[3])
"""


def run_onnx(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    """(o1)-(o5): the CLI's export of a checkpoint to ONNX, subprocesses against ``cp`` of the
    checkpoint (wall) and the checkpoint's size (peak RSS). The files are written once, by a
    child process, into a temporary folder removed at the end (also on an error)."""
    if not os.path.exists(CLI):
        raise BenchError(f"{CLI} not found: install nin_mx into this Python ({PYTHON}) first")
    copier = shutil.which("cp")
    if copier is None:
        raise BenchError("cp not found")
    time_tool = _time_tool()
    with tempfile.TemporaryDirectory(prefix="nin_mx-bench-onnx-") as tmp:
        done = subprocess.run(
            [PYTHON, "-c", _ONNX_WRITER, tmp, MODEL], capture_output=True, text=True, timeout=TIMEOUT
        )
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise BenchError(f"writing vgg16 and the Inception-ResNet-v2 checkpoint failed: {tail}")
        sizes = json.loads(done.stdout.strip().splitlines()[-1])
        vgg_params, irv2_params = (
            os.path.join(tmp, "vgg16-0000.params"),
            os.path.join(tmp, "IRV2-onnx-0000.params"),
        )
        vgg_symbol, out = os.path.join(tmp, "vgg16-symbol.json"), os.path.join(tmp, "out.onnx")
        calls: dict[str, Callable[[], dict[str, float]]] = {}
        if selected & {"onnx-vgg16", "onnx-vgg16-rss"}:
            calls["cp-vgg16"] = _command([copier, vgg_params, os.path.join(tmp, "copy")], time_tool, tmp)
            calls["vgg16"] = _command(
                [CLI, vgg_symbol, "--input", "3,224,224", "--params", vgg_params, "--onnx", out],
                time_tool,
                tmp,
            )
        if selected & {"onnx-irv2", "onnx-irv2-rss"}:
            calls["cp-irv2"] = _command([copier, irv2_params, os.path.join(tmp, "copy")], time_tool, tmp)
            calls["irv2"] = _command([CLI, MODEL, "--params", irv2_params, "--onnx", out], time_tool, tmp)
            # the floor of the CLI's export: the interpreter and nin_mx's CLI and export modules
            # (since issue 28's own writer, nin_mx.export.proto, no onnx and no numpy)
            calls["import-export"] = _command(
                [PYTHON, "-c", "import nin_mx.cli.main, nin_mx.export"], time_tool, tmp
            )
        if "onnx-vgg16-api" in selected:
            calls["api"] = _command([PYTHON, "-c", _ONNX_API, vgg_symbol, vgg_params, out], time_tool, tmp)
        samples = _sample(calls, repeats, max(warmup, 1))
    how = f"peak RSS from {time_tool} -f %M" if time_tool else "peak RSS from os.wait4 in a launcher"
    specs = {s.key: s for s in SPECS}
    results = []
    for key, name, metric, size_key in (
        ("onnx-vgg16", "vgg16", "wall", "vgg16-0000.params"),
        ("onnx-vgg16-rss", "vgg16", "rss", "vgg16-0000.params"),
        ("onnx-irv2", "irv2", "wall", "IRV2-onnx-0000.params"),
        ("onnx-irv2-rss", "irv2", "rss", "IRV2-onnx-0000.params"),
        ("onnx-vgg16-api", "api", "rss", "vgg16-0000.params"),
    ):
        if key not in selected:
            continue
        spec = specs[key]
        size = sizes[size_key]
        if metric == "wall":
            denominator = Series(spec.denominator, "s", samples[f"cp-{name}/wall"])
            note = f"checkpoint {size / 1e6:.0f} MB (in the page cache); subprocess wall time"
        else:
            denominator = Series(spec.denominator, "KiB", [size / 1024] * len(samples[f"{name}/rss"]))
            note = f"checkpoint {size / 1e6:.0f} MB; {how}"
        figure = _figure(
            spec,
            Series(spec.numerator, "s" if metric == "wall" else "KiB", samples[f"{name}/{metric}"]),
            denominator,
            note,
        )
        if key == "onnx-irv2":
            floor = Series("import nin_mx.cli.main, nin_mx.export", "s", samples["import-export/wall"])
            figure["parts"] = {"python -c 'import nin_mx.cli.main, nin_mx.export'": floor.summary()}
        results.append(figure)
    return results


# --- in-process figures: (a), (e), (e3), (f) --------------------------------------------


def _nodes(symbol: Any) -> int:
    return len(json.loads(symbol.tojson())["nodes"])


class _Fresh:
    """A new copy of a symbol before every sample (untimed), so that nothing cached on a
    Symbol object from an earlier sample can make a later one cheaper."""

    def __init__(self, mx: Any, symbol: Any) -> None:
        self._mx, self._json = mx, symbol.tojson()
        self.symbol = symbol

    def reload(self) -> None:
        self.symbol = self._mx.sym.load_json(self._json)


def run_report(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    from nin_mx import get_symbol, shape_report
    from nin_mx._mxnet import mx

    symbol = get_symbol(MODEL, border_mode="valid")
    if not shape_report(symbol, SHAPE).ok:
        raise BenchError(f"shape_report({MODEL}, {SHAPE}) failed")
    fresh = _Fresh(mx, symbol)

    def summary() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            mx.viz.print_summary(fresh.symbol, shape={"data": SHAPE})

    calls = {"summary": _timed(summary, before=fresh.reload)}
    if "report" in selected:
        calls["report"] = _timed(lambda: shape_report(fresh.symbol, SHAPE), before=fresh.reload)
        # What any report of an in-memory Symbol pays before nin_mx sees a node: MXNet writes the
        # graph as JSON and Python reads it back (the C API has no other bulk way to the graph).
        calls["read"] = _timed(
            lambda: json.loads(fresh.symbol.tojson(remove_amp_cast=False)), before=fresh.reload
        )
    if "report-by-name" in selected:
        calls["by-name"] = _timed(lambda: shape_report(MODEL, SHAPE, border_mode="valid"))
    samples = _sample(calls, repeats, warmup)
    specs = {s.key: s for s in SPECS}
    results = []
    for key, name in (("report", "report"), ("report-by-name", "by-name")):
        if key in selected:
            spec = specs[key]
            figure = _figure(
                spec,
                Series(spec.numerator, "s", samples[f"{name}/time"]),
                Series(spec.denominator, "s", samples["summary/time"]),
                f"{_nodes(symbol)} nodes; gc.collect() before each sample, untimed",
            )
            if key == "report":
                read = Series("json.loads(symbol.tojson()) alone", "s", samples["read/time"])
                floor = statistics.median(read.samples) / statistics.median(samples["summary/time"])
                figure["parts"] = {f"of which reading the Symbol (÷ summary {floor:.2f})": read.summary()}
            results.append(figure)
    return results


def run_depth(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    """(e), (e2) and (e3). (e3) reads the two symbols from files saved here beforehand (the
    published padding, as `get_symbol` builds them): each sample reads, checks and parses the
    file, then reports it, as ``shape_report(path)`` does for a user."""
    from nin_mx import get_symbol, shape_report
    from nin_mx._mxnet import mx

    small = get_symbol(MODEL, border_mode="valid")
    deep = get_symbol(MODEL, border_mode="valid", repeats=DEEP_REPEATS)
    if not shape_report(deep, SHAPE).ok:
        raise BenchError(f"shape_report of {MODEL}(repeats={DEEP_REPEATS}) failed")
    fresh_small, fresh_deep = _Fresh(mx, small), _Fresh(mx, deep)
    calls = {}
    if "depth" in selected:
        calls["deep"] = _timed(lambda: shape_report(fresh_deep.symbol, SHAPE), before=fresh_deep.reload)
        calls["small"] = _timed(lambda: shape_report(fresh_small.symbol, SHAPE), before=fresh_small.reload)
    if "depth-by-name" in selected:
        calls["deep-name"] = _timed(
            lambda: shape_report(MODEL, SHAPE, border_mode="valid", repeats=DEEP_REPEATS)
        )
        calls["small-name"] = _timed(lambda: shape_report(MODEL, SHAPE, border_mode="valid"))
    notes = {}
    with tempfile.TemporaryDirectory(prefix="nin_mx-bench-") as tmp:
        if "depth-file" in selected:
            small_file, deep_file = os.path.join(tmp, SYMBOL_FILE), os.path.join(tmp, "IRV2-deep-symbol.json")
            small_symbol, deep_symbol = get_symbol(MODEL), get_symbol(MODEL, repeats=DEEP_REPEATS)
            small_symbol.save(small_file)
            deep_symbol.save(deep_file)
            for path in (small_file, deep_file):
                if not shape_report(path, SHAPE).ok:
                    raise BenchError(f"shape_report of {os.path.basename(path)} failed")
            calls["deep-file"] = _timed(lambda: shape_report(deep_file, SHAPE))
            calls["small-file"] = _timed(lambda: shape_report(small_file, SHAPE))
            n_small, n_deep = _nodes(small_symbol), _nodes(deep_symbol)
            size_small, size_deep = os.path.getsize(small_file), os.path.getsize(deep_file)
            notes["depth-file"] = (
                f"{n_small} -> {n_deep} nodes (x{n_deep / n_small:.2f}), "
                f"{size_small / 1e6:.2f} -> {size_deep / 1e6:.2f} MB of JSON; read from the files each time"
            )
        samples = _sample(calls, repeats, warmup)
    n_small, n_deep = _nodes(small), _nodes(deep)
    note = f"{n_small} -> {n_deep} nodes (x{n_deep / n_small:.2f}: the ratio of a linear report)"
    specs = {s.key: s for s in SPECS}
    results = []
    pairs = (
        ("depth", "deep", "small"),
        ("depth-by-name", "deep-name", "small-name"),
        ("depth-file", "deep-file", "small-file"),
    )
    for key, deep_name, small_name in pairs:
        if key in selected:
            spec = specs[key]
            results.append(
                _figure(
                    spec,
                    Series(spec.numerator, "s", samples[f"{deep_name}/time"]),
                    Series(spec.denominator, "s", samples[f"{small_name}/time"]),
                    notes.get(key, note),
                )
            )
    return results


def _random_arrays(symbol: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Random fan-in-scaled weights, valid BatchNorm statistics, uniform data (made once)."""
    from nin_mx._mxnet import mx

    arg_shapes, _, aux_shapes = symbol.infer_shape(data=SHAPE)
    args = {}
    for name, shape in zip(symbol.list_arguments(), arg_shapes):
        if name.endswith("_label"):
            args[name] = mx.nd.zeros(shape)
        elif name.endswith("_gamma"):
            args[name] = mx.nd.ones(shape)
        else:
            bound = (6.0 / max(1, math.prod(shape[1:]))) ** 0.5 if name.endswith("_weight") else 0.01
            args[name] = mx.nd.random.uniform(-bound, bound, shape=shape)
    aux = {
        name: mx.nd.random.uniform(0.5, 1.5, shape=shape) if name.endswith("_var") else mx.nd.zeros(shape)
        for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes)
    }
    mx.nd.waitall()
    return args, aux


def run_pooling(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    from nin_mx import compare_pooling, get_symbol
    from nin_mx._mxnet import mx

    symbol = get_symbol(MODEL)  # the graph compare_pooling builds with global pooling
    args, aux = _random_arrays(symbol)

    def forward() -> None:
        executor = symbol.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
        executor.forward(is_train=False)
        executor.outputs[0].asnumpy()

    calls = {
        "compare": _timed(lambda: compare_pooling(MODEL, SHAPE), before=mx.nd.waitall),
        "forward": _timed(forward, before=mx.nd.waitall),
    }
    samples = _sample(calls, repeats, max(warmup, 1))  # MKL-DNN primitives are made at first use
    spec = next(s for s in SPECS if s.key == "pooling")
    note = "baseline includes bind (not the making of its random arrays); compare_pooling does 2 of each"
    return [
        _figure(
            spec,
            Series(spec.numerator, "s", samples["compare/time"]),
            Series(spec.denominator, "s", samples["forward/time"]),
            note,
        )
    ]


def run_diff(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    """(g) and (h): the reports are made beforehand; the attribute maps are made in the timed
    call, as a caller makes them from the graphs. Each side gets two separately made (equal,
    not identical) reports."""
    from nin_mx import Graph, diff_reports, graph_attrs, manual_symbol, shape_report
    from nin_mx._mxnet import mx

    def side(graph: Any) -> Any:
        report = shape_report(graph, SHAPE)
        if not report.ok:
            raise BenchError(f"shape_report of {graph.label} failed: {report.error}")
        return graph, report

    def diff(a: tuple[Any, Any], b: tuple[Any, Any]) -> Callable[[], Any]:
        return lambda: diff_reports(a[1], b[1], attrs_a=graph_attrs(a[0]), attrs_b=graph_attrs(b[0]))

    default = Graph.from_model(MODEL)
    calls: dict[str, Callable[[], dict[str, float]]] = {}
    notes = {}
    if "diff" in selected:
        base, manual = side(default), side(Graph.from_symbol(manual_symbol(MODEL, SHAPE), label="manual"))
        pooled = diff(base, manual)()
        if pooled.counts.changed != 1:
            raise BenchError(f"default vs manual pool: expected one changed row, got {pooled.counts}")
        fresh = _Fresh(mx, default.symbol)
        calls["diff"] = _timed(diff(base, manual))
        calls["report"] = _timed(lambda: shape_report(fresh.symbol, SHAPE), before=fresh.reload)
        notes["diff"] = (
            f"{len(pooled.rows)} rows a side; the report's symbol is a fresh load_json copy each time"
        )
    if "diff-depth" in selected:
        deep = Graph.from_model(MODEL, repeats=DEEP_REPEATS)
        deep_a, deep_b = side(deep), side(deep)
        small_a, small_b = side(default), side(default)
        calls["deep"] = _timed(diff(deep_a, deep_b))
        calls["small"] = _timed(diff(small_a, small_b))
        n_small, n_deep = len(small_a[1].layers), len(deep_a[1].layers)
        notes["diff-depth"] = (
            f"{n_small} -> {n_deep} rows (x{n_deep / n_small:.2f}: the ratio of a linear diff)"
        )
    samples = _sample(calls, repeats, warmup)
    specs = {s.key: s for s in SPECS}
    results = []
    for key, numerator, denominator in (("diff", "diff", "report"), ("diff-depth", "deep", "small")):
        if key in selected:
            spec = specs[key]
            results.append(
                _figure(
                    spec,
                    Series(spec.numerator, "s", samples[f"{numerator}/time"]),
                    Series(spec.denominator, "s", samples[f"{denominator}/time"]),
                    notes[key],
                )
            )
    return results


def run_check(selected: set[str], repeats: int, warmup: int) -> list[dict[str, Any]]:
    """(i): a report with and without its findings, of one prebuilt graph (as the CLI has it)."""
    from nin_mx.checks.check import diagnose
    from nin_mx.graph.source import Graph
    from nin_mx.report.rows import report_graph

    graph = Graph.from_model(MODEL)
    findings = diagnose(graph, report_graph(graph, SHAPE))
    if any(f.severity >= "warning" for f in findings):
        raise BenchError(f"{MODEL} with its defaults should have no warning: {findings}")
    # A Graph keeps the shapes of its last input sizes (Graph.inferred); a CLI run starts
    # without them, so every sample does too.
    forget = graph.inferred.clear
    calls = {
        "checked": _timed(lambda: diagnose(graph, report_graph(graph, SHAPE)), before=forget),
        "report": _timed(lambda: report_graph(graph, SHAPE), before=forget),
    }
    samples = _sample(calls, repeats, warmup)
    spec = next(s for s in SPECS if s.key == "check")
    note = f"{len(graph.nodes)} nodes; {len(findings)} findings (info), every rule run"
    return [
        _figure(
            spec,
            Series(spec.numerator, "s", samples["checked/time"]),
            Series(spec.denominator, "s", samples["report/time"]),
            note,
        )
    ]


RUNNERS = {
    "cli": run_cli,
    "onnx": run_onnx,
    "report": run_report,
    "depth": run_depth,
    "pooling": run_pooling,
    "diff": run_diff,
    "check": run_check,
}


# --- profiles ----------------------------------------------------------------------------


def profile(letter: str, lines: int) -> None:
    """cProfile of the nin_mx side of one figure (after a warm-up), printed to stdout.

    (b), (b2) and (p) run the CLI's ``main`` in this process: interpreter start, imports and
    exit are not in the profile (``python -X importtime`` shows the imports), and MXNet is
    already imported here. (b2), (p) and (e3) read files written to a temporary folder first;
    for (p) the profile is of the run with ``--params``, the whole run.

    MXNet runs operators asynchronously, so for (f) the random sampling and the forward
    passes show up in ``asnumpy``; run with ``MXNET_ENGINE_TYPE=NaiveEngine`` to see them
    where they are called.
    """
    from nin_mx import (
        Graph,
        compare_pooling,
        diff_reports,
        get_symbol,
        graph_attrs,
        manual_symbol,
        shape_report,
    )
    from nin_mx._mxnet import mx
    from nin_mx.cli.main import main as cli_main

    symbol = get_symbol(MODEL, border_mode="valid")

    def cli() -> None:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            cli_main(list(CLI_ARGS))

    deep = get_symbol(MODEL, border_mode="valid", repeats=DEEP_REPEATS)

    def diff_of(graph: Any, other: Any) -> Callable[[], Any]:
        a, b = shape_report(graph, SHAPE), shape_report(other, SHAPE)
        return lambda: diff_reports(a, b, attrs_a=graph_attrs(graph), attrs_b=graph_attrs(other))

    # (what, runs): several runs, so that one garbage collection does not land on one function
    targets: dict[str, tuple[Callable[[], Any], int]] = {
        "a": (lambda: shape_report(symbol, SHAPE), 10),
        "b": (cli, 3),  # in process: MXNet already imported; interpreter start and exit excluded
        "e": (lambda: shape_report(deep, SHAPE), 3),
        "f": (lambda: (compare_pooling(MODEL, SHAPE), mx.nd.waitall()), 1),
    }
    if letter in ("g", "h"):
        default = Graph.from_model(MODEL)
        if letter == "g":
            targets["g"] = (diff_of(default, Graph.from_symbol(manual_symbol(MODEL, SHAPE))), 10)
        else:
            deep_graph = Graph.from_model(MODEL, repeats=DEEP_REPEATS)
            targets["h"] = (diff_of(deep_graph, deep_graph), 3)
    file_letters = ("b2", "p", "e3")
    with tempfile.TemporaryDirectory(prefix="nin_mx-bench-") as tmp:
        if letter in file_letters:
            symbol_file = os.path.join(tmp, SYMBOL_FILE)
            get_symbol(MODEL).save(symbol_file)
            if letter == "p":
                written = _write_files(tmp, modes=False, checkpoint=True)
                if written["imports"]["code"] != 0:
                    raise BenchError(f"the report of {SYMBOL_FILE} exited with {written['imports']['code']}")
            if letter == "e3":
                deep_file = os.path.join(tmp, "IRV2-deep-symbol.json")
                get_symbol(MODEL, repeats=DEEP_REPEATS).save(deep_file)
                targets["e3"] = (lambda: shape_report(deep_file, SHAPE), 3)
            else:
                argv = [symbol_file, *FILE_ARGS]
                if letter == "p":
                    argv += ["--params", os.path.join(tmp, CHECKPOINT)]

                def file_cli() -> None:
                    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
                        cli_main(argv)

                targets[letter] = (file_cli, 5)
        if letter not in targets:
            choices = ", ".join([*targets, *file_letters])
            raise BenchError(f"--profile takes one of {choices}, got {letter!r}")
        target, runs = targets[letter]
        target()  # warm-up
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            target()
        profiler.disable()
    print(f"cProfile of figure ({letter}), {runs} run(s) after a warm-up")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)


# --- report ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    dirty = _git("status", "--porcelain", "--", "nin_mx")
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": PYTHON,
        "mxnet": _version("mxnet"),
        "numpy": _version("numpy"),
        "nin_mx": _version("nin_mx"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "nin_mx_uncommitted_changes": bool(dirty),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "env": {
            key: os.environ[key]
            for key in ("OMP_NUM_THREADS", "MXNET_ENGINE_TYPE", "PYTHONDONTWRITEBYTECODE")
            if key in os.environ
        },
    }


def _value(value: float, unit: str) -> str:
    if unit == "KiB":
        return f"{value / 1024:.1f} MiB"
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.3f} s"


def _series(series: dict[str, Any]) -> str:
    unit = series["unit"]
    low, high = _value(series["min"], unit), _value(series["max"], unit)
    return f"{_value(series['median'], unit)} [{low} – {high}]"


def _target(figure: dict[str, Any]) -> str:
    return "—" if figure["target"] is None else f"≤ {figure['target']:g}"


def print_text(figures: Sequence[dict[str, Any]], info: dict[str, Any]) -> None:
    print()
    for fig in figures:
        head = f"({fig['letter']}) {fig['key']}: {fig['title']}"
        print(f"{head}\n    ratio {fig['ratio']:.3f}   target {_target(fig)}   {fig['status']}")
        for side in ("numerator", "denominator"):
            series = fig[side]
            print(f"    {_series(series):34} n={series['n']:<3} {series['label']}")
        if "cpu_time" in fig:
            cpu = fig["cpu_time"]
            ratio = "n/a" if cpu["ratio"] is None else f"{cpu['ratio']:.3f}"
            print(
                f"    CPU time ratio {ratio}: {_series(cpu['numerator'])} "
                f"÷ {_series(cpu['denominator'])} (information; GNU time has 10 ms resolution)"
            )
        for name, part in fig.get("parts", {}).items():
            print(f"    {name}: {_series(part)} n={part['n']}")
        if fig["note"]:
            print(f"    note: {fig['note']}")
        print()
    print("| figure | ratio | target | result | nin_mx: median [min – max] | baseline: median [min – max] |")
    print("| --- | ---: | ---: | --- | --- | --- |")
    for fig in figures:
        print(
            f"| ({fig['letter']}) {fig['key']} | {fig['ratio']:.2f} | {_target(fig)} | {fig['status']} "
            f"| {_series(fig['numerator'])} | {_series(fig['denominator'])} |"
        )
    print(
        f"\nmeasured in {info['seconds']:.0f} s; load average {info['load_average_start']} at start, "
        f"{info['load_average_end']} at end"
    )


def _selection(only: str | None) -> set[str]:
    if not only:
        return {s.key for s in SPECS} - OPT_IN
    by_name = {**{s.key: s.key for s in SPECS}, **{s.letter: s.key for s in SPECS}}
    selected = set()
    for part in (p.strip().lower() for p in only.split(",") if p.strip()):
        if part == "onnx":
            selected |= OPT_IN
            continue
        if part not in by_name:
            valid = ", ".join(f"{s.letter}/{s.key}" for s in SPECS)
            raise ValueError(f"--only: unknown figure {part!r} (choose from {valid})")
        selected.add(by_name[part])
    return selected


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPEATS} repeats: a smoke test")
    parser.add_argument("--repeats", type=int, metavar="N", help="samples per side for every figure")
    parser.add_argument("--warmup", type=int, default=1, metavar="N", help="warm-up runs (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", metavar="NAME", help="figures to measure, by key or letter: a,cli-wall")
    parser.add_argument(
        "--profile", metavar="FIGURE", help="print a cProfile of figure a, b, b2, p, e, e3, f, g or h"
    )
    parser.add_argument("--profile-lines", type=int, default=30, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        selected = _selection(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        if args.profile:
            profile(args.profile.strip().lower(), args.profile_lines)
            return 0
        info = machine()
        print(
            f"nin_mx benchmark (issues 5, 12, 17-20): {info['cpus']} CPUs ({info['cpus_usable']} usable), "
            f"{info['cpu_model']}; Python {info['python']}, MXNet {info['mxnet']}, "
            f"numpy {info['numpy']}; nin_mx {info['git_commit']}"
            f"{' + uncommitted changes' if info['nin_mx_uncommitted_changes'] else ''}"
        )
        start = time.perf_counter()
        figures: list[dict[str, Any]] = []
        repeats: dict[str, int] = {}
        for group in GROUPS:
            wanted = {s.key for s in SPECS if s.group == group} & selected
            if not wanted:
                continue
            repeats[group] = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS[group])
            print(f"measuring {group}: {repeats[group]} repeats ...", flush=True)
            figures += RUNNERS[group](wanted, repeats[group], args.warmup)
    except BenchError as exc:
        print(f"bench.py: error: {exc}", file=sys.stderr)
        return 1
    info["seconds"] = time.perf_counter() - start
    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    order = {s.key: i for i, s in enumerate(SPECS)}
    figures.sort(key=lambda fig: order[fig["key"]])
    print_text(figures, info)
    if args.json:
        settings = {"repeats": repeats, "warmup": args.warmup, "quick": args.quick}
        document = {"machine": info, "settings": settings, "figures": figures}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
