"""MXNet 1.9.1 reads an attribute, nin_mx reads it: the same verdict and the same value.

For every attribute of every operator in ``mxnet_registry.json``, a generated set of spellings
(valid, edge and invalid: ``None``, ``(None, 2)``, ``[1,2]``, ``(1,)``, spaces, signs, ``1L``,
empty, huge, ...) is parsed by MXNet in child processes (``tests/_mxnet_child.py``: a value that
crashes libmxnet costs one child, not the run) and by nin_mx's registry check
(``nin_mx.core.ops.registry.check_node``): nin_mx must accept exactly what MXNet's parser accepts
and refuse the rest with one line. A refusal that is not the parser's (a check the operator's
``attr_parser`` makes after parsing, e.g. Convolution's kernel against its stride) is not a
parsing verdict and is left out; a crash is left out too (nin_mx must only not crash).

Then the values: for each kind, spellings MXNet accepts are read back through an operator whose
output shows the value (``_full`` for a double, ``LeakyReLU``'s slope for a float, shapes by
``infer_shape``), and nin_mx's reading (the reader, or the engine's rule on that attribute) must
agree: the slice of NASNet (``end='(None, None, None, None)'``) and the ``_arange`` of every
GluonCV detection export (``start=80, stop=None``, rewritten by ``RangeParamParser``) included.
"""

from __future__ import annotations

import functools
import json
import math

import pytest

from nin_mx.core.attrs import parse_value
from nin_mx.core.errors import GraphError
from nin_mx.core.ops.registry import crash_bound
from tests._mxnet_child import ask_mxnet

pytestmark = pytest.mark.mxnet

# MXNet's words for a refusal by its parser (dmlc-core include/dmlc/parameter.h: FieldEntryBase::Set,
# FieldEntry<int>::Set's enum lookup, FieldEntryNumeric::Check; strtonum.h's NAN check;
# ParamManager::RunInit's unknown key).
PARSE_REFUSALS = (
    "Invalid Parameter format for",
    "Out of range value for",
    "Some trailing characters could not be parsed",
    "Invalid Input:",
    "Invalid NAN literal",
    "should be greater equal to",
    "exceed bound",
    "Cannot find argument",
)

COMMON = [
    "",
    " ",
    "None",
    "none",
    " None",
    "None ",
    "(1,)",
    "[1,2]",
    "(None, 2)",
    "1",
    "-1",
    "1L",
    "x",
    "1e999",
]
INTS = [
    *["0", "+1", " 1", "1 ", "\t2\n", "007", "1.0", "1e3", "0x10", "- 1", "+-1", "1 2", "-0", "true"],
    *["2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296"],
    *["9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616"],
]
FLOATS = [
    *["0", "1.5", "-2.25", " .5", ".5 ", "1e", "1e-3", "1E+3", "1e38", "1e39", "4e38", "1e-38", "2e-38"],
    *["1e-50", "1e308", "1e309", "2e308", "1e-308", "3e-308", "inf", "-inf", "Infinity", "INF", "infin"],
    *[
        "nan",
        "NaN",
        "nan(1)",
        "nan(x",
        "1f",
        "1.5F",
        "-",
        "+",
        ".",
        "e5",
        "1,5",
        "1.2.3",
        "100e37",
        "100e307",
    ],
    *["1e4294967296", "99999999999999999999999", "0.1234567890123456789012", "16777217", "0.1"],
    *["1.00000001", "1.0000001", "-0.00000001"],  # beyond [0, 1] as a double, not all as a float
]
BOOLS = ["0", "true", "false", "True", "FALSE", "tRuE", " true", "true ", "2", "yes", "01", "1.0", "NONE"]
TUPLES = [
    *["()", "[]", "( )", "(1, 2)", "(1,2,)", "( 1 , 2 )", "(+1, -2)", "(1L, 2L)", "(1 2)", "(1,2", "((1,2))"],
    *["(1.5, 2)", "N one", "(None,)", "(1, None)", "[None]", "(None)", "(NoneL,)", "(2147483648,)"],
    *["(-2147483649,)", "(9223372036854775808,)", "(a)", "(1,,2)", "(,)", "(1]", " (1,2) ", "(1,2) x"],
    *["(1e3,)", "(0x10,)", "(-1.5, 2e3)", "(inf,)", "((1,2),(3,))", "(1,)L", "1.5", "-2", "(0,)"],
]


def _enum_spellings(choices: tuple[str, ...]) -> list[str]:
    out = []
    for choice in choices[:4]:
        out += [choice, f" {choice}", f"{choice} ", choice.upper(), f"'{choice}'"]
    return out


def spellings(kind: str, choices: tuple[str, ...] = ()) -> list[str]:
    """The spellings tried for one attribute of ``kind``."""
    if kind in ("enum", "opt_enum"):
        extra = _enum_spellings(choices)
    elif kind in ("int", "int64", "uint32", "uint64", "opt_int", "opt_int64"):
        extra = INTS
    elif kind in ("float", "double", "opt_float", "opt_double"):
        extra = FLOATS
    elif kind in ("bool", "opt_bool"):
        extra = BOOLS
    elif kind == "string":
        extra = []
    else:
        extra = TUPLES
    return list(dict.fromkeys([*COMMON, *extra]))


@functools.cache
def _registry() -> dict:
    """``mxnet_registry.json`` as nin_mx reads it: with the fields MXNet's parser reads where its
    listed arguments differ (``nin_mx.core.ops.registry._PARSED_FIELDS``)."""
    from nin_mx.core.ops.registry import _registry as registry

    return dict(registry())


def _representatives() -> dict[str, dict]:
    """One operator of each parameter signature (types, kinds, bounds): operators that share
    one share MXNet's parameter struct (the 81 scalar operators, the aliases), so one stands for
    all; an operator of nin_mx's table is preferred. Gradients (``_backward_*``, which no graph
    holds), operators without parameters and the free-form ones are left out."""
    from nin_mx.core.ops import op_info

    chosen: dict[str, tuple[str, dict]] = {}

    def preference(item: tuple[str, dict]) -> tuple:
        info = op_info(item[0])  # an operator of the table, by its own name before its aliases
        return (info is None, info is not None and info.name != item[0], item[0])

    for op, entry in sorted(_registry().items(), key=preference):
        if not entry["params"] or op.startswith("_backward") or op in ("Custom", "_NDArray", "_Native"):
            continue
        key = json.dumps(
            [entry["params"], entry.get("kinds"), entry.get("lower_bounds"), entry.get("num_args")],
            sort_keys=True,
        )
        chosen.setdefault(key, (op, entry))
    return dict(sorted(chosen.values()))


def _plausible(kind: str, choices: tuple[str, ...]) -> str:
    """A value of the attribute's kind MXNet's parser accepts (for the required attributes)."""
    if kind in ("enum", "opt_enum"):
        return next(c for c in choices if c != "None")
    if kind in ("bool", "opt_bool"):
        return "0"
    if kind in ("string", "ptr"):
        return "a"
    return "(1,)" if "tuple" in kind or "shape" in kind else "1"


def _nin_verdict(op: str, attrs: dict[str, str]) -> str | None:
    """None if nin_mx's registry check accepts, else its one-line message."""
    from nin_mx.core.ops.registry import check_node

    try:
        check_node("node", op, attrs)
    except GraphError as exc:
        return str(exc)
    return None


def _cases() -> tuple[list, list]:
    from nin_mx.core.ops.registry import attr_kind

    cases, where = [], []
    for op, entry in _representatives().items():
        params = entry["params"]
        found = {key: attr_kind(op, key) for key in params}
        base = {
            key: _plausible(*found[key])
            for key, described in params.items()
            if "required" in described and key != entry.get("num_args")
        }
        cases.append(["parse", op, base])
        where.append((op, None, None))
        for key in params:
            kind, choices = found[key]
            for raw in spellings(kind, choices):
                cases.append(["parse", op, {**base, key: raw}])
                where.append((op, key, raw))
    return cases, where


@functools.cache
def _answers() -> tuple[list, list, list]:
    cases, where = _cases()
    return cases, where, ask_mxnet(cases)


def _is_parse_refusal(message: str) -> bool:
    return any(words in message for words in PARSE_REFUSALS)


def test_every_attribute_reads_as_mxnet_reads_it():
    cases, where, answers = _answers()
    base_ok: dict[str, bool] = {}
    mismatches, compared = [], 0
    for case, (op, key, raw), answer in zip(cases, where, answers):
        if key is None:
            base_ok[op] = answer[0] == "ok"
            continue
        if not base_ok.get(op) or answer[0] == "crash":
            continue
        if answer[0] == "refused" and not _is_parse_refusal(answer[1]):
            continue  # the operator's own check after parsing, not the parser's verdict
        mxnet_accepts = answer[0] == "ok"
        ours = _nin_verdict(op, case[2])
        if mxnet_accepts and ours is not None and crash_bound(op, key) is not None and "at least" in ours:
            continue  # nin_mx refuses what MXNet takes and then crashes on (a division by it)
        compared += 1
        if (ours is None) != mxnet_accepts:
            said = "accepts" if mxnet_accepts else f"refuses ({answer[1][:80]})"
            mismatches.append(
                f"{op}.{key}={raw!r}: MXNet {said}, nin_mx {'accepts' if ours is None else ours}"
            )
        elif ours is not None:
            assert "\n" not in ours and ours.startswith("node 'node' ("), ours
    assert compared > 15000
    assert not mismatches, f"{len(mismatches)} of {compared} differ:\n" + "\n".join(mismatches)


def test_operators_with_a_base_mxnet_accepts():
    """The comparison above covers nearly every operator: only those whose required attributes
    the plausible values do not satisfy are left out (listed here, so the list cannot grow)."""
    _, where, answers = _answers()
    refused = sorted(op for (op, key, _), answer in zip(where, answers) if key is None and answer[0] != "ok")
    assert len(refused) < 40, refused


# -- values ------------------------------------------------------------------------------------


def _accepted(kind: str, choices: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    out = []
    for raw in spellings(kind, choices):
        try:
            out.append((raw, parse_value(kind, raw, choices=choices)))
        except GraphError:
            pass
    return out


def _equal(a: float, b: float) -> bool:
    """Equal, or both NaN. The sign of a zero is not compared: neither ``_full`` (which fills a
    zero as zeros) nor LeakyReLU(-1) = -slope keeps it."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_double_and_float_values():
    """``_full``'s value is a double, LeakyReLU's slope a float: MXNet's output is the value read."""
    doubles, floats = _accepted("double"), _accepted("float")
    cases = [
        ["forward", "_full", {"shape": "(1,)", "dtype": "float64", "value": raw}, []] for raw, _ in doubles
    ]
    cases += [["forward", "LeakyReLU", {"act_type": "leaky", "slope": raw}, [[-1.0]]] for raw, _ in floats]
    answers = ask_mxnet(cases)
    wrong = []
    signs = [1.0] * len(doubles) + [-1.0] * len(floats)  # LeakyReLU(-1) = -slope
    for (raw, ours), answer, sign in zip([*doubles, *floats], answers, signs):
        if answer[0] != "ok" or len(answer[1]) != 1:
            wrong.append(f"{raw!r}: nin_mx reads {ours!r}, MXNet {answer}")
        elif not _equal(float(ours), sign * answer[1][0]):  # type: ignore[arg-type]
            wrong.append(f"{raw!r}: MXNet {sign * answer[1][0]!r}, nin_mx {ours!r}")
    assert len(doubles) > 25 and len(floats) > 25
    assert not wrong, wrong


def _engine_out(op: str, attrs: dict[str, str], shapes: list[tuple[int, ...]]) -> list | str:
    """nin_mx's engine on one node: its output shapes, or 'refused' (GraphError, ShapeError, and
    what the engine reports as "its attributes do not fit its inputs")."""
    from nin_mx.core.ops import op_info
    from nin_mx.core.ops.registry import check_node

    try:
        check_node("node", op, attrs)
        info = op_info(op)
        assert info is not None, op
        _, outs = info.shapes(attrs, [tuple(s) for s in shapes])
    except (ArithmeticError, LookupError, TypeError, ValueError):  # the engine's one line for each
        return "refused"
    return _first_known(outs)


def _first_known(outs: list) -> list | str:
    """The first output's shape, or 'refused' where it stays unknown (None, a 0 dimension, or
    MXNet's legacy empty shape): a graph of that node cannot be inferred, as in MXNet."""
    first = outs[0] if outs else None
    if first is None or not len(first) or 0 in first:
        return "refused"
    return list(first)


# Operators whose output shape shows an attribute's value: (op, base attributes, attribute,
# input shapes). nin_mx's rule must infer what MXNet infers for every spelling of the attribute.
SHAPE_PROBES = [
    ("slice", {"end": "(None, None, None, None)"}, "begin", [(7, 8, 9, 10)]),
    ("slice", {"begin": "(None, None)"}, "end", [(7, 8, 9, 10)]),
    ("slice", {"begin": "(1,)", "end": "(5,)"}, "step", [(7, 8)]),
    ("_arange", {}, "start", []),
    ("_arange", {"start": "80"}, "stop", []),
    ("_arange", {"start": "0", "stop": "9"}, "step", []),
    ("_arange", {"start": "0", "stop": "3"}, "repeat", []),
    ("_arange", {"start": "5"}, "infer_range", []),
    ("sum", {}, "axis", [(2, 3, 4, 5)]),
    ("sum", {"axis": "1"}, "keepdims", [(2, 3, 4)]),
    ("argmax", {}, "axis", [(2, 3, 4)]),
    ("tile", {}, "reps", [(1, 2)]),
    ("Reshape", {}, "shape", [(4, 6)]),
    ("expand_dims", {}, "axis", [(2, 3)]),
    ("transpose", {}, "axes", [(2, 3, 4)]),
    ("Pooling", {"kernel": "(2, 2)"}, "stride", [(1, 1, 8, 8)]),
    ("Pooling", {"kernel": "(3, 3)"}, "pooling_convention", [(1, 1, 8, 8)]),
    ("Pooling", {"kernel": "(2, 2)"}, "global_pool", [(1, 1, 8, 8)]),
    ("Convolution", {"kernel": "(3, 3)"}, "num_filter", [(1, 2, 8, 8)]),
    ("Convolution", {"kernel": "(3, 3)", "num_filter": "4"}, "pad", [(1, 2, 8, 8)]),
    ("SliceChannel", {}, "num_outputs", [(2, 6)]),
    ("Concat", {"num_args": "2"}, "dim", [(2, 3), (2, 3)]),
    # float fields range-checked in [0, 1]: read in float32 before the check, as MXNet reads them
    ("Dropout", {}, "p", [(2, 3)]),
    ("_contrib_ROIAlign", {"pooled_size": "(2, 2)"}, "spatial_scale", [(1, 8, 8, 8), (3, 5)]),
]


@functools.cache
def _probe_answers() -> list[tuple[list[str], list]]:
    """MXNet's answers for every spelling of every probe, asked in one child (a child costs the
    import of MXNet)."""
    from nin_mx.core.ops.registry import attr_kind

    spelled, cases = [], []
    for op, base, key, shapes in SHAPE_PROBES:
        kind, choices = attr_kind(op, key)  # type: ignore[misc]
        raws = spellings(kind, choices)
        spelled.append(raws)
        cases += [["infer", op, {**base, key: raw}, shapes] for raw in raws]
    answers, out = ask_mxnet(cases), []
    for raws in spelled:
        out.append((raws, answers[: len(raws)]))
        answers = answers[len(raws) :]
    return out


@pytest.mark.parametrize("probe", range(len(SHAPE_PROBES)), ids=lambda i: "-".join(SHAPE_PROBES[i][::2]))
def test_rules_read_what_mxnet_reads(probe):
    op, base, key, shapes = SHAPE_PROBES[probe]
    raws, answers = _probe_answers()[probe]
    wrong = []
    for raw, answer in zip(raws, answers):
        if answer[0] == "crash":
            continue
        ours = _engine_out(op, {**base, key: raw}, shapes)
        theirs = _first_known(answer[1]) if answer[0] == "ok" else "refused"
        if ours != theirs:
            wrong.append(f"{key}={raw!r}: MXNet {theirs}, nin_mx {ours}")
    assert not wrong, "\n".join(wrong)


# Operators whose listed arguments are not the fields their parser reads (registry._PARSED_FIELDS):
# one valid setting of the parsed fields each, and every key listed or parsed.
_PARSED_BASES = {
    "_npi_concatenate": {"num_args": "1"},
    "_linspace": {"start": "0", "stop": "1", "num": "5"},
    "_npi_linspace": {"start": "0", "stop": "1", "num": "5"},
    "_contrib_SparseEmbedding": {"input_dim": "5", "output_dim": "3"},
}
_SAMPLE = {"bool": "1", "int": "2", "double": "0.5", "string": "", "opt_int": "0", "enum": "float32"}


def test_operators_parsed_by_other_fields_than_they_list():
    """MXNet lists ConcatParam's fields for _npi_concatenate, RangeParam's for _linspace and
    EmbeddingParam's for _contrib_SparseEmbedding, but parses other structs: nin_mx takes the
    keys MXNet's parser takes and refuses the listed ones it does not, as MXNet does."""
    from nin_mx.core.ops.registry import _DATA, _PARSED_FIELDS

    listed = json.loads(_DATA.read_text(encoding="utf-8"))["operators"]  # as MXNet lists them
    assert set(_PARSED_BASES) == set(_PARSED_FIELDS)
    cases, verdicts = [], []
    for op, base in _PARSED_BASES.items():
        cases.append(["parse", op, base])
        verdicts.append((op, None, _nin_verdict(op, base)))
        for key in sorted(set(listed[op]["params"]) | set(_PARSED_FIELDS[op])):
            if key in base:
                continue
            kind = _PARSED_FIELDS[op].get(key, ("", "int"))[1]
            attrs = {**base, key: _SAMPLE.get(kind, "1")}
            cases.append(["parse", op, attrs])
            verdicts.append((op, key, _nin_verdict(op, attrs)))
    answers = ask_mxnet(cases)
    differ = [
        f"{op}.{key}: MXNet {answer[0]}, nin_mx {'accepts' if ours is None else ours}"
        for (op, key, ours), answer in zip(verdicts, answers)
        if (answer[0] == "ok") != (ours is None)
    ]
    refused = sum(answer[0] == "refused" for answer in answers)
    assert not differ, differ
    assert refused >= 5  # the listed keys the parsers do not read (dim, step, infer_range, sparse_grad, ...)
