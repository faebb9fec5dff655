"""The two ways MXNet 1.9.1 reads a floating-point attribute, copied exactly (pure, no MXNet).

* A ``float`` or ``double`` field (``dmlc::parameter::FieldEntry<float>``/``<double>`` in
  dmlc-core's ``include/dmlc/parameter.h``) is read by ``dmlc::stof``/``dmlc::stod``
  (``include/dmlc/strtonum.h``, ``ParseFloat<FloatType, true>``): its own digit loop, not the C
  library's, computing in the field's own precision; ``inf``/``infinity``/``nan`` in any case, an
  ``f`` suffix, and no trailing character at all. So ``' '``, ``'-'``, ``'.'`` and ``'1e'`` read as
  0, -0, 0 and 1, and an exponent beyond 38 (float) or 308 (double) is out of range even where
  the value would fit (``'1e-50'`` for a float).
* A value inside ``dmlc::optional<float>``/``<double>`` or ``mxnet::Tuple<float>`` is read by
  ``std::istream >> value`` (libstdc++'s ``num_get::_M_extract_float``, then ``strtod``/``strtof``):
  a sign, digits with one decimal point, an exponent after at least one digit; no ``inf``/``nan``;
  an overflow (a result of infinity) is refused, an underflow is not.

Both raise :class:`Invalid` (with why) where MXNet refuses; the caller words the message.
"""

from __future__ import annotations

import math
import re
import struct
from fractions import Fraction

__all__ = ["Invalid", "dmlc_float", "istream_float"]

_WS = " \t\n\v\f\r"  # C's isspace in the "C" locale
_MAX_DIGITS = 19  # kStrtofMaxDigits: fraction digits beyond it are skipped
_U64 = 2**64
_U32 = 2**32


class Invalid(ValueError):
    """A value MXNet refuses: ``str()`` says why ("out of range" or "")."""


_FLT_MAX = 3.4028234663852886e38


def _f32(value: float) -> float:
    """``static_cast<float>(double)``: round to nearest, infinity beyond FLT_MAX."""
    if math.isnan(value) or math.isinf(value):
        return value
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _exact_f32(exact: Fraction) -> float:
    """The float nearest to an exact rational (ties to even), as ``strtof`` and a cast from a
    64-bit integer round it: without the double rounding of going through a double first."""
    if exact == 0:
        return 0.0
    sign, x = (-1.0 if exact < 0 else 1.0), abs(exact)
    e = x.numerator.bit_length() - x.denominator.bit_length() - 24
    while x / Fraction(2) ** e >= 2**24:
        e += 1
    while x / Fraction(2) ** e < 2**23:
        e -= 1
    e = max(e, -149)  # the denormals share the smallest exponent
    if e > 104:  # 2**128 and beyond: no float holds it
        return sign * math.inf
    q = x / Fraction(2) ** e
    m, rest = divmod(q.numerator, q.denominator)
    if 2 * rest > q.denominator or (2 * rest == q.denominator and m % 2):
        m += 1
    value = math.ldexp(m, e)
    return sign * (math.inf if value > _FLT_MAX else value)


def dmlc_float(raw: str, single: bool) -> float:
    """``dmlc::stof`` (``single``) or ``dmlc::stod`` of the whole string, as ``FieldEntry<float>``
    and ``FieldEntry<double>::Set`` call it (a fresh ``errno``: the values that set ``ERANGE`` are
    out of range, ``'inf'`` is not).

    Raises:
        Invalid: "out of range" for an exponent beyond the type's, "" for any other refusal.
    """
    cast = _f32 if single else float
    max_exp = 38 if single else 308
    max_sig = cast(3.402823466 if single else 1.79769313486231570)
    min_sig = cast(1.175494351 if single else 2.22507385850720139)
    n, p = len(raw), 0
    while p < n and raw[p] in _WS:
        p += 1
    negative = p < n and raw[p] == "-"
    if p < n and raw[p] in "+-":
        p += 1
    value: float | None = None
    i = 0
    while i < 8 and p + i < n and raw[p + i].isascii() and chr(ord(raw[p + i]) | 32) == "infinity"[i]:
        i += 1
    if i in (3, 8):
        p, value = p + i, math.inf
    else:
        i = 0
        while i < 3 and p + i < n and raw[p + i].isascii() and chr(ord(raw[p + i]) | 32) == "nan"[i]:
            i += 1
        if i == 3:
            p += 3
            if p < n and raw[p] == "(":
                p += 1
                while p < n and raw[p].isascii() and (raw[p].isalnum() or raw[p] == "_"):
                    p += 1
                if p >= n or raw[p] != ")":
                    raise Invalid("an invalid NAN literal")  # CHECK_EQ: dmlc::Error
                p += 1
            value = math.nan
    if value is None:
        predec = 0
        while p < n and raw[p] in "0123456789":
            predec = (predec * 10 + ord(raw[p]) - 48) % _U64
            p += 1
        value = _exact_f32(Fraction(predec)) if single else float(predec)
        if p < n and raw[p] == ".":
            p += 1
            pow10, val2, count = 1, 0, 0
            while p < n and raw[p] in "0123456789":
                if count < _MAX_DIGITS:
                    val2, pow10 = val2 * 10 + ord(raw[p]) - 48, pow10 * 10
                p += 1
                count += 1
            value = cast(value + cast(float(val2) / float(pow10)))
        if p < n and raw[p] in "eE":
            p += 1
            frac = p < n and raw[p] == "-"
            if p < n and raw[p] in "+-":
                p += 1
            expon = 0
            while p < n and raw[p] in "0123456789":
                expon = (expon * 10 + ord(raw[p]) - 48) % _U32
                p += 1
            if expon > max_exp or (
                expon == max_exp and ((not frac and value > max_sig) or (frac and value < min_sig))
            ):
                raise Invalid("out of range")
            scale = 1.0
            while expon >= 8:
                scale, expon = cast(scale * 1e8), expon - 8
            while expon > 0:
                scale, expon = cast(scale * 10.0), expon - 1
            value = cast(value / scale) if frac else cast(value * scale)
        if math.isinf(value):
            # "100e37" for a float: the scaling overflows; MXNet 1.9.1 refuses it as out of range
            raise Invalid("out of range")
        if p < n and raw[p] in "fF":
            p += 1
    if p == 0 or p < n:  # nothing read at all ("No conversion"), or trailing characters
        raise Invalid("")
    return -value if negative else value


_STRTOD = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _strtof(chars: str) -> float:
    """``strtof`` of a decimal number: the nearest float, exactly (an exponent far beyond the
    float's range is settled before any exact arithmetic)."""
    mantissa, _, exponent = chars.lower().partition("e")
    digits = mantissa.lstrip("+-").replace(".", "").lstrip("0")
    if not digits:
        return -0.0 if mantissa.startswith("-") else 0.0
    scale = (
        int(exponent or "0")
        if len(exponent.lstrip("+-")) < 12
        else (10**12 if exponent[:1] != "-" else -(10**12))
    )
    point = mantissa.lstrip("+-").find(".")
    whole = len(mantissa.lstrip("+-")) if point < 0 else point
    magnitude = whole - (len(mantissa.lstrip("+-").replace(".", "")) - len(digits)) + scale
    if magnitude > 60:
        return -math.inf if mantissa.startswith("-") else math.inf
    if magnitude < -60:
        return -0.0 if mantissa.startswith("-") else 0.0
    return _exact_f32(Fraction(chars))


def istream_float(text: str, pos: int, single: bool) -> tuple[float, int]:
    """``std::istream >> float`` (``single``) or ``>> double`` at ``pos``: (value, next position).

    Raises:
        Invalid: nothing a number can be read from, or a result beyond the type's range.
    """
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    start = pos
    if pos < n and text[pos] in "+-":
        pos += 1
    mantissa = point = sci = False
    while pos < n:
        ch = text[pos]
        if ch in "0123456789":
            mantissa = True
        elif ch == "." and not point and not sci:
            point = True
        elif ch in "eE" and not sci and mantissa:
            sci = True
            if pos + 1 < n and text[pos + 1] in "+-":
                pos += 1
        else:
            break
        pos += 1
    chars = text[start:pos]
    if _STRTOD.fullmatch(chars) is None:  # strtod reads nothing or leaves a tail ("1e", "."): failbit
        raise Invalid("")
    value = _strtof(chars) if single else float(chars)
    if math.isinf(value):
        raise Invalid("out of range")
    return value, pos
