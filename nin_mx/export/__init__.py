"""ONNX export: MXNet graphs and checkpoints as ONNX models, without MXNet (``pip install nin_mx[onnx]``).

Above ``graph`` and ``checks`` (it needs the shapes and the size-lock findings), below
``document``, ``render`` and ``cli``. :func:`to_onnx` is the entry; one handler per MXNet
operator in :mod:`nin_mx.export.nn`, :mod:`nin_mx.export.activations`,
:mod:`nin_mx.export.tensor`, :mod:`nin_mx.export.spatial`, :mod:`nin_mx.export.norm`,
:mod:`nin_mx.export.broadcast` and :mod:`nin_mx.export.arrays`, registered in
:mod:`nin_mx.export.handlers`; element types as MXNet infers them in
:mod:`nin_mx.export.dtypes`. The model is written by :mod:`nin_mx.export.proto` and
:mod:`nin_mx.export.save`, without onnx or numpy; onnx is imported only for an
``onnx.ModelProto`` (:func:`to_onnx`, :attr:`Exported.model`), numpy only for seeded random
weights and a checkpoint array of another type than float32.
"""

from __future__ import annotations

from nin_mx.export.handlers import HANDLERS, REFUSED, translation_of
from nin_mx.export.model import DEFAULT_OPSET, Exported, export_onnx, to_onnx
from nin_mx.export.save import save_onnx

__all__ = [
    "DEFAULT_OPSET",
    "HANDLERS",
    "REFUSED",
    "Exported",
    "export_onnx",
    "save_onnx",
    "to_onnx",
    "translation_of",
]
