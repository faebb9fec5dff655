"""Asks MXNet 1.9.1 itself, in child processes, how it reads attribute values and symbol files.

Some values crash libmxnet outright (a failed ``CHECK`` outside a ``try``, an abort): each
batch runs in a child process, and when one dies the parent starts another after the case it
died on, which is reported as ``["crash", exit code]``. The child resets ``errno`` before each
case: ``dmlc::stof`` reads a stale ``ERANGE`` as its own (dmlc-core include/dmlc/strtonum.h),
so in one long-lived process an ``inf`` after an out-of-range value would be refused.

A case is a JSON list:

* ``["parse", op, attrs]``: ``MXSymbolCreateAtomicSymbol`` (which runs the operator's
  ``attr_parser``: dmlc's ``Parameter::Init`` and any rewrite): ``["ok"]`` or
  ``["refused", message]``.
* ``["infer", op, attrs, [shape, ...]]``: the operator on variables of those shapes, loaded
  by ``mx.sym.load_json`` and inferred by ``infer_shape``: ``["ok", [out shapes]]`` or
  ``["refused", message]``.
* ``["forward", op, attrs, [[values], ...]]``: run imperatively on float32 arrays (none for an
  operator without inputs): ``["ok", flat output values]`` or ``["refused", message]``.
* ``["load", json_text]``: ``mx.sym.load_json``: ``["ok"]`` or ``["refused", message]``.
* ``["partial", json_text, {name: shape}]``: the graph's ``get_internals().infer_shape_partial``
  with those shapes: ``["ok", [internal outputs, {argument: shape}, {aux state: shape}, complete]]``
  in MXNet's legacy terms (``[]`` unknown, 0 an unknown dimension; ``complete``: ``infer_shape``
  finds every shape), or ``["refused", message]``.

Run as ``python tests/_mxnet_child.py CASES.json START`` (the parent does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["ask_mxnet"]

_ROOT = Path(__file__).resolve().parents[1]


def _first_line(exc: BaseException) -> str:
    """MXNet's message in one line (nin_mx's reduction of its traces)."""
    from nin_mx.core.errors import one_line

    return one_line(exc)


def _child(path: str, start: int) -> None:  # pragma: no cover - runs in the child
    import ctypes

    sys.path.insert(0, str(_ROOT))
    from nin_mx._mxnet import mx

    libc = ctypes.CDLL(None)
    errno_location = libc.__errno_location
    errno_location.restype = ctypes.POINTER(ctypes.c_int)
    handles: dict[str, Any] = {}
    create = mx.base._LIB.MXSymbolCreateAtomicSymbol  # called directly: a refusal costs no Python error
    last_error = mx.base._LIB.MXGetLastError
    last_error.restype = ctypes.c_char_p

    def handle(op: str) -> Any:
        if op not in handles:
            h = mx.base.OpHandle()
            mx.base.check_call(mx.base._LIB.NNGetOpHandle(mx.base.c_str(op), ctypes.byref(h)))
            handles[op] = h
        return handles[op]

    def encode(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    def parse(op: str, attrs: dict[str, str]) -> list:
        keys = (ctypes.c_char_p * len(attrs))(*map(encode, attrs))
        vals = (ctypes.c_char_p * len(attrs))(*map(encode, attrs.values()))
        out = mx.base.SymbolHandle()
        if create(handle(op), len(attrs), keys, vals, ctypes.byref(out)) != 0:
            return ["refused", last_error().decode("utf-8", "replace").strip().splitlines()[0]]
        mx.base._LIB.NNSymbolFree(out)
        return ["ok"]

    def infer(op: str, attrs: dict[str, str], shapes: Sequence[Sequence[int]]) -> list:
        nodes = [{"op": "null", "name": f"in{i}", "inputs": []} for i in range(len(shapes))]
        nodes.append(
            {"op": op, "name": "node", "attrs": attrs, "inputs": [[i, 0, 0] for i in range(len(shapes))]}
        )
        graph = {
            "nodes": nodes,
            "arg_nodes": list(range(len(shapes))),
            "heads": [[len(shapes), 0, 0]],
            "attrs": {"mxnet_version": ["int", 10901]},
        }
        sym = mx.sym.load_json(json.dumps(graph))
        _, outs, _ = sym.infer_shape(**{f"in{i}": tuple(s) for i, s in enumerate(shapes)})
        return ["ok", [list(s) for s in outs]]

    def forward(op: str, attrs: dict[str, str], arrays: Sequence[Sequence[float]]) -> list:
        fn = getattr(mx.nd, op, None) or getattr(mx.nd._internal, op)
        out = fn(*[mx.nd.array(a, dtype="float32") for a in arrays], **attrs)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return ["ok", [float(v) for v in out.asnumpy().astype("float64").ravel()]]

    def load(text: str) -> list:
        mx.sym.load_json(text)
        return ["ok"]

    def partial(text: str, shapes: dict[str, Sequence[int]]) -> list:
        sym = mx.sym.load_json(text).get_internals()
        given = {k: tuple(v) for k, v in shapes.items()}
        args, outs, auxs = sym.infer_shape_partial(**given)
        named = [dict(zip(sym.list_arguments(), args)), dict(zip(sym.list_auxiliary_states(), auxs))]
        with warnings.catch_warnings():  # infer_shape warns where it cannot infer every shape
            warnings.simplefilter("ignore")
            complete = sym.infer_shape(**given)[0] is not None
        return [
            "ok",
            [[list(s) for s in outs], *({k: list(v) for k, v in d.items()} for d in named), complete],
        ]

    # Room for 256 MiB beyond what MXNet holds once imported: a value such as num_outputs=2147483647
    # makes a parser allocate without end, and should fail fast, not fill the machine.
    import resource

    mx.base._LIB  # noqa: B018 - MXNet imported (and its libraries mapped) before the cap
    with open("/proc/self/statm", encoding="ascii") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 2**28, mapped + 2**28))
    run = {"parse": parse, "infer": infer, "forward": forward, "load": load, "partial": partial}
    with open(path, encoding="utf-8") as handle_file:
        cases = json.load(handle_file)
    out = sys.stdout
    for index in range(start, len(cases)):
        kind, *args = cases[index]
        errno_location()[0] = 0
        try:
            result = run[kind](*args)
        except Exception as exc:  # MXNetError, and a few TypeErrors of MXNet's Python side
            result = ["refused", _first_line(exc)]
        out.write(json.dumps([index, result]) + "\n")
        out.flush()


def ask_mxnet(cases: Sequence[list], python: str | None = None, timeout: float = 300) -> list[list]:
    """MXNet's answer to every case, in order (see the module docstring)."""
    results: list[list | None] = [None] * len(cases)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cases.json")
        with open(path, "w", encoding="utf-8") as handle_file:
            json.dump(list(cases), handle_file)
        start = 0
        # no C++ stack trace in MXNet's messages: it costs a millisecond a refusal
        env = {
            **os.environ,
            "PYTHONPATH": str(_ROOT),
            "MXNET_SUBGRAPH_VERBOSE": "0",
            "DMLC_LOG_STACK_TRACE_DEPTH": "0",
        }
        while start < len(cases):
            child = subprocess.run(
                [python or sys.executable, __file__, path, str(start)],
                capture_output=True,
                text=True,
                check=False,
                env=env,
                timeout=timeout,
            )
            done = start
            for line in child.stdout.splitlines():
                if line.startswith("["):
                    index, result = json.loads(line)
                    results[index] = result
                    done = index + 1
            if done < len(cases) and child.returncode == 0:
                raise RuntimeError(f"the MXNet child stopped at case {done}: {child.stderr[-500:]}")
            if done < len(cases):
                results[done] = ["crash", child.returncode]
                done += 1
            start = done
    return results  # type: ignore[return-value]


if __name__ == "__main__":  # pragma: no cover
    _child(sys.argv[1], int(sys.argv[2]))
