#!/usr/bin/env python
"""Writes nin_mx/core/ops/mxnet_registry.json: every operator MXNet 1.9.1 registers, with the
names and types of its parameters (attributes), the C++ type of each as nin_mx reads it (its
``kinds``: ``nin_mx.core.attrs.KINDS``), the names of its inputs, and the lower bound its
parser enforces on each integer parameter, as MXNet's C API describes them
(``MXSymbolGetAtomicSymbolInfo``, the call ``mxnet.symbol.register`` makes) and as its parser
answers (``MXSymbolCreateAtomicSymbol`` with -1: "should be greater equal to N").

nin_mx reads the file to refuse, before anything executes a graph, an operator MXNet does not
have, an attribute it does not take and a value it would refuse (``nin_mx.core.ops.registry``).
The probes run in child processes, each capped at 1 GiB beyond MXNet itself (some values make
a parser allocate without end, some crash libmxnet). Run with MXNet 1.9.1 (two or three minutes):

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
    if not params and not inputs and name.startswith("_sg_"):
        params = _unlisted_params(mx, name)
    entry: dict[str, Any] = {"params": params, "inputs": inputs}
    if key_var_num_args.value:
        entry["num_args"] = mx.base.py_str(key_var_num_args.value)
    return entry


_ARGUMENT = re.compile(r"^(\w+) : (.+)$", re.MULTILINE)


def _unlisted_params(mx: Any, name: str) -> dict[str, str]:
    """The parameters of a subgraph operator whose parser the C API does not describe
    (``_sg_mkldnn_conv``: ``MKLDNNConvParam``, read by ``SgMKLDNNConvParamParser`` in
    src/operator/subgraph/mkldnn/mkldnn_conv.cc), as its parser lists them when it meets an
    attribute it does not know ("Cannot find argument ..., Possible Arguments: ..."): the
    unknown attribute is refused before the parser reads the node's subgraph."""
    message = _parses(mx, _handle(mx, name), {"nin_mx_no_such_attribute": "1"}) or ""
    if "Possible Arguments:" not in message:
        return {}
    listing = message.split("Possible Arguments:", 1)[1].split(", in operator ", 1)[0]
    return {key: kind.strip() for key, kind in _ARGUMENT.findall(listing)}


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


# The kind of each type name MXNet gives (dmlc-core include/dmlc/type_traits.h,
# include/dmlc/optional.h; mxnet include/mxnet/tensor_blob.h and tuple.h), as nin_mx.core.attrs
# reads it. A name several C++ types share is settled by asking MXNet (_classify).
_KIND_OF_TYPE = {
    "int": "int",
    "long": "int64",
    "int (non-negative)": "uint32",
    "long (non-negative)": "uint64",
    "boolean": "bool",
    "float": "float",
    "real_t": "float",
    "double": "double",
    "int or None": "opt_int",
    "boolean or None": "opt_bool",
    "float or None": "opt_float",
    "double or None": "opt_double",
    "tuple of <float>": "tuple_float",
    "tuple of <double>": "tuple_double",
    "tuple of <long>": "tuple_int64",
    "tuple of <Shape(tuple)>": "tuple_shape",
    "string": "string",
    "ptr": "ptr",
}
# 'Shape(tuple)' is TShape, Tuple<int> or Tuple<optional<int>>; 'Shape or None' optional<TShape>
# or optional<Tuple<int>>; '' a type without a name (optional<int64_t>, optional<Tuple<double>>).
# A documented type may differ from the parsed one too (smooth_l1's 'float' scalar is the double
# of NumpyBinaryScalarParam): those are asked as well.
_CANDIDATES = {
    "Shape(tuple)": ("tuple_opt_int", "shape", "tuple_int"),
    "Shape or None": ("opt_shape", "opt_tuple_int"),
    "": ("opt_int64", "opt_double", "opt_tuple_double", "opt_tuple_int64", "opt_shape", "char", "string"),
    "float": ("float", "double"),
    "double": ("double", "float"),
    "int": ("int", "int64"),
}
_TELLING = (
    *("(None,)", "(2147483648,)", "(1,)", "(1.5,)", "None", "1", "1.5", "x", "(None, 2)", " None", "xy"),
    *("1e39", "1e-50", "2147483648", "9223372036854775808", "+1", "(1, 2)"),
)
# MXNet's words for a value its parser refuses (dmlc-core include/dmlc/parameter.h, strtonum.h)
PARSE_REFUSALS = (
    "Invalid Parameter format for",
    "Out of range value for",
    "Some trailing characters could not be parsed",
    "Invalid Input:",
    "Invalid NAN literal",
    "should be greater equal to",
    "exceed bound",
)


def type_head(kind: str) -> str:
    """The type name of MXNet's description: ``int (non-negative)`` of ``int (non-negative),
    required``; ``{enum}`` or ``{None enum}`` for an enum."""
    if kind.startswith("{"):
        return "{None enum}" if kind.startswith("{None") else "{enum}"
    return kind.split(",")[0].strip()


def _nin_accepts(kind: str, raw: str) -> bool:
    from nin_mx.core.attrs import parse_value
    from nin_mx.core.errors import GraphError

    try:
        parse_value(kind, raw)
    except GraphError:
        return False
    return True


def _classify(mx: Any, name: str, key: str, head: str, base: dict[str, str]) -> str:
    """The candidate kind whose verdicts on telling spellings are MXNet's own."""
    handle = _handle(mx, name)
    verdicts = []
    for raw in _TELLING:
        message = _parses(mx, handle, {**base, key: raw})
        verdicts.append(message is None or not any(words in message for words in PARSE_REFUSALS))
    scores = [
        (sum(_nin_accepts(kind, raw) == ok for raw, ok in zip(_TELLING, verdicts)), -i, kind)
        for i, kind in enumerate(_CANDIDATES[head])
    ]
    return max(scores)[2]


def _base(mx: Any, name: str, params: dict[str, str]) -> dict[str, str] | None:
    """Values of the required parameters that MXNet's parser takes together, or None: the
    plausible ones, and for a type without a name (''), each of a few spellings."""
    import itertools

    handle = _handle(mx, name)
    required = {key: kind for key, kind in params.items() if "required" in kind}
    unnamed = [key for key, kind in required.items() if type_head(kind) == ""]
    for choice in itertools.product(("1", "(1,)", "None", "a"), repeat=len(unnamed)):
        base = {key: _plausible(kind) for key, kind in required.items()}
        base.update(zip(unnamed, choice))
        if _parses(mx, handle, base) is None:
            return base
    return None


def _kinds(mx: Any, name: str, params: dict[str, str]) -> dict[str, str]:
    """The kind (nin_mx.core.attrs.KINDS) of each parameter of one operator."""
    base = _base(mx, name, params)
    base_ok = base is not None
    base = base or {}
    kinds = {}
    for key, kind in params.items():
        head = type_head(kind)
        if head in ("{enum}", "{None enum}"):
            kinds[key] = "opt_enum" if head == "{None enum}" else "enum"
        elif head in _CANDIDATES and base_ok:
            kinds[key] = _classify(mx, name, key, head, {k: v for k, v in base.items() if k != key})
        elif head in _CANDIDATES:
            kinds[key] = _CANDIDATES[head][0]
        else:
            kinds[key] = _KIND_OF_TYPE[head]
    return kinds


# The extremes of each numeric kind: MXNet's range check (FieldEntryNumeric::Check) names the
# bounds it refuses them by.
_EXTREMES = {
    "int": ("-2147483648", "2147483647"),
    "int64": ("-9223372036854775808", "9223372036854775807"),
    "uint32": ("0", "4294967295"),
    "uint64": ("0", "18446744073709551615"),
    "float": ("-3e38", "3e38"),
    "double": ("-1e308", "1e308"),
}
_RANGE = re.compile(r"exceed bound \[([^,\]]+),([^\]]+)\]|should be (greater|smaller) equal to (\S+)")


def _ranges(mx: Any, name: str, params: dict[str, str], kinds: dict[str, str]) -> dict[str, list]:
    """``[low, high]`` (None where unbounded) of each numeric parameter MXNet's parser bounds
    (``set_range``, ``set_lower_bound``: dmlc-core include/dmlc/parameter.h)."""
    handle = _handle(mx, name)
    base = {key: _plausible(kind) for key, kind in params.items() if "required" in kind}
    if _parses(mx, handle, base) is not None:
        return {}
    found: dict[str, list] = {}
    for key, kind in kinds.items():
        if kind not in _EXTREMES:
            continue
        bounds: list = [None, None]
        for value in _EXTREMES[kind]:
            match = _RANGE.search(_parses(mx, handle, {**base, key: value}) or "")
            if match and match.group(1) is not None:
                bounds = [_number(match.group(1)), _number(match.group(2))]
            elif match:
                bounds[0 if match.group(3) == "greater" else 1] = _number(match.group(4))
        if bounds != [None, None]:
            found[key] = bounds
    return found


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text and "." not in text else value


def _free_form(mx: Any, name: str, params: dict[str, str]) -> bool:
    """MXNet's parser takes any attribute (an unknown key included): it parses none of them
    (LinearRegressionOutput and its kin in 1.9.1, Custom)."""
    base = {key: _plausible(kind) for key, kind in params.items() if "required" in kind}
    return _parses(mx, _handle(mx, name), {**base, "nin_mx_no_such_attribute": "1"}) is None


def _probe(names: list[str]) -> None:
    """Child process: one JSON line of bounds and kinds per operator, flushed as it goes."""
    mx = _mx()
    mx.base._LIB  # noqa: B018 - MXNet loaded before the cap
    _limit_memory()
    for name in names:
        params = _describe(mx, name)["params"]
        bounds = _lower_bounds(mx, name, params)
        kinds = _kinds(mx, name, params)
        item = {"op": name, "bounds": bounds, "kinds": kinds, "ranges": _ranges(mx, name, params, kinds)}
        item["free_form"] = bool(params) and _free_form(mx, name, params)
        print(json.dumps(item), flush=True)


def _limit_memory() -> None:
    """Room for 1 GiB beyond what MXNet maps once imported: some values (num_outputs=2147483647)
    make a parser allocate without end, and must fail fast rather than fill the machine."""
    import resource

    with open("/proc/self/statm", encoding="ascii") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 2**30, mapped + 2**30))


def _probe_all(names: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`_lower_bounds` of every operator, in child processes: some attribute values crash
    libmxnet outright (the reason nin_mx checks them first), so a crash skips that operator."""
    found: dict[str, dict[str, Any]] = {}
    rest = list(names)
    while rest:
        child = subprocess.run(
            [sys.executable, __file__, "--probe", *rest],
            capture_output=True,
            text=True,
            check=False,
        )
        done = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
        for item in done:
            found[item["op"]] = item
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
    for name, probed in _probe_all(names).items():
        if probed["bounds"]:
            registry[name]["lower_bounds"] = probed["bounds"]
        if probed["kinds"]:
            registry[name]["kinds"] = probed["kinds"]
        if probed["ranges"]:
            registry[name]["ranges"] = probed["ranges"]
        if probed["free_form"]:
            registry[name]["free_form"] = True
    text = json.dumps({"mxnet_version": mx.__version__, "operators": registry}, sort_keys=True, indent=0)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"{len(registry)} operators -> {OUT} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        _probe(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
