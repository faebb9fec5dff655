#!/usr/bin/env python
"""Writes nin_mx/core/ops/mxnet_registry.json: every operator MXNet 1.9.1 registers, with the
names and types of its parameters (attributes), the names of its inputs, and the lower bound its
parser enforces on each integer parameter, as MXNet's C API describes them
(``MXSymbolGetAtomicSymbolInfo``, the call ``mxnet.symbol.register`` makes) and as its parser
answers (``MXSymbolCreateAtomicSymbol`` with -1: "should be greater equal to N").

nin_mx reads the file to refuse, before anything executes a graph, an operator MXNet does not
have, an attribute it does not take and a value it would refuse (``nin_mx.core.ops.registry``).
Run with MXNet 1.9.1 (about a minute):

    python scripts/make_op_registry.py
"""

from __future__ import annotations

import ctypes
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "nin_mx" / "core" / "ops" / "mxnet_registry.json"
_BOUND = re.compile(r"should be greater equal to (-?\d+)")


def _mx() -> Any:
    from nin_mx._mxnet import mx  # not `import mxnet`: see nin_mx._mxnet's numpy.bool shim

    return mx


def _handle(mx: Any, name: str) -> Any:
    handle = mx.base.OpHandle()
    mx.base.check_call(mx.base._LIB.NNGetOpHandle(mx.base.c_str(name), ctypes.byref(handle)))
    return handle


def _describe(mx: Any, name: str) -> dict[str, Any]:
    """``{"params": {name: type}, "inputs": [...], "num_args": key}`` of one operator."""
    real_name, desc, key_var_num_args, ret_type = (ctypes.c_char_p() for _ in range(4))
    num_args = mx.base.mx_uint()
    arg_names, arg_types, arg_descs = (ctypes.POINTER(ctypes.c_char_p)() for _ in range(3))
    mx.base.check_call(
        mx.base._LIB.MXSymbolGetAtomicSymbolInfo(
            _handle(mx, name),
            ctypes.byref(real_name),
            ctypes.byref(desc),
            ctypes.byref(num_args),
            ctypes.byref(arg_names),
            ctypes.byref(arg_types),
            ctypes.byref(arg_descs),
            ctypes.byref(key_var_num_args),
            ctypes.byref(ret_type),
        )
    )
    params, inputs = {}, []
    for i in range(num_args.value):
        arg, kind = mx.base.py_str(arg_names[i]), mx.base.py_str(arg_types[i])
        if kind.startswith(("NDArray", "Symbol")):
            inputs.append(arg)
        else:
            params[arg] = kind
    entry: dict[str, Any] = {"params": params, "inputs": inputs}
    if key_var_num_args.value:
        entry["num_args"] = mx.base.py_str(key_var_num_args.value)
    return entry


def _plausible(kind: str) -> str:
    """A value of MXNet's type description that its parser accepts."""
    if kind.startswith("{"):
        return kind[1 : kind.index("}")].split(",")[0].strip().strip("'")
    head = kind.split(",")[0]
    if head.startswith(("Shape", "tuple")):
        return "(1,)"
    if head.startswith("boolean"):
        return "0"
    return "1" if head.startswith(("int", "long", "float", "double")) else "a"


def _parses(mx: Any, handle: Any, attrs: dict[str, str]) -> str | None:
    """None if MXNet's parser takes the attributes, else its message."""
    keys = (ctypes.c_char_p * len(attrs))(*(k.encode() for k in attrs))
    vals = (ctypes.c_char_p * len(attrs))(*(v.encode() for v in attrs.values()))
    out = mx.base.SymbolHandle()
    try:
        mx.base.check_call(
            mx.base._LIB.MXSymbolCreateAtomicSymbol(
                handle, mx.base.mx_uint(len(attrs)), keys, vals, ctypes.byref(out)
            )
        )
    except mx.base.MXNetError as exc:
        return str(exc)
    mx.base.check_call(mx.base._LIB.NNSymbolFree(out))
    return None


def _lower_bounds(mx: Any, name: str, params: dict[str, str]) -> dict[str, int]:
    """The lower bound MXNet's parser enforces on each integer parameter (``set_lower_bound``),
    found by asking it to parse -1 and 0 with every other required parameter plausible."""
    handle = _handle(mx, name)
    base = {key: _plausible(kind) for key, kind in params.items() if "required" in kind}
    if _parses(mx, handle, base) is not None:
        return {}
    bounds = {}
    for key, kind in params.items():
        if kind.startswith(("int", "long")):
            for value in ("-1", "0"):  # "int (non-negative)" refuses -1 as a format error
                found = _BOUND.search(_parses(mx, handle, {**base, key: value}) or "")
                if found:
                    bounds[key] = int(found.group(1))
                    break
    return bounds


def _probe(names: list[str]) -> None:
    """Child process: one JSON line of bounds per operator, flushed as it goes."""
    mx = _mx()
    for name in names:
        bounds = _lower_bounds(mx, name, _describe(mx, name)["params"])
        print(json.dumps({"op": name, "bounds": bounds}), flush=True)


def _probe_all(names: list[str]) -> dict[str, dict[str, int]]:
    """:func:`_lower_bounds` of every operator, in child processes: some attribute values crash
    libmxnet outright (the reason nin_mx checks them first), so a crash skips that operator."""
    found: dict[str, dict[str, int]] = {}
    rest = list(names)
    while rest:
        child = subprocess.run(
            [sys.executable, __file__, "--probe", *rest], capture_output=True, text=True, check=False
        )
        done = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
        for item in done:
            found[item["op"]] = item["bounds"]
        crashed = rest[len(done) : len(done) + 1] if child.returncode != 0 else []
        if crashed:
            print(
                f"skipped {crashed[0]}: its parser crashed MXNet (exit {child.returncode})", file=sys.stderr
            )
        rest = rest[len(done) + len(crashed) :]
    return found


def main() -> int:
    mx = _mx()
    names = sorted(mx.operator.get_all_registered_operators())
    registry = {name: _describe(mx, name) for name in names}
    for name, bounds in _probe_all(names).items():
        if bounds:
            registry[name]["lower_bounds"] = bounds
    text = json.dumps({"mxnet_version": mx.__version__, "operators": registry}, sort_keys=True, indent=0)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"{len(registry)} operators -> {OUT} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        _probe(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
