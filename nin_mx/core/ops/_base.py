"""Shared pieces of the operator table: shape merging, attribute readers, errors (pure Python).

Shapes follow MXNet 1.9.1's legacy (non-NumPy) semantics at its Python boundary: ``None`` is a
shape of unknown rank, and a dimension of 0 is unknown (MXNet's -1 inside its C++ core).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional

from nin_mx.core import attrs as _attrs
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.validate import Shape

MaybeShape = Optional[Shape]
Shapes = list  # list[MaybeShape]
Rule = Callable[..., tuple[list, list]]


class AxisError(ShapeError):
    """A window (kernel) that does not fit its input along one spatial axis.

    ``str(exc)`` is the size part (``kernel 5 exceeds input 2``); ``axis`` and ``ndim`` say
    along which spatial axis, for the engine's ``... along height``.
    """

    def __init__(self, message: str, axis: int, ndim: int) -> None:
        super().__init__(message)
        self.axis = axis
        self.ndim = ndim


def known(shape: MaybeShape) -> bool:
    """Every dimension known."""
    return shape is not None and 0 not in shape


def fmt(shape: MaybeShape) -> str:
    return "None" if shape is None else "(" + ",".join(str(d) for d in shape) + ")"


def merge(old: MaybeShape, new: MaybeShape) -> MaybeShape:
    """MXNet's ``shape_assign``: the union of two partial shapes, or raise on a conflict."""
    if new is None:
        return old
    if old is None or old == new:
        return new
    if len(old) != len(new):
        raise ShapeError(f"shape {fmt(new)} is inconsistent with {fmt(old)}")
    out = []
    for a, b in zip(old, new):
        if a and b and a != b:
            raise ShapeError(f"shape {fmt(new)} is inconsistent with {fmt(old)}")
        out.append(a or b)
    return tuple(out)


def assign(shapes: list, index: int, new: MaybeShape, what: str) -> None:
    """``SHAPE_ASSIGN_CHECK``: merge ``new`` into ``shapes[index]``, naming ``what`` on a conflict."""
    old = shapes[index]
    if new is None or old == new:
        return
    try:
        shapes[index] = merge(old, new)
    except ShapeError:
        raise ShapeError(f"{what}: expected {fmt(new)}, got {fmt(old)}") from None


def size(shape: Shape) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def axis_of(axis: int, ndim: int, what: str = "axis") -> int:
    """MXNet's ``CheckAxis``: ``axis`` in [-ndim, ndim), made non-negative."""
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{what} {axis} is out of range for a {ndim}-D input")
    return axis + ndim if axis < 0 else axis


class Attrs:
    """Typed reading of one node's attributes (for parsers; errors name the attribute)."""

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def _get(self, key: str) -> str | None:
        return self.raw.get(key)

    def int(self, key: str, default: Any = None, *, unsigned: bool = False, bits: int = 32) -> Any:
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_int(raw, where=f"attribute {key}", unsigned=unsigned, bits=bits)

    def opt_int(self, key: str, default: Any = None) -> int | None:
        """``dmlc::optional<int>``: None for 'None'; ``default`` (MXNet's) when absent."""
        raw = self.raw.get(key)
        return default if raw is None else _attrs.parse_optional_int(raw, where=f"attribute {key}")

    def float(self, key: str, default: Any = None, *, single: bool = False) -> Any:
        """A ``double`` field, or a ``float`` one (``single``: read in float32, as MXNet does)."""
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_float(raw, where=f"attribute {key}", single=single)

    def opt_float(self, key: str, default: Any = None, *, single: bool = False) -> float | None:
        """``dmlc::optional<double>`` (``<float>``, ``single``): None for 'None'; ``default`` when absent."""
        raw = self.raw.get(key)
        if raw is None:
            return default
        return _attrs.parse_optional_float(raw, where=f"attribute {key}", single=single)

    def float_tuple(self, key: str, default: Any = None) -> Any:
        """``mxnet::Tuple<float>``: ``'(0.5, 1, 2)'``, ``'[1]'``, a bare number; 'None' refused."""
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_tuple(raw, "float", where=f"attribute {key}", optional=False)

    def opt_int_tuple(self, key: str, default: Any = None) -> tuple | None:
        """``mxnet::Tuple<dmlc::optional<int>>`` (slice's begin, end, step): ``'(None, 2)'`` is
        ``(None, 2)``; None for 'None' (an unknown shape); ``default`` when absent."""
        raw = self.raw.get(key)
        if raw is None:
            return default
        return _attrs.parse_tuple(raw, "opt_int", where=f"attribute {key}")

    def bool(self, key: str, default: Any = None) -> Any:
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_bool(raw, where=f"attribute {key}")

    def opt_bool(self, key: str, default: Any = None) -> bool | None:
        raw = self.raw.get(key)
        return default if raw is None else _attrs.parse_optional_bool(raw, where=f"attribute {key}")

    def tuple(self, key: str, default: Any = None) -> Any:
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_int_tuple(raw, where=f"attribute {key}")

    def opt_tuple(self, key: str, default: Any = None) -> Any:
        raw = self.raw.get(key)
        if raw is None:
            return default
        return _attrs.parse_optional_int_tuple(raw, where=f"attribute {key}")

    def enum(self, key: str, choices: Sequence[str], default: Any = None) -> Any:
        raw = self.raw.get(key)
        if raw is None:
            return self._required(key, default)
        return _attrs.parse_enum(raw, choices, where=f"attribute {key}")

    def opt_enum(self, key: str, choices: Sequence[str]) -> str | None:
        raw = self.raw.get(key)
        if raw is None or raw == "None":
            return None
        return _attrs.parse_enum(raw, choices, where=f"attribute {key}")

    @staticmethod
    def _required(key: str, default: Any) -> Any:
        if default is _REQUIRED:
            raise GraphError(f"required attribute {key} is missing")
        return default


_REQUIRED = object()
REQUIRED = _REQUIRED


def parser(fn: Callable[[Attrs], Any]) -> Callable[[Mapping[str, str]], Any]:
    """Caches a parameter parser by the attribute items (a graph repeats a few settings)."""
    cache: dict[Any, Any] = {}

    @functools.wraps(fn)
    def parse(raw: Mapping[str, str]) -> Any:
        key = tuple(raw.items())
        try:
            return cache[key]
        except KeyError:
            pass
        value = fn(Attrs(raw))
        if len(cache) > 4096:
            cache.clear()
        cache[key] = value
        return value

    return parse


def hidden(key: str) -> bool:
    """Attributes such as ``__block__`` or ``__shape__``: symbol annotations, not parameters."""
    return key[:2] == "__" == key[-2:]


def setting(op: str, attrs: Mapping[str, str]) -> tuple:
    """An operator and its parameters (annotations left out), hashable: two nodes of one setting
    get the same answers from the table and from its rules. :func:`hidden`, inline: the shape
    engine asks this of every node. A node with subgraphs (``SubgraphAttrs``) adds them."""
    key = (op, *[kv for kv in attrs.items() if kv[0][:1] != "_" or not kv[0][:2] == "__" == kv[0][-2:]])
    return key if type(attrs) is dict else (*key, getattr(attrs, "subgraphs", ()))
