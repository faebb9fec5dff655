"""Inception-ResNet-v2, in the layout that TF-slim and Keras ship.

Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", AAAI 2017, https://arxiv.org/abs/1602.07261.
Channel counts follow TF-slim's ``inception_resnet_v2.py`` and Keras'
``applications/inception_resnet_v2.py`` (the paper's figures disagree with each other).

Every convolution is Convolution (no bias) -> BatchNorm (eps 1e-3, no scale) -> ReLU,
except the 1x1 "up" projection of each residual block, which has a bias and no BatchNorm.

``border_mode`` applies to the layers TF-slim pads through its ``padding`` argument — the
stem's convolutions and pools and the stride-2 layers of Mixed_6a and Mixed_7a, all
``'VALID'`` in the reference. Layers inside the blocks keep ``same`` padding, because the
residual sum and the concatenations need equal sizes.

Shapes at 299 x 299 (reference padding): stem 149, 147, 147, 73, 73, 71, 35;
Mixed_5b 35 x 35 x 320; Mixed_6a 17 x 17 x 1088; Mixed_7a 8 x 8 x 2080;
conv_7b 8 x 8 x 1536.

Every node carries its block in the ``__block__`` attribute (:func:`nin_mx.layers.block_scope`):
``stem``, ``mixed_5b``, ``block35_1`` ... ``block35_10``, ``mixed_6a``, ``block17_1`` ...
``block17_20``, ``mixed_7a``, ``block8_1`` ... ``block8_10`` and ``head`` (conv_7b, the pool,
dropout, classifier and softmax).
"""

from __future__ import annotations

from collections.abc import Sequence

from nin_mx.core import border
from nin_mx.core.border import BorderMode
from nin_mx.core.validate import check_int
from nin_mx.models import symbol as sym
from nin_mx.models._common import check_num_classes, resolve_border_mode
from nin_mx.models._registry import register_model
from nin_mx.models.layers import block_scope as _block
from nin_mx.models.layers import conv as _conv
from nin_mx.models.layers import final_pool
from nin_mx.models.symbol import Symbol

__all__ = ["inception_resnet_v2"]

SAME = BorderMode.SAME


def _conv_bn(
    x: Symbol,
    name: str,
    num_filter: int,
    kernel: int | tuple[int, int],
    *,
    stride: int = 1,
    border_mode: BorderMode = SAME,
) -> Symbol:
    """Convolution without bias, BatchNorm (eps 1e-3), ReLU."""
    return _conv(x, name, num_filter, kernel, stride=stride, border_mode=border_mode, batch_norm=True)


def _max_pool(x: Symbol, name: str, mode: BorderMode) -> Symbol:
    pad = (border.pad_for(mode, 3),) * 2
    return sym.op("Pooling", x, name=name, pool_type="max", kernel=(3, 3), stride=(2, 2), pad=pad)


def _concat(name: str, *branches: Symbol) -> Symbol:
    return sym.op("Concat", *branches, dim=1, name=f"{name}_concat")


def _stem(x: Symbol, mode: BorderMode) -> Symbol:
    """299 -> 149 -> 147 -> 147 -> 73 -> 73 -> 71 -> 35 (x 192) with valid padding."""
    x = _conv_bn(x, "stem_conv1a_3x3", 32, 3, stride=2, border_mode=mode)  # 149 x 149 x 32
    x = _conv_bn(x, "stem_conv2a_3x3", 32, 3, border_mode=mode)  # 147 x 147 x 32
    x = _conv_bn(x, "stem_conv2b_3x3", 64, 3)  # 147 x 147 x 64
    x = _max_pool(x, "stem_pool3a_3x3", mode)  # 73 x 73 x 64
    x = _conv_bn(x, "stem_conv3b_1x1", 80, 1, border_mode=mode)  # 73 x 73 x 80
    x = _conv_bn(x, "stem_conv4a_3x3", 192, 3, border_mode=mode)  # 71 x 71 x 192
    return _max_pool(x, "stem_pool5a_3x3", mode)  # 35 x 35 x 192


def _mixed_5b(x: Symbol) -> Symbol:
    """Mixed_5b: 35 x 35 x 320 (96 + 64 + 96 + 64)."""
    n = "mixed_5b"
    b0 = _conv_bn(x, f"{n}_b0_1x1", 96, 1)
    b1 = _conv_bn(x, f"{n}_b1_1x1", 48, 1)
    b1 = _conv_bn(b1, f"{n}_b1_5x5", 64, 5)
    b2 = _conv_bn(x, f"{n}_b2_1x1", 64, 1)
    b2 = _conv_bn(b2, f"{n}_b2_3x3a", 96, 3)
    b2 = _conv_bn(b2, f"{n}_b2_3x3b", 96, 3)
    b3 = sym.op(
        "Pooling",
        x,
        name=f"{n}_b3_pool",
        pool_type="avg",
        kernel=(3, 3),
        stride=(1, 1),
        pad=(1, 1),
        count_include_pad=False,
    )
    b3 = _conv_bn(b3, f"{n}_b3_1x1", 64, 1)
    return _concat(n, b0, b1, b2, b3)


def _residual(
    x: Symbol, name: str, branches: Sequence[Symbol], channels: int, scale: float, relu: bool
) -> Symbol:
    """x + scale * up(concat(branches)), then ReLU; ``up`` is a 1x1 conv with bias, no BN."""
    mixed = _concat(name, *branches)
    up = _conv(mixed, f"{name}_up", channels, 1, relu=False, bias=True)
    if scale != 1.0:
        up = sym.op("_mul_scalar", up, scalar=scale, name=f"{name}_scale")
    x = sym.op("elemwise_add", x, up, name=f"{name}_add")
    return sym.op("Activation", x, name=f"{name}_relu", act_type="relu") if relu else x


def _block35(x: Symbol, name: str, scale: float = 0.17) -> Symbol:
    """Inception-ResNet-A: 35 x 35 x 320 -> 35 x 35 x 320 (branches 32 + 32 + 64 = 128)."""
    b0 = _conv_bn(x, f"{name}_b0_1x1", 32, 1)
    b1 = _conv_bn(x, f"{name}_b1_1x1", 32, 1)
    b1 = _conv_bn(b1, f"{name}_b1_3x3", 32, 3)
    b2 = _conv_bn(x, f"{name}_b2_1x1", 32, 1)
    b2 = _conv_bn(b2, f"{name}_b2_3x3a", 48, 3)
    b2 = _conv_bn(b2, f"{name}_b2_3x3b", 64, 3)
    return _residual(x, name, (b0, b1, b2), 320, scale, relu=True)


def _reduction_a(x: Symbol, mode: BorderMode) -> Symbol:
    """Mixed_6a: 35 x 35 x 320 -> 17 x 17 x 1088 (384 + 384 + 320)."""
    n = "mixed_6a"
    b0 = _conv_bn(x, f"{n}_b0_3x3", 384, 3, stride=2, border_mode=mode)
    b1 = _conv_bn(x, f"{n}_b1_1x1", 256, 1)
    b1 = _conv_bn(b1, f"{n}_b1_3x3a", 256, 3)
    b1 = _conv_bn(b1, f"{n}_b1_3x3b", 384, 3, stride=2, border_mode=mode)
    b2 = _max_pool(x, f"{n}_b2_pool", mode)
    return _concat(n, b0, b1, b2)


def _block17(x: Symbol, name: str, scale: float = 0.10) -> Symbol:
    """Inception-ResNet-B: 17 x 17 x 1088 -> 17 x 17 x 1088 (branches 192 + 192 = 384)."""
    b0 = _conv_bn(x, f"{name}_b0_1x1", 192, 1)
    b1 = _conv_bn(x, f"{name}_b1_1x1", 128, 1)
    b1 = _conv_bn(b1, f"{name}_b1_1x7", 160, (1, 7))
    b1 = _conv_bn(b1, f"{name}_b1_7x1", 192, (7, 1))
    return _residual(x, name, (b0, b1), 1088, scale, relu=True)


def _reduction_b(x: Symbol, mode: BorderMode) -> Symbol:
    """Mixed_7a: 17 x 17 x 1088 -> 8 x 8 x 2080 (384 + 288 + 320 + 1088)."""
    n = "mixed_7a"
    b0 = _conv_bn(x, f"{n}_b0_1x1", 256, 1)
    b0 = _conv_bn(b0, f"{n}_b0_3x3", 384, 3, stride=2, border_mode=mode)
    b1 = _conv_bn(x, f"{n}_b1_1x1", 256, 1)
    b1 = _conv_bn(b1, f"{n}_b1_3x3", 288, 3, stride=2, border_mode=mode)
    b2 = _conv_bn(x, f"{n}_b2_1x1", 256, 1)
    b2 = _conv_bn(b2, f"{n}_b2_3x3a", 288, 3)
    b2 = _conv_bn(b2, f"{n}_b2_3x3b", 320, 3, stride=2, border_mode=mode)
    b3 = _max_pool(x, f"{n}_b3_pool", mode)
    return _concat(n, b0, b1, b2, b3)


def _block8(x: Symbol, name: str, scale: float = 0.20, relu: bool = True) -> Symbol:
    """Inception-ResNet-C: 8 x 8 x 2080 -> 8 x 8 x 2080 (branches 192 + 256 = 448)."""
    b0 = _conv_bn(x, f"{name}_b0_1x1", 192, 1)
    b1 = _conv_bn(x, f"{name}_b1_1x1", 192, 1)
    b1 = _conv_bn(b1, f"{name}_b1_1x3", 224, (1, 3))
    b1 = _conv_bn(b1, f"{name}_b1_3x1", 256, (3, 1))
    return _residual(x, name, (b0, b1), 2080, scale, relu=relu)


def _check_repeats(repeats: Sequence[int]) -> tuple[int, int, int]:
    """Three block counts (block35, block17, block8); at least one block8, which ends the net."""
    if not isinstance(repeats, (tuple, list)) or len(repeats) != 3:
        raise ValueError(f"repeats must be three integers (block35, block17, block8), got {repeats!r}")
    n35, n17, n8 = (check_int(f"repeats[{i}]", v, 1 if i == 2 else 0) for i, v in enumerate(repeats))
    return n35, n17, n8


@register_model(
    input_shape=(3, 299, 299), reference="Szegedy et al. 2016, arXiv:1602.07261; TF-slim / Keras layout"
)
def inception_resnet_v2(
    *,
    num_classes: int = 1000,
    border_mode: BorderMode | str | None = None,
    repeats: Sequence[int] = (10, 20, 10),
    dropout: float = 0.2,
    pool_kernel: Sequence[int] | None = None,
) -> Symbol:
    """Inception-ResNet-v2 (TF-slim / Keras layout): 55.8 M parameters at 1000 classes.

    Args:
        num_classes: outputs of the final fully connected layer.
        border_mode: padding of the stem and of the stride-2 reduction layers (TF-slim's
            ``'VALID'`` layers); ``None`` = reference (valid).
        repeats: numbers of block35, block17 and block8 blocks; the last block8 has scale
            1.0 and no ReLU.
        dropout: drop probability before the classifier (TF-slim keeps 0.8, i.e. p = 0.2).
        pool_kernel: ``None`` for ``global_pool=True``, or a fixed kernel for the final pool
            (8 x 8 at 299 x 299 reproduces it; see :func:`nin_mx.pooling.manual_symbol`).

    Returns:
        The symbol (:class:`nin_mx.models.symbol.Symbol`), ending in ``SoftmaxOutput(name='softmax')``.

    Raises:
        ValueError: for an invalid argument.
    """
    check_num_classes(num_classes)
    n35, n17, n8 = _check_repeats(repeats)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    mode = resolve_border_mode(border_mode, BorderMode.VALID)

    x = sym.var("data")
    with _block("stem"):
        x = _stem(x, mode)  # 35 x 35 x 192
    with _block("mixed_5b"):
        x = _mixed_5b(x)  # 35 x 35 x 320
    for i in range(1, n35 + 1):
        with _block(f"block35_{i}"):
            x = _block35(x, f"block35_{i}")
    with _block("mixed_6a"):
        x = _reduction_a(x, mode)  # 17 x 17 x 1088
    for i in range(1, n17 + 1):
        with _block(f"block17_{i}"):
            x = _block17(x, f"block17_{i}")
    with _block("mixed_7a"):
        x = _reduction_b(x, mode)  # 8 x 8 x 2080
    for i in range(1, n8 + 1):
        with _block(f"block8_{i}"):
            x = _block8(x, f"block8_{i}") if i < n8 else _block8(x, f"block8_{i}", scale=1.0, relu=False)
    with _block("head"):
        x = _conv_bn(x, "conv_7b_1x1", 1536, 1)  # 8 x 8 x 1536
        x = final_pool(x, "global_pool", pool_kernel)  # 1 x 1 x 1536
        x = sym.op("Flatten", x, name="flatten")
        x = sym.op("Dropout", x, name="dropout", p=dropout)
        x = sym.op("FullyConnected", x, name="fc", num_hidden=num_classes)
        return sym.op("SoftmaxOutput", x, name="softmax")
