"""The model factories against their references: docs/reference.md's layer lists, the published stage
shapes, the published parameter counts, Keras' minimum input, and the registry's contract.

Reference numbers are written here by hand, from the sources named next to them, never
taken from running nin_mx.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

import nin_mx
from nin_mx._mxnet import mxnet_available
from nin_mx.core.errors import ShapeError
from nin_mx.graph import shapes as engine
from nin_mx.graph.nodes import parse_nodes
from nin_mx.models import get_model_entry, list_models, register_model, symbol_json
from nin_mx.models import inception_resnet_v2 as irv2_module
from nin_mx.models import nin as nin_module
from nin_mx.report.comparison import manual_pool_kernel, manual_symbol

BORDER_MODES = [None, "valid", "same", "half", "full"]

# Classes of the dataset each model is defined for: CIFAR-10 and ImageNet-1k.
DEFAULT_CLASSES = {"nin_cifar10": 10, "nin_imagenet": 1000, "inception_resnet_v2": 1000}

# Rectangular inputs (H, W); a model added later gets its default size stretched.
RECTANGULAR = {"nin_cifar10": (40, 56), "nin_imagenet": (256, 320), "inception_resnet_v2": (320, 400)}


def rectangular(name):
    _, h, w = get_model_entry(name).input_shape
    return RECTANGULAR.get(name, (h * 5 // 4, w * 7 // 4))


@pytest.fixture(scope="module")
def symbols():
    """Each model built once per set of arguments, as a Graph (nin_mx's own builder)."""
    cache = {}

    def build(name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = nin_mx.Graph.from_model(name, **kwargs)
        return cache[key]

    return build


def _internal_names(graph, found):
    """MXNet's names of every internal output (``get_internals().list_outputs()``)."""
    for node in graph.nodes:
        count = found.visible[node.index]
        for i in range(count):
            if node.is_variable:
                yield node.name
            else:
                yield f"{node.name}_output" if count == 1 else f"{node.name}_output{i}"


def infer_shapes(graph, shapes):
    """``(outputs, arguments, aux)`` by MXNet's names, from nin_mx's engine; where MXNet runs,
    its ``infer_shape`` of the same graph must give the same (it is the oracle), or fail too."""
    try:
        found = engine.infer(graph, shapes)
    except ShapeError:
        if mxnet_available():
            from nin_mx.graph.infer import infer_shapes as mxnet_infer

            with pytest.raises(ShapeError):
                mxnet_infer(graph.symbol, shapes)
        raise
    shown = [s for node in graph.nodes for s in found.outputs[node.index][: found.visible[node.index]]]
    outputs = dict(zip(_internal_names(graph, found), shown))
    variables = [n for n in graph.nodes if n.is_variable]
    args = {n.name: found.outputs[n.index][0] for n in variables if n.index not in found.aux}
    aux = {n.name: found.outputs[n.index][0] for n in variables if n.index in found.aux}
    if mxnet_available():
        from nin_mx.graph.infer import infer_shapes as mxnet_infer

        assert mxnet_infer(graph.symbol, shapes) == (outputs, args, aux)
    return outputs, args, aux


def data(name, batch=1, size=None):
    c, h, w = get_model_entry(name).input_shape
    return {"data": (batch, c, *(size or (h, w)))}


def node_names(graph):
    return [n.name for n in parse_nodes(graph.text)]


# --- registry ---


def test_list_models_is_sorted_and_holds_the_three_families():
    names = list_models()
    assert names == sorted(names)
    assert {"nin_cifar10", "nin_imagenet", "inception_resnet_v2"} <= set(names)


def test_every_public_factory_is_registered_under_its_own_name():
    for module in (nin_module, irv2_module):
        for public in module.__all__:
            entry = get_model_entry(public)
            assert entry.name == public
            assert entry.builder is getattr(module, public)


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="registered twice"):
        register_model(input_shape=(3, 32, 32), reference="-")(nin_module.nin_cifar10)


@pytest.mark.parametrize("name", list_models())
def test_registry_entry_has_a_summary_and_reference(name):
    entry = get_model_entry(name)
    assert len(entry.input_shape) == 3
    assert entry.summary and "\n" not in entry.summary
    assert entry.reference


# --- every model x every border mode builds and infers ---


@pytest.mark.parametrize("border_mode", BORDER_MODES)
@pytest.mark.parametrize("name", list_models())
def test_builds_and_infers_at_default_and_rectangular_sizes(symbols, name, border_mode):
    symbol = symbols(name, border_mode=border_mode)
    classes = DEFAULT_CLASSES.get(name, 1000)
    for batch in (1, 2):
        outputs, _, _ = infer_shapes(symbol, data(name, batch))
        assert outputs["softmax_output"] == (batch, classes)
    outputs, _, _ = infer_shapes(symbol, data(name, 2, rectangular(name)))
    assert outputs["softmax_output"] == (2, classes)


@pytest.mark.parametrize("name", list_models())
def test_num_classes_sets_the_output_width(symbols, name):
    outputs, _, _ = infer_shapes(symbols(name, num_classes=17), data(name, 3))
    assert outputs["softmax_output"] == (3, 17)


@pytest.mark.parametrize("border_mode", BORDER_MODES)
@pytest.mark.parametrize("name", list_models())
def test_graph_ends_in_softmax_output_named_softmax(symbols, name, border_mode):
    graph = json.loads(symbols(name, border_mode=border_mode).text)
    (head,) = graph["heads"]
    last = graph["nodes"][head[0]]
    assert (last["op"], last["name"]) == ("SoftmaxOutput", "softmax")


@pytest.mark.parametrize("border_mode", BORDER_MODES)
@pytest.mark.parametrize("name", list_models())
def test_every_node_is_named_explicitly_and_deterministically(name, border_mode):
    first = symbol_json(name, border_mode=border_mode)
    assert symbol_json(name, border_mode=border_mode) == first
    names = [n.name for n in parse_nodes(first)]
    assert len(names) == len(set(names))
    auto = re.compile(
        r"^(convolution|pooling|activation|batchnorm|concat|_mul_scalar|elemwise_add|"
        r"flatten|dropout|fullyconnected|softmaxoutput)\d+"
    )
    assert not [n for n in names if auto.match(n)]
    with pytest.raises(TypeError):  # the builder takes no node without a name
        nin_mx.models.symbol.op("Flatten", nin_mx.models.symbol.var("data"))


@pytest.mark.parametrize("name", list_models())
def test_half_is_same(symbols, name):
    assert symbols(name, border_mode="half").text == symbols(name, border_mode="same").text


# --- the layer lists of docs/reference.md (Caffe model-zoo NIN definitions) ---

# name: (kernel, stride, pad, num_filter); every convolution has a bias and a ReLU.
NIN_CIFAR10_CONVS = {
    "conv1": (5, 1, 2, 192), "cccp1": (1, 1, 0, 160), "cccp2": (1, 1, 0, 96),
    "conv2": (5, 1, 2, 192), "cccp3": (1, 1, 0, 192), "cccp4": (1, 1, 0, 192),
    "conv3": (3, 1, 1, 192), "cccp5": (1, 1, 0, 192), "cccp6": (1, 1, 0, 10),
}  # fmt: skip
NIN_IMAGENET_CONVS = {
    "conv1": (11, 4, 0, 96), "cccp1": (1, 1, 0, 96), "cccp2": (1, 1, 0, 96),
    "conv2": (5, 1, 2, 256), "cccp3": (1, 1, 0, 256), "cccp4": (1, 1, 0, 256),
    "conv3": (3, 1, 1, 384), "cccp5": (1, 1, 0, 384), "cccp6": (1, 1, 0, 384),
    "conv4": (3, 1, 1, 1024), "cccp7": (1, 1, 0, 1024), "cccp8": (1, 1, 0, 1000),
}  # fmt: skip
# name: (pool_type, kernel, stride); Caffe rounds up: pooling_convention 'full'.
NIN_CIFAR10_POOLS = {"pool1": ("max", 3, 2), "pool2": ("avg", 3, 2)}
NIN_IMAGENET_POOLS = {"pool0": ("max", 3, 2), "pool2": ("max", 3, 2), "pool3": ("max", 3, 2)}


@pytest.mark.parametrize(
    ("name", "convs", "pools", "final_pool", "drops"),
    [
        ("nin_cifar10", NIN_CIFAR10_CONVS, NIN_CIFAR10_POOLS, "pool3", {"drop1": 0.5, "drop2": 0.5}),
        ("nin_imagenet", NIN_IMAGENET_CONVS, NIN_IMAGENET_POOLS, "pool4", {"drop": 0.5}),
    ],
)
def test_nin_layers_are_the_caffe_layers(symbols, name, convs, pools, final_pool, drops):
    nodes = {n.name: n for n in parse_nodes(symbols(name).text)}
    assert [n for n, node in nodes.items() if node.op == "Convolution"] == list(convs)
    for conv, (kernel, stride, pad, filters) in convs.items():
        node = nodes[conv]
        assert node.tuple_attr("kernel") == (kernel, kernel)
        assert node.tuple_attr("stride", (1, 1)) == (stride, stride)
        assert node.tuple_attr("pad", (0, 0)) == (pad, pad)
        assert int(node.attrs["num_filter"]) == filters
        assert not node.bool_attr("no_bias")
        assert nodes[f"{conv}_relu"].attrs["act_type"] == "relu"
    for pool, (pool_type, kernel, stride) in pools.items():
        node = nodes[pool]
        assert node.attrs["pool_type"] == pool_type
        assert (node.tuple_attr("kernel"), node.tuple_attr("stride")) == ((kernel,) * 2, (stride,) * 2)
        assert node.attrs["pooling_convention"] == "full"
    assert nodes[final_pool].attrs["pool_type"] == "avg" and nodes[final_pool].bool_attr("global_pool")
    assert {n: float(node.attrs["p"]) for n, node in nodes.items() if node.op == "Dropout"} == drops


def test_inception_resnet_v2_blocks_follow_tf_slim(symbols):
    nodes = {n.name: n for n in parse_nodes(symbols("inception_resnet_v2").text)}
    adds = [n for n, node in nodes.items() if node.op == "elemwise_add"]
    assert len([n for n in adds if n.startswith("block35_")]) == 10
    assert len([n for n in adds if n.startswith("block17_")]) == 20
    assert len([n for n in adds if n.startswith("block8_")]) == 10
    assert float(nodes["block35_1_scale"].attrs["scalar"]) == pytest.approx(0.17)
    assert float(nodes["block17_1_scale"].attrs["scalar"]) == pytest.approx(0.10)
    assert float(nodes["block8_9_scale"].attrs["scalar"]) == pytest.approx(0.20)
    assert "block8_10_scale" not in nodes and "block8_10_relu" not in nodes  # scale 1.0, no ReLU
    assert "block8_9_relu" in nodes
    # conv -> BN (eps 1e-3, no scale) -> ReLU, except the "up" projections: bias, no BN.
    bns = [node for node in nodes.values() if node.op == "BatchNorm"]
    assert {float(bn.attrs["eps"]) for bn in bns} == {0.001}
    assert all(bn.bool_attr("fix_gamma") for bn in bns)
    assert not nodes["block17_3_up"].bool_attr("no_bias") and "block17_3_up_bn" not in nodes
    assert nodes["block17_3_b1_1x7"].bool_attr("no_bias")
    assert nodes["block17_3_b1_1x7"].tuple_attr("kernel") == (1, 7)
    avg = nodes["mixed_5b_b3_pool"]
    assert (avg.attrs["pool_type"], avg.bool_attr("count_include_pad", True)) == ("avg", False)
    assert float(nodes["dropout"].attrs["p"]) == pytest.approx(0.2)  # TF-slim keep_prob 0.8


# --- published stage shapes (docs/reference.md; Lin et al. / Caffe model zoo; TF-slim / Keras) ---


def test_nin_cifar10_stages_at_32(symbols):
    outputs, _, _ = infer_shapes(symbols("nin_cifar10"), data("nin_cifar10"))
    expected = {  # (C, H, W): 32 -> 16 -> 8 -> 1 with Caffe's ceil pools
        "cccp2_relu_output": (96, 32, 32),
        "pool1_output": (96, 16, 16),
        "cccp4_relu_output": (192, 16, 16),
        "pool2_output": (192, 8, 8),
        "cccp6_relu_output": (10, 8, 8),
        "pool3_output": (10, 1, 1),
    }
    assert {k: outputs[k][1:] for k in expected} == expected


@pytest.mark.parametrize(
    ("convention", "sizes"),
    [
        # ceil pools (Caffe): 54 -> 27 -> 13 -> 6 -> 1
        ("full", {"conv1": 54, "pool0": 27, "pool2": 13, "pool3": 6, "pool4": 1}),
        # floor pools: floor((54-3)/2)+1 = 26, floor((26-3)/2)+1 = 12, floor((12-3)/2)+1 = 5
        ("valid", {"conv1": 54, "pool0": 26, "pool2": 12, "pool3": 5, "pool4": 1}),
    ],
)
def test_nin_imagenet_stages_at_224(symbols, convention, sizes):
    symbol = symbols("nin_imagenet", pooling_convention=convention)
    outputs, _, _ = infer_shapes(symbol, data("nin_imagenet"))
    assert {k: outputs[f"{k}_output"][2:] for k in sizes} == {k: (v, v) for k, v in sizes.items()}
    last_map = sizes["pool3"]
    assert outputs["cccp8_relu_output"][1:] == (1000, last_map, last_map)


IRV2_AT_299 = {  # (C, H, W) per stage, TF-slim / Keras layout
    "stem_conv1a_3x3_relu_output": (32, 149, 149),
    "stem_conv2a_3x3_relu_output": (32, 147, 147),
    "stem_conv2b_3x3_relu_output": (64, 147, 147),
    "stem_pool3a_3x3_output": (64, 73, 73),
    "stem_conv3b_1x1_relu_output": (80, 73, 73),
    "stem_conv4a_3x3_relu_output": (192, 71, 71),
    "stem_pool5a_3x3_output": (192, 35, 35),
    "mixed_5b_concat_output": (320, 35, 35),
    "block35_10_relu_output": (320, 35, 35),
    "mixed_6a_concat_output": (1088, 17, 17),
    "block17_20_relu_output": (1088, 17, 17),
    "mixed_7a_concat_output": (2080, 8, 8),
    "block8_10_add_output": (2080, 8, 8),
    "conv_7b_1x1_relu_output": (1536, 8, 8),
    "global_pool_output": (1536, 1, 1),
}


@pytest.mark.parametrize("border_mode", [None, "valid"])
def test_inception_resnet_v2_stages_at_299(symbols, border_mode):
    outputs, _, _ = infer_shapes(
        symbols("inception_resnet_v2", border_mode=border_mode), data("inception_resnet_v2")
    )
    assert {k: outputs[k][1:] for k in IRV2_AT_299} == IRV2_AT_299


# --- parameter counts against published references ---

# Caffe model-zoo NIN (CIFAR-10): weights k*k*C_in*C_out + biases C_out, per layer.
NIN_CIFAR10_PARAMS = (
    (5 * 5 * 3 * 192 + 192)  # conv1
    + (192 * 160 + 160)  # cccp1
    + (160 * 96 + 96)  # cccp2
    + (5 * 5 * 96 * 192 + 192)  # conv2
    + (192 * 192 + 192)  # cccp3
    + (192 * 192 + 192)  # cccp4
    + (3 * 3 * 192 * 192 + 192)  # conv3
    + (192 * 192 + 192)  # cccp5
    + (192 * 10 + 10)  # cccp6
)
# Caffe model-zoo NIN-Imagenet.
NIN_IMAGENET_PARAMS = (
    (11 * 11 * 3 * 96 + 96)  # conv1
    + (96 * 96 + 96)  # cccp1
    + (96 * 96 + 96)  # cccp2
    + (5 * 5 * 96 * 256 + 256)  # conv2
    + (256 * 256 + 256)  # cccp3
    + (256 * 256 + 256)  # cccp4
    + (3 * 3 * 256 * 384 + 384)  # conv3
    + (384 * 384 + 384)  # cccp5
    + (384 * 384 + 384)  # cccp6
    + (3 * 3 * 384 * 1024 + 1024)  # conv4
    + (1024 * 1024 + 1024)  # cccp7
    + (1024 * 1000 + 1000)  # cccp8
)
# Keras applications InceptionResNetV2 model summary (BatchNorm with scale=False).
KERAS_IRV2_TOTAL = 55_873_736
KERAS_IRV2_TRAINABLE = 55_813_192
KERAS_IRV2_NON_TRAINABLE = 60_544
# timm inception_resnet_v2 / osmr imgclsmob inceptionresnetv2: BN gamma and beta counted.
TIMM_IRV2 = 55_843_464


def test_reference_arithmetic():
    # The published totals, to check the per-layer sums above against.
    assert NIN_CIFAR10_PARAMS == 966_986  # osmr/imgclsmob's CIFAR-10 table
    assert NIN_IMAGENET_PARAMS == 7_595_176
    assert KERAS_IRV2_TRAINABLE + KERAS_IRV2_NON_TRAINABLE == KERAS_IRV2_TOTAL


def count(symbol, shapes):
    """(arguments except data and label, the *_gamma among them, auxiliary states)."""
    _, args, aux = infer_shapes(symbol, shapes)
    weights = {k: v for k, v in args.items() if k not in shapes and not k.endswith("_label")}
    gamma = sum(math.prod(v) for k, v in weights.items() if k.endswith("_gamma"))
    return sum(math.prod(v) for v in weights.values()), gamma, sum(math.prod(v) for v in aux.values())


@pytest.mark.parametrize("border_mode", BORDER_MODES)
@pytest.mark.parametrize(
    ("name", "reference"), [("nin_cifar10", NIN_CIFAR10_PARAMS), ("nin_imagenet", NIN_IMAGENET_PARAMS)]
)
def test_nin_parameter_counts(symbols, name, reference, border_mode):
    args, gamma, aux = count(symbols(name, border_mode=border_mode), data(name))
    assert (args, gamma, aux) == (reference, 0, 0)


@pytest.mark.parametrize("border_mode", BORDER_MODES)
def test_inception_resnet_v2_parameter_counts(symbols, border_mode):
    args, gamma, aux = count(
        symbols("inception_resnet_v2", border_mode=border_mode), data("inception_resnet_v2")
    )
    assert args == TIMM_IRV2
    assert aux == KERAS_IRV2_NON_TRAINABLE  # moving mean and variance
    assert args - gamma == KERAS_IRV2_TRAINABLE  # Keras has no gamma (scale=False)
    assert args - gamma + aux == KERAS_IRV2_TOTAL


# --- smallest inputs of Inception-ResNet-v2 ---


def test_inception_resnet_v2_valid_needs_75(symbols):
    # Keras: "width and height should be no smaller than 75". With valid padding:
    # 75 -> 37 -> 35 -> 17 -> 15 -> 7 (stem) -> 3 (mixed_6a) -> 1 (mixed_7a);
    # 74 -> 36 -> 34 -> 16 -> 14 -> 6 -> 2, and mixed_7a's 3x3 does not fit 2.
    symbol = symbols("inception_resnet_v2", border_mode="valid")
    outputs, _, _ = infer_shapes(symbol, {"data": (1, 3, 75, 75)})
    assert outputs["conv_7b_1x1_output"][2:] == (1, 1)
    with pytest.raises(ShapeError) as info:
        infer_shapes(symbol, {"data": (1, 3, 74, 74)})
    assert info.value.layer.startswith("mixed_7a")
    assert f"'{info.value.layer}'" in str(info.value)
    assert "\n" not in str(info.value)


def _same_side(n):
    # 'same': stride-1 3x3 pad 1 keeps n; stride-2 3x3 pad 1 gives floor((n-1)/2)+1 = ceil(n/2);
    # five stride-2 layers (conv1a, pool3a, pool5a, mixed_6a, mixed_7a) give ceil(n/32).
    return -(-n // 32)


def _full_side(n):
    # 'full': pad 2 on 3x3; stride 1 gives n+2, stride 2 gives floor((n+1)/2)+1 (>= 2).
    def down(x):
        return (x + 1) // 2 + 1

    x = down(n)  # stem_conv1a
    x = x + 2  # stem_conv2a
    x = down(x)  # stem_pool3a
    x = x + 2  # stem_conv4a
    x = down(x)  # stem_pool5a
    x = down(x)  # mixed_6a
    return down(x)  # mixed_7a


@pytest.mark.parametrize(("border_mode", "side"), [("same", _same_side), ("full", _full_side)])
@pytest.mark.parametrize("n", [1, 2, 3, 32, 33, 75, 299])
def test_inception_resnet_v2_same_and_full_take_any_size(symbols, border_mode, side, n):
    # A 3x3 window with pad >= 1 always fits (n + 2 >= 3), and no layer shrinks a map
    # below 1: under 'same' and 'full' no input of side >= 1 fails, even 1 x 1.
    symbol = symbols("inception_resnet_v2", border_mode=border_mode)
    outputs, _, _ = infer_shapes(symbol, {"data": (1, 3, n, n)})
    assert outputs["conv_7b_1x1_output"][2:] == (side(n), side(n))


@pytest.mark.parametrize("border_mode", ["same", "full"])
def test_inception_resnet_v2_only_an_empty_input_fails_under_same_and_full(symbols, border_mode):
    with pytest.raises(ShapeError) as info:
        infer_shapes(symbols("inception_resnet_v2", border_mode=border_mode), {"data": (1, 3, 0, 0)})
    assert "\n" not in str(info.value)


# --- repeats ---


def test_repeats_builds_a_short_network(symbols):
    symbol = symbols("inception_resnet_v2", repeats=(1, 1, 1))
    outputs, _, _ = infer_shapes(symbol, data("inception_resnet_v2"))
    assert outputs["softmax_output"] == (1, 1000)
    names = set(node_names(symbol))
    assert {"block35_1_add", "block35_1_relu", "block17_1_add", "block17_1_relu", "block8_1_add"} <= names
    assert "block8_1_relu" not in names  # the last block8: no ReLU
    assert "block8_1_scale" not in names  # and scale 1.0
    assert not {"block35_2_add", "block17_2_add", "block8_2_add"} & names


def test_repeats_keeps_relu_on_all_but_the_last_block8(symbols):
    names = set(node_names(symbols("inception_resnet_v2", repeats=(0, 0, 2))))
    assert "block8_1_relu" in names and "block8_2_add" in names and "block8_2_relu" not in names
    assert not [n for n in names if n.startswith(("block35_", "block17_"))]


# --- errors: one clear line ---


def assert_one_line(exc):
    text = str(exc)
    assert text and "\n" not in text
    assert "Stack trace" not in text and "[bt]" not in text


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: symbol_json("nin_cifar"), ValueError, "did you mean 'nin_cifar10'"),
        (lambda: symbol_json("inception_resnet"), ValueError, "did you mean 'inception_resnet_v2'"),
        # names are matched case-insensitively for the suggestion (the name itself is still refused)
        (
            lambda: symbol_json("NIN_CIFAR10"),
            ValueError,
            "unknown model 'NIN_CIFAR10'; did you mean 'nin_cifar10'",
        ),
        (lambda: symbol_json("Nin_ImageNet"), ValueError, "did you mean 'nin_imagenet'"),
        (
            lambda: symbol_json("vgg16"),
            ValueError,
            "available: inception_resnet_v2, nin_cifar10, nin_imagenet",
        ),
        (lambda: symbol_json("nin_cifar10", border_mode="tight"), ValueError, "border_mode"),
        (lambda: symbol_json("inception_resnet_v2", border_mode="SAMEISH"), ValueError, "border_mode"),
        # the final pool's window: global_pool=True (None) or a fixed (kh, kw)
        (lambda: symbol_json("nin_cifar10", pooling="manual"), ValueError, "takes no argument 'pooling'"),
        (lambda: symbol_json("inception_resnet_v2", pool_kernel=(8,)), ValueError, "pool_kernel"),
        (lambda: symbol_json("nin_cifar10", pool_kernel=(0, 8)), ValueError, "pool_kernel"),
        (lambda: symbol_json("nin_imagenet", pool_kernel=(6, 6.0)), ValueError, "pool_kernel"),
        (lambda: manual_symbol("nin_cifar10", (3, 32, 32)), ValueError, "data_shape"),
        (lambda: manual_symbol("nin_cifar10", (1, 3, 0, 32)), ValueError, "data_shape"),
        (lambda: manual_symbol("nin_cifar10", (1, 3, 32, 32), pool_kernel=(8, 8)), ValueError, "itself"),
        (lambda: symbol_json("nin_cifar10", num_classes=0), ValueError, "num_classes"),
        (lambda: symbol_json("nin_imagenet", num_classes=-5), ValueError, "num_classes"),
        (lambda: symbol_json("nin_imagenet", num_classes=2.5), ValueError, "num_classes"),
        (lambda: symbol_json("inception_resnet_v2", num_classes=True), ValueError, "num_classes"),
        (lambda: symbol_json("inception_resnet_v2", num_classes="1000"), ValueError, "num_classes"),
        (lambda: symbol_json("inception_resnet_v2", repeats=(1, 1)), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", repeats=(1, 1, 0)), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", repeats=(-1, 1, 1)), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", repeats=(1, 1.5, 1)), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", repeats="111"), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", repeats=None), ValueError, "repeats"),
        (lambda: symbol_json("inception_resnet_v2", dropout=1.0), ValueError, "dropout"),
        (lambda: symbol_json("nin_cifar10", frobnicate=1), ValueError, "takes no argument 'frobnicate'"),
        (
            lambda: symbol_json("inception_resnet_v2", pooling_convention="full"),
            ValueError,
            "pooling_convention",
        ),
        (
            lambda: symbol_json("nin_cifar10", pooling_convention="same"),
            ValueError,
            "'same' works only for 1-D",
        ),
        (lambda: symbol_json("nin_imagenet", pooling_convention="same"), ValueError, "use 'full'"),
        (lambda: symbol_json("nin_imagenet", pooling_convention="ceil"), ValueError, "pooling_convention"),
    ],
)
def test_errors_are_one_clear_line(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
    assert_one_line(info.value)


@pytest.mark.parametrize(
    ("name", "side", "layer"),
    [
        # 4 -> conv1 4 -> pool1 ceil((4-3)/2)+1 = 2 -> pool2: 3x3 does not fit 2
        ("nin_cifar10", 4, "pool2"),
        # 54 -> conv1 floor((54-11)/4)+1 = 11 -> pool0 5 -> pool2 2 -> pool3: 3x3 does not fit 2
        ("nin_imagenet", 54, "pool3"),
        # see test_inception_resnet_v2_valid_needs_75
        ("inception_resnet_v2", 74, "mixed_7a_b0_3x3"),
    ],
)
def test_manual_pooling_at_a_too_small_size_names_the_layer(name, side, layer):
    with pytest.raises(ShapeError) as info:
        manual_pool_kernel(name, (1, 3, side, side))
    assert info.value.layer == layer
    assert f"'{layer}'" in str(info.value)
    assert_one_line(info.value)


# --- importing nin_mx does not import MXNet ---


def test_listing_models_does_not_load_mxnet():
    code = (
        "import sys, nin_mx, nin_mx.models\n"
        "names = nin_mx.list_models()\n"
        "assert 'nin_cifar10' in names, names\n"
        "nin_mx.models.get_model_entry('inception_resnet_v2')\n"
        "mod = sys.modules.get('mxnet')\n"
        "print('mxnet.base' in sys.modules, mod is None or type(mod).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded, module_type = result.stdout.split()
    assert loaded == "False"
    assert module_type in ("True", "_LazyModule")  # absent, or the unloaded lazy module


@pytest.mark.mxnet
def test_the_lazy_module_loads_on_first_use():
    code = (
        "import sys, nin_mx.models\n"
        "nin_mx.models.get_symbol('nin_cifar10')\n"
        "print('mxnet.base' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "True"  # the check above can see a loaded MXNet


def test_package_exports_resolve():
    for name in nin_mx.__all__:
        assert getattr(nin_mx, name) is not None
    with pytest.raises(AttributeError):
        _ = nin_mx.no_such_thing
