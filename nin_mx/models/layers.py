"""Symbol building blocks shared by every model: conv(+BN)(+ReLU), mlpconv, final pooling.

They build with nin_mx's own symbol builder (:mod:`nin_mx.models.symbol`), which writes MXNet
1.9.1's symbol JSON without MXNet. Padding comes from a border mode through
:func:`nin_mx.border.pad_for`; no padding is computed here. :func:`block_scope` tags every node
built inside it with the block it belongs to (the ``__block__`` attribute, which
:mod:`nin_mx.analysis.views` groups by).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from nin_mx.core import border
from nin_mx.core.attrs import BLOCK_ATTR
from nin_mx.core.validate import check_dims
from nin_mx.models import symbol as sym
from nin_mx.models.symbol import Symbol

__all__ = ["block_scope", "conv", "final_pool", "mlpconv"]


def block_scope(name: str) -> AbstractContextManager[None]:
    """A context in which every node built (operators and their weights) carries
    ``__block__=name`` (as ``mx.AttrScope`` does); the symbol JSON holds it in each node's ``attrs``.

    Shapes and parameters do not change: MXNet's double-underscore attributes are symbol
    annotations, not operator arguments.
    """
    return sym.attr_scope(**{BLOCK_ATTR: name})


def conv(
    data: Symbol,
    name: str,
    num_filter: int,
    kernel: int | Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    border_mode: border.BorderMode | str = border.BorderMode.SAME,
    batch_norm: bool = False,
    relu: bool = True,
    bias: bool | None = None,
    bn_eps: float = 1e-3,
) -> Symbol:
    """A 2-D convolution padded by a border mode, optionally followed by BatchNorm and ReLU.

    Nodes are named ``name`` (Convolution), ``name_bn`` and ``name_relu``.

    Args:
        data: input symbol.
        name: the convolution's name.
        num_filter: output channels.
        kernel: kernel size (int or (kh, kw)).
        stride: stride (int or (sh, sw)).
        border_mode: ``'valid'``, ``'same'``/``'half'`` or ``'full'``; the pad per axis is
            :func:`nin_mx.border.pad_for` of that axis' kernel.
        batch_norm: append BatchNorm (``fix_gamma=True``: no scale, as TF-slim and Keras).
        relu: append a ReLU.
        bias: whether the convolution has a bias; default: only when there is no BatchNorm.
        bn_eps: BatchNorm epsilon.

    Returns:
        The output symbol.
    """
    kernel_t = border.per_axis(kernel, 2, "kernel")
    stride_t = border.per_axis(stride, 2, "stride")
    mode = border.parse_border_mode(border_mode)
    key = (mode, kernel_t, *map(type, kernel_t))  # by type too: 3.0 == 3, but pad_for refuses it
    try:
        pad = _PADS.get(key)
    except TypeError:  # an unhashable entry, which pad_for refuses below
        pad = None
    if pad is None:
        pad = (border.pad_for(mode, kernel_t[0]), border.pad_for(mode, kernel_t[1]))
        if len(_PADS) >= 1024:
            _PADS.clear()
        _PADS[key] = pad
    use_bias = (not batch_norm) if bias is None else bias
    x = sym.op(
        "Convolution",
        data,
        name=name,
        num_filter=num_filter,
        kernel=kernel_t,
        stride=stride_t,
        pad=pad,
        no_bias=not use_bias,
    )
    if batch_norm:
        x = sym.op("BatchNorm", x, name=f"{name}_bn", eps=bn_eps, fix_gamma=True)
    if relu:
        x = sym.op("Activation", x, name=f"{name}_relu", act_type="relu")
    return x


_PADS: dict[tuple, tuple[int, int]] = {}  # conv's padding by border mode and kernel (a few of each)


def mlpconv(
    data: Symbol,
    names: Sequence[str],
    num_filters: Sequence[int],
    kernel: int,
    *,
    stride: int = 1,
    border_mode: border.BorderMode | str = border.BorderMode.SAME,
) -> Symbol:
    """NIN's mlpconv: one spatial convolution followed by 1x1 "cccp" convolutions, all ReLU.

    Lin, Chen & Yan, "Network In Network", https://arxiv.org/abs/1312.4400 — the 1x1
    convolutions are a small multilayer perceptron slid over every position.

    Args:
        data: input symbol.
        names: one name per convolution, e.g. ``("conv1", "cccp1", "cccp2")``.
        num_filters: output channels of each convolution, same length as ``names``.
        kernel: the spatial convolution's kernel; the cccp layers are 1x1.
        stride: the spatial convolution's stride.
        border_mode: padding of the spatial convolution (1x1 layers need none).
    """
    if len(names) != len(num_filters) or len(names) < 2:
        raise ValueError("mlpconv needs one name per convolution, and at least two of each")
    x = conv(data, names[0], num_filters[0], kernel, stride=stride, border_mode=border_mode)
    for name, filters in zip(names[1:], num_filters[1:]):
        x = conv(x, name, filters, 1, border_mode=border.BorderMode.VALID)
    return x


def final_pool(data: Symbol, name: str, kernel: Sequence[int] | None = None) -> Symbol:
    """The final average pooling: global, or with a fixed (hand-computed) kernel.

    With ``kernel=None`` it is ``Pooling(global_pool=True)``: the window is the whole feature
    map, for any input size. With a kernel it is ``Pooling(kernel=kernel, stride=1)``, the way
    code that reads the map's H x W off ``infer_shape`` writes a "global" pool: the same result
    at that one input size, a wrong shape or an error at any other.
    :func:`nin_mx.pooling.manual_pool_kernel` computes that kernel.

    Raises:
        ValueError: for a kernel that is not two positive integers.
    """
    if kernel is None:
        return sym.op("Pooling", data, name=name, pool_type="avg", global_pool=True, kernel=(1, 1))
    kernel = check_dims(kernel, "pool_kernel", ndim=2)
    return sym.op("Pooling", data, name=name, pool_type="avg", kernel=kernel, stride=(1, 1))
