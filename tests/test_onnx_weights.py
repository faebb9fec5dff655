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
