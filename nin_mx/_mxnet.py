"""MXNet, imported on first use, and what happens where it cannot be.

``nin_mx`` must answer ``--help``, ``--list-models`` and usage errors without paying for
``import mxnet``, which costs more than the rest of such a run. Modules that build or inspect symbols do
``from nin_mx._mxnet import mx``: the name is bound at once, and MXNet is imported the
first time an attribute of it is read.

Where MXNet cannot run -- not installed, or Python 3.13 and later, which MXNet 1.9.1 (numpy<2)
does not support -- ``mx`` is a stand-in: reading any attribute of it raises
:class:`MXNetUnavailable`, one line naming the caller and the reason. Code that knows what it is
about to do calls :func:`require_mxnet` first, for a message in the user's words, or asks
:func:`mxnet_available`, which answers without importing MXNet. Importing this module imports
neither MXNet nor numpy.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

__all__ = [
    "MXNetUnavailable",
    "import_failure",
    "mx",
    "mxnet_available",
    "mxnet_error_types",
    "mxnet_usable",
    "require_mxnet",
]

# The last release of MXNet, and the Pythons it runs on (it needs numpy<2, which has no wheels for 3.13).
MXNET_VERSION = "1.9.1"
SUPPORTED_PYTHONS = "3.9-3.12"


def _install_hint() -> str:
    if sys.version_info >= (3, 13):
        return "MXNet 1.9.1 needs Python 3.9-3.12 (numpy<2, which has no wheels for Python 3.13)"
    if sys.version_info >= (3, 12):
        return "run: pip install 'mxnet==1.9.1' 'numpy>=1.26,<2' setuptools"
    return "run: pip install 'mxnet==1.9.1' 'numpy<1.24'"


class MXNetUnavailable(ImportError):
    """MXNet cannot be used here: it is not installed, or this Python is newer than MXNet 1.9.1 runs on.

    The message is one line: what needs MXNet, and why it is unavailable (with the install
    command where installing would help), e.g. ``building inception_resnet_v2 needs MXNet 1.9.1,
    which runs on Python 3.9-3.12 (this is Python 3.13)``. ``name`` is ``"mxnet"``.
    """

    def __init__(self, message: str, *, name: str = "mxnet") -> None:
        super().__init__(message, name=name)


def _unavailable(what: str) -> MXNetUnavailable:
    return MXNetUnavailable(f"{what} needs MXNet {MXNET_VERSION}, {_why_unavailable()}")


def _python() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def _python_supported() -> bool:
    return sys.version_info < (3, 13)


def _why_unavailable() -> str:
    if not _python_supported():
        return f"which runs on Python {SUPPORTED_PYTHONS} (this is Python {_python()})"
    if _import_failure is not None:
        return f"which is installed but cannot be imported ({_import_failure})"
    return f"which is not installed; {_install_hint()}"


# The last line of the error MXNet's import failed with, once it has (then MXNet is absent).
_import_failure: str | None = None


def mxnet_available() -> bool:
    """Whether MXNet can be imported here, answered without importing it (nor numpy).

    False on Python 3.13 and later even if a package named ``mxnet`` is installed: MXNet 1.9.1
    needs numpy<2, which has no wheels for those Pythons; False too once its import has failed
    (:func:`mxnet_usable`). Before that, True does not promise that the import succeeds: ask
    :func:`mxnet_usable` where MXNet is about to be used.
    """
    if not _python_supported() or _import_failure is not None:
        return False
    if "mxnet" in sys.modules:  # the lazy module, or None where the import is blocked
        return sys.modules["mxnet"] is not None
    return importlib.util.find_spec("mxnet") is not None


def mxnet_usable() -> bool:
    """Whether MXNet imports here: imports it (once). An installed MXNet whose import fails
    (numpy 2 beside MXNet 1.9.1, a broken libmxnet, a blocked import) is from then on treated
    as absent, and :func:`import_failure` says why."""
    if not mxnet_available():
        return False
    try:
        mx.base  # noqa: B018 - runs the lazy import
    except MXNetUnavailable:
        return False
    return True


def import_failure() -> str | None:
    """Why an installed MXNet could not be imported (the error's last line), or None."""
    return _import_failure


def require_mxnet(what: str) -> None:
    """Raises :class:`MXNetUnavailable` unless MXNet can be used here; does not import it.

    Args:
        what: what needs MXNet, in the user's words, e.g. ``"building inception_resnet_v2"``;
            the message reads ``"{what} needs MXNet 1.9.1, which ..."``.

    Raises:
        MXNetUnavailable: e.g. ``building inception_resnet_v2 needs MXNet 1.9.1, which runs on
            Python 3.9-3.12 (this is Python 3.13)``, or below 3.13 ``..., which is not installed;
            run: pip install 'mxnet==1.9.1' 'numpy<1.24'``.
    """
    if not mxnet_available():
        raise _unavailable(what)


class _MissingMXNet:
    """``mx`` where MXNet cannot be used: reading any attribute raises :class:`MXNetUnavailable`,
    naming the nin_mx function that read it (or ``mx.<attribute>`` for anyone else's code).

    Dunder names raise AttributeError instead, so that ``hasattr``, ``copy``, ``inspect`` and
    pytest's introspection see an ordinary object.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise _unavailable(_caller(sys._getframe(1), f"mx.{name}"))

    def __repr__(self) -> str:
        return f"<MXNet {MXNET_VERSION}: not available, {_why_unavailable()}>"


def _caller(frame: Any, default: str) -> str:
    """``module.function`` of ``frame`` when that is nin_mx's own code, else ``default``."""
    module = frame.f_globals.get("__name__", "")
    if not module.startswith("nin_mx.") or module == __name__:
        return default
    code = frame.f_code
    function = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
    return module if function == "<module>" else f"{module}.{function}"


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
        try:
            _restore_numpy_bool()
            module.__loader__ = module.__spec__.loader = self._loader
            self._loader.exec_module(module)
        except Exception as exc:  # any way an installed MXNet can fail to import
            _broken(module, exc)
            raise _unavailable(f"importing {module.__name__}") from None


def _last_line(exc: BaseException) -> str:
    """``ImportError: numpy.core.multiarray failed to import``: the error's last line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__


def _broken(module: ModuleType, exc: BaseException) -> None:
    """MXNet failed to import: from now on it is absent. The half-made modules are dropped
    (``import mxnet`` elsewhere fails at once), and reading the lazy module ``mx`` that other
    modules hold raises :class:`MXNetUnavailable` instead of ``AttributeError``."""
    global _import_failure
    _import_failure = _last_line(exc)
    name = module.__name__
    for key in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
        del sys.modules[key]
    sys.modules[name] = None  # type: ignore[assignment]
    kept = {
        key: module.__dict__[key] for key in ("__name__", "__spec__", "__loader__") if key in module.__dict__
    }
    module.__dict__.clear()
    module.__dict__.update(kept)

    def missing(attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        raise _unavailable(_caller(sys._getframe(1), f"mx.{attribute}"))

    module.__dict__["__getattr__"] = missing


def _lazy_import(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise _unavailable(f"importing {name}")
    spec.loader = importlib.util.LazyLoader(_NumpyAliasLoader(spec.loader))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# MXNet logs "Subgraph backend MKLDNN is activated" to stderr at every bind unless told not to.
os.environ.setdefault("MXNET_SUBGRAPH_VERBOSE", "0")
mx: Any = _lazy_import("mxnet") if mxnet_available() else _MissingMXNet()


def mxnet_error_types() -> tuple[type[BaseException], ...]:
    """The exception types MXNet raises from its C++ core (imports MXNet); none where MXNet is
    unavailable, so ``except mxnet_error_types():`` catches nothing there."""
    if isinstance(mx, _MissingMXNet) or not mxnet_usable():
        return ()
    return (mx.base.MXNetError,)
