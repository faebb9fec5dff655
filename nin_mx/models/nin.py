"""Network in Network (NIN), in the layouts of the Caffe model zoo.

Lin, Chen & Yan, "Network In Network", ICLR 2014, https://arxiv.org/abs/1312.4400.
Caffe model-zoo definitions: the CIFAR-10 model of the paper's authors and the ImageNet
model "NIN-Imagenet" (gist mavenlin/d802a5849de39225bcc6).

Every convolution is followed by a ReLU; the "cccp" layers (cascaded cross-channel
parametric pooling) are 1x1 convolutions, the mlpconv micro-network. The classifier is a
last cccp layer with one channel per class, averaged over the whole map: no fully
connected layer.

``border_mode`` sets the padding of the spatial convolutions (conv1 ... conv4); ``None``
keeps the reference pads. Pools keep pad 0 and round by ``pooling_convention``: ``'full'``
(ceil, as Caffe) by default, or ``'valid'`` (floor, MXNet's default).

Every node carries its block in the ``__block__`` attribute (:func:`nin_mx.layers.block_scope`):
``mlpconv1``, ``mlpconv2``, ... one per mlpconv layer with the pool and dropout that follow it
(the paper's "mlpconv layer + subsampling"), and ``head``: the final global pool, flatten and
softmax.
"""

from __future__ import annotations

from collections.abc import Sequence

from nin_mx.core import border
from nin_mx.core.border import BorderMode
from nin_mx.models import symbol as sym
from nin_mx.models._common import check_num_classes, resolve_border_mode
from nin_mx.models._registry import register_model
from nin_mx.models.layers import block_scope, final_pool, mlpconv
from nin_mx.models.symbol import Symbol

__all__ = ["nin_cifar10", "nin_imagenet"]


def _pool(x: Symbol, name: str, pool_type: str, convention: border.PoolingConvention) -> Symbol:
    return sym.op(
        "Pooling",
        x,
        name=name,
        pool_type=pool_type,
        kernel=(3, 3),
        stride=(2, 2),
        pooling_convention=convention.value,
    )


def _check_convention(value: border.PoolingConvention | str) -> border.PoolingConvention:
    convention = border.parse_pooling_convention(value)
    if convention is border.PoolingConvention.SAME:
        raise ValueError(
            "pooling_convention 'same' works only for 1-D max pooling in MXNet; "
            "use 'full' (ceil, Caffe) or 'valid' (floor)"
        )
    return convention


def _head(x: Symbol, pool_kernel: Sequence[int] | None, pool_name: str) -> Symbol:
    with block_scope("head"):
        x = final_pool(x, pool_name, pool_kernel)
        x = sym.op("Flatten", x, name="flatten")
        return sym.op("SoftmaxOutput", x, name="softmax")


@register_model(
    input_shape=(3, 32, 32), reference="Lin et al. 2013, arXiv:1312.4400; Caffe model zoo (CIFAR-10)"
)
def nin_cifar10(
    *,
    num_classes: int = 10,
    border_mode: BorderMode | str | None = None,
    pooling_convention: border.PoolingConvention | str = border.PoolingConvention.FULL,
    pool_kernel: Sequence[int] | None = None,
) -> Symbol:
    """NIN for CIFAR-10: three mlpconv blocks and a global average pool (0.97 M parameters).

    Shapes at 32 x 32 with the reference pads and Caffe's ceil pools:
    conv1 block 32 x 32 x 96, pool1 16 x 16, conv2 block 16 x 16 x 192, pool2 8 x 8,
    conv3 block 8 x 8 x num_classes, pool3 1 x 1.

    Args:
        num_classes: channels of cccp6, one per class.
        border_mode: padding of conv1-conv3; ``None`` = reference (pad 2, 2, 1, i.e. same).
        pooling_convention: rounding of pool1 and pool2, ``'full'`` (ceil) or ``'valid'`` (floor).
        pool_kernel: ``None`` for ``global_pool=True``, or a fixed kernel for pool3 (see
            :func:`nin_mx.pooling.manual_symbol`).

    Returns:
        The symbol (:class:`nin_mx.models.symbol.Symbol`), ending in ``SoftmaxOutput(name='softmax')``.

    Raises:
        ValueError: for an invalid argument.
    """
    check_num_classes(num_classes)
    convention = _check_convention(pooling_convention)
    mode = resolve_border_mode(border_mode, BorderMode.SAME)
    x = sym.var("data")
    with block_scope("mlpconv1"):
        x = mlpconv(x, ("conv1", "cccp1", "cccp2"), (192, 160, 96), 5, border_mode=mode)
        x = _pool(x, "pool1", "max", convention)
        x = sym.op("Dropout", x, name="drop1", p=0.5)
    with block_scope("mlpconv2"):
        x = mlpconv(x, ("conv2", "cccp3", "cccp4"), (192, 192, 192), 5, border_mode=mode)
        x = _pool(x, "pool2", "avg", convention)
        x = sym.op("Dropout", x, name="drop2", p=0.5)
    with block_scope("mlpconv3"):
        x = mlpconv(x, ("conv3", "cccp5", "cccp6"), (192, 192, num_classes), 3, border_mode=mode)
    return _head(x, pool_kernel, "pool3")


@register_model(
    input_shape=(3, 224, 224), reference="Lin et al. 2013, arXiv:1312.4400; Caffe model zoo (NIN-Imagenet)"
)
def nin_imagenet(
    *,
    num_classes: int = 1000,
    border_mode: BorderMode | str | None = None,
    pooling_convention: border.PoolingConvention | str = border.PoolingConvention.FULL,
    pool_kernel: Sequence[int] | None = None,
) -> Symbol:
    """NIN for ImageNet: four mlpconv blocks and a global average pool (7.6 M parameters).

    Shapes at 224 x 224 with the reference pads: conv1 block 54 x 54 x 96, pool0 27 x 27,
    conv2 block 27 x 27 x 256, pool2 13 x 13, conv3 block 13 x 13 x 384, pool3 6 x 6
    (5 x 5 with floor pools), conv4 block 6 x 6 x num_classes, pool4 1 x 1.

    Args:
        num_classes: channels of cccp8, one per class.
        border_mode: padding of conv1-conv4; ``None`` = reference (conv1 valid, the rest same).
        pooling_convention: rounding of pool0, pool2, pool3: ``'full'`` (ceil) or ``'valid'``.
        pool_kernel: ``None`` for ``global_pool=True``, or a fixed kernel for pool4 (see
            :func:`nin_mx.pooling.manual_symbol`).

    Returns:
        The symbol (:class:`nin_mx.models.symbol.Symbol`), ending in ``SoftmaxOutput(name='softmax')``.

    Raises:
        ValueError: for an invalid argument.
    """
    check_num_classes(num_classes)
    convention = _check_convention(pooling_convention)
    x = sym.var("data")
    with block_scope("mlpconv1"):
        x = mlpconv(
            x,
            ("conv1", "cccp1", "cccp2"),
            (96, 96, 96),
            11,
            stride=4,
            border_mode=resolve_border_mode(border_mode, BorderMode.VALID),
        )
        x = _pool(x, "pool0", "max", convention)
    mode = resolve_border_mode(border_mode, BorderMode.SAME)
    with block_scope("mlpconv2"):
        x = mlpconv(x, ("conv2", "cccp3", "cccp4"), (256, 256, 256), 5, border_mode=mode)
        x = _pool(x, "pool2", "max", convention)
    with block_scope("mlpconv3"):
        x = mlpconv(x, ("conv3", "cccp5", "cccp6"), (384, 384, 384), 3, border_mode=mode)
        x = _pool(x, "pool3", "max", convention)
        x = sym.op("Dropout", x, name="drop", p=0.5)
    with block_scope("mlpconv4"):
        x = mlpconv(x, ("conv4", "cccp7", "cccp8"), (1024, 1024, num_classes), 3, border_mode=mode)
    return _head(x, pool_kernel, "pool4")
