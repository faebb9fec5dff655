"""The table of ONNX translations: one handler per MXNet operator, versioned by opset.

In the manner of onnx/tensorflow-onnx's ``tf2onnx/handler.py``: a class decorated with
:func:`mx_op` holds ``version_N`` classmethods, each the translation for ONNX opsets from N on;
for a target opset the newest version not above it is used. The keys are the operator table's
names (:data:`nin_mx.core.ops.OPS`, aliases resolved to them), so there is one entry per
operator, and an operator the table knows but no handler translates has a reason instead
(:data:`REFUSED`). The table itself (``nin_mx.core``) never imports onnx.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from nin_mx.core.ops import OPS
from nin_mx.export.builder import untranslatable
from nin_mx.export.dtypes import dtype_of

__all__ = ["HANDLERS", "REFUSED", "handler_for", "mx_op", "refuse", "translation_of"]

Handler = Callable[..., Any]

_HANDLERS: dict[str, dict[int, Handler]] = {}
_REFUSED: dict[str, str] = {}


def _canonical(name: str) -> str:
    info = OPS.get(name)
    return info.name if info is not None else name


def mx_op(*names: str, **kwargs: Any) -> Callable[[type], type]:
    """Registers a class's ``version_N`` classmethods as the translation of ``names``.

    ``kwargs`` are passed to every call of the handler (``onnx_op='Relu'``), so one class can
    translate a family of operators.

    Raises:
        RuntimeError: for a name registered twice or one the operator table does not know.
    """

    def register(cls: type) -> type:
        versions = {
            int(attr[len("version_") :]): getattr(cls, attr)
            for attr in dir(cls)
            if attr.startswith("version_")
        }
        if not versions:
            raise RuntimeError(f"{cls.__name__} has no version_N method")
        for name in names:
            if name not in OPS or OPS[name].name != name:
                raise RuntimeError(f"{name} is not an operator of the table (by its own name)")
            if name in _HANDLERS or name in _REFUSED:
                raise RuntimeError(f"operator {name} has two translations")
            _HANDLERS[name] = {
                opset: functools.partial(_typed, functools.partial(fn, **kwargs, op=name))
                for opset, fn in versions.items()
            }
        return cls

    return register


def _typed(handler: Handler, b: Any, node: Any, a: Any) -> Any:
    """Refuses a node that reads a weight while its data is not float32 (after a Cast): the
    export writes every weight in float32, and ONNX does not mix types (Embedding's data is an
    index, so it is exempt)."""
    if node.inputs and node.op != "Embedding" and dtype_of(b, node) != "float32":
        weights = [b.nodes[i] for i in node.inputs[1:]]
        if any(w.is_variable and w.name not in b.data_inputs for w in weights):
            why = f"it reads weights (float32) with {dtype_of(b, node)} data; cast the data to float32 first"
            raise untranslatable(node, why)
    return handler(b, node, a)


def refuse(reason: str, *names: str) -> None:
    """Records that ``names`` have no translation, and why (one line, said to the user)."""
    for name in names:
        if name not in OPS or OPS[name].name != name:
            raise RuntimeError(f"{name} is not an operator of the table (by its own name)")
        if name in _HANDLERS or name in _REFUSED:
            raise RuntimeError(f"operator {name} has two translations")
        _REFUSED[name] = reason


def handler_for(op: str, opset: int) -> Handler | None:
    """The translation of ``op`` (or an alias) for ``opset``: the newest version not above it."""
    versions = _HANDLERS.get(_canonical(op))
    if not versions:
        return None
    usable = [v for v in versions if v <= opset]
    return versions[max(usable)] if usable else None


def translation_of(op: str) -> str:
    """``'translated'``, or the reason an operator is not (for the refusal and the docs)."""
    name = _canonical(op)
    if name in _HANDLERS:
        return "translated"
    if name in _REFUSED:
        return _REFUSED[name]
    return "no ONNX translation written yet"


HANDLERS: Mapping[str, Mapping[int, Handler]] = MappingProxyType(_HANDLERS)
REFUSED: Mapping[str, str] = MappingProxyType(_REFUSED)
