"""A checkpoint's data as nin_mx reads it (every dtype MXNet writes) against ``mx.nd.load``, and
into the ONNX initializers: float32 as stored, other dtypes converted as MXNet converts them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")

import mxnet as mx

from nin_mx.graph.ndarray_file import read_ndarray_data, read_ndarray_file

pytestmark = pytest.mark.mxnet

DTYPES = ("float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool")


def _saved(tmp_path, dtypes=DTYPES):
    rng = np.random.RandomState(0)
    arrays = {}
    for i, dtype in enumerate(dtypes):
        shape = (3, i + 1, 2)
        values = rng.uniform(-100, 100, shape) if dtype != "bool" else rng.uniform(size=shape) > 0.5
        arrays[f"arg:w_{dtype}"] = mx.nd.array(values, dtype=dtype)
    arrays["aux:scalar"] = mx.nd.array([2.5])
    path = tmp_path / "all-0000.params"
    mx.nd.save(str(path), arrays)
    return path


def test_the_data_of_every_dtype_is_mxnets(tmp_path):
    path = _saved(tmp_path)
    loaded = mx.nd.load(str(path))
    found = read_ndarray_data(path)
    assert [a.info for a in found] == read_ndarray_file(path)
    for stored in found:
        want = loaded[stored.info.name].asnumpy()
        got = np.frombuffer(stored.data, dtype=np.dtype(stored.info.dtype).newbyteorder("<")).reshape(
            stored.info.shape
        )
        assert got.dtype == want.dtype and (got == want).all(), stored.info.name


def test_bfloat16_data(tmp_path):
    x = mx.nd.array(np.linspace(-3, 3, 12).reshape(3, 4))
    path = tmp_path / "bf16.params"
    mx.nd.save(str(path), {"w": mx.nd.amp_cast(x, dtype="bfloat16")})
    (stored,) = read_ndarray_data(path)
    assert stored.info.dtype == "bfloat16" and len(stored.data) == 24
    want = mx.nd.amp_cast(mx.nd.load(str(path))["w"], dtype="float32").asnumpy()
    got = (np.frombuffer(stored.data, dtype="<u2").astype("<u4") << 16).view("<f4").reshape(3, 4)
    assert (got == want).all()


def test_a_truncated_file_is_refused_before_its_data_is_read(tmp_path):
    path = _saved(tmp_path, ("float32",))
    data = path.read_bytes()
    path.write_bytes(data[:-40])
    from nin_mx.core.errors import GraphError

    with pytest.raises(GraphError, match="truncated or corrupt"):
        read_ndarray_data(path)


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_weights_of_another_dtype_become_float32_initializers(dtype, tmp_path):
    import onnx.numpy_helper

    from nin_mx.export import to_onnx

    symbol = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc")
    weight = np.random.RandomState(1).uniform(-1, 1, (3, 5))
    path = tmp_path / "fc.params"
    mx.nd.save(str(path), {"arg:fc_weight": mx.nd.array(weight, dtype=dtype), "arg:fc_bias": mx.nd.zeros(3)})
    model = to_onnx(symbol, params=path, input_shapes=(2, 5))
    init = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    assert init["fc_weight"].dtype == np.float32
    assert (init["fc_weight"] == weight.astype(dtype).astype(np.float32)).all()


def _small_checkpoint(tmp_path, dtype="float16"):
    """A BatchNorm (fix_gamma: a filled initializer), a Convolution and a FullyConnected whose
    weight is stored as ``dtype`` (converted in memory): every kind of initializer."""
    rng = np.random.RandomState(2)
    data = mx.sym.var("data")
    bn = mx.sym.BatchNorm(data, name="bn")
    conv = mx.sym.Convolution(bn, kernel=(3, 3), num_filter=64, name="conv")
    symbol = mx.sym.FullyConnected(conv, num_hidden=10, name="fc")
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=(1, 3, 12, 12))
    arrays = {}
    for kind, names, shapes in (
        ("arg", symbol.list_arguments(), arg_shapes),
        ("aux", symbol.list_auxiliary_states(), aux_shapes),
    ):
        for name, shape in zip(names, shapes):
            if name != "data":
                value = rng.uniform(0.5, 1.5, shape)
                arrays[f"{kind}:{name}"] = mx.nd.array(
                    value, dtype=dtype if name == "fc_weight" else "float32"
                )
    path = tmp_path / "small-0000.params"
    mx.nd.save(str(path), arrays)
    return symbol, path


def test_deferred_weights_are_written_as_the_whole_models_bytes(tmp_path, monkeypatch):
    """``defer_weights`` leaves the checkpoint's float32 bytes out of the model; ``save_onnx`` of
    the export copies them from the checkpoint (in the kernel, and by chunks where it cannot):
    the file holds the bytes of the model ``to_onnx`` makes whole in memory."""
    import nin_mx.export.save as save
    from nin_mx.export import export_onnx, save_onnx, to_onnx

    symbol, params = _small_checkpoint(tmp_path)
    whole = to_onnx(symbol, params=params, input_shapes=(1, 3, 12, 12)).SerializeToString()
    exported = export_onnx(symbol, params=params, input_shapes=(1, 3, 12, 12), defer_weights=True)
    names = {exported.model.graph.initializer[i].name for i in exported.deferred}
    assert names == {"bn_beta", "bn_moving_mean", "bn_moving_var", "conv_weight", "conv_bias", "fc_bias"}
    assert all(not exported.model.graph.initializer[i].HasField("raw_data") for i in exported.deferred)
    save_onnx(exported, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == whole
    monkeypatch.delattr(save.os, "sendfile")
    monkeypatch.setattr(save, "_CHUNK", 1000)  # conv_weight (2 304 bytes) in three chunks
    save_onnx(exported, tmp_path / "chunks.onnx")
    assert (tmp_path / "chunks.onnx").read_bytes() == whole


def test_deferred_weights_past_the_protobuf_limit_go_to_external_data(tmp_path, monkeypatch):
    import onnx
    import onnxruntime as ort

    import nin_mx.export.save as save
    from nin_mx.export import export_onnx, save_onnx, to_onnx

    symbol, params = _small_checkpoint(tmp_path)
    model = to_onnx(symbol, params=params, input_shapes=(1, 3, 12, 12))
    exported = export_onnx(symbol, params=params, input_shapes=(1, 3, 12, 12), defer_weights=True)
    monkeypatch.setattr(save, "_PROTOBUF_LIMIT", 1)
    monkeypatch.setattr(save, "_MARGIN", 0)
    (tmp_path / "deferred").mkdir()
    (tmp_path / "whole").mkdir()
    save_onnx(exported, tmp_path / "deferred" / "m.onnx")
    save_onnx(model, tmp_path / "whole" / "m.onnx")
    for name in ("m.onnx", "m.onnx.data"):  # the same files, by either way
        assert (tmp_path / "deferred" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert all(len(t.external_data) == 0 for t in exported.model.graph.initializer)  # left as it was
    onnx.checker.check_model(str(tmp_path / "deferred" / "m.onnx"), full_check=True)
    feeds = {"data": np.random.RandomState(0).uniform(-1, 1, (1, 3, 12, 12)).astype(np.float32)}
    from_file = ort.InferenceSession(
        str(tmp_path / "deferred" / "m.onnx"), providers=["CPUExecutionProvider"]
    )
    in_memory = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert (from_file.run(None, feeds)[0] == in_memory.run(None, feeds)[0]).all()


def test_a_checkpoint_cut_short_after_the_export_is_refused_in_one_line(tmp_path):
    from nin_mx.core.errors import GraphError
    from nin_mx.export import export_onnx, save_onnx

    symbol, params = _small_checkpoint(tmp_path)
    exported = export_onnx(symbol, params=params, input_shapes=(1, 3, 12, 12), defer_weights=True)
    params.write_bytes(params.read_bytes()[:100])
    with pytest.raises(GraphError, match="the file changed while it was read"):
        save_onnx(exported, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
