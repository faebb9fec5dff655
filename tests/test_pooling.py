"""compare_pooling: a hand-computed final pooling kernel equals global pooling at one size only.

Reference kernels are the published final-pool windows: NIN-CIFAR-10's 8x8 average pool
(Caffe model zoo; 32 -> 16 -> 8), NIN-Imagenet's 6x6 (54 -> 27 -> 13 -> 6; 5x5 with floor
pools) and Inception-ResNet-v2's 8x8 (TF-slim / Keras at 299; timm's pool_size (8, 8)).
"""

from __future__ import annotations

import pytest

from nin_mx.core.errors import ShapeError
from nin_mx.export.compare import compare_pooling
from nin_mx.models import get_model_entry, list_models
from nin_mx.report.comparison import default_probe_shape

# name -> (factory kwargs, manual kernel, channels entering the final pool)
REFERENCE = {
    "nin_cifar10": ({}, (8, 8), 10),
    "nin_imagenet": ({}, (6, 6), 1000),
    "inception_resnet_v2": ({}, (8, 8), 1536),
}
CASES = [(name, "default") for name in list_models()] + [("nin_imagenet", "floor pools")]
KWARGS = {"default": {}, "floor pools": {"pooling_convention": "valid"}}
KERNELS = {("nin_imagenet", "floor pools"): (5, 5)}


@pytest.fixture(scope="module")
def comparisons():
    cache = {}

    def compare(name, variant):
        if (name, variant) not in cache:
            shape = (1, *get_model_entry(name).input_shape)
            cache[name, variant] = compare_pooling(name, shape, **KWARGS[variant])
        return cache[name, variant]

    return compare


def assert_one_line(text):
    assert text and "\n" not in text and "Stack trace" not in text and "[bt]" not in text


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_manual_kernel_equals_global_pooling_at_the_default_size(comparisons, name, variant):
    result = comparisons(name, variant)
    _, kernel, channels = REFERENCE[name]
    assert result.manual_kernel == KERNELS.get((name, variant), kernel)
    assert result.global_output_shape == result.manual_output_shape == (1, channels, 1, 1)
    assert result.shapes_equal is True
    assert 0 <= result.max_abs_diff <= 1e-5


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_manual_kernel_fails_at_three_quarters_size(comparisons, name, variant):
    result = comparisons(name, variant)
    _, _, channels = REFERENCE[name]
    c, h, w = get_model_entry(name).input_shape
    assert result.probe_shape == (1, c, round(h * 3 / 4), round(w * 3 / 4))
    assert result.probe_global_error is None
    assert result.probe_global_output_shape == (1, channels, 1, 1)
    assert result.probe_manual_output_shape is None
    assert_one_line(result.probe_manual_error)
    assert "exceeds" in result.probe_manual_error


def test_probe_errors_give_the_sizes(comparisons):
    # NIN-CIFAR-10 at 24: 24 -> 12 -> 6 (ceil pools), so the 8x8 kernel meets a 6x6 map.
    assert comparisons("nin_cifar10", "default").probe_manual_error == "kernel (8, 8) exceeds input (6, 6)"
    # Inception-ResNet-v2 at 224: 224 -> 111 -> 109 -> 54 -> 52 -> 25 -> 12 -> 5.
    assert (
        comparisons("inception_resnet_v2", "default").probe_manual_error
        == "kernel (8, 8) exceeds input (5, 5)"
    )


def test_a_larger_probe_pools_to_more_than_one_by_one():
    # 48 x 40 -> pool1 24 x 20 -> pool2 12 x 10; an 8x8 window, stride 1: 5 x 3 outputs.
    result = compare_pooling("nin_cifar10", (2, 3, 32, 32), probe_shape=(2, 3, 48, 40))
    assert result.global_output_shape == (2, 10, 1, 1)
    assert result.probe_global_output_shape == (2, 10, 1, 1)
    assert result.probe_manual_output_shape == (2, 10, 5, 3)
    assert_one_line(result.probe_manual_error)
    assert "(12, 10)" in result.probe_manual_error and "(5, 3)" in result.probe_manual_error


def test_factory_arguments_reach_both_graphs():
    # valid borders: 32 -> conv1 28 -> pool1 ceil(25/2)+1 = 14 -> conv2 10 -> pool2 5 -> conv3 3
    result = compare_pooling("nin_cifar10", (1, 3, 32, 32), border_mode="valid", num_classes=4)
    assert result.manual_kernel == (3, 3)
    assert result.global_output_shape == (1, 4, 1, 1)
    assert result.shapes_equal


def test_a_probe_too_small_for_either_graph():
    result = compare_pooling("nin_cifar10", (1, 3, 32, 32), probe_shape=(1, 3, 4, 4))
    assert result.probe_global_output_shape is None
    assert_one_line(result.probe_global_error)
    assert "'pool2'" in result.probe_global_error
    assert result.probe_manual_output_shape is None


@pytest.mark.parametrize(
    ("shape", "probe"),
    [
        ((1, 3, 299, 299), (1, 3, 224, 224)),
        ((2, 3, 32, 32), (2, 3, 24, 24)),
        ((1, 3, 224, 160), (1, 3, 168, 120)),
    ],
)
def test_default_probe_shape(shape, probe):
    assert default_probe_shape(shape) == probe


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: compare_pooling("nin_cifar", (1, 3, 32, 32)), ValueError, "did you mean 'nin_cifar10'"),
        (lambda: compare_pooling("nin_cifar10", (1, 3, 32, 32), pooling="global"), ValueError, "pooling"),
        (lambda: compare_pooling("nin_cifar10", (1, 3, 32, 32), pool_kernel=(8, 8)), ValueError, "itself"),
        (lambda: compare_pooling("nin_cifar10", (3, 32, 32)), ValueError, "data_shape"),
        (
            lambda: compare_pooling("nin_cifar10", (1, 3, 32, 32), probe_shape=(1, 3, 0, 8)),
            ValueError,
            "probe_shape",
        ),
        (lambda: compare_pooling("nin_cifar10", (1, 3, 4, 4)), ShapeError, "'pool2'"),
    ],
)
def test_compare_pooling_errors_are_one_line(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
    assert_one_line(str(info.value))


def test_the_runtime_that_computed_the_numbers_is_named():
    from nin_mx._mxnet import mxnet_available

    found = compare_pooling("nin_cifar10", (1, 3, 32, 32))
    if mxnet_available():
        assert found.runtime == "MXNet 1.9.1"
    else:
        import onnxruntime

        assert found.runtime == f"onnxruntime {onnxruntime.__version__}"


def test_onnxruntime_computes_the_same_comparison():
    from nin_mx.export.compare import onnxruntime_forward

    found = compare_pooling("nin_imagenet", (1, 3, 224, 224), forward=onnxruntime_forward)
    assert found.runtime.startswith("onnxruntime ")
    assert found.shapes_equal and found.max_abs_diff <= 1e-5 and found.manual_kernel == (6, 6)
