"""Shape rules of MXNet 1.9.1's contrib and detection operators (``src/operator/contrib/`` and kin).

MXNet runs these rules on NumPy-style shapes (-1 for an unknown dimension, unknown rank for an
unknown shape) and many of them check a rank or index a dimension without first asking whether
the shape is known: such an operator fails on an unknown input, and so do the rules here.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops._base import REQUIRED, Attrs, assign, fmt, known, merge, parser, size

# -- shared helpers --------------------------------------------------------------------------------


def mx_dim(d: int) -> int:
    """Our unknown dimension (0) as MXNet's -1."""
    return d if d else -1


def py_dim(d: int) -> int:
    """MXNet's -1 as our 0; other negative sizes cannot be shapes."""
    if d == -1:
        return 0
    if d < 0:
        raise ShapeError(f"shape dim size must be >= -1, while received {d}")
    return d


def dim(shape, i: int, what: str = "input") -> int:
    """``TShape::operator[]`` with its bounds check, as MXNet's -1 for an unknown dimension."""
    n = -1 if shape is None else len(shape)
    if not 0 <= i < n:
        raise ShapeError(f"{what}: index = {i} must be in range [0, {n})")
    return mx_dim(shape[i])


def ndim(shape) -> int:
    return -1 if shape is None else len(shape)


def need_ndim(shape, n: int, what: str) -> None:
    if ndim(shape) != n:
        raise ShapeError(f"{what} should be {n}-D, got {fmt(shape)}")


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _in_range(value: float, lo: float, hi: float, key: str) -> None:
    """dmlc's ``set_range`` check (``value < begin || value > end``): a NaN passes, as in MXNet."""
    if value < lo or value > hi:
        raise GraphError(f"attribute {key}={value} is outside [{lo}, {hi}]")


def _positive_pair(a: Attrs, key: str) -> tuple:
    value = a.tuple(key, REQUIRED)
    if len(value) != 2:
        raise GraphError(f"attribute {key}={value} must have 2 entries")
    if 0 in value:
        raise GraphError(f"attribute {key}={value} must be nonzero")
    return value


# -- ROIAlign: src/operator/contrib/roi_align.cc (FInferShape) ------------------------------------


@parser
def _roi_align_params(a: Attrs) -> tuple:
    pooled = _positive_pair(a, "pooled_size")
    _in_range(a.float("spatial_scale", REQUIRED, single=True), 0.0, 1.0, "spatial_scale")
    a.int("sample_ratio", -1)
    a.bool("aligned", False)
    return pooled, a.bool("position_sensitive", False)


def _rois(ins) -> int:
    """The rois input: (num_rois, 5); returns num_rois as MXNet's -1 when unknown."""
    need_ndim(ins[1], 2, "bbox should be a 2D tensor of shape [batch, 5]; rois")
    if dim(ins[1], 1) != 5:
        raise ShapeError(f"bbox should be a 2D tensor of shape [batch, 5], got {fmt(ins[1])}")
    return dim(ins[1], 0)


def roi_align(attrs, ins, outs):
    pooled, sensitive = _roi_align_params(attrs)
    need_ndim(ins[0], 4, "data")
    n = _rois(ins)
    c = dim(ins[0], 1)
    if sensitive:
        if c % (pooled[0] * pooled[1]):
            raise ShapeError(f"input channels {c} are not divisible by pooled_size {pooled[0]}*{pooled[1]}")
        c = int(c / pooled[0] / pooled[1])
    return ins, [tuple(py_dim(d) for d in (n, c, *pooled))]


# -- ROIPooling: src/operator/roi_pooling-inl.h (InferShape); outputs output, maxidx (hidden) ------


@parser
def _roi_pool_params(a: Attrs) -> tuple:
    pooled = _positive_pair(a, "pooled_size")
    _in_range(a.float("spatial_scale", REQUIRED, single=True), 0.0, 1.0, "spatial_scale")
    return pooled


def roi_pooling(attrs, ins, outs):
    pooled = _roi_pool_params(attrs)
    need_ndim(ins[0], 4, "data")
    n = _rois(ins)
    out = tuple(py_dim(d) for d in (n, dim(ins[0], 1), *pooled))
    return ins, [out, out]


# -- PSROIPooling: src/operator/contrib/psroi_pooling-inl.h --------------------------------------


@parser
def _psroi_params(a: Attrs) -> tuple:
    _in_range(a.float("spatial_scale", REQUIRED, single=True), 0.0, 1.0, "spatial_scale")
    a.int("group_size", 0)
    return a.int("output_dim", REQUIRED), a.int("pooled_size", REQUIRED)


def psroi_pooling(attrs, ins, outs):
    out_dim, pooled = _psroi_params(attrs)
    need_ndim(ins[0], 4, "data")
    n = _rois(ins)
    return ins, [tuple(py_dim(d) for d in (n, out_dim, pooled, pooled))]


# -- DeformablePSROIPooling: src/operator/contrib/deformable_psroi_pooling-inl.h ------------------


@parser
def _dpsroi_params(a: Attrs) -> tuple:
    _in_range(a.float("spatial_scale", REQUIRED, single=True), 0.0, 1.0, "spatial_scale")
    _in_range(a.float("trans_std", 0.0, single=True), 0.0, 1.0, "trans_std")
    a.int("group_size", REQUIRED)
    a.int("part_size", 0)
    a.int("sample_per_part", 1)
    return a.int("output_dim", REQUIRED), a.int("pooled_size", REQUIRED), a.bool("no_trans", False)


def dpsroi_inputs(attrs) -> tuple[str, ...]:
    return ("data", "rois") if _dpsroi_params(attrs)[2] else ("data", "rois", "trans")


def dpsroi_pooling(attrs, ins, outs):
    out_dim, pooled, no_trans = _dpsroi_params(attrs)
    if not no_trans:
        need_ndim(ins[2], 4, "trans")
    need_ndim(ins[0], 4, "data")
    n = _rois(ins)
    out = tuple(py_dim(d) for d in (n, out_dim, pooled, pooled))
    return ins, [out, out]


# -- BilinearResize2D: src/operator/contrib/bilinear_resize-inl.h (BilinearSampleOpInferShape) ----

_RESIZE_MODES = ("size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")


@parser
def _resize_params(a: Attrs) -> tuple:
    height, width = a.int("height", 1), a.int("width", 1)
    for key, value in (("height", height), ("width", width)):
        if value < 1:
            raise GraphError(f"attribute {key}={value} must be at least 1")
    a.bool("align_corners", True)
    mode = a.enum("mode", _RESIZE_MODES, "size")
    return (
        height,
        width,
        a.opt_float("scale_height", single=True),
        a.opt_float("scale_width", single=True),
        mode,
    )


def resize_inputs(attrs) -> tuple[str, ...]:
    return ("data", "like") if _resize_params(attrs)[4] == "like" else ("data",)


def _int16(value: int) -> int:
    return (value + 2**15) % 2**16 - 2**15


def _scaled(scale: float | None, n: int) -> int:
    """``(int)(scale * n)`` in float32 (MXNet's float times an integer dimension)."""
    if scale is None:
        raise ShapeError("bad optional access")
    return math.trunc(f32(f32(scale) * f32(float(n))))


def bilinear_resize(attrs, ins, outs):
    height, width, sh, sw, mode = _resize_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    h, w = dim(data, 2), dim(data, 3)
    if mode == "size":
        new_h = _scaled(sh, h) if sh is not None else height
        # MXNet asks scale_height again (not scale_width) before scaling the width
        new_w = _scaled(sw, w) if sh is not None else width
    elif mode == "odd_scale":
        new_h = _scaled(sh, h) if h % 2 == 0 else _int16(_scaled(sh, h - 1)) + 1
        new_w = _scaled(sw, w) if w % 2 == 0 else _int16(_scaled(sw, w - 1)) + 1
    elif mode == "like":
        new_h, new_w = dim(ins[1], 2, "like"), dim(ins[1], 3, "like")
    elif mode == "to_even_down":
        new_h, new_w = h - h % 2, w - w % 2
    elif mode == "to_even_up":
        new_h, new_w = h + h % 2, w + w % 2
    elif mode == "to_odd_down":
        new_h, new_w = (h if h % 2 else h - 1), (w if w % 2 else w - 1)
    else:
        new_h, new_w = (h if h % 2 else h + 1), (w if w % 2 else w + 1)
    out = list(data)
    out[2], out[3] = py_dim(_int16(new_h)), py_dim(_int16(new_w))  # MXNet keeps them in int16_t
    return ins, [tuple(out)]


# -- AdaptiveAvgPooling2D: src/operator/contrib/adaptive_avg_pooling-inl.h -------------------------


@parser
def _adaptive_params(a: Attrs) -> tuple:
    return a.tuple("output_size", ())


def adaptive_avg_pooling(attrs, ins, outs):
    size_ = _adaptive_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    dim(data, 3)
    if len(size_) == 1:
        hw = (size_[0], size_[0])
    elif len(size_) == 2:
        hw = size_
    else:
        hw = (1, 1)  # no output_size, or more than two entries
    return ins, [(*data[:2], *(py_dim(d) for d in hw), *data[4:])]


# -- box_nms, box_iou, bipartite_matching, box_encode, box_decode: contrib/bounding_box-inl.h -----


@parser
def _nms_params(a: Attrs) -> tuple:
    a.float("overlap_thresh", 0.5)
    a.float("valid_thresh", 0)
    a.int("topk", -1)
    a.int("background_id", -1)
    a.bool("force_suppress", False)
    a.enum("in_format", ("corner", "center"), "corner")
    a.enum("out_format", ("corner", "center"), "corner")
    return a.int("coord_start", 2), a.int("score_index", 1), a.int("id_index", -1)


def box_nms(attrs, ins, outs):
    coord_start, score, id_index = _nms_params(attrs)
    data = ins[0]
    if not known(data) and not known(outs[0]):
        return ins, outs
    nd = ndim(data)
    if nd < 2:
        raise ShapeError(
            f"input must have dim >= 2, the last two dimensions are num_box and box_width, got {fmt(data)}"
        )
    width = dim(data, nd - 1)
    expected = 6 if id_index >= 0 else 5
    if width < expected:
        raise ShapeError(f"the last dimension must have at least {expected} elements, {width} provided")
    coord_end = coord_start + 3
    if not 0 <= score < width:
        raise ShapeError(f"score_index: {score} out of range: (0, {width})")
    if coord_start <= score <= coord_end:
        raise ShapeError(f"score_index: {score} conflict with coordinates: ({coord_start}, {coord_end})")
    if not (coord_start >= 0 and coord_end < width):
        raise ShapeError(f"coordinates: ({coord_start}, {coord_end}) out of range: (0, {width})")
    if id_index >= 0:
        if id_index >= width:
            raise ShapeError(f"id_index: {id_index} out of range: (0, {width})")
        if coord_start <= id_index <= coord_end:
            raise ShapeError(f"id_index: {id_index} conflict with coordinates: ({coord_start}, {coord_end})")
        if id_index == score:
            raise ShapeError(f"id_index: {id_index} conflict with score_index: {score}")
    outs = list(outs)
    assign(outs, 0, data, "output")
    assign(outs, 1, (*data[:-1], 1), "output 1")
    return ins, outs


def _last_is_4(shape, least: int, what: str) -> None:
    if ndim(shape) < least:
        raise ShapeError(f"{what} must have dim >= {least}, {ndim(shape)} provided")
    last = dim(shape, len(shape) - 1, what)
    if last != 4:
        raise ShapeError(f"last dimension of {what} must be 4, {last} provided")


@parser
def _box_iou_params(a: Attrs) -> str:
    return a.enum("format", ("corner", "center"), "corner")


def box_iou(attrs, ins, outs):
    _box_iou_params(attrs)
    _last_is_4(ins[0], 2, "lhs")
    _last_is_4(ins[1], 2, "rhs")
    outs = list(outs)
    assign(outs, 0, (*ins[0][:-1], *ins[1][:-1]), "output")
    return ins, outs


@parser
def _matching_params(a: Attrs) -> tuple:
    a.bool("is_ascend", False)
    a.float("threshold", REQUIRED)
    return a.int("topk", -1)


def bipartite_matching(attrs, ins, outs):
    _matching_params(attrs)
    data = ins[0]
    if ndim(data) < 2:
        raise ShapeError(f"score matrix must have dim >= 2, {ndim(data)} provided")
    outs = list(outs)
    assign(outs, 0, data[:-1], "output")
    assign(outs, 1, (*data[:-2], data[-1]), "output 1")
    return ins, outs


def box_encode(attrs, ins, outs):
    samples, matches, anchors, refs = ins[:4]
    if ndim(samples) != 2:
        raise ShapeError(f"samples shape must have dim == 2, {ndim(samples)} provided")
    if ndim(matches) < 2:
        raise ShapeError(f"matches shape must have dim == 2, {ndim(matches)} provided")
    _last_is_4(anchors, 3, "anchors")
    _last_is_4(refs, 3, "refs")
    assign(ins, 4, (4,), "means")
    assign(ins, 5, (4,), "stds")
    outs = list(outs)
    assign(outs, 0, anchors, "output")
    assign(outs, 1, anchors, "output 1")
    return ins, outs


@parser
def _box_decode_params(a: Attrs) -> str:
    for key in ("std0", "std1", "std2", "std3"):
        a.float(key, 1.0)
    a.float("clip", -1.0)
    return a.enum("format", ("corner", "center"), "center")


def box_decode(attrs, ins, outs):
    _box_decode_params(attrs)
    data = ins[0]
    if ndim(data) != 3:
        raise ShapeError(f"data shape must have dim == 3, {ndim(data)} provided")
    last = dim(data, 2)
    if last != 4:
        raise ShapeError(f"last dimension of data must be 4, {last} provided")
    _last_is_4(ins[1], 3, "anchors")
    outs = list(outs)
    assign(outs, 0, data, "output")
    return ins, outs


# -- MultiBoxPrior, MultiBoxDetection, MultiBoxTarget: contrib/multibox_*-inl.h -------------------


@parser
def _prior_params(a: Attrs) -> tuple:
    sizes, ratios = a.float_tuple("sizes", (1.0,)), a.float_tuple("ratios", (1.0,))
    steps = a.float_tuple("steps", (-1.0, -1.0))
    a.float_tuple("offsets", (0.5, 0.5))
    a.bool("clip", False)
    return len(sizes), len(ratios), len(steps)


def multibox_prior(attrs, ins, outs):
    n_sizes, n_ratios, n_steps = _prior_params(attrs)
    data = ins[0]
    if ndim(data) < 4:
        raise ShapeError(f"input data should be 4D: batch-channel-y-x, got {fmt(data)}")
    h, w = dim(data, 2), dim(data, 3)
    if h <= 0:
        raise ShapeError("input height should > 0")
    if w <= 0:
        raise ShapeError("input width should > 0")
    if n_steps != 2:
        raise ShapeError(f"step ndim must be 2: (step_y, step_x), got {n_steps}")
    return ins, [(1, h * w * (n_sizes + n_ratios - 1), 4)]


@parser
def _detection_params(a: Attrs) -> None:
    a.bool("clip", True)
    a.float("threshold", 0.01)
    a.int("background_id", 0)
    a.float("nms_threshold", 0.5)
    a.bool("force_suppress", False)
    a.int("nms_topk", -1)
    a.float_tuple("variances", (0.1, 0.1, 0.2, 0.2))  # multibox_detection-inl.h, MultiBoxDetectionParam


def multibox_detection(attrs, ins, outs):
    _detection_params(attrs)
    cls, loc, anchor = ins
    need_ndim(cls, 3, "cls_prob")
    need_ndim(loc, 2, "loc_pred")
    need_ndim(anchor, 3, "anchor")
    if dim(cls, 2) != dim(anchor, 1):
        raise ShapeError(f"number of anchors mismatch: cls_prob {fmt(cls)}, anchor {fmt(anchor)}")
    if dim(cls, 2) * 4 != dim(loc, 1):
        raise ShapeError(f"# anchors mismatch with # loc: cls_prob {fmt(cls)}, loc_pred {fmt(loc)}")
    if dim(anchor, 1) <= 0:
        raise ShapeError("number of anchors must > 0")
    if dim(anchor, 2) != 4:
        raise ShapeError(f"anchor {fmt(anchor)} must end with 4")
    return ins, [(cls[0], anchor[1], 6)]


@parser
def _target_params(a: Attrs) -> None:
    a.float("overlap_threshold", 0.5)
    a.float("ignore_label", -1.0)
    a.float("negative_mining_ratio", -1.0)
    a.float("negative_mining_thresh", 0.5)
    a.int("minimum_negative_samples", 0)
    a.float_tuple("variances", (0.1, 0.1, 0.2, 0.2))  # multibox_target-inl.h, MultiBoxTargetParam


def multibox_target(attrs, ins, outs):
    """src/operator/contrib/multibox_target-inl.h (InferShape)."""
    _target_params(attrs)
    anchor, label, cls = ins
    need_ndim(anchor, 3, "anchor")
    if dim(anchor, 0) != 1:
        raise ShapeError(f"anchors are shared across batches, first dimension should be 1: {fmt(anchor)}")
    if dim(anchor, 1) <= 0:
        raise ShapeError(f"number boxes should be greater than 0: {fmt(anchor)}")
    if dim(anchor, 2) != 4:
        raise ShapeError(f"box dimension should be 4: {fmt(anchor)}")
    need_ndim(label, 3, "label")
    if dim(label, 1) <= 0:
        raise ShapeError(f"padded label should be greater than 0: {fmt(label)}")
    if dim(label, 2) < 5:
        raise ShapeError(f"label width should be greater than or equal to 5: {fmt(label)}")
    need_ndim(cls, 3, "cls_pred")
    if dim(cls, 2) != dim(anchor, 1):
        raise ShapeError(f"number of anchors mismatch: cls_pred {fmt(cls)}, anchor {fmt(anchor)}")
    n, a = dim(label, 0), dim(anchor, 1)
    total = size(anchor) if known(anchor) else 0
    return ins, [(py_dim(n), total), (py_dim(n), total), (py_dim(n), py_dim(a))]


# -- Proposal, MultiProposal: contrib/proposal-inl.h, contrib/multi_proposal-inl.h ---------------


@parser
def _proposal_params(a: Attrs) -> tuple:
    a.int("rpn_pre_nms_top_n", 6000)
    post = a.int("rpn_post_nms_top_n", 300)
    a.float("threshold", 0.7)
    a.int("rpn_min_size", 16)
    # the defaults of proposal-inl.h's ProposalParam and multi_proposal-inl.h's MultiProposalParam
    a.float_tuple("scales", (4.0, 8.0, 16.0, 32.0))
    a.float_tuple("ratios", (0.5, 1.0, 2.0))
    a.int("feature_stride", 16)
    a.bool("iou_loss", False)
    return post, a.bool("output_score", False)


def proposal_visible(attrs) -> int:
    return 2 if _proposal_params(attrs)[1] else 1


def _proposal(attrs, ins, outs, per_image: bool):
    post, _ = _proposal_params(attrs)
    cls = ins[0]
    if not known(cls):
        return ins, outs
    if len(cls) < 4:
        dim(cls, 3, "cls_prob")
    assign(ins, 1, (cls[0], cls[1] * 2, cls[2], cls[3]), "bbox_pred")
    assign(ins, 2, (cls[0], 3), "im_info")
    rows = cls[0] * post if per_image else post
    return ins, [(py_dim(rows), 5), (py_dim(rows), 1)]


def proposal(attrs, ins, outs):
    return _proposal(attrs, ins, outs, False)


def multi_proposal(attrs, ins, outs):
    return _proposal(attrs, ins, outs, True)


# -- DeformableConvolution: contrib/deformable_convolution-inl.h (InferShape) ----------------------


@parser
def _dconv_params(a: Attrs) -> tuple:
    kernel = a.tuple("kernel", REQUIRED)
    if len(kernel) != 2:
        raise GraphError(f"attribute kernel={kernel}: only 2-D deformable convolution is implemented")
    stride = a.tuple("stride", ()) or (1, 1)
    dilate = a.tuple("dilate", ()) or (1, 1)
    pad = a.tuple("pad", ()) or (0, 0)
    for key, value in (("stride", stride), ("dilate", dilate), ("pad", pad)):
        if len(value) < 2:
            raise GraphError(f"attribute {key}={value} must have 2 entries")
    num_filter = a.int("num_filter", REQUIRED, bits=64)
    if num_filter < 1:
        raise GraphError(f"attribute num_filter={num_filter} must be at least 1")
    groups = a.int("num_group", 1, bits=64)
    dgroups = a.int("num_deformable_group", 1, bits=64)
    if groups == 0:
        raise GraphError("attribute num_group=0 must be nonzero (MXNet divides by it)")
    if dgroups == 0:
        raise GraphError("attribute num_deformable_group=0 must be nonzero (MXNet divides by it)")
    for key, value in (("stride", stride), ("dilate", dilate)):
        if 0 in value[:2]:
            raise GraphError(f"attribute {key}={value} must be nonzero")
    a.int("workspace", 1024, bits=64)
    no_bias = a.bool("no_bias", False)
    layout = a.opt_enum("layout", ("NCW", "NCHW", "NCDHW"))
    if layout not in (None, "NCHW"):
        raise GraphError(f"attribute layout={layout} does not fit a 2-D deformable convolution")
    return kernel, stride, dilate, pad, num_filter, groups, dgroups, no_bias


def dconv_inputs(attrs) -> tuple[str, ...]:
    no_bias = _dconv_params(attrs)[7]
    return ("data", "offset", "weight") if no_bias else ("data", "offset", "weight", "bias")


def _cdiv(a: int, b: int) -> int:
    """C++ integer division (toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cmod(a: int, b: int) -> int:
    return a - b * _cdiv(a, b)


def deformable_conv(attrs, ins, outs):
    kernel, stride, dilate, pad, num_filter, groups, dgroups, no_bias = _dconv_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    need_ndim(data, 4, "input data")
    need_ndim(ins[1], 4, "input offset")
    d = [mx_dim(x) for x in data]
    off = [mx_dim(x) for x in ins[1]]
    assign(ins, 2, (num_filter // groups * groups, py_dim(_cdiv(d[1], groups)), *kernel), "weight")
    if not no_bias:
        assign(ins, 3, (num_filter,), "bias")
    if _cmod(d[1], groups):
        raise ShapeError(f"input channels {d[1]} are not divisible by num_group {groups}")
    if _cmod(d[1], dgroups):
        raise ShapeError(f"input channels {d[1]} are not divisible by num_deformable_group {dgroups}")
    if _cmod(num_filter, groups):
        raise ShapeError(f"num_filter {num_filter} is not divisible by num_group {groups}")
    spatial = []
    for i in range(2):
        ke = dilate[i] * (kernel[i] - 1) + 1
        spatial.append(_cdiv(d[2 + i] + 2 * pad[i] - ke, stride[i]) + 1)
    out = (py_dim(d[0]), num_filter, *(py_dim(s) for s in spatial))
    outs = [merge(outs[0], out)]
    for i in range(2):
        if spatial[i] != off[2 + i]:
            raise ShapeError(
                f"output size {spatial[i]} must equal the offset map's {off[2 + i]} ({fmt(ins[1])})"
            )
    kk = kernel[0] * kernel[1]
    if _cmod(off[1], kk):
        raise ShapeError(f"offset channels {off[1]} are not a multiple of kernel size {kk}")
    if _cdiv(off[1], 2 * kk) != dgroups:
        raise ShapeError(f"offset channels {off[1]} must be 2*{kk}*num_deformable_group={2 * kk * dgroups}")
    for i in range(2):
        if ins[0][2 + i] and kernel[i] > ins[0][2 + i] + 2 * pad[i]:
            raise ShapeError(f"kernel size {kernel[i]} exceeds input {ins[0][2 + i]}")
    return ins, outs


# -- small elementwise contrib operators ---------------------------------------------------------


def _same(attrs, ins, outs):
    from nin_mx.core.ops.nn import same

    return same(attrs, ins, outs)


@parser
def _quadratic_params(a: Attrs) -> None:
    for key in ("a", "b", "c"):
        a.float(key, 0.0)


def quadratic(attrs, ins, outs):
    """src/operator/contrib/quadratic_op-inl.h: ElemwiseShape<1, 1>."""
    _quadratic_params(attrs)
    return _same(attrs, ins, outs)


def div_sqrt_dim(attrs, ins, outs):
    """src/operator/contrib/transformer.cc: ElemwiseShape<1, 1>."""
    return _same(attrs, ins, outs)


# -- ModulatedDeformableConvolution: contrib/modulated_deformable_convolution-inl.h -----------------


@parser
def _mdconv_params(a: Attrs) -> tuple:
    """ModulatedDeformableConvolutionParam, with ModulatedDeformableConvolutionProp::Init's defaults
    (stride 1, dilate 1, pad 0, layout NCHW; any kernel but a 2-D one is "not implemented")."""
    kernel, stride, dilate, pad, num_filter, groups, dgroups, no_bias = _dconv_params(a.raw)
    step = a.int("im2col_step", 64, unsigned=True)
    if step == 0:
        raise GraphError("attribute im2col_step=0 must be nonzero (MXNet divides by it)")
    return kernel, stride, dilate, pad, num_filter, groups, dgroups, no_bias, step


def mdconv_inputs(attrs) -> tuple[str, ...]:
    names = ("data", "offset", "mask", "weight")
    return names if _mdconv_params(attrs)[7] else (*names, "bias")


def modulated_deformable_conv(attrs, ins, outs):
    """``ModulatedDeformableConvolutionProp::InferShape``: DeformableConvolution's shapes plus a
    mask of ``kernel_h * kernel_w * num_deformable_group`` channels at the output's size; the
    batch must divide by ``im2col_step`` when larger. MXNet asks for a rank 4 data, offset and mask
    without asking first whether the data's shape is known."""
    kernel, stride, dilate, pad, num_filter, groups, dgroups, no_bias, step = _mdconv_params(attrs)
    need_ndim(ins[0], 4, "Input data should be 4D in batch-num_filter-y-x; data")
    need_ndim(ins[1], 4, "Input offset should be 4D in batch-num_filter-y-x; offset")
    need_ndim(ins[2], 4, "Input mask should be 4D in batch-num_filter-y-x; mask")
    d = [mx_dim(x) for x in ins[0]]
    off = [mx_dim(x) for x in ins[1]]
    mask = [mx_dim(x) for x in ins[2]]
    assign(ins, 3, (num_filter // groups * groups, py_dim(_cdiv(d[1], groups)), *kernel), "weight")
    if not no_bias:
        assign(ins, 4, (num_filter,), "bias")
    if d[0] > step and _cmod(d[0], step):
        raise ShapeError(f"input batchsize {d[0]} must be smaller than or divide im2col_step {step}")
    if _cmod(d[1], groups):
        raise ShapeError(f"input channels {d[1]} are not divisible by num_group {groups}")
    if _cmod(d[1], dgroups):
        raise ShapeError(f"input channels {d[1]} are not divisible by num_deformable_group {dgroups}")
    if _cmod(num_filter, groups):
        raise ShapeError(f"num_filter {num_filter} is not divisible by num_group {groups}")
    if kernel[0] * kernel[1] == 0:
        raise ShapeError(f"incorrect kernel size: {kernel}")
    spatial = [
        _cdiv(d[2 + i] + 2 * pad[i] - (dilate[i] * (kernel[i] - 1) + 1), stride[i]) + 1 for i in range(2)
    ]
    outs = [merge(outs[0], (py_dim(d[0]), num_filter, *(py_dim(x) for x in spatial)))]
    if _cmod(num_filter, dgroups):
        raise ShapeError(f"num_filter {num_filter} is not divisible by num_deformable_group {dgroups}")
    kk = kernel[0] * kernel[1]
    for what, shape, per in (("offset", off, 2 * kk), ("mask", mask, kk)):
        for i in range(2):
            if spatial[i] != shape[2 + i]:
                raise ShapeError(f"output size {spatial[i]} must equal the {what} map's {shape[2 + i]}")
        if _cmod(shape[1], kk) or _cdiv(shape[1], per) != dgroups:
            raise ShapeError(f"{what} channels {shape[1]} must be {per}*num_deformable_group={per * dgroups}")
    out = [mx_dim(x) for x in outs[0]]
    back = list(d)
    back[0] = out[0]
    for i in range(2):
        if stride[i] == 1:
            back[2 + i] = out[2 + i] + dilate[i] * (kernel[i] - 1) - 2 * pad[i]
    assign(ins, 0, tuple(py_dim(x) for x in back), "data")
    for i in range(2):
        if back[2 + i] != 0 and kernel[i] > back[2 + i] + 2 * pad[i]:
            raise ShapeError(f"kernel size {kernel[i]} exceeds input {back[2 + i]}")
    return ins, outs


# -- quantization: src/operator/quantization/{quantize_v2,dequantize}-inl.h, quantized_pooling.cc ----


@parser
def _quantize_v2_params(a: Attrs) -> None:
    a.enum("out_type", ("auto", "int8", "uint8"), "int8")
    a.opt_float("min_calib_range", single=True)
    a.opt_float("max_calib_range", single=True)


def _batch_back(ins, outs, what: str) -> None:
    """QuantizeV2Shape / DequantizeShape: the output's batch size goes back to the data, which
    MXNet indexes without asking whether its rank is known."""
    if outs[0] is not None:
        data = ins[0]
        dim(data, 0, what)
        assign(ins, 0, (outs[0][0], *data[1:]), what)


def quantize_v2(attrs, ins, outs):
    """``_contrib_quantize_v2``: the data's shape, and (1,) for the min and max ranges."""
    _quantize_v2_params(attrs)
    outs = list(outs)
    assign(outs, 0, ins[0], "output")
    assign(outs, 1, (1,), "min_range")
    assign(outs, 2, (1,), "max_range")
    _batch_back(ins, outs, "data")
    return ins, outs


@parser
def _dequantize_params(a: Attrs) -> None:
    a.enum("out_type", ("float32",), "float32")


def dequantize(attrs, ins, outs):
    """``_contrib_dequantize``: data, min_range (1,), max_range (1,) -> the data's shape."""
    _dequantize_params(attrs)
    assign(ins, 1, (1,), "min_range")
    assign(ins, 2, (1,), "max_range")
    outs = list(outs)
    assign(outs, 0, ins[0], "output")
    _batch_back(ins, outs, "data")
    return ins, outs


def quantized_pooling(attrs, ins, outs):
    """``QuantizedPoolingShape`` of an MKL-DNN build (pip's): 4-D or 5-D NC(D)HW data, a 2-D or
    3-D kernel that fits the padded input, the pooled shape, and (1,) for the ranges."""
    from nin_mx.core.ops.nn import _full_f32, _pool_params

    kernel, _, global_pool, convention, stride, pad, _, layout = _pool_params(attrs)
    data = ins[0]
    if not known(data):
        return ins, outs
    nd = len(data)
    if nd not in (4, 5):
        raise ShapeError(f"MKL-DNN QuantizedPoolingOp only supports 4D/5D layout yet, got {fmt(data)}")
    # PoolingParamParser sets the layout by the kernel's rank; PoolingParam::GetLayout by the data's
    layout = layout or {1: "NCW", 2: "NCHW", 3: "NCDHW"}.get(len(kernel)) or {4: "NCHW"}.get(nd, "NCDHW")
    if layout not in ("NCHW", "NCDHW"):
        raise ShapeError(f"MKL-DNN QuantizedPoolingOp only supports NCHW/NCDHW layout for now, saw {layout}")
    if len(kernel) not in (2, 3):
        raise ShapeError(f"MKL-DNN QuantizedPoolingOp only supports 2D/3D pooling for now, saw {len(kernel)}")
    d = 2 if nd == 5 else 1
    axes = ([d] if len(kernel) == 3 else []) + [d + 1, d + 2]
    for idx, axis in enumerate(axes):
        padded = data[axis] + 2 * pad[idx]
        if kernel[idx] > padded:
            raise ShapeError(f"kernel size ({kernel[idx]}) exceeds input ({data[axis]} padded to {padded})")
    out = [data[0], data[1]] + [0] * (nd - 2)
    spatial = ([d] if nd == 5 else []) + [d + 1, d + 2]
    for idx, axis in enumerate(spatial):
        if global_pool:
            out[axis] = 1
        elif idx >= len(kernel) or idx >= len(pad):  # a 2-D kernel over 5-D data
            raise ShapeError(f"index = {idx} must be in range [0, {min(len(kernel), len(pad))})")
        elif convention == "valid":
            out[axis] = 1 + (data[axis] + 2 * pad[idx] - kernel[idx]) // stride[idx]
        else:
            out[axis] = _full_f32(data[axis] + 2 * pad[idx] - kernel[idx], stride[idx])
    assign(ins, 1, (1,), "min_data")
    assign(ins, 2, (1,), "max_data")
    return ins, [tuple(out), (1,), (1,)]


# -- registration ------------------------------------------------------------------------------------


def register(add: Callable[..., None], info: Any, names: Any, const: Any, one: Any) -> None:
    """Adds this module's operators (and the new nn and tensor ones) to the table (called once by
    :mod:`nin_mx.core.ops`)."""
    from nin_mx.core.ops import nn, tensor

    add(info("_contrib_ROIAlign", roi_align, names("data", "rois")))
    add(info("ROIPooling", roi_pooling, names("data", "rois"), const(2), one))
    add(info("_contrib_PSROIPooling", psroi_pooling, names("data", "rois")))
    add(info("_contrib_DeformablePSROIPooling", dpsroi_pooling, dpsroi_inputs, const(2), one))
    add(info("_contrib_BilinearResize2D", bilinear_resize, resize_inputs))
    add(info("_contrib_AdaptiveAvgPooling2D", adaptive_avg_pooling))
    add(
        info("_contrib_box_nms", box_nms, num_outputs=const(2), num_visible=one),
        "_contrib_box_non_maximum_suppression",
    )
    add(info("_contrib_box_iou", box_iou, names("lhs", "rhs")))
    add(info("_contrib_bipartite_matching", bipartite_matching, num_outputs=const(2)))
    add(
        info(
            "_contrib_box_encode",
            box_encode,
            names("samples", "matches", "anchors", "refs", "means", "stds"),
            const(2),
        )
    )
    add(info("_contrib_box_decode", box_decode, names("data", "anchors")))
    add(info("_contrib_MultiBoxPrior", multibox_prior))
    add(info("_contrib_MultiBoxDetection", multibox_detection, names("cls_prob", "loc_pred", "anchor")))
    add(info("_contrib_MultiBoxTarget", multibox_target, names("anchor", "label", "cls_pred"), const(3)))
    add(
        info(
            "_contrib_Proposal",
            proposal,
            names("cls_prob", "bbox_pred", "im_info"),
            const(2),
            proposal_visible,
        )
    )
    add(
        info(
            "_contrib_MultiProposal",
            multi_proposal,
            names("cls_prob", "bbox_pred", "im_info"),
            const(2),
            proposal_visible,
        )
    )
    add(info("_contrib_DeformableConvolution", deformable_conv, dconv_inputs, spatial="windowed"))
    add(info("_contrib_quadratic", quadratic, spatial="keeps"))
    add(info("_contrib_div_sqrt_dim", div_sqrt_dim, spatial="keeps"))

    # nn-like operators (rules in ops.nn)
    add(info("Embedding", nn.embedding, names("data", "weight")), "_npx_embedding")
    add(info("UpSampling", nn.upsampling, nn.upsampling_inputs, spatial="other", variadic=True))
    add(info("Pad", nn.pad), "pad")
    add(info("Crop", nn.crop, nn.crop_inputs, variadic=True))
    add(info("L2Normalization", nn.l2_normalization, num_outputs=const(2), num_visible=one, spatial="keeps"))

    # tensor operators (rules in ops.tensor)
    add(info("slice", tensor.slice_op), "crop", "_npx_slice", "_npi_slice")
    add(info("slice_like", tensor.slice_like, names("data", "shape_like")))
    add(info("squeeze", tensor.squeeze), "_np_squeeze")
    add(info("stack", tensor.stack, tensor.stack_inputs, variadic=True), "_npi_stack")
    add(info("tile", tensor.tile), "_npi_tile")
    add(info("repeat", tensor.repeat), "_np_repeat")
    add(info("where", tensor.where, names("condition", "x", "y")))
    add(info("batch_dot", tensor.batch_dot, names("lhs", "rhs")), "_npx_batch_dot")
    add(info("shape_array", tensor.shape_array))
    add(info("size_array", tensor.size_array))
    add(info("_arange", tensor.arange, names()))
    add(
        info("topk", tensor.topk, num_outputs=tensor.topk_outputs, num_visible=tensor.topk_visible),
        "_npx_topk",
    )
    add(info("argsort", tensor.argsort), "_npi_argsort")
    add(info("sort", tensor.sort, num_outputs=const(2), num_visible=one), "_npi_sort")
    add(info("argmax", tensor.argmax))
    add(info("argmin", tensor.argmax))
    add(info("pick", tensor.pick, names("data", "index")), "choose_element_0index")

    # the GluonCV 0.10.5 zoo's operators
    add(
        info(
            "_contrib_ModulatedDeformableConvolution",
            modulated_deformable_conv,
            mdconv_inputs,
            spatial="windowed",
            macs="conv",
        )
    )
    add(info("gather_nd", tensor.gather_nd, names("data", "indices")), "_npi_gather_nd", "_npx_gather_nd")
    add(info("reverse", tensor.reverse, spatial="keeps"), "flip")
    add(info("broadcast_axis", tensor.broadcast_axis), "broadcast_axes")
    sampler_aliases = {
        "_random_uniform": ("uniform", "random_uniform"),
        "_random_normal": ("normal", "random_normal"),
        "_random_randint": ("random_randint", "_npi_random_randint"),
    }
    for op in tensor.RANDOM_SAMPLERS:
        aliases = sampler_aliases.get(op, (op[1:],))
        add(info(op, tensor.random_sampler(op), names()), *aliases)
        if op != "_random_randint":
            add(info(f"{op}_like", tensor.random_like(op), spatial="keeps"))
    add(info("_contrib_quantize_v2", quantize_v2, num_outputs=const(3), spatial="keeps"))
    add(info("_contrib_dequantize", dequantize, names("data", "min_range", "max_range"), spatial="keeps"))
    add(
        info(
            "_contrib_quantized_pooling",
            quantized_pooling,
            names("data", "min_data", "max_data"),
            const(3),
        )
    )
