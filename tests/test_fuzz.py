"""A seeded mutation fuzzer over the suite's own symbol and checkpoint files (issue 20).

Each case is a damaged or hostile input given to the command line; each runs in a process of
its own (forked from one worker that imported nin_mx once), under a memory limit and a time
limit. Every case must end with an exit code of the documented set (0 report, 1 bad file, 3
findings), never a signal; a failure must be one line on stderr, never a traceback; the peak
memory must stay under 1 GiB; and an existing ``--output`` file must be left as it was when
the run fails. No MXNet: reading files needs none (and the worker checks that it stayed out).
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
SYMBOLS = ["nin_cifar10-symbol.json", "squeezenet1.1-symbol.json"]
CHECKPOINT = DATA / "params" / "gluon-0000.params"
CHECKPOINT_SYMBOL = DATA / "params" / "gluon-symbol.json"
HOSTILE_VALUES = [
    "+0", "0x10", "1e3", " 3", "-1", "0", "2147483648", "99999999999999999999", "", "(0,0)",
    "(-1,-1)", "None", "(1,-4,-1,0,-2)", "(0,)", "()", "(2147483647, 2147483647)", "\x1b[2J",
    "True", "nan", "(3, x)",
]  # fmt: skip
SEED = 20261203
CASES = 300
PEAK_LIMIT = 2**30

# The worker: imports the CLI once, then forks one child per case under limits; prints one JSON
# line per case: its exit code (negative: the signal), stderr, and the child's peak memory.
WORKER = r"""
import io, json, os, resource, sys
from nin_mx.cli import main
cases = json.load(open(sys.argv[1]))
for argv in cases:
    err_path = argv.pop()
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
        fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", 0), write_through=True)
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # a traceback would be a failure: say so
            print("TRACEBACK", type(exc).__name__, exc, file=sys.stderr)
            code = 99
        sys.stderr.flush()
        mxnet = "mxnet.base" in sys.modules
        os._exit(code if not mxnet else 98)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"code": code, "stderr": open(err_path, errors="replace").read(),
                      "peak": usage.ru_maxrss * 1024}), flush=True)
"""


def _mutate_text(rng: random.Random, text: str) -> str:
    """Byte-level damage: a cut, a flipped character, a deleted or repeated span."""
    kind = rng.randrange(4)
    at = rng.randrange(len(text))
    if kind == 0:
        return text[:at]
    if kind == 1:
        return text[:at] + chr(rng.randrange(32, 127)) + text[at + 1 :]
    span = rng.randrange(1, 200)
    return text[:at] + text[at + span :] if kind == 2 else text[:at] + text[at : at + span] * 50 + text[at:]


def _mutate_graph(rng: random.Random, graph: dict) -> dict:
    """Structural damage that stays JSON: hostile attribute values, bad indices, cycles."""
    graph = json.loads(json.dumps(graph))
    nodes = graph["nodes"]
    ops = [n for n in nodes if n["op"] != "null"]
    kind = rng.randrange(7)
    node = rng.choice(ops)
    attrs = node.setdefault("attrs", {})
    if kind == 0 and attrs:
        attrs[rng.choice(sorted(attrs))] = rng.choice(HOSTILE_VALUES)
    elif kind == 1:
        attrs[rng.choice(["num_group", "stride", "pad", "dilate", "kernel", "num_filter", "p", "axis"])] = (
            rng.choice(HOSTILE_VALUES)
        )
    elif kind == 2 and node["inputs"]:
        entry = rng.choice(node["inputs"])
        entry[rng.randrange(2)] = rng.choice([-1, 99, 10**6, 2**31])
    elif kind == 3:
        node["control_deps"] = [len(nodes) - 1]  # a cycle unless it is the last node
    elif kind == 4:
        node["op"] = rng.choice(["Reshape", "SliceChannel", "GroupNorm", "Correlation", "_split_v2", "Crop"])
    elif kind == 5:
        variable = rng.choice([n for n in nodes if n["op"] == "null"])
        variable.setdefault("attrs", {})["__shape__"] = rng.choice(["(0,)", "(-1, 3)", "(4294967296,)", "x"])
    else:
        graph["heads"] = [[rng.choice([-1, len(nodes), 0]), rng.choice([0, 5]), 0]]
    return graph


def _checkpoint_damage(rng: random.Random, raw: bytes) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        return raw[: rng.randrange(len(raw))]
    if kind == 1:
        at = rng.randrange(len(raw))
        return raw[:at] + bytes([raw[at] ^ (1 << rng.randrange(8))]) + raw[at + 1 :]
    at = rng.randrange(8, len(raw) - 8)
    return raw[:at] + struct.pack("<Q", rng.choice([10**18, 6 * 10**9, 2**63 - 1, 2**32])) + raw[at + 8 :]


def _cases(tmp: Path) -> list[tuple[list[str], Path]]:
    rng = random.Random(SEED)
    cases = []
    graphs = {name: (DATA / "oracle" / name).read_text(encoding="utf-8") for name in SYMBOLS}
    raw = CHECKPOINT.read_bytes()
    for i in range(CASES):
        path = tmp / f"case{i}-symbol.json"
        name = rng.choice(SYMBOLS)
        size = "3,32,32" if name.startswith("nin") else "3,64,64"
        argv = [str(path), "--input", size]
        if i % 3 == 0:
            path.write_text(_mutate_text(rng, graphs[name]), encoding="utf-8", errors="replace")
        elif i % 3 == 1:
            path.write_text(json.dumps(_mutate_graph(rng, json.loads(graphs[name]))), encoding="utf-8")
        else:
            params = tmp / f"case{i}-0000.params"
            params.write_bytes(_checkpoint_damage(rng, raw))
            path.write_text(CHECKPOINT_SYMBOL.read_text(encoding="utf-8"), encoding="utf-8")
            argv = [str(path), "--input", "3,16,16", "--params", str(params)]
        output = tmp / f"case{i}.out"
        output.write_text("untouched\n", encoding="utf-8")
        argv += ["--check", "--output", str(output)] if i % 2 else ["--output", str(output)]
        cases.append((argv, output))
    return cases


def test_fuzzed_files_fail_cleanly(tmp_path):
    cases = _cases(tmp_path)
    plan = [[*argv, str(tmp_path / f"err{i}")] for i, (argv, _) in enumerate(cases)]
    (tmp_path / "cases.json").write_text(json.dumps(plan), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(cases), done.stderr[-2000:]
    problems = []
    for (argv, output), result in zip(cases, results):
        code, stderr = result["code"], result["stderr"]
        lines = stderr.splitlines()
        where = " ".join(argv[:1] + argv[3:4])
        if code not in (0, 1, 3):
            problems.append(f"{where}: exit {code}: {stderr[:300]}")
        elif "TRACEBACK" in stderr or "Traceback" in stderr:
            problems.append(f"{where}: traceback: {stderr[:300]}")
        elif code == 1 and len(lines) != 1:  # a file has one mode: one line
            problems.append(f"{where}: {len(lines)} stderr lines: {stderr[:300]}")
        elif result["peak"] >= PEAK_LIMIT:
            problems.append(f"{where}: peak memory {result['peak']:,} bytes")
        elif code == 1 and output.read_text(encoding="utf-8") != "untouched\n":
            problems.append(f"{where}: the failed run changed --output")
    assert not problems, "\n".join(problems[:20])
    codes = [r["code"] for r in results]
    assert codes.count(1) > CASES // 4 and codes.count(0) + codes.count(3) > 10  # both kinds ran


@pytest.mark.parametrize("value", ["+0", "0x10", "1e3", " 3"])
def test_integer_attributes_are_read_as_mxnet_reads_them_or_refused(tmp_path, value):
    """'+0' and ' 3' are MXNet's 0 and 3; '0x10' and '1e3' are refused: never another value."""
    graph = json.loads((DATA / "oracle" / SYMBOLS[0]).read_text(encoding="utf-8"))
    conv = next(n for n in graph["nodes"] if n["op"] == "Convolution")
    conv["attrs"]["num_group"] = value
    path = tmp_path / "g-symbol.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", str(path), "--input", "3,32,32", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if value == " 3":  # 3 groups of a 3-channel input: a depthwise first layer
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["reports"][0]["layers"][0]["params"] == 192 * 1 * 25 + 192
    else:
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "num_group" in done.stderr, done.stderr
