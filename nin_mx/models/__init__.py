"""The model families and their registry: ``get_symbol(name, **kwargs)`` and ``list_models()``."""

from __future__ import annotations

from typing import Any

from nin_mx._mxnet import require_mxnet
from nin_mx.models import inception_resnet_v2 as _irv2  # noqa: F401  (registers its factory)
from nin_mx.models import nin as _nin  # noqa: F401  (registers its factories)
from nin_mx.models._registry import ModelEntry, get_model_entry, list_models, register_model

__all__ = ["ModelEntry", "get_model_entry", "get_symbol", "list_models", "register_model"]


def get_symbol(name: str, **kwargs: Any) -> Any:
    """Builds the symbol of a registered model.

    Args:
        name: a name from :func:`list_models`.
        **kwargs: the factory's keyword arguments (``num_classes``, ``border_mode``, ...).

    Returns:
        An ``mx.sym.Symbol``.

    Raises:
        ValueError: for an unknown model, an argument the factory does not take, or an
            invalid value.
        nin_mx._mxnet.MXNetUnavailable: where MXNet cannot run (one line: what needs it, why).
    """
    entry = get_model_entry(name)
    require_mxnet(f"building {name}")
    try:
        return entry.builder(**kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            key = str(exc).rsplit(" ", 1)[-1]
            raise ValueError(f"model {name!r} takes no argument {key}") from None
        raise
