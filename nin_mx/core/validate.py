"""The one integer and shape validator, and MXNet's dimension limit (pure Python, no MXNet).

Every argument check of nin_mx that asks "is this a positive integer" or "is this a shape"
calls :func:`check_int` or :func:`check_dims`, so that the rule (booleans are not integers,
dimensions stop at 2^31 - 1) and its wording live in one place.
"""

from __future__ import annotations

from typing import Any

__all__ = ["INT32_MAX", "Shape", "check_dims", "check_int"]

Shape = tuple[int, ...]
INT32_MAX = 2**31 - 1  # MXNet 1.9.1 (pip) stores each dimension as a 32-bit int


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Checks that ``value`` is an integer (not a bool) of at least ``minimum``.

    Raises:
        ValueError: ``'<name> must be an integer, got <value>'`` or ``'<name> must be >= ...'``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_dims(value: Any, name: str, *, ndim: int | None = None, shown: str | None = None) -> Shape:
    """Checks a shape: a non-empty sequence of positive integers, each at most 2^31 - 1.

    Args:
        value: the shape, any iterable of ints.
        name: how messages call it (``"data_shape"``, ``"shape of 'data'"``, ``"--input"``).
        ndim: the number of entries it must have, if fixed.
        shown: how messages show the value (default: the tuple), e.g. the user's own text.

    Returns:
        The shape as a tuple.

    Raises:
        ValueError: one line naming ``name`` and what is wrong.
    """
    try:
        values = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of integers, got {value!r}") from None
    shown = str(values) if shown is None else shown
    if ndim is not None and len(values) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {shown}")
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ValueError(f"{name} must be positive integers, got {shown}")
    if any(v > INT32_MAX for v in values):
        raise ValueError(f"{name}: MXNet takes dimensions up to 2^31 - 1 = {INT32_MAX}, got {shown}")
    return values
