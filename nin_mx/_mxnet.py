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
from types import ModuleType

__all__ = ["mx", "mxnet_error_types"]


def _lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} is not installed; run: pip install 'mxnet==1.9.1' 'numpy<1.24'")
    spec.loader = importlib.util.LazyLoader(spec.loader)
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
