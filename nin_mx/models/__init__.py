"""The model families and their registry: ``symbol_json(name, **kwargs)``, ``get_symbol`` and
``list_models()``.

The factories build with nin_mx's own symbol builder (:mod:`nin_mx.models.symbol`): a model's
graph is MXNet 1.9.1's symbol JSON, written without MXNet. Only :func:`get_symbol`, which hands
out an ``mx.sym.Symbol``, needs MXNet: it loads that JSON.
"""

from __future__ import annotations

from typing import Any

from nin_mx._mxnet import mx, require_mxnet
from nin_mx.models import inception_resnet_v2 as _irv2  # noqa: F401  (registers its factory)
from nin_mx.models import nin as _nin  # noqa: F401  (registers its factories)
from nin_mx.models._registry import ModelEntry, get_model_entry, list_models, register_model
from nin_mx.models.symbol import Symbol

__all__ = [
    "ModelEntry",
    "build",
    "get_model_entry",
    "get_symbol",
    "list_models",
    "register_model",
    "symbol_json",
]


def build(name: str, **kwargs: Any) -> Symbol:
    """Builds a registered model with nin_mx's builder (no MXNet).

    Args:
        name: a name from :func:`list_models`.
        **kwargs: the factory's keyword arguments (``num_classes``, ``border_mode``, ...).

    Returns:
        A :class:`nin_mx.models.symbol.Symbol`: ``.graph()`` is its JSON graph as a dict,
        ``.tojson()`` the text.

    Raises:
        ValueError: for an unknown model, an argument the factory does not take, or an
            invalid value.
    """
    entry = get_model_entry(name)
    try:
        return entry.builder(**kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            key = str(exc).rsplit(" ", 1)[-1]
            raise ValueError(f"model {name!r} takes no argument {key}") from None
        raise


def symbol_json(name: str, **kwargs: Any) -> str:
    """A registered model's symbol JSON, byte for byte what MXNet 1.9.1's ``tojson()`` writes
    for it (no MXNet needed): what ``get_symbol(name, **kwargs).tojson()`` returns.

    Raises:
        ValueError: as :func:`build`.
    """
    return build(name, **kwargs).tojson()


def get_symbol(name: str, **kwargs: Any) -> Any:
    """A registered model as an ``mx.sym.Symbol``: MXNet's ``load_json`` of :func:`symbol_json`.

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
    text = symbol_json(name, **kwargs)
    require_mxnet(f"an mx.sym.Symbol of {name}")
    return mx.sym.load_json(text)
