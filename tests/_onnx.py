"""Test helpers for the ONNX export: MXNet's forward pass is the judge, onnxruntime the runtime.

:func:`judge` checks an exported model as the issue asks: ``onnx.checker.check_model`` with
``full_check=True``; ONNX's own shape inference against MXNet's ``infer_shape`` (of the static
export: every dimension); onnxruntime's outputs against MXNet's forward with the same weights
(largest absolute difference at most 1e-4 of the output's largest magnitude), at the natural
size and at more sizes for a size-free model. nin_mx computes none of the references.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import mxnet as mx
import numpy as np
import onnx
import onnxruntime as ort
from onnx import shape_inference

from nin_mx.export import save_onnx

Shape = tuple[int, ...]
RTOL = 1e-4


def save_checkpoint(
    symbol: mx.sym.Symbol, folder: Path, name: str, shapes: Mapping[str, Shape], seed: int = 0
):
    """``<name>-symbol.json`` and ``<name>-0000.params`` of seeded random weights (mx.nd.save,
    ``arg:``/``aux:`` keys, as ``save_checkpoint`` writes them); gamma and the running variance
    drawn positive and away from 1, so that BatchNorm is not the identity. Returns both paths."""
    rng = np.random.RandomState(seed)
    arg_shapes, _, aux_shapes = symbol.infer_shape(**shapes)
    saved = {}
    for kind, names, found in (
        ("arg", symbol.list_arguments(), arg_shapes),
        ("aux", symbol.list_auxiliary_states(), aux_shapes),
    ):
        for key, shape in zip(names, found):
            if key in shapes or key.endswith("_label"):
                continue
            if key.endswith(("_var", "_gamma")):
                value = rng.uniform(0.5, 1.5, shape)
            elif key.endswith(("_mean", "_beta", "_bias")):
                value = rng.uniform(-0.5, 0.5, shape)
            else:
                fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
                value = rng.uniform(-1, 1, shape) * np.sqrt(3.0 / max(fan_in, 1))
            saved[f"{kind}:{key}"] = mx.nd.array(value.astype(np.float32))
    sym_path, params_path = folder / f"{name}-symbol.json", folder / f"{name}-0000.params"
    symbol.save(str(sym_path))
    mx.nd.save(str(params_path), saved)
    return sym_path, params_path


def mxnet_forward(symbol: mx.sym.Symbol, params: Path, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """MXNet's inference outputs with the checkpoint's weights (labels bound to zeros)."""
    loaded = mx.nd.load(str(params))
    loaded = loaded if isinstance(loaded, dict) else {}  # nothing saved: an empty list
    args = {k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("arg:")}
    aux = {k.split(":", 1)[1]: v for k, v in loaded.items() if k.startswith("aux:")}
    # as Module does: simple_bind, then the parameters copied in (bind() with the loaded arrays
    # fails in MKL-DNN for a Deconvolution with target_shape)
    executor = symbol.simple_bind(mx.cpu(), grad_req="null", **{k: v.shape for k, v in inputs.items()})
    for name, array in executor.arg_dict.items():
        if name in inputs:
            array[:] = inputs[name]
        elif name in args:
            array[:] = args[name]
        else:  # a label
            array[:] = 0
    for name, array in executor.aux_dict.items():
        array[:] = aux[name]
    outs = [o.asnumpy() for o in executor.forward(is_train=False)]
    del executor, args, aux, loaded
    return outs


def _dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def check_shapes(model: onnx.ModelProto, symbol: mx.sym.Symbol, shapes: Mapping[str, Shape]) -> int:
    """ONNX's shape inference agrees with MXNet's ``infer_shape`` on every value named after
    an MXNet output (every dimension for a fixed-size model, the fixed ones for a dynamic one).
    Returns how many values were compared. The model's large weights are dropped (their dims
    stay), to keep the inference's copy of the model small."""
    internals = symbol.get_internals()
    _, outs, _ = internals.infer_shape_partial(**shapes)
    mx_shapes = dict(zip(internals.list_outputs(), map(tuple, outs)))
    for tensor in model.graph.initializer:  # shapes need the weights' dims, not their values
        if tensor.ByteSize() > 4096:
            tensor.ClearField("raw_data")
    inferred = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    values = [*inferred.graph.value_info, *inferred.graph.output]
    compared = 0
    for value in values:
        if value.name not in mx_shapes:
            continue
        dims, ref = _dims(value), mx_shapes[value.name]
        assert len(dims) == len(ref), (value.name, dims, ref)
        for got, want in zip(dims, ref):
            assert isinstance(got, str) or got == want, (value.name, dims, ref)
        compared += 1
    return compared


def run_ort(model: onnx.ModelProto, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # quicker to load
    options.enable_cpu_mem_arena = False  # give the memory back between networks
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    outs = session.run(None, dict(inputs))
    del session
    return outs


def assert_close(got: Sequence[np.ndarray], want: Sequence[np.ndarray], what: str) -> float:
    assert len(got) == len(want), what
    worst = 0.0
    for g, w in zip(got, want):
        assert g.shape == w.shape, (what, g.shape, w.shape)
        scale = float(np.abs(w).max()) or 1.0
        diff = float(np.abs(g.astype(np.float64) - w).max()) / scale
        assert diff <= RTOL, f"{what}: max abs diff {diff:.3g} of the output's largest magnitude"
        worst = max(worst, diff)
    return worst


def _check(model: onnx.ModelProto) -> None:
    """``check_model(full_check=True)``, by path: in memory it would copy the whole model twice."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.onnx")
        save_onnx(model, path)
        onnx.checker.check_model(path, full_check=True)


def judge(
    model: onnx.ModelProto,
    symbol: mx.sym.Symbol,
    params: Path,
    input_shapes: Mapping[str, Shape],
    more_sizes: Sequence[Mapping[str, Shape]] = (),
    seed: int = 1,
) -> None:
    """Checks ``model`` against MXNet (see the module docstring)."""
    _check(model)
    rng = np.random.RandomState(seed)
    for shapes in (input_shapes, *more_sizes):
        inputs = {k: rng.uniform(-1, 1, v).astype(np.float32) for k, v in shapes.items()}
        want = mxnet_forward(symbol, params, inputs)
        got = run_ort(model, inputs)
        assert_close(got, want, f"at {dict(shapes)}")
    gc.collect()
