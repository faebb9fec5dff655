"""The strict attribute readers of nin_mx.core.attrs: MXNet 1.9.1's dmlc::Parameter reading."""

from __future__ import annotations

import pytest

from nin_mx.core.attrs import (
    parse_bool,
    parse_enum,
    parse_float,
    parse_int,
    parse_int_tuple,
    parse_optional_bool,
    parse_optional_int,
    parse_optional_int_tuple,
)
from nin_mx.core.errors import GraphError

INTS_OK = {"3": 3, " 3": 3, "3 ": 3, "+0": 0, "-7": -7, "\t12\n": 12, "007": 7}
INTS_BAD = ["0x10", "1e3", "3.0", "3a", "", " ", "a3", "2147483648", "- 3", "3 4"]


@pytest.mark.parametrize(("raw", "value"), INTS_OK.items())
def test_int_reads_as_mxnet(raw, value):
    assert parse_int(raw, where="attribute num_filter") == value


@pytest.mark.parametrize("raw", INTS_BAD)
def test_int_refuses_what_mxnet_refuses(raw):
    with pytest.raises(GraphError) as info:
        parse_int(raw, where="attribute num_hidden")
    assert str(info.value).startswith(f"attribute num_hidden={raw!r} is not")
    assert "\n" not in str(info.value)


def test_unsigned_and_64_bit():
    assert parse_int("-1", unsigned=True) == 2**32 - 1
    assert parse_int("4294967295", unsigned=True) == 2**32 - 1
    assert parse_int("2147483648", bits=64) == 2**31


TUPLES_OK = {
    "(3, 3)": (3, 3),
    "[3,3]": (3, 3),
    "(3,)": (3,),
    "(3, )": (3,),
    "3": (3,),
    "-1": (-1,),
    "()": (),
    "[]": (),
    " ( 1 , 2 ) ": (1, 2),
    "(3L, 4L)": (3, 4),
    "(+3, -4)": (3, -4),
    "(3]": (3,),
}
TUPLES_BAD = ["(3 3)", "(3, 3", "((3, 3))", "+3", "(3, 3)x", "None", "(3.5, 2)", "", "(a)"]


@pytest.mark.parametrize(("raw", "value"), TUPLES_OK.items())
def test_tuple_reads_as_mxnet(raw, value):
    assert parse_int_tuple(raw, where="attribute kernel") == value


@pytest.mark.parametrize("raw", TUPLES_BAD)
def test_tuple_refuses_what_mxnet_refuses(raw):
    with pytest.raises(GraphError, match="attribute kernel="):
        parse_int_tuple(raw, where="attribute kernel")


def test_optional_tuple_and_int():
    assert parse_optional_int_tuple(None) is None
    assert parse_optional_int_tuple("None") is None
    assert parse_optional_int_tuple("()") == ()
    assert parse_optional_int_tuple("(2, 3)") == (2, 3)
    assert parse_optional_int("None") is None
    assert parse_optional_int(" 4") == 4
    assert parse_optional_int("4L") == 4
    with pytest.raises(GraphError):
        parse_optional_int("none")


@pytest.mark.parametrize(
    ("raw", "value"), [("True", True), ("false", False), ("TRUE", True), ("1", True), ("0", False)]
)
def test_bool(raw, value):
    assert parse_bool(raw) is value


@pytest.mark.parametrize("raw", [" True", "yes", "2", "", "True "])
def test_bool_refused(raw):
    with pytest.raises(GraphError, match="attribute no_bias="):
        parse_bool(raw, where="attribute no_bias")


def test_optional_bool():
    assert parse_optional_bool(" None") is None
    assert parse_optional_bool("TRUE ") is True
    assert parse_optional_bool("0") is False
    with pytest.raises(GraphError):
        parse_optional_bool("yes")


def test_float():
    assert parse_float("1e-3") == 1e-3
    assert parse_float(" .5") == 0.5
    assert parse_float("-inf") == float("-inf")
    # dmlc-core's ParseFloat (include/dmlc/strtonum.h) reads an exponent without digits as 0
    assert parse_float("1e") == 1.0
    for raw in ("0.5 ", "abc", "", "1,5"):
        with pytest.raises(GraphError, match="attribute eps="):
            parse_float(raw, where="attribute eps")


def test_enum_is_exact():
    assert parse_enum("max", ("max", "avg")) == "max"
    for raw in ("Max", " max", "max "):
        with pytest.raises(GraphError, match="attribute pool_type="):
            parse_enum(raw, ("max", "avg"), where="attribute pool_type")


def _mxnet():
    try:
        from nin_mx._mxnet import mx

        mx.sym  # noqa: B018 - imports MXNet
    except Exception:  # pragma: no cover - MXNet missing
        pytest.skip("MXNet cannot be imported")
    return mx


def _mxnet_accepts(mx, **attrs):
    try:
        sym = mx.sym.Convolution(mx.sym.var("data"), **attrs)
        sym.infer_shape_partial(data=(1, 2, 8, 8))
    except mx.base.MXNetError:
        return False
    return True


@pytest.mark.mxnet
@pytest.mark.parametrize("raw", [*INTS_OK, *INTS_BAD])
def test_int_agrees_with_mxnet(raw):
    mx = _mxnet()
    try:
        # num_filter is a uint32 ('-7' wraps around), at least 1; a weight dim stops at 2^31 - 1
        ours = 1 <= parse_int(raw, unsigned=True) <= 2**31 - 1
    except GraphError:
        ours = False
    assert _mxnet_accepts(mx, kernel="(3, 3)", num_filter=raw) is ours


@pytest.mark.mxnet
@pytest.mark.parametrize("raw", [*TUPLES_OK, *TUPLES_BAD])
def test_tuple_agrees_with_mxnet(raw):
    mx = _mxnet()
    try:
        value = parse_int_tuple(raw)
        ours = value == () or (len(value) == 2 and all(v > 0 for v in value))  # () is the default
    except GraphError:
        ours = False
    assert _mxnet_accepts(mx, kernel="(1, 1)", num_filter=1, stride=raw) is ours


@pytest.mark.mxnet
@pytest.mark.parametrize("raw", ["True", "false", "TRUE", "1", "0", " True", "yes", "2", "True "])
def test_bool_agrees_with_mxnet(raw):
    mx = _mxnet()
    try:
        parse_bool(raw)
        ours = True
    except GraphError:
        ours = False
    assert _mxnet_accepts(mx, kernel="(1, 1)", num_filter=1, no_bias=raw) is ours
