"""Argument checks shared by the model factories."""

from __future__ import annotations

from nin_mx.core import border
from nin_mx.core.validate import check_int

__all__ = ["check_num_classes", "resolve_border_mode"]


def check_num_classes(num_classes: int) -> int:
    """Checks that ``num_classes`` is a positive integer.

    Raises:
        ValueError: naming the argument.
    """
    return check_int("num_classes", num_classes, 1)


def resolve_border_mode(
    mode: border.BorderMode | str | None, reference: border.BorderMode
) -> border.BorderMode:
    """The border mode of one layer: the user's, or the layer's reference mode for ``None``."""
    return reference if mode is None else border.parse_border_mode(mode)
