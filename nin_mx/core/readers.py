"""The readers of MXNet 1.9.1's parameter value types, copied exactly (pure, no MXNet).

Each reads a value as MXNet 1.9.1 does through dmlc-core's ``dmlc::Parameter``
(``include/dmlc/parameter.h``: ``FieldEntryBase::Set`` reads with ``std::istream >>`` and then
allows only trailing whitespace; ``FieldEntry<bool>`` compares the whole lower-cased string;
``FieldEntry<float>`` uses ``dmlc::stof`` and allows no trailing character; enums compare the
exact string; ``dmlc::optional<T>``'s ``operator>>`` in ``include/dmlc/optional.h``) and MXNet's
``include/mxnet/tuple.h`` (``Tuple::operator>>`` for shapes and tuples); floats by
:mod:`nin_mx.core.floats`. A value MXNet would refuse raises
:class:`~nin_mx.core.errors.GraphError` naming the attribute. :func:`nin_mx.core.attrs.parse_value`
picks the reader of an attribute's kind.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

from nin_mx.core import floats as _floats
from nin_mx.core.errors import GraphError

__all__ = [
    "parse_bool",
    "parse_char",
    "parse_enum",
    "parse_float",
    "parse_int",
    "parse_int_tuple",
    "parse_optional_bool",
    "parse_optional_float",
    "parse_optional_int",
    "parse_optional_int_tuple",
    "parse_optional_tuple",
    "parse_pointer",
    "parse_shape",
    "parse_tuple",
]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT32 = (0, 2**32 - 1)
_UINT64 = (0, 2**64 - 1)
_WS = " \t\n\v\f\r"  # C's isspace in the "C" locale

# What `std::istream >> int` consumes: leading whitespace, an optional sign, decimal digits.
_ISTREAM_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


_Invalid = _floats.Invalid  # a value MXNet refuses; the caller words the message


def _fail(where: str, raw: str, expect: str) -> GraphError:
    """``attribute kernel='(3 3)' is not a tuple of integers``: ``where`` names the attribute
    (callers put the node in front, e.g. ``node 'conv1' (Convolution): attribute kernel``)."""
    return GraphError(f"{where or 'value'}={raw!r} is not {expect}")


def _istream_int(text: str, pos: int, bounds: tuple[int, int], unsigned: bool) -> tuple[int, int]:
    """``is >> value`` for an integer type at ``pos``: (value, next position)."""
    match = _ISTREAM_INT.match(text, pos)
    if match is None:
        raise _Invalid
    value = int(match.group(1))
    if unsigned and value < 0:
        # libstdc++ reads '-1' into an unsigned type as its two's complement (num_get, strtoull).
        if -value > bounds[1]:
            raise _Invalid
        value += bounds[1] + 1
    if not bounds[0] <= value <= bounds[1]:
        raise _Invalid  # std::istream sets failbit on overflow
    return value, match.end()


def _only_space_after(text: str, pos: int) -> None:
    if text[pos:].strip(_WS):
        raise _Invalid


@functools.lru_cache(maxsize=4096)
def _int(raw: str, bits: int, unsigned: bool) -> int:
    bounds = (_UINT32 if bits == 32 else _UINT64) if unsigned else (_INT32 if bits == 32 else _INT64)
    value, end = _istream_int(raw, 0, bounds, unsigned)
    _only_space_after(raw, end)
    return value


def parse_int(raw: str, *, where: str = "", bits: int = 32, unsigned: bool = False) -> int:
    """An ``int`` (``bits=32``), ``int64``/``dim_t`` (64), ``uint32_t`` or ``uint64_t``
    (``unsigned=True``) field.

    ``' 3'``, ``'+0'`` and ``'3 '`` read as 3, 0 and 3; ``'0x10'``, ``'1e3'``, ``'3.0'`` and
    ``'3a'`` are refused (``std::istream`` stops at the ``x``, ``e`` or ``.``, which dmlc then
    finds as trailing garbage); ``'-1'`` in an unsigned field reads as 4294967295, as in C++.
    """
    try:
        return _int(raw, bits, unsigned)
    except _Invalid:
        raise _fail(where, raw, "an integer") from None


def _element(kind: str) -> Callable[[str, int], tuple[Any, int]]:
    """``is >> idx`` for one element of an ``mxnet::Tuple<ValueType>``: (value, next position)."""
    if kind == "opt_int":  # dmlc::optional<int>'s operator>> (include/dmlc/optional.h)
        return _optional_int_at
    if kind in ("float", "double"):
        single = kind == "float"
        return lambda text, pos: _floats.istream_float(text, pos, single)
    if kind == "shape":  # a tuple of tuples (numpy pad's pad_width: Tuple<Tuple<int>>)
        return lambda text, pos: _tuple_at(text, pos, "int32")
    bounds = _INT32 if kind == "int32" else _INT64
    return lambda text, pos: _istream_int(text, pos, bounds, False)


def _optional_int_at(text: str, pos: int, bits: int = 32) -> tuple[int | None, int]:
    """``is >> dmlc::optional<int>``: the next four characters 'None' exactly, or ``is >> int``
    and one 'L' after it."""
    if text[pos : pos + 4] == "None":
        return None, pos + 4
    value, pos = _istream_int(text, pos, _INT32 if bits == 32 else _INT64, False)
    if text[pos : pos + 1] == "L":
        pos += 1
    return value, pos


def _tuple_at(text: str, pos: int, kind: str) -> tuple[tuple | None, int]:
    """``mxnet::Tuple<ValueType>::operator>>`` (include/mxnet/tuple.h) at ``pos``: the tuple, or
    None for 'None' (an unknown shape, ndim -1), and the next position. ``kind`` is the element's:
    ``int64`` (a TShape, dim_t), ``int32`` (Tuple<int>), ``opt_int`` (Tuple<optional<int>>),
    ``float``, ``double``, ``shape`` (Tuple<TShape>)."""
    read = _element(kind)
    integral = kind in ("int32", "int64")
    n = len(text)
    while True:
        if pos >= n:
            raise _Invalid
        ch = text[pos]
        if ch in "0123456789-":  # a bare value is a 1-tuple
            value, pos = read(text, pos)
            return (value,), pos
        pos += 1
        if ch in "([":
            break
        if ch not in _WS:
            if ch == "N":
                # `is >> std::string` after the 'N': the next whitespace-delimited word
                while pos < n and text[pos] in _WS:
                    pos += 1
                word_start = pos
                while pos < n and text[pos] not in _WS:
                    pos += 1
                if text[word_start:pos] == "one":
                    return None, pos
            raise _Invalid
    while pos < n and text[pos] in _WS:
        pos += 1
    if pos < n and text[pos] in ")]":
        return (), pos + 1
    values: list[Any] = []
    while True:
        value, pos = read(text, pos)
        values.append(value)
        while pos < n and text[pos] in _WS:
            pos += 1
        ch = text[pos] if pos < n else ""
        pos += 1
        if integral and ch == "L":
            ch = text[pos] if pos < n else ""
            pos += 1
        if ch == ",":
            while pos < n and text[pos] in _WS:
                pos += 1
            if pos < n and text[pos] in ")]":
                pos += 1
                break
            continue
        if ch and ch in ")]":
            break
        raise _Invalid
    return tuple(values), pos


@functools.lru_cache(maxsize=4096)
def _tuple(raw: str, optional: bool, kind: str = "int64") -> tuple | None:
    """A whole tuple field: :func:`_tuple_at`, then dmlc's trailing check (whitespace only).
    'None' is refused unless ``optional``."""
    value, end = _tuple_at(raw, 0, kind)
    _only_space_after(raw, end)
    if value is None and not optional:
        raise _Invalid
    return value


def parse_int_tuple(raw: str, *, where: str = "") -> tuple[int, ...]:
    """A ``mxnet::TShape``/``Tuple<int>`` field: ``'(3, 3)'``, ``'[3,3]'``, ``'(3,)'``, ``'3'``
    (a 1-tuple), ``'()'`` (empty); ``'(3L, 3L)'`` as Python 2 wrote it. Refused: ``'+3'`` without
    brackets, ``'(3 3)'``, ``'(3, 3'``, ``'((3, 3))'``, trailing garbage, and ``'None'``."""
    try:
        result = _tuple(raw, False)
    except _Invalid:
        raise _fail(where, raw, "a tuple of integers") from None
    assert result is not None
    return result


def parse_optional_int_tuple(raw: str | None, *, where: str = "") -> tuple[int, ...] | None:
    """A tuple field whose 'None' (or absence) means unset: None; ``'()'`` gives ``()``."""
    if raw is None:
        return None
    try:
        return _tuple(raw, True)
    except _Invalid:
        raise _fail(where, raw, "a tuple of integers or None") from None


def parse_shape(raw: str, *, where: str = "") -> tuple[int, ...] | None:
    """A shape attribute such as a variable's ``__shape__``: a tuple, or None for 'None'."""
    return parse_optional_int_tuple(raw, where=where)


def parse_optional_int(raw: str | None, *, where: str = "", bits: int = 32) -> int | None:
    """``dmlc::optional<int>``: the exact prefix 'None' is unset, else an integer."""
    if raw is None:
        return None
    if raw[:4] == "None":
        try:
            _only_space_after(raw, 4)
        except _Invalid:
            raise _fail(where, raw, "an integer or None") from None
        return None
    try:
        value, end = _istream_int(raw, 0, _INT32 if bits == 32 else _INT64, False)
        if raw[end : end + 1] == "L":
            end += 1
        _only_space_after(raw, end)
    except _Invalid:
        raise _fail(where, raw, "an integer or None") from None
    return value


_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def parse_bool(raw: str, *, where: str = "") -> bool:
    """``FieldEntry<bool>``: 'true', 'false', '1' or '0' in any case, nothing else (no spaces)."""
    value = _BOOLS.get(raw.lower()) if raw.isascii() else None
    if value is None:
        raise _fail(where, raw, "a boolean")
    return value


def parse_optional_bool(raw: str | None, *, where: str = "") -> bool | None:
    """``dmlc::optional<bool>``: leading whitespace, then an alphanumeric word: true, false,
    1, 0 or none (any case); trailing whitespace only."""
    if raw is None:
        return None
    text = raw.lstrip(_WS)
    end = 0
    while end < len(text) and text[end].isascii() and text[end].isalnum():
        end += 1
    word = text[:end].lower()
    try:
        _only_space_after(text, end)
    except _Invalid:
        raise _fail(where, raw, "a boolean or None") from None
    if word == "none":
        return None
    if word in _BOOLS:
        return _BOOLS[word]
    raise _fail(where, raw, "a boolean or None")


def parse_float(raw: str, *, where: str = "", single: bool = False) -> float:
    """``FieldEntry<double>`` (or ``<float>``, ``single``): ``dmlc::stod``/``dmlc::stof`` of the
    whole string (:func:`nin_mx.core.floats.dmlc_float`): leading whitespace, a decimal number,
    'inf' or 'nan'; no trailing character at all, not even a space."""
    try:
        return _floats.dmlc_float(raw, single)
    except _Invalid as exc:
        if str(exc) == "out of range":
            raise GraphError(f"{where or 'value'}={raw!r} is out of range") from None
        raise _fail(where, raw, "a number") from None


def parse_optional_float(raw: str | None, *, where: str = "", single: bool = False) -> float | None:
    """``dmlc::optional<double>`` (or ``<float>``): the exact prefix 'None' is unset, else
    ``std::istream >> double`` (no 'inf', no 'nan', an overflow refused); trailing whitespace."""
    if raw is None:
        return None
    try:
        if raw[:4] == "None":
            value, end = None, 4
        else:
            value, end = _floats.istream_float(raw, 0, single)
        _only_space_after(raw, end)
    except _Invalid:
        raise _fail(where, raw, "a number or None") from None
    return value


def parse_tuple(raw: str, kind: str = "int64", *, where: str = "", optional: bool = True) -> tuple | None:
    """Any ``mxnet::Tuple`` field (``kind`` names its element, see :func:`_tuple_at`):
    ``'(None, 2)'`` as a ``Tuple<optional<int>>`` reads as ``(None, 2)``; 'None' reads as None
    (MXNet's unknown shape) unless not ``optional``."""
    try:
        return _tuple(raw, optional, kind)
    except _Invalid:
        what = {"opt_int": "integers or None", "float": "numbers", "double": "numbers", "shape": "tuples"}
        raise _fail(where, raw, f"a tuple of {what.get(kind, 'integers')}") from None


def parse_optional_tuple(raw: str | None, kind: str = "int64", *, where: str = "") -> tuple | None:
    """``dmlc::optional<TShape>`` ('Shape or None'): the exact prefix 'None' is unset, else a tuple."""
    if raw is None:
        return None
    try:
        if raw[:4] == "None":
            value, end = None, 4
        else:
            value, end = _tuple_at(raw, 0, kind)
        _only_space_after(raw, end)
    except _Invalid:
        raise _fail(where, raw, "a tuple of integers or None") from None
    return value


_PTR = re.compile(r"[ \t\n\v\f\r]*[+-]?(?:0[xX])?[0-9a-fA-F]+")


def parse_pointer(raw: str, *, where: str = "") -> int:
    """``std::istream >> void*``: a hexadecimal number (libstdc++ reads it as ``%p`` writes it)."""
    match = _PTR.match(raw)
    try:
        if match is None:
            raise _Invalid
        _only_space_after(raw, match.end())
        text = match.group(0).strip(_WS)
        value = int(text, 16)
        if abs(value) > _UINT64[1]:
            raise _Invalid
    except _Invalid:
        raise _fail(where, raw, "a pointer") from None
    return value % 2**64


def parse_char(raw: str, *, where: str = "") -> str:
    """``std::istream >> char``: one character after any whitespace, then whitespace only."""
    text = raw.lstrip(_WS)
    if not text or not text[0].isascii() or text[1:].strip(_WS):
        raise _fail(where, raw, "one character")
    return text[0]


def parse_enum(raw: str, choices: Sequence[str], *, where: str = "") -> str:
    """An enum field: exactly one of ``choices`` (case and spaces count)."""
    if raw in choices:
        return raw
    valid = ", ".join(f"'{c}'" for c in choices)
    raise GraphError(f"{where or 'value'}={raw!r} is not one of {valid}")
