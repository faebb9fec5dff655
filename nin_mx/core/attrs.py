"""Names of the graph attributes nin_mx itself writes or reads, and the one strict reader of
MXNet attribute strings (pure, no MXNet).

The readers parse a value exactly as MXNet 1.9.1 does through dmlc-core's ``dmlc::Parameter``
(``include/dmlc/parameter.h``: ``FieldEntryBase::Set`` reads with ``std::istream >>`` and then
allows only trailing whitespace; ``FieldEntry<bool>`` compares the whole lower-cased string;
``FieldEntry<float>`` uses ``dmlc::stof`` and allows no trailing character; enums compare the
exact string) and MXNet's ``include/mxnet/tuple.h`` (``Tuple::operator>>`` for shapes). A value
MXNet would refuse raises :class:`~nin_mx.core.errors.GraphError` naming the attribute.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence

from nin_mx.core.errors import GraphError

__all__ = [
    "BLOCK_ATTR",
    "parse_bool",
    "parse_enum",
    "parse_float",
    "parse_int",
    "parse_int_tuple",
    "parse_optional_bool",
    "parse_optional_int",
    "parse_optional_int_tuple",
    "parse_shape",
]

# The attribute our factories put on every node to say which block it belongs to (stem,
# mixed_5b, block35_3, ..., head); the blocks view groups by it. MXNet keeps attributes whose
# names start and end with two underscores in the saved JSON.
BLOCK_ATTR = "__block__"

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_UINT32 = (0, 2**32 - 1)
_WS = " \t\n\v\f\r"  # C's isspace in the "C" locale

# What `std::istream >> int` consumes: leading whitespace, an optional sign, decimal digits.
_ISTREAM_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


class _Invalid(ValueError):
    """A value MXNet refuses; the caller words the message."""


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
    bounds = _UINT32 if unsigned else (_INT32 if bits == 32 else _INT64)
    value, end = _istream_int(raw, 0, bounds, unsigned)
    _only_space_after(raw, end)
    return value


def parse_int(raw: str, *, where: str = "", bits: int = 32, unsigned: bool = False) -> int:
    """An ``int`` (``bits=32``), ``int64``/``dim_t`` (64) or ``uint32_t`` (``unsigned=True``) field.

    ``' 3'``, ``'+0'`` and ``'3 '`` read as 3, 0 and 3; ``'0x10'``, ``'1e3'``, ``'3.0'`` and
    ``'3a'`` are refused (``std::istream`` stops at the ``x``, ``e`` or ``.``, which dmlc then
    finds as trailing garbage); ``'-1'`` in an unsigned field reads as 4294967295, as in C++.
    """
    try:
        return _int(raw, bits, unsigned)
    except _Invalid:
        raise _fail(where, raw, "an integer") from None


@functools.lru_cache(maxsize=4096)
def _tuple(raw: str, optional: bool) -> tuple[int, ...] | None:
    """``mxnet::Tuple<int64_t>::operator>>`` (include/mxnet/tuple.h), then dmlc's trailing check.

    Returns None for 'None' (MXNet's unknown shape, ndim -1) and () for '()' or '[]'.
    """
    text, n, pos = raw, len(raw), 0
    while True:
        if pos >= n:
            raise _Invalid
        ch = text[pos]
        if ch.isdigit() or ch == "-":  # a bare number is a 1-tuple
            if not ch.isascii():
                raise _Invalid
            value, end = _istream_int(text, pos, _INT64, False)
            _only_space_after(text, end)
            return (value,)
        pos += 1
        if ch in "([":
            break
        if ch not in _WS:
            if ch == "N":
                # `is >> std::string` after the 'N': the next whitespace-delimited word
                word_start = pos
                while pos < n and text[pos] not in _WS:
                    pos += 1
                if text[word_start:pos] == "one":
                    _only_space_after(text, pos)
                    if not optional:
                        raise _Invalid
                    return None
            raise _Invalid
    while pos < n and text[pos] in _WS:
        pos += 1
    if pos < n and text[pos] in ")]":
        _only_space_after(text, pos + 1)
        return ()
    values: list[int] = []
    while True:
        value, pos = _istream_int(text, pos, _INT64, False)
        values.append(value)
        while pos < n and text[pos] in _WS:
            pos += 1
        ch = text[pos] if pos < n else ""
        pos += 1
        if ch == "L":
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
    _only_space_after(text, pos)
    return tuple(values)


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


_FLOAT = re.compile(
    r"[ \t\n\v\f\r]*([+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan))",
    re.IGNORECASE,
)


def parse_float(raw: str, *, where: str = "") -> float:
    """``FieldEntry<float>``/``<double>`` (``dmlc::stof``): leading whitespace, a decimal number,
    'inf' or 'nan'; no trailing character at all, not even a space."""
    match = _FLOAT.match(raw)
    if match is None or match.end() != len(raw):
        raise _fail(where, raw, "a number")
    value = float(match.group(1))
    if math.isinf(value) and "inf" not in match.group(1).lower():
        raise GraphError(f"{where or 'value'}={raw!r} is out of range")
    return value


def parse_enum(raw: str, choices: Sequence[str], *, where: str = "") -> str:
    """An enum field: exactly one of ``choices`` (case and spaces count)."""
    if raw in choices:
        return raw
    valid = ", ".join(f"'{c}'" for c in choices)
    raise GraphError(f"{where or 'value'}={raw!r} is not one of {valid}")
