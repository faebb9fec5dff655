"""Argument checks shared by the model factories."""

from __future__ import annotations

from nin_mx import border

__all__ = ["check_num_classes", "resolve_border_mode"]


def check_num_classes(num_classes: int) -> int:
    """Checks that ``num_classes`` is a positive integer.

    Raises:
        ValueError: naming the argument.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    return num_classes


def resolve_border_mode(
    mode: border.BorderMode | str | None, reference: border.BorderMode
) -> border.BorderMode:
    """The border mode of one layer: the user's, or the layer's reference mode for ``None``."""
    return reference if mode is None else border.parse_border_mode(mode)
