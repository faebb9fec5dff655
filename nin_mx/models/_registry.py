"""The model registry: one dict, filled by ``@register_model``, keyed by function name."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelEntry", "get_model_entry", "list_models", "register_model"]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model factory and what a report needs to know about it.

    Attributes:
        name: the factory's function name, which is the model's name.
        builder: the factory; returns an ``mx.sym.Symbol``.
        input_shape: default input ``(C, H, W)``.
        reference: where the architecture comes from.
        summary: one line describing the model.
    """

    name: str
    builder: Callable[..., Any]
    input_shape: tuple[int, int, int]
    reference: str
    summary: str


_MODELS: dict[str, ModelEntry] = {}


def register_model(
    *, input_shape: tuple[int, int, int], reference: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a factory under its function name; the docstring's first line is its summary.

    Raises:
        ValueError: at import, if the name is already registered.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        name = fn.__name__
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        summary = (fn.__doc__ or name).strip().splitlines()[0]
        _MODELS[name] = ModelEntry(name, fn, input_shape, reference, summary)
        return fn

    return decorate


def list_models() -> list[str]:
    """The names of all registered models, sorted."""
    return sorted(_MODELS)


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``.

    Raises:
        ValueError: listing the valid names and the closest match, for an unknown name.
    """
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        # Case-insensitive: 'NIN_CIFAR10' is as close to 'nin_cifar10' as 'nin_cifar10' itself.
        lowered = {key.lower(): key for key in _MODELS}
        close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}{hint} (available: {', '.join(list_models())})") from None
