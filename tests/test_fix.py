"""nin_mx.checks.fix: the edits that repair hand-computed global pools, with MXNet as the judge.

The graphs nobody here wrote are Gluon's inceptionv3, squeezenet1.0/1.1 and densenet121
(``pretrained=False``, exported with their random weights); ours are ``nin_mx.manual_symbol``'s
Inception-ResNet-v2 and NIN-CIFAR-10. A fixed graph must load in MXNet, compute exactly what the
original computes at the size its kernel was computed for (same weights), take the sizes at
which the original fails or pools to more than 1x1, and keep every byte of the original but
the edited attributes. The rest (rule parsing, edits of graphs built here, the text rewrite on
other JSON styles) needs no MXNet.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import nin_mx
from nin_mx.checks.fix import (
    DEFAULT_FIX_RULES,
    FIXABLE_RULES,
    FixResult,
    _edit_text,
    checkpoint_fit,
    fix,
    parse_fix_rules,
)
from nin_mx.checks.params import load_params
from nin_mx.graph.source import Graph

TOLERANCE = 1e-5


# --- helpers ---------------------------------------------------------------------------------


def _pairs(lines):
    """``"key": "value"`` of attribute lines, without indentation and trailing commas."""
    return Counter(line.strip().rstrip(",").strip() for line in lines)


def assert_only_edited_attrs(original: str, fixed: str, result: FixResult, lines: bool = True) -> None:
    """The fixed text is the original but for the edited nodes' attributes: as lines (diff -u,
    for a text with one attribute a line), as objects, and as the bytes around the change."""
    if lines:
        _assert_attr_lines(original, fixed, result)
    # As objects: the original with the edits applied, nothing else.
    expected = json.loads(original)
    for edit in result.edits:
        (raw,) = [n for n in expected["nodes"] if n["name"] == edit.layer]
        for key in edit.removed:
            raw["attrs"].pop(key)
        raw["attrs"].update(edit.added)
    assert json.loads(fixed) == expected
    # The bytes around the one changed region are the original's.
    if len(result.edits) == 1:
        head = _common(original, fixed)
        tail = _common(original[head:][::-1], fixed[head:][::-1])
        middle = original[head : len(original) - tail]
        assert not set(middle) & set("{}[]"), middle  # inside one attributes object
        assert '"name"' not in middle and '"op"' not in middle


def _common(a: str, b: str) -> int:
    """The length of the common prefix of two strings."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def _assert_attr_lines(original: str, fixed: str, result: FixResult) -> None:
    """diff -u of the texts: attribute lines only, the edited ones (a neighbour may lose a comma)."""
    removed, added = [], []
    for line in difflib.unified_diff(original.splitlines(), fixed.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    assert removed or added
    for line in removed + added:  # "key": "value" lines only
        key, sep, value = line.strip().rstrip(",").partition(": ")
        assert sep and key.startswith('"') and value.startswith('"'), line
    want_removed = Counter(f'"{k}": "{v}"' for e in result.edits for k, v in e.removed.items())
    want_added = Counter(f'"{k}": "{v}"' for e in result.edits for k, v in e.added.items())
    assert _pairs(removed) - _pairs(added) == want_removed
    assert _pairs(added) - _pairs(removed) == want_added


def _mx():
    from nin_mx._mxnet import mx

    return mx


def _quiet_infer(symbol, shape):
    """MXNet's infer_shape of ``symbol`` (its printout on failure swallowed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return symbol.infer_shape(data=shape)


def _pool_shape(symbol, layer, shape):
    """MXNet's output shape of node ``layer`` at input ``shape``, or None where it fails."""
    mx = _mx()
    try:
        return tuple(_quiet_infer(symbol.get_internals()[f"{layer}_output"], shape)[1][0])
    except mx.base.MXNetError:
        return None


def _run(symbol, layer, arrays, shape, seed=0):
    """The graph's output and node ``layer``'s, for the arrays of a checkpoint (``arg:``/``aux:``
    names), on seeded uniform input."""
    mx = _mx()
    mx.random.seed(seed)
    args = {k[4:]: v for k, v in arrays.items() if k.startswith("arg:")}
    aux = {k[4:]: v for k, v in arrays.items() if k.startswith("aux:")}
    args["data"] = mx.nd.random.uniform(shape=shape)
    args.update({n: mx.nd.zeros(shape[:1]) for n in symbol.list_arguments() if n.endswith("_label")})
    both = mx.sym.Group([symbol, symbol.get_internals()[f"{layer}_output"]])
    executor = both.bind(mx.cpu(), args=args, aux_states=aux, grad_req="null")
    return [out.asnumpy() for out in executor.forward(is_train=False)]


def _random_checkpoint(symbol, shape, path: Path) -> Path:
    """Seeded random weights for a symbol (valid BatchNorm statistics), saved as a checkpoint."""
    mx = _mx()
    mx.random.seed(1)
    arg_shapes, _, aux_shapes = _quiet_infer(symbol, shape)
    arrays = {}
    for name, s in zip(symbol.list_arguments(), arg_shapes):
        if name == "data" or name.endswith("_label"):
            continue
        if name.endswith("_gamma"):
            arrays[f"arg:{name}"] = mx.nd.ones(s)
        elif name.endswith("_weight"):
            bound = (3.0 / max(1, int(np.prod(s[1:])))) ** 0.5
            arrays[f"arg:{name}"] = mx.nd.random.uniform(-bound, bound, shape=s)
        else:
            arrays[f"arg:{name}"] = mx.nd.random.uniform(-0.02, 0.02, shape=s)
    for name, s in zip(symbol.list_auxiliary_states(), aux_shapes):
        low, high = (0.5, 1.5) if name.endswith("_var") else (-0.02, 0.02)
        arrays[f"aux:{name}"] = mx.nd.random.uniform(low, high, shape=s)
    mx.nd.save(str(path), arrays)
    return path


def _export_zoo(name: str, side: int, folder: Path) -> tuple[Path, Path]:
    """A Gluon model-zoo network (random weights), hybridized, run once and exported."""
    mx = _mx()
    from mxnet.gluon.model_zoo import vision

    mx.random.seed(0)
    net = vision.get_model(name, pretrained=False)
    net.collect_params().setattr("grad_req", "null")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.zeros((1, 3, side, side)))
    net.export(str(folder / name))
    del net
    gc.collect()
    return folder / f"{name}-symbol.json", folder / f"{name}-0000.params"


def _judge(
    symbol_path: Path, params_path: Path, side: int, layer_suffix: str, span, tmp_path: Path, exact=None
):
    """Fixes a graph at its own size and checks the fix against MXNet; returns the max abs diffs."""
    mx = _mx()
    shape = (1, 3, side, side)
    original_text = symbol_path.read_text(encoding="utf-8")
    result = fix(Graph.from_file(symbol_path), shape)

    (edit,) = result.edits
    assert edit.rule == "fixed-global-pool" and edit.layer.endswith(layer_suffix)
    assert edit.added == {"global_pool": "True"}
    assert set(edit.removed) <= {"global_pool", "kernel", "stride", "pad"} and "kernel" in edit.removed
    low, high = span
    first, last = exact or span  # the message names the inputs at which the kernel is the whole map
    assert "unchanged at this input; any input size now pools to 1x1" in edit.effect
    assert f"square inputs {first}..{last} only" in edit.effect
    if exact is not None:  # MXNet: the map entering the pool equals the kernel there, not beyond
        kernel = tuple(int(k) for k in edit.removed["kernel"].strip("()").split(","))
        symbol = mx.sym.load(str(symbol_path))
        entering = next(n for n in json.loads(symbol.tojson())["nodes"] if n["name"] == edit.layer)
        producer = json.loads(symbol.tojson())["nodes"][entering["inputs"][0][0]]["name"]
        internals = symbol.get_internals()
        for size, equal in ((first, True), (last, True), (last + 1, False)):
            _, outs, _ = internals.infer_shape(data=(1, 3, size, size))
            pooled = dict(zip(internals.list_outputs(), outs))[f"{producer}_output"]
            assert (tuple(pooled[2:]) == kernel) is equal, (size, pooled)
    assert result.param_changes == () and result.recheck == ()
    assert result.diff.counts.changed == 1 and not result.diff.error_b
    assert_only_edited_attrs(original_text, result.text, result)

    fixed_path = tmp_path / symbol_path.name.replace("-symbol", "-fixed-symbol")
    fixed_path.write_text(result.text, encoding="utf-8")
    original, fixed = mx.sym.load(str(symbol_path)), mx.sym.load(str(fixed_path))
    assert fixed.list_arguments() == original.list_arguments()
    assert fixed.list_auxiliary_states() == original.list_auxiliary_states()

    # The same numbers at the size the kernel was computed for, with the same weights.
    arrays = mx.nd.load(str(params_path))
    out_a, pool_a = _run(original, edit.layer, arrays, shape)
    out_b, pool_b = _run(fixed, edit.layer, arrays, shape)
    diffs = (float(np.abs(out_a - out_b).max()), float(np.abs(pool_a - pool_b).max()))
    assert out_a.shape == out_b.shape and max(diffs) <= TOLERANCE, diffs
    scale = float(np.abs(pool_a).max())  # random weights: not all zero, and small for Gluon's
    assert scale > 0 and diffs[1] <= TOLERANCE * scale, (diffs, scale)

    # Where the original fails (just below its span) or pools to 2x2 (just above it), the fixed
    # graph pools to 1x1; it also runs below the span, with the same weights.
    channels = pool_a.shape[1]
    below, above = (1, 3, low - 1, low - 1), (1, 3, high + 1, high + 1)
    assert _pool_shape(original, edit.layer, below) is None
    assert _pool_shape(original, edit.layer, above) == (1, channels, 2, 2)
    for size in (below, above):
        assert _pool_shape(fixed, edit.layer, size) == (1, channels, 1, 1)
    out_small, pool_small = _run(fixed, edit.layer, arrays, below)
    assert pool_small.shape == (1, channels, 1, 1) and out_small.shape == out_a.shape
    del arrays, out_a, out_b, pool_a, pool_b, out_small, pool_small
    gc.collect()

    # nin_mx's own check of the fixed file, and the original checkpoint against it.
    findings = nin_mx.check(str(fixed_path), shape)
    assert not [f for f in findings if f.rule in DEFAULT_FIX_RULES]
    assert checkpoint_fit(result, params_path) == []
    assert result.checkpoint_fit(load_params(params_path)) == []
    return diffs


# --- graphs nobody here wrote: Gluon's model zoo --------------------------------------------

ZOO = [
    # name, natural size, the pool's name ends with, square inputs at which its kernel pools to
    # 1x1, and those at which it is the whole map (global)
    ("inceptionv3", 299, "_pool2_fwd", (299, 554), (299, 330)),
    ("squeezenet1.0", 224, "_pool3_fwd", (213, 420), (213, 228)),
    ("squeezenet1.1", 224, "_pool3_fwd", (209, 416), (209, 224)),
    ("densenet121", 224, "_pool4_fwd", (221, 444), (221, 252)),
]


@pytest.mark.mxnet
@pytest.mark.parametrize(("name", "side", "suffix", "span", "exact"), ZOO, ids=[z[0] for z in ZOO])
def test_gluon_zoo_fixed_global_pool(name, side, suffix, span, exact, tmp_path):
    symbol_path, params_path = _export_zoo(name, side, tmp_path)
    _judge(symbol_path, params_path, side, suffix, span, tmp_path, exact)
    gc.collect()


# --- ours: manual_symbol ---------------------------------------------------------------------

MANUAL = [
    ("inception_resnet_v2", 299, "global_pool", (299, 330)),
    ("nin_cifar10", 32, "pool3", (32, 35)),
]


@pytest.mark.mxnet
@pytest.mark.parametrize(("model", "side", "layer", "span"), MANUAL, ids=[m[0] for m in MANUAL])
def test_manual_symbol_fixed_global_pool(model, side, layer, span, tmp_path):
    symbol = nin_mx.manual_symbol(model, (1, 3, side, side))
    symbol_path = tmp_path / f"{model}-manual-symbol.json"
    symbol.save(str(symbol_path))
    params_path = _random_checkpoint(symbol, (1, 3, side, side), tmp_path / f"{model}-0000.params")
    del symbol
    _judge(symbol_path, params_path, side, layer, span, tmp_path)
    gc.collect()


@pytest.mark.mxnet
def test_a_symbol_is_fixed_from_its_own_json():
    """A Symbol (no file) is fixed in its tojson() text; the fixed graph equals the global model."""
    symbol = nin_mx.manual_symbol("nin_cifar10", (1, 3, 32, 32))
    result = fix(symbol, (1, 3, 32, 32))
    assert [e.layer for e in result.edits] == ["pool3"]
    assert result.edits[0].removed == {"kernel": "(8, 8)", "stride": "(1, 1)"}
    assert_only_edited_attrs(symbol.tojson(), result.text, result)
    fixed = _mx().sym.load_json(result.text)
    at_40 = nin_mx.shape_report(fixed, (1, 3, 40, 40))
    assert at_40.ok and {r.name: r for r in at_40.layers}["pool3"].output_shape == (1, 10, 1, 1)
    assert result.graph.label.endswith("(fixed)") and result.graph.text == result.text


# --- graphs built here -----------------------------------------------------------------------


def _padded_head(channels=4, classes=10):
    """8x8 input -> 3x3 conv (pad 1) -> 8x8 average pool padded 1 (3x3 out) -> Flatten -> FC."""
    mx = _mx()
    x = mx.sym.var("data")
    conv = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=channels, name="conv")
    pool = mx.sym.Pooling(conv, kernel=(8, 8), pad=(1, 1), pool_type="avg", name="pool")
    flat = mx.sym.Flatten(pool, name="flatten")
    return mx.sym.FullyConnected(flat, num_hidden=classes, name="fc")


@pytest.mark.mxnet
def test_padded_global_pool(tmp_path):
    mx = _mx()
    symbol = _padded_head()
    shape = (1, 3, 8, 8)
    result = fix(symbol, shape)
    (edit,) = result.edits
    assert (edit.rule, edit.layer) == ("padded-global-pool", "pool")
    assert edit.removed == {"kernel": "(8, 8)", "pad": "(1, 1)"} and edit.added == {"global_pool": "True"}
    assert "output 4x3x3 -> 4x1x1" in edit.effect and "fc_weight (10, 36) -> (10, 4)" in edit.effect
    assert [tuple(c) for c in result.param_changes] == [("fc_weight", (10, 36), (10, 4))]
    assert result.recheck == ()
    assert_only_edited_attrs(symbol.tojson(), result.text, result)
    fixed = mx.sym.load_json(result.text)
    args = dict(zip(fixed.list_arguments(), _quiet_infer(fixed, shape)[0]))
    assert args["fc_weight"] == (10, 4)
    # The original's checkpoint no longer fits: the classifier's weight.
    path = _random_checkpoint(symbol, shape, tmp_path / "padded-0000.params")
    (finding,) = checkpoint_fit(result, path)
    assert (finding.rule, finding.layer, finding.detail["array"]) == ("params-shape", "fc", "fc_weight")
    assert finding.detail["stored"] == [10, 36] and finding.detail["expected"] == [10, 4]
    assert any("fc_weight (10, 36) -> (10, 4)" in line for line in result.messages)


@pytest.mark.mxnet
def test_ignored_pool_attrs():
    mx = _mx()
    x = mx.sym.var("data")
    conv = mx.sym.Convolution(x, kernel=(3, 3), num_filter=2, name="conv")
    pool = mx.sym.Pooling(
        conv, global_pool=True, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", name="pool"
    )
    shape = (1, 3, 9, 9)
    result = fix(pool, shape)
    (edit,) = result.edits
    assert (edit.rule, edit.layer) == ("ignored-pool-attrs", "pool")
    assert edit.removed == {"kernel": "(3, 3)", "stride": "(2, 2)", "pad": "(1, 1)"} and edit.added == {}
    assert edit.effect.startswith("no shape changes")
    assert result.param_changes == () and result.recheck == ()
    assert_only_edited_attrs(pool.tojson(), result.text, result)
    # MXNet computes the same numbers with and without them.
    arrays = {"arg:conv_weight": mx.nd.random.uniform(shape=(2, 3, 3, 3)), "arg:conv_bias": mx.nd.ones(2)}
    fixed = mx.sym.load_json(result.text)
    a, b = _run(pool, "pool", arrays, shape)[0], _run(fixed, "pool", arrays, shape)[0]
    assert a.shape == (1, 2, 1, 1) and np.abs(a - b).max() <= TOLERANCE


def _custom_padded():
    """17x17 -> 1x7 conv padded (1, 2) -> ReLU -> 3x3/2 max pool -> Flatten -> FC 5."""
    mx = _mx()
    x = mx.sym.var("data")
    conv = mx.sym.Convolution(x, kernel=(1, 7), pad=(1, 2), num_filter=4, name="conv")
    relu = mx.sym.Activation(conv, act_type="relu", name="relu")
    pool = mx.sym.Pooling(relu, kernel=(3, 3), stride=(2, 2), pool_type="max", name="pool")
    return mx.sym.FullyConnected(mx.sym.Flatten(pool, name="flatten"), num_hidden=5, name="fc")


@pytest.mark.mxnet
def test_custom_padding_same():
    mx = _mx()
    symbol, shape = _custom_padded(), (1, 3, 17, 17)
    assert fix(symbol, shape).text is None  # not fixed unless asked
    result = fix(symbol, shape, {"custom-padding": "same"})
    assert result.rules == {"custom-padding": "same"}
    (edit,) = result.edits
    assert (edit.rule, edit.layer, edit.removed, edit.added) == (
        "custom-padding",
        "conv",
        {"pad": "(1, 2)"},
        {"pad": "(0, 3)"},
    )
    # The layer's own output, and the later layers whose shape changes, from the two reports.
    assert edit.effect.startswith("output 4x19x15 -> 4x17x17 at this input")
    assert "; 3 later layers change shape (relu, pool, flatten); " in edit.effect
    assert edit.effect.endswith("weights change shape: fc_weight (5, 252) -> (5, 256)")
    assert [tuple(c) for c in result.param_changes] == [("fc_weight", (5, 252), (5, 256))]
    assert result.recheck == ()
    assert_only_edited_attrs(symbol.tojson(), result.text, result)
    fixed = mx.sym.load_json(result.text)
    internals = fixed.get_internals()
    assert _quiet_infer(internals["pool_output"], shape)[1][0] == (1, 4, 8, 8)
    changed = {row.a.name for row in result.diff.rows if row.status == "changed"}
    assert changed == {"conv", "relu", "pool", "flatten", "fc"}  # fc: its weight and MACs
    # The same from the string form, as --fix-rules gives it.
    assert fix(symbol, shape, "custom-padding=same").text == result.text
    assert fix(symbol, shape, ["custom-padding=half"]).text == result.text


@pytest.mark.mxnet
def test_nothing_to_fix():
    result = fix("nin_cifar10", (1, 3, 32, 32))
    assert result.text is None and result.edits == () and not result.changed
    assert result.diff is None and result.param_changes == () and result.recheck == ()
    assert result.messages == []


@pytest.mark.mxnet
def test_refuses_a_size_at_which_the_original_fails():
    symbol = nin_mx.manual_symbol("nin_cifar10", (1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"the original graph fails there") as info:
        fix(symbol, (1, 3, 24, 24))
    assert "\n" not in str(info.value) and "data=(1, 3, 24, 24)" in str(info.value)


# --- which rules: no MXNet -------------------------------------------------------------------


def test_parse_fix_rules():
    assert parse_fix_rules("fixed-global-pool,custom-padding=same") == {
        "fixed-global-pool": None,
        "custom-padding": "same",
    }
    assert parse_fix_rules(" padded-global-pool , custom-padding=HALF ") == {
        "padded-global-pool": None,
        "custom-padding": "same",
    }
    assert tuple(parse_fix_rules(",".join(DEFAULT_FIX_RULES))) == DEFAULT_FIX_RULES
    assert set(FIXABLE_RULES) == {*DEFAULT_FIX_RULES, "custom-padding"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("no-such-rule", "unknown rule 'no-such-rule'; the fixable rules are fixed-global-pool, "),
        ("even-kernel-same", "rule 'even-kernel-same' has no fix"),
        ("custom-padding", "custom-padding is fixed with a border mode"),
        ("custom-padding=wide", "must be one of"),
        ("fixed-global-pool=same", "fixed-global-pool takes no border mode"),
        ("custom-padding=same,custom-padding=full", "given twice"),
        (" , ", "no rule to fix"),
    ],
)
def test_parse_fix_rules_refuses(text, says):
    with pytest.raises(ValueError) as info:
        parse_fix_rules(text)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_fix_refuses_unknown_rules_before_reading_the_graph():
    with pytest.raises(ValueError, match="unknown rule 'pool'; the fixable rules are"):
        fix("no-such-file-symbol.json", (1, 3, 8, 8), ["pool"])


# --- the text: every other byte kept, in any JSON style ---------------------------------------


def _pool_graph(kernel="(8, 8)", global_pool=None):
    attrs = {"kernel": kernel, "pool_type": "avg", "stride": "(1, 1)"}
    if global_pool is not None:
        attrs["global_pool"] = global_pool
    return {
        "nodes": [
            {"op": "null", "name": "data", "inputs": []},
            {"op": "Pooling", "name": "pool", "attrs": dict(sorted(attrs.items())), "inputs": [[0, 0, 0]]},
            {"op": "Flatten", "name": "flat", "inputs": [[1, 0, 0]]},
        ],
        "arg_nodes": [0],
        "node_row_ptr": [0, 1, 2, 3],
        "heads": [[2, 0, 0]],
        "attrs": {"mxnet_version": ["int", 10901]},
    }


@pytest.mark.parametrize(
    "dump",
    [
        lambda o: json.dumps(o, indent=2),
        lambda o: json.dumps(o, indent=4),
        lambda o: json.dumps(o),
        lambda o: json.dumps(o, separators=(",", ":")),
        lambda o: json.dumps(o, indent="\t") + "\n",
    ],
    ids=["indent2", "indent4", "one-line", "compact", "tabs"],
)
def test_text_style_is_kept(dump, tmp_path):
    original = dump(_pool_graph())
    assert _edit_text(original, {})[0] == original  # an unedited round trip: byte for byte
    path = tmp_path / "pool-symbol.json"
    path.write_text(original, encoding="utf-8")
    result = fix(Graph.from_file(path), (1, 2, 8, 8))
    (edit,) = result.edits
    assert edit.added == {"global_pool": "True"} and edit.removed == {"kernel": "(8, 8)", "stride": "(1, 1)"}
    assert_only_edited_attrs(original, result.text, result, lines="\n" in original)
    # The new attribute is written as its neighbours are, at its sorted place.
    obj = json.loads(result.text)
    assert list(obj["nodes"][1]["attrs"]) == ["global_pool", "pool_type"]
    if "\n" in original:
        indent = next(line for line in original.splitlines() if '"pool_type"' in line).split('"')[0]
        assert f'\n{indent}"global_pool": "True"' in result.text


@pytest.mark.mxnet
def test_unedited_round_trip_of_mxnet_text():
    """MXNet's own style (``"key": "value", `` lines, inline arrays) is not json.dumps(indent=2)'s;
    rewriting nothing gives the same bytes, and a value change touches one line."""
    symbol = nin_mx.manual_symbol("nin_cifar10", (1, 3, 32, 32))
    text = symbol.tojson()
    assert json.dumps(json.loads(text), indent=2) != text
    assert _edit_text(text, {})[0] == text
    index = [n["name"] for n in json.loads(text)["nodes"]].index("pool3")
    edited, _ = _edit_text(text, {index: {"pool_type": "max"}})
    changed = [d for d in difflib.ndiff(text.splitlines(), edited.splitlines()) if d[0] in "+-"]
    assert [(d[0], d[2:].strip()) for d in changed] == [
        ("-", '"pool_type": "avg",'),
        ("+", '"pool_type": "max",'),
    ]
