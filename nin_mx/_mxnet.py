"""MXNet, imported on first use.

``nin_mx`` must answer ``--help``, ``--list-models`` and usage errors without paying for
``import mxnet``, which costs more than the rest of such a run. Modules that build or inspect symbols do
``from nin_mx._mxnet import mx``: the name is bound at once, and MXNet is imported the
first time an attribute of it is read.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

__all__ = ["mx", "mxnet_error_types"]


def _install_hint() -> str:
    if sys.version_info >= (3, 13):
        return "MXNet 1.9.1 needs Python 3.9-3.12 (numpy<2, which has no wheels for Python 3.13)"
    if sys.version_info >= (3, 12):
        return "run: pip install 'mxnet==1.9.1' 'numpy>=1.26,<2' setuptools"
    return "run: pip install 'mxnet==1.9.1' 'numpy<1.24'"


def _restore_numpy_bool() -> None:
    """Put back ``numpy.bool``, the alias of ``bool`` that MXNet 1.9.1 reads at import.

    numpy 1.24 removed the alias, and Python 3.12 has no older numpy. numpy 1.20-1.23 still
    resolve it (with a DeprecationWarning) and numpy 2 has a ``numpy.bool`` of its own, so the
    alias is set only where reading it fails. Reading the missing name warns too on numpy 1.25
    and later (a FutureWarning that it will be the numpy scalar type), hence the silenced probe.
    """
    import numpy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        missing = not hasattr(numpy, "bool")
    if missing:
        numpy.bool = bool


class _NumpyAliasLoader:
    """MXNet's own loader, preceded by ``_restore_numpy_bool`` when the lazy import fires.

    (Not an ``importlib.abc.Loader``: importing that module would cost ``--help`` 10 ms.)
    """

    def __init__(self, loader: Loader) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        _restore_numpy_bool()
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)


def _lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} is not installed; {_install_hint()}")
    spec.loader = importlib.util.LazyLoader(_NumpyAliasLoader(spec.loader))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# MXNet logs "Subgraph backend MKLDNN is activated" to stderr at every bind unless told not to.
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
mx = _lazy_import("mxnet")


def mxnet_error_types() -> tuple[type[BaseException], ...]:
    """The exception types MXNet raises from its C++ core (imports MXNet)."""
    return (mx.base.MXNetError,)
