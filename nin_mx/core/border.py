"""Border modes and the output-size arithmetic of convolution and pooling.

This module is pure Python (no MXNet import) and the single place where nin_mx
computes a padding or an output size. Everything else — the layer builders, the
shape report, the minimum-input search — calls these functions.

Border modes follow Theano's ``border_mode`` (Dumoulin & Visin, "A guide to
convolution arithmetic for deep learning", https://arxiv.org/abs/1603.07285).
With the effective kernel ``ke = dilate * (kernel - 1) + 1``:

======== ================ ==================================================
mode     pad per side     stride-1 output
======== ================ ==================================================
valid    0                ``n - ke + 1``
same     ``ke // 2``      ``n`` for odd ``ke``; ``n + 1`` for even ``ke``
full     ``ke - 1``       ``n + ke - 1``
======== ================ ==================================================

``half`` is an alias of ``same``. MXNet pads symmetrically, so ``same`` with an
even kernel grows the map by one (Theano's ``half``); nin_mx does not pad
asymmetrically behind the user's back.

Output sizes follow MXNet 1.9.1 (``src/operator/nn/convolution.cc`` and
``pooling.cc``):

* convolution: ``floor((n + 2 * pad - ke) / stride) + 1``
* pooling, ``pooling_convention='valid'``: ``floor((n + 2 * pad - kernel) / stride) + 1``
* pooling, ``pooling_convention='full'`` (Caffe): ``ceil((n + 2 * pad - kernel) / stride) + 1``
* pooling, ``pooling_convention='same'``: ``ceil(n / stride)``; MXNet accepts it only for
  1-D max pooling without padding, and only if the window fits the input.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from nin_mx.core.enums import StrEnum
from nin_mx.core.validate import check_int as _check_int

__all__ = [
    "BorderMode",
    "EmptyOutputError",
    "PoolingConvention",
    "ReportMode",
    "conv_output_size",
    "deconv_output_size",
    "effective_kernel",
    "pad_for",
    "parse_border_mode",
    "parse_pooling_convention",
    "parse_report_mode",
    "per_axis",
    "pool_output_size",
    "receptive_field_step",
]


class BorderMode(StrEnum):
    """How much a convolution pads its input (Theano's ``border_mode``)."""

    VALID = "valid"
    SAME = "same"
    FULL = "full"

    @classmethod
    def _missing_(cls, value: object) -> BorderMode | None:
        if isinstance(value, str) and value.strip().lower() == "half":
            return cls.SAME
        return super()._missing_(value)  # type: ignore[return-value]

    @classmethod
    def _choices(cls) -> str:
        return f"{_quoted(cls)} or 'half'"


class ReportMode(StrEnum):
    """The padding a report was made under: a border mode, a model's published padding, or a
    graph taken as it was built (a symbol file, a Symbol). Its ``str`` is its value."""

    VALID = "valid"
    SAME = "same"
    FULL = "full"
    REFERENCE = "reference"
    AS_BUILT = "as built"

    @property
    def border_mode(self) -> BorderMode | None:
        """The border mode a factory is built with; ``None`` for reference and as built."""
        return BorderMode(self.value) if self.value in BorderMode._value2member_map_ else None


def parse_report_mode(value: ReportMode | BorderMode | str | None) -> ReportMode:
    """A user's mode as a ReportMode: ``None`` is ``'reference'``; ``'half'`` is ``'same'``.

    Raises:
        ValueError: naming the valid modes.
    """
    if isinstance(value, ReportMode):
        return value
    if value is None:
        return ReportMode.REFERENCE
    if isinstance(value, str) and value.strip().lower() in ("reference", "as built"):
        return ReportMode(value.strip().lower())
    return ReportMode(parse_border_mode(value).value)


class PoolingConvention(StrEnum):
    """MXNet's rounding rule for pooling output sizes."""

    VALID = "valid"
    FULL = "full"
    SAME = "same"

    @classmethod
    def _choices(cls) -> str:
        return _quoted(cls)


class EmptyOutputError(ValueError):
    """A kernel does not fit its (padded) input, so the layer's output would be empty."""


def _quoted(enum_cls: type[enum.Enum]) -> str:
    return ", ".join(repr(m.value) for m in enum_cls)


def parse_border_mode(value: BorderMode | str) -> BorderMode:
    """Converts a user's string (``'valid'``, ``'same'``, ``'half'``, ``'full'``) to a BorderMode.

    Raises:
        ValueError: naming the valid modes, if ``value`` is not one of them.
    """
    return BorderMode.parse(value)


def parse_pooling_convention(value: PoolingConvention | str) -> PoolingConvention:
    """Converts ``'valid'``, ``'full'`` or ``'same'`` to a PoolingConvention.

    Raises:
        ValueError: naming the valid conventions, if ``value`` is not one of them.
    """
    return PoolingConvention.parse(value)


def effective_kernel(kernel: int, dilate: int = 1) -> int:
    """The extent a dilated kernel covers: ``dilate * (kernel - 1) + 1``.

    Raises:
        ValueError: if ``kernel`` or ``dilate`` is not a positive integer.
    """
    _check_int("kernel", kernel, 1)
    _check_int("dilate", dilate, 1)
    return dilate * (kernel - 1) + 1


def pad_for(mode: BorderMode | str, kernel: int, dilate: int = 1) -> int:
    """The symmetric padding per side that a border mode gives a kernel.

    Args:
        mode: ``'valid'``, ``'same'`` (or ``'half'``) or ``'full'``.
        kernel: kernel size along one axis.
        dilate: dilation along that axis.

    Returns:
        0 for valid, ``ke // 2`` for same, ``ke - 1`` for full, where ``ke`` is the
        effective kernel.

    Raises:
        ValueError: for an unknown mode or a non-positive kernel or dilation.
    """
    mode = parse_border_mode(mode)
    ke = effective_kernel(kernel, dilate)
    if mode is BorderMode.VALID:
        return 0
    if mode is BorderMode.SAME:
        return ke // 2
    return ke - 1


def conv_output_size(n: int, kernel: int, stride: int = 1, pad: int = 0, dilate: int = 1) -> int:
    """Output length of a convolution along one axis, as MXNet computes it.

    Args:
        n: input length.
        kernel: kernel size.
        stride: stride.
        pad: padding on each side.
        dilate: dilation.

    Returns:
        ``floor((n + 2 * pad - ke) / stride) + 1``.

    Raises:
        ValueError: for a non-positive size, kernel, stride or dilation, or a negative pad.
        EmptyOutputError: if the effective kernel exceeds the padded input.
    """
    _check_int("n", n, 1)
    _check_int("stride", stride, 1)
    _check_int("pad", pad, 0)
    ke = effective_kernel(kernel, dilate)
    padded = n + 2 * pad
    if ke > padded:
        raise EmptyOutputError(
            f"kernel {ke} exceeds input {n} padded to {padded}" if pad else f"kernel {ke} exceeds input {n}"
        )
    return (padded - ke) // stride + 1


def deconv_output_size(
    n: int, kernel: int, stride: int = 1, pad: int = 0, dilate: int = 1, adj: int = 0
) -> int:
    """Output length of a transposed convolution (MXNet ``Deconvolution``) along one axis.

    Returns:
        ``stride * (n - 1) + ke - 2 * pad + adj``.

    Raises:
        ValueError: for non-positive sizes, negative pads or adjustments, or an ``adj`` not
            smaller than ``stride`` (MXNet rejects it).
        EmptyOutputError: if the padding crops the whole output away.
    """
    _check_int("n", n, 1)
    _check_int("stride", stride, 1)
    _check_int("pad", pad, 0)
    _check_int("adj", adj, 0)
    if adj >= stride:
        raise ValueError(f"adj must be smaller than stride {stride}, got {adj}")
    out = stride * (n - 1) + effective_kernel(kernel, dilate) - 2 * pad + adj
    if out < 1:
        raise EmptyOutputError(f"pad {pad} crops the whole output of input {n}")
    return out


def deconv_target_pad(n: int, kernel: int, stride: int, dilate: int, target: int) -> tuple[int, int]:
    """The pad and adj a Deconvolution with ``target_shape`` uses along one axis: MXNet crops the
    full output (pad 0, adj 0) to ``target``, half of the excess on each side and the odd one out
    as ``adj`` (apache/mxnet 1.9.1 src/operator/nn/deconvolution-inl.h, ``InferPad``).

    Returns:
        ``(pad, adj)`` with ``pad = ceil(total / 2)``, ``adj = total % 2``,
        ``total = stride * (n - 1) + ke - target``.

    Raises:
        ValueError: if ``target`` exceeds the full output (MXNet: "too big target shape").
    """
    total = stride * (n - 1) + effective_kernel(kernel, dilate) - target
    if total < 0:
        raise ValueError(f"target {target} exceeds the largest output {total + target}")
    return (total + 1) // 2, total % 2


def pool_output_size(
    n: int,
    kernel: int,
    stride: int = 1,
    pad: int = 0,
    convention: PoolingConvention | str = "valid",
) -> int:
    """Output length of a (non-global) pooling along one axis, as MXNet computes it.

    Args:
        n: input length.
        kernel: pooling window.
        stride: stride.
        pad: padding on each side.
        convention: ``'valid'`` (floor), ``'full'`` (ceil, Caffe) or ``'same'``
            (``ceil(n / stride)``; MXNet allows it only for 1-D max pooling, with pad 0).

    Returns:
        The output length.

    Raises:
        ValueError: for a non-positive size, kernel or stride, a negative pad, a non-zero
            pad with ``'same'``, or an unknown convention.
        EmptyOutputError: if the window exceeds the padded input (MXNet checks this for
            every convention).
    """
    convention = parse_pooling_convention(convention)
    _check_int("n", n, 1)
    _check_int("kernel", kernel, 1)
    _check_int("stride", stride, 1)
    _check_int("pad", pad, 0)
    if convention is PoolingConvention.SAME and pad:
        raise ValueError(f"pad must be 0 with pooling_convention 'same', got {pad}")
    padded = n + 2 * pad
    if kernel > padded:
        raise EmptyOutputError(
            f"kernel {kernel} exceeds input {n} padded to {padded}"
            if pad
            else f"kernel {kernel} exceeds input {n}"
        )
    if convention is PoolingConvention.SAME:
        return -(-n // stride)
    if convention is PoolingConvention.VALID:
        return (padded - kernel) // stride + 1
    return -(-(padded - kernel) // stride) + 1


def receptive_field_step(
    rf: int, jump: int, kernel: int, stride: int = 1, dilate: int = 1
) -> tuple[int, int]:
    """One step of the receptive-field recurrence along one axis.

    ``rf_out = rf_in + (ke - 1) * jump_in`` and ``jump_out = jump_in * stride``
    (Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks",
    Distill 2019). Padding does not change either.

    Args:
        rf: receptive field of the layer's input, in input pixels.
        jump: distance in input pixels between adjacent positions of the layer's input.
        kernel: kernel size.
        stride: stride.
        dilate: dilation.

    Returns:
        ``(rf_out, jump_out)``.
    """
    ke = effective_kernel(kernel, dilate)
    _check_int("stride", stride, 1)
    return rf + (ke - 1) * jump, jump * stride


def per_axis(value: int | Sequence[int], ndim: int, name: str) -> tuple[int, ...]:
    """Expands an int to ``ndim`` copies, or checks that a sequence has ``ndim`` entries.

    Raises:
        ValueError: naming ``name`` if the sequence length differs from ``ndim``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * ndim
    values = tuple(value)
    if len(values) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {values}")
    return values
