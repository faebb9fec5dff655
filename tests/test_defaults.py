"""The value nin_mx takes for an absent attribute is MXNet 1.9.1's default, for every operator of
the table.

The reference is MXNet's own registry (``nin_mx/core/ops/mxnet_registry.json``, written by
``scripts/make_op_registry.py`` from ``MXSymbolGetAtomicSymbolInfo``, with the fields MXNet's
parser reads where its listed arguments differ: ``registry._PARSED_FIELDS``): each optional
attribute's description ends in ``default=...``, the value dmlc's ``FieldEntry::set_default``
gave it, printed by MXNet. Three checks:

* **values** (no MXNet): every table function of every operator (shape rule, input names,
  output counts, mutated inputs) runs with only the required attributes, through a reader that
  records what each typed read (``Attrs.int``, ``.tuple``, ...) returned for an absent attribute;
  each recorded value must be MXNet's default read by nin_mx's strict reader (itself held to
  MXNet's by ``tests/test_parsers.py``), in the field's precision. No rule may read an attribute
  around the typed reader (where its default would go unchecked), except to ask whether a
  required one is there.
* **spelled out** (no MXNet): for one graph per shape rule (:data:`CASES`), the engine infers
  the same shapes, inputs and outputs with each optional attribute absent and with it spelled
  out as MXNet's default: a parser rewrite keyed on absence (Reshape's ``target_shape``) shows.
* **MXNet** (in one child process, ``tests/_mxnet_child.py``): the same graphs, both ways and
  under every name of the operator that takes the case's attributes (``_npx_convolution``, ...),
  by MXNet's ``infer_shape_partial`` and by the engine: every internal output, argument and
  auxiliary state equal, and whether every shape is known (MXNet's legacy shapes cannot tell a
  0-d shape from an unknown one), or both refuse.
"""

from __future__ import annotations

import functools
import itertools
import json
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from nin_mx.core.attrs import parse_value
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.core.ops import OPS, _base
from nin_mx.core.ops.registry import _registry, attr_kind, check_node
from nin_mx.core.ops.tensor import RANDOM_SAMPLERS

# The typed reads of nin_mx.core.ops._base.Attrs: what each returns for an absent key is a default.
_READERS = (
    "int",
    "opt_int",
    "float",
    "opt_float",
    "float_tuple",
    "bool",
    "opt_bool",
    "tuple",
    "opt_tuple",
    "opt_int_tuple",
    "enum",
    "opt_enum",
)
# Attributes a rule reads that MXNet's operator does not take (check_node refuses them, so the
# value read is always the default), with the value MXNet's operator fixes instead:
# SyncBatchNorm shares BatchNorm's parser; its channel axis is always 1 (src/operator/contrib/
# sync_batch_norm-inl.h, SyncBatchNormProp::InferShape: dshape[1]) and it has no cudnn_off.
_NOT_MXNETS = {("_contrib_SyncBatchNorm", "axis"): 1, ("_contrib_SyncBatchNorm", "cudnn_off"): False}
_FLOAT_KINDS = ("float", "opt_float", "tuple_float")


def mxnet_default(op: str, key: str) -> str | None:
    """MXNet's default of ``op``'s attribute ``key`` as MXNet prints it (quotes removed); None for
    a required attribute."""
    described = _registry()[op]["params"][key]
    if "default=" not in described:
        return None
    text = described.split("default=", 1)[1]
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _plausible(op: str, key: str) -> str:
    """A value MXNet accepts for a required attribute (one that the rules take too)."""
    kind, choices = attr_kind(op, key)  # type: ignore[misc]
    special = {
        "kernel": "(1, 1)",  # a 2-D kernel: deformable convolutions take no other
        "pooled_size": "(1, 1)",
        "spatial_scale": "0.5",
        "pad_width": "(0, 0, 0, 0, 0, 0, 0, 0)",
    }
    if key in special and kind != "int":
        return special[key]
    if kind in ("enum", "opt_enum"):
        return next(c for c in choices if c != "None")
    if kind == "bool":
        return "0"
    if kind in ("string", "ptr"):
        return "a"
    return "(1,)" if "tuple" in kind or "shape" in kind else "1"


class _Watched(dict):
    """An attribute mapping that notes every absent key read around the typed reader."""

    def __init__(self, items: Mapping[str, str], around: set[str], inside: list[bool]) -> None:
        super().__init__(items)
        self._around, self._inside = around, inside

    def _note(self, key: object) -> None:
        if not self._inside[0] and isinstance(key, str) and not dict.__contains__(self, key):
            self._around.add(key)

    def get(self, key, default=None):  # type: ignore[override]
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


@contextmanager
def _recording(taken: dict[str, Any], inside: list[bool]) -> Iterator[None]:
    """Every typed read of an absent key, with the value it returned, into ``taken``."""
    originals = {name: getattr(_base.Attrs, name) for name in _READERS}

    def wrap(method: Any) -> Any:
        def read(self: _base.Attrs, key: str, *args: Any, **kwargs: Any) -> Any:
            inside[0] = True
            try:
                value = method(self, key, *args, **kwargs)
            finally:
                inside[0] = False
            if not dict.__contains__(self.raw, key):
                taken.setdefault(key, value)
            return value

        return read

    try:
        for name, method in originals.items():
            setattr(_base.Attrs, name, wrap(method))
        yield
    finally:
        for name, method in originals.items():
            setattr(_base.Attrs, name, method)


_PROBE = itertools.count()


def _required(op: str) -> dict[str, str]:
    entry = _registry()[op]
    attrs = {
        key: _plausible(op, key) for key, described in entry["params"].items() if "required" in described
    }
    if entry.get("num_args") in attrs:
        attrs[entry["num_args"]] = "1"
    return attrs


@functools.cache
def _taken() -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """Per operator of the table: the defaults its functions took, and the absent keys they read
    around the typed reader."""
    taken_by, around_by = {}, {}
    for op in sorted(OPS):
        info = OPS[op]
        taken: dict[str, Any] = {}
        around: set[str] = set()
        inside = [False]
        # a hidden key of its own: the parsers' caches (by attribute items) run afresh
        attrs = _Watched({**_required(op), "__probe__": str(next(_PROBE))}, around, inside)
        with _recording(taken, inside):
            for ask in (info.input_names, info.num_outputs, info.visible, info.mutated_inputs):
                try:
                    ask(attrs)
                except (GraphError, ShapeError, ArithmeticError, LookupError, TypeError, ValueError):
                    pass
            try:
                info.shapes(attrs, [None] * 8)
            except (GraphError, ShapeError, ArithmeticError, LookupError, TypeError, ValueError):
                pass  # most rules refuse an unknown input, after they read their parameters
        taken_by[op], around_by[op] = taken, around - {"__probe__"}
    return taken_by, around_by


def _same_value(kind: str, ours: Any, theirs: Any) -> bool:
    if kind in _FLOAT_KINDS and ours is not None and theirs is not None:

        def f32(values: Any) -> bytes:
            items = values if isinstance(values, tuple) else (values,)
            return struct.pack(f"{len(items)}f", *items)

        return f32(ours) == f32(theirs)
    return type(ours) is type(theirs) and ours == theirs


def test_every_default_taken_is_mxnets():
    taken_by, _ = _taken()
    wrong, compared = [], 0
    for op, taken in taken_by.items():
        params = _registry()[op]["params"]
        for key, ours in taken.items():
            if key not in params:
                if _NOT_MXNETS.get((op, key), ...) != ours:
                    wrong.append(f"{op}.{key}: MXNet's {op} has no such attribute; nin_mx reads {ours!r}")
                continue
            raw = mxnet_default(op, key)
            if raw is None:
                wrong.append(f"{op}.{key}: required in MXNet, nin_mx takes {ours!r} without it")
                continue
            kind, choices = attr_kind(op, key)  # type: ignore[misc]
            theirs = parse_value(kind, raw, choices=choices)
            compared += 1
            if not _same_value(kind, ours, theirs):
                wrong.append(f"{op}.{key} ({kind}): nin_mx takes {ours!r}, MXNet's default is {raw!r}")
    assert not wrong, "\n".join(wrong)
    assert compared > 500, compared


def test_no_default_taken_around_the_typed_reader():
    """An absent attribute read as ``attrs.get(key)`` would take a default this module cannot
    see: only the presence of a required attribute may be asked that way."""
    _, around_by = _taken()
    stray = {
        op: sorted(
            key for key in keys if mxnet_default(op, key) is not None or key not in _registry()[op]["params"]
        )
        for op, keys in around_by.items()
    }
    assert not {op: keys for op, keys in stray.items() if keys}


def test_the_recording_sees_a_wrong_default(monkeypatch):
    """The check above can fail: a rule that took 2 for Concat's dim (MXNet: 1) is caught."""
    original = _base.Attrs.int

    def wrong(self, key, default=None, **kwargs):
        return original(self, key, 2 if key == "dim" else default, **kwargs)

    monkeypatch.setattr(_base.Attrs, "int", wrong)
    taken: dict[str, Any] = {}
    with _recording(taken, [False]):
        OPS["Concat"].shapes({"num_args": "1", "__probe__": "wrong"}, [(2, 3, 4)])
    assert taken["dim"] == 2 != parse_value("int", mxnet_default("Concat", "dim"))  # type: ignore[arg-type]


# -- one graph per shape rule, each optional attribute absent and spelled out ---------------------

# (operator, attributes, {input index: shape}): the inputs not given are left to inference.
CASES: list[tuple[str, dict[str, str], dict[int, tuple[int, ...]]]] = [
    ("Convolution", {"kernel": "(3, 3)", "num_filter": "4"}, {0: (1, 2, 8, 8)}),
    ("Convolution", {"kernel": "(3,)", "num_filter": "2"}, {0: (1, 2, 9)}),
    ("Deconvolution", {"kernel": "(3, 3)", "num_filter": "2"}, {0: (1, 2, 5, 5)}),
    ("Pooling", {"kernel": "(3, 3)"}, {0: (1, 2, 9, 9)}),
    ("Pooling", {"kernel": "(3, 3)", "stride": "(2, 2)"}, {0: (1, 2, 10, 10)}),  # valid 4, full 5
    ("Pooling", {"kernel": "(2,)"}, {0: (1, 2, 7)}),
    ("Pooling", {"global_pool": "True"}, {0: (1, 2, 5, 7)}),
    ("FullyConnected", {"num_hidden": "3"}, {0: (2, 3, 4)}),
    ("BatchNorm", {}, {0: (2, 3, 4, 4)}),
    ("_contrib_SyncBatchNorm", {"key": "k"}, {0: (2, 3, 4, 4)}),
    ("LayerNorm", {}, {0: (2, 3, 5)}),
    ("GroupNorm", {}, {0: (2, 6, 5, 5)}),
    ("InstanceNorm", {}, {0: (2, 3, 5, 5)}),
    ("Activation", {"act_type": "relu"}, {0: (2, 3)}),
    ("LeakyReLU", {}, {0: (2, 3, 4)}),
    ("LeakyReLU", {"act_type": "prelu"}, {0: (2, 3, 4)}),
    ("Dropout", {}, {0: (2, 3, 4)}),
    ("LRN", {"nsize": "3"}, {0: (2, 3, 4, 4)}),
    ("SoftmaxOutput", {}, {0: (2, 10)}),
    ("SoftmaxOutput", {}, {0: (2, 10, 3, 3)}),
    ("SoftmaxActivation", {}, {0: (2, 3, 4)}),
    ("softmax", {}, {0: (2, 3, 4)}),
    ("log_softmax", {}, {0: (2, 3, 4)}),
    ("LinearRegressionOutput", {}, {0: (2, 3)}),
    ("_copy", {}, {0: (2, 3)}),
    ("hard_sigmoid", {}, {0: (2, 3)}),
    ("_plus_scalar", {}, {0: (2, 3)}),
    ("clip", {"a_min": "0", "a_max": "1"}, {0: (2, 3)}),
    ("Flatten", {}, {0: (2, 3, 4)}),
    ("Concat", {"num_args": "2"}, {0: (2, 3, 4), 1: (2, 5, 4)}),
    ("_npi_concatenate", {"num_args": "2"}, {0: (2, 3, 4), 1: (5, 3, 4)}),  # axis 0, not Concat's dim 1
    ("_npi_concatenate", {"num_args": "2", "axis": "None"}, {0: (2, 3), 1: (4,)}),
    ("_npi_concatenate", {"num_args": "2", "axis": "-1"}, {0: (2, 3), 1: (2, 4)}),
    ("elemwise_add", {}, {0: (2, 3)}),
    ("add_n", {"num_args": "2"}, {0: (2, 3)}),
    ("broadcast_add", {}, {0: (2, 1, 4), 1: (3, 1)}),
    ("Reshape", {}, {0: (2, 3, 4)}),
    ("Reshape", {"shape": "(-1, 0)"}, {0: (2, 3, 4)}),
    ("Reshape", {"target_shape": "(0, 4)"}, {0: (2, 3, 4)}),
    ("SliceChannel", {"num_outputs": "3"}, {0: (2, 6, 3)}),
    ("slice_axis", {"axis": "1", "begin": "1", "end": "None"}, {0: (2, 6, 4)}),
    ("transpose", {}, {0: (2, 3, 4)}),
    ("expand_dims", {"axis": "1"}, {0: (2, 3)}),
    ("SwapAxis", {}, {0: (2, 3, 4)}),
    ("SwapAxis", {"dim2": "2"}, {0: (2, 3, 4)}),
    ("sum", {}, {0: (2, 3, 4)}),
    ("sum", {"axis": "1"}, {0: (2, 3, 4)}),
    ("Cast", {"dtype": "float16"}, {0: (2, 3)}),
    ("broadcast_like", {}, {0: (2, 1), 1: (2, 5)}),
    ("reshape_like", {}, {0: (2, 6), 1: (3, 4)}),
    ("broadcast_to", {"shape": "(2, 3)"}, {0: (1, 3)}),
    ("_contrib_ROIAlign", {"pooled_size": "(2, 2)", "spatial_scale": "0.5"}, {0: (1, 8, 8, 8), 1: (3, 5)}),
    ("ROIPooling", {"pooled_size": "(2, 2)", "spatial_scale": "0.5"}, {0: (1, 8, 8, 8), 1: (3, 5)}),
    (
        "_contrib_PSROIPooling",
        {"spatial_scale": "0.5", "output_dim": "2", "pooled_size": "2"},
        {0: (1, 8, 8, 8), 1: (3, 5)},
    ),
    (
        "_contrib_DeformablePSROIPooling",
        {"spatial_scale": "0.5", "output_dim": "2", "pooled_size": "2", "group_size": "2"},
        {0: (1, 8, 8, 8), 1: (3, 5), 2: (3, 4, 2, 2)},
    ),
    ("_contrib_BilinearResize2D", {}, {0: (1, 2, 8, 8)}),
    ("_contrib_BilinearResize2D", {"height": "4", "width": "6"}, {0: (1, 2, 8, 8)}),
    ("_contrib_AdaptiveAvgPooling2D", {}, {0: (1, 2, 8, 8)}),
    ("_contrib_box_nms", {}, {0: (2, 10, 6)}),
    ("_contrib_box_iou", {}, {0: (3, 4), 1: (5, 4)}),
    ("_contrib_bipartite_matching", {"threshold": "0.5"}, {0: (2, 3, 4)}),
    ("_contrib_box_encode", {}, {0: (2, 3), 1: (2, 3), 2: (2, 3, 4), 3: (2, 3, 4)}),
    ("_contrib_box_decode", {}, {0: (2, 3, 4), 1: (1, 3, 4)}),
    ("_contrib_MultiBoxPrior", {}, {0: (1, 2, 4, 4)}),
    ("_contrib_MultiBoxDetection", {}, {0: (1, 3, 16), 1: (1, 64), 2: (1, 16, 4)}),
    ("_contrib_MultiBoxTarget", {}, {0: (1, 16, 4), 1: (1, 3, 5), 2: (1, 3, 16)}),
    ("_contrib_Proposal", {}, {0: (1, 24, 4, 4)}),
    ("_contrib_MultiProposal", {}, {0: (2, 24, 4, 4)}),
    (
        "_contrib_DeformableConvolution",
        {"kernel": "(3, 3)", "num_filter": "4"},
        {0: (1, 2, 8, 8), 1: (1, 18, 6, 6)},
    ),
    (
        "_contrib_ModulatedDeformableConvolution",
        {"kernel": "(3, 3)", "num_filter": "4"},
        {0: (1, 2, 8, 8), 1: (1, 18, 6, 6), 2: (1, 9, 6, 6)},
    ),
    ("_contrib_quadratic", {}, {0: (2, 3)}),
    ("_contrib_div_sqrt_dim", {}, {0: (2, 3)}),
    ("Embedding", {"input_dim": "10", "output_dim": "4"}, {0: (2, 3)}),
    (
        "UpSampling",
        {"scale": "2", "sample_type": "nearest", "num_args": "2"},
        {0: (1, 2, 4, 4), 1: (1, 3, 8, 8)},
    ),
    ("UpSampling", {"scale": "2", "sample_type": "bilinear", "num_args": "1"}, {0: (1, 2, 4, 4)}),
    ("Pad", {"mode": "constant", "pad_width": "(0, 0, 0, 0, 1, 1, 2, 2)"}, {0: (1, 2, 4, 4)}),
    ("Crop", {"num_args": "1", "h_w": "(2, 3)"}, {0: (1, 2, 4, 4)}),
    ("Crop", {"num_args": "2"}, {0: (1, 2, 6, 6), 1: (1, 2, 3, 3)}),
    ("L2Normalization", {}, {0: (2, 3)}),
    ("slice", {"begin": "(1,)", "end": "(3,)"}, {0: (5, 3)}),
    ("slice_like", {}, {0: (4, 5), 1: (2, 3)}),
    ("squeeze", {}, {0: (2, 1, 3, 1)}),
    ("stack", {"num_args": "2"}, {0: (2, 3), 1: (2, 3)}),
    ("tile", {"reps": "(2,)"}, {0: (2, 3)}),
    ("repeat", {"repeats": "2"}, {0: (2, 3)}),
    ("where", {}, {0: (2, 3), 1: (2, 3), 2: (2, 3)}),
    ("batch_dot", {}, {0: (2, 3, 4), 1: (2, 4, 5)}),
    ("shape_array", {}, {0: (2, 3)}),
    ("size_array", {}, {0: (2, 3)}),
    ("_arange", {"start": "5"}, {}),
    ("topk", {}, {0: (2, 5)}),
    ("argsort", {}, {0: (2, 5)}),
    ("sort", {}, {0: (2, 5)}),
    ("argmax", {}, {0: (2, 5)}),
    ("pick", {}, {0: (2, 5)}),
    ("gather_nd", {}, {0: (3, 4), 1: (1, 2)}),
    ("reverse", {"axis": "(0,)"}, {0: (2, 3)}),
    ("broadcast_axis", {}, {0: (1, 3)}),
    *((op, {"shape": "(2, 3)"}, {}) for op in RANDOM_SAMPLERS if op != "_random_randint"),
    ("_random_uniform", {}, {}),
    ("_random_randint", {"low": "0", "high": "5", "shape": "(2, 3)"}, {}),
    *((f"{op}_like", {}, {0: (2, 3)}) for op in RANDOM_SAMPLERS if op != "_random_randint"),
    ("_contrib_quantize_v2", {}, {0: (2, 3)}),
    ("_contrib_dequantize", {}, {0: (2, 3), 1: (1,), 2: (1,)}),
    ("_contrib_quantized_pooling", {"kernel": "(2, 2)"}, {0: (1, 2, 6, 6)}),
]


def test_every_shape_rule_has_a_case():
    from tests.test_engine_subgraph import CONV_CASES, FC_CASES

    covered = {OPS[op].rule for op, _, _ in CASES}
    # A subgraph operator is no one-node graph (its node carries the graph it fuses): its flags'
    # defaults are held by tests/test_engine_subgraph.py, whose cases leave every flag that is
    # false out (the plain case: all of them) and compare each with MXNet's infer_shape.
    plain = {"no_bias": False, "bn": False, "act": False, "add": False, "post_act": False}
    if any(all(c[k] == v for k, v in plain.items()) for c in CONV_CASES):
        covered.add(OPS["_sg_mkldnn_conv"].rule)
    if any(not any(c.values()) for c in FC_CASES):
        covered.add(OPS["_sg_mkldnn_fully_connected"].rule)
    missing = sorted({info.name for info in OPS.values() if info.rule not in covered})
    assert not missing


def _graph(op: str, attrs: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """One node of ``op`` on variables ``in0``, ``in1``, ... (as many as nin_mx's table names),
    as symbol JSON and as a dict; None where the table cannot name the inputs."""
    try:
        count = len(OPS[op].input_names(attrs))
    except (GraphError, ShapeError, ArithmeticError, LookupError, TypeError, ValueError):
        return None
    nodes: list[dict[str, Any]] = [{"op": "null", "name": f"in{i}", "inputs": []} for i in range(count)]
    nodes.append(
        {"op": op, "name": "node", "attrs": dict(attrs), "inputs": [[i, 0, 0] for i in range(count)]}
    )
    graph = {
        "nodes": nodes,
        "arg_nodes": list(range(count)),
        "heads": [[count, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }
    return json.dumps(graph), graph


def _legacy(shape: Any) -> list[int]:
    return [] if shape is None else list(shape)


def engine_answer(op: str, attrs: Mapping[str, str], given: Mapping[int, tuple[int, ...]]) -> list:
    """nin_mx's answer in MXNet's terms: ``["ok", [outputs, args, auxs, complete]]`` or
    ``["refused"]`` (MXNet's legacy shapes cannot tell a 0-d shape from an unknown one: whether
    every shape is known can)."""
    from nin_mx.graph.engine import infer_graph, named_shapes
    from nin_mx.graph.nodes import parse_nodes

    built = _graph(op, attrs)
    if built is None:
        return ["refused"]
    try:
        check_node("node", op, attrs)
        nodes = parse_nodes(built[1])
        inferred = infer_graph(nodes, {f"in{i}": shape for i, shape in given.items()})
    except (GraphError, ShapeError):
        return ["refused"]
    internals, args, auxs = named_shapes(nodes, inferred)
    return [
        "ok",
        [
            [_legacy(shape) for _, shape in internals],
            {k: _legacy(v) for k, v in args.items()},
            {k: _legacy(v) for k, v in auxs.items()},
            inferred.complete,
        ],
    ]


def _aliases(op: str, attrs: Mapping[str, str]) -> list[str]:
    """``op`` and the other names of its table entry that take ``attrs`` (``_npx_convolution``,
    ``_npi_slice``, ...): MXNet registers some of them with parameters of their own."""
    info = OPS[op]
    names = [name for name, other in sorted(OPS.items()) if other is info and name != op]
    return [op, *(name for name in names if set(attrs) <= set(_registry()[name]["params"]))]


def _spelled_out() -> list[tuple[str, dict[str, str], dict[int, tuple[int, ...]], str | None]]:
    """Every case as written (key None) under each name of its operator, then once per optional
    attribute it leaves out, with that attribute spelled out as MXNet's default."""
    out = []
    for case_op, attrs, given in CASES:
        for op in _aliases(case_op, attrs):
            out.append((op, attrs, given, None))
            for key in _registry()[op]["params"]:
                raw = mxnet_default(op, key)
                if key not in attrs and raw is not None:
                    out.append((op, {**attrs, key: raw}, given, key))
    return out


def _id(case: tuple) -> str:
    return f"{case[0]}-{'-'.join(case[1])}"


@pytest.mark.parametrize("case", range(len(CASES)), ids=lambda i: _id(CASES[i]))
def test_a_default_spelled_out_infers_as_its_absence(case):
    op, attrs, given = CASES[case]
    absent = engine_answer(op, attrs, given)
    wrong = []
    for key in _registry()[op]["params"]:
        raw = mxnet_default(op, key)
        if key in attrs or raw is None:
            continue
        spelled = engine_answer(op, {**attrs, key: raw}, given)
        if spelled != absent:
            wrong.append(f"{key}={raw!r}: {spelled} where absent: {absent}")
    assert not wrong, "\n".join(wrong)


def test_no_case_is_refused():
    """The cases are graphs the engine infers, not refusals (a refusal hides a default)."""
    answers = [engine_answer(op, attrs, given) for op, attrs, given in CASES]
    refused = [_id(case) for case, answer in zip(CASES, answers) if answer[0] != "ok"]
    assert not refused


@functools.cache
def _mxnet_answers() -> list:
    from tests._mxnet_child import ask_mxnet

    asked, cases = [], []
    for op, attrs, given, key in _spelled_out():
        built = _graph(op, attrs)
        if built is None:
            continue
        asked.append((op, attrs, given, key))
        cases.append(["partial", built[0], {f"in{i}": list(shape) for i, shape in given.items()}])
    return list(zip(asked, ask_mxnet(cases)))


@pytest.mark.mxnet
def test_defaults_infer_as_in_mxnet():
    """MXNet's ``infer_shape_partial`` and the engine agree on every case, each optional
    attribute absent (MXNet's own default) and spelled out."""
    wrong, compared = [], 0
    for (op, attrs, given, key), theirs in _mxnet_answers():
        if theirs[0] == "crash":
            wrong.append(f"{op} {attrs}: MXNet crashed ({theirs[1]})")
            continue
        ours = engine_answer(op, attrs, given)
        compared += 1
        if (ours[0], ours[1:]) != (theirs[0], theirs[1:]) and not (ours[0] == theirs[0] == "refused"):
            said = theirs[1] if theirs[0] == "ok" else f"refuses ({theirs[1][:100]})"
            mine = ours[1] if ours[0] == "ok" else "refuses"
            wrong.append(f"{op} {attrs} ({key or 'as written'}): MXNet {said}, nin_mx {mine}")
    assert not wrong, "\n".join(wrong)
    assert compared > 400, compared
