"""Checkpoints against graphs: files written by MXNet itself (mx.nd.save, mx.model.save_checkpoint,
Module.save_checkpoint, Gluon's export, save_parameters and ParameterDict.save), with expected
shapes from MXNet's infer_shape and input sizes computed by hand.
"""

from __future__ import annotations

import os

import mxnet as mx
import pytest
from mxnet.gluon.model_zoo import vision
from test_rules import _manual

from nin_mx.checks.findings import Severity
from nin_mx.checks.params import PARAMS_RULES, StoredArray, check_params, load_params
from nin_mx.core.errors import GraphError, ShapeError
from nin_mx.graph.source import Graph

DATA = mx.sym.var("data")


def _net(num_hidden: int = 10) -> mx.sym.Symbol:
    """conv 3x3/2 pad 1 (4 channels) -> BatchNorm -> Flatten -> fc. At side S the map is
    (S - 1) // 2 + 1, so fc_weight is (num_hidden, 4 * map^2): (10, 1024) at 31 and 32."""
    x = mx.sym.Convolution(DATA, name="conv", num_filter=4, kernel=(3, 3), stride=(2, 2), pad=(1, 1))
    x = mx.sym.BatchNorm(x, name="bn")
    x = mx.sym.FullyConnected(mx.sym.Flatten(x, name="flatten"), name="fc", num_hidden=num_hidden)
    return mx.sym.SoftmaxOutput(x, name="softmax")


def _arrays(symbol: mx.sym.Symbol, shape: tuple[int, ...]) -> tuple[dict, dict]:
    """Arrays of MXNet's inferred argument and aux shapes (data and label excluded)."""
    args, _, auxs = symbol.infer_shape(data=shape)
    arg = {
        n: mx.nd.ones(s) for n, s in zip(symbol.list_arguments(), args) if n not in ("data", "softmax_label")
    }
    aux = {n: mx.nd.ones(s) for n, s in zip(symbol.list_auxiliary_states(), auxs)}
    return arg, aux


def _checkpoint(tmp_path, symbol, shape, **changes) -> str:
    """mx.model.save_checkpoint (arg:/aux: prefixes) of the arrays at ``shape``."""
    arg, aux = _arrays(symbol, shape)
    for name, value in changes.items():
        target = aux if name in aux else arg
        if value is None:
            del target[name]
        else:
            target[name] = value
    prefix = str(tmp_path / "net")
    mx.model.save_checkpoint(prefix, 0, symbol, arg, aux)
    return f"{prefix}-0000.params"


def _check(symbol, shape, params):
    return check_params(Graph.from_symbol(symbol), {"data": shape}, params)


# --- files that fit ----------------------------------------------------------------------------


def test_save_checkpoint_fits(tmp_path):
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    assert _check(_net(), (1, 3, 32, 32), path) == []
    stored = load_params(path)
    assert stored["conv_weight"] == StoredArray("arg", (4, 3, 3, 3))
    assert stored["bn_moving_var"] == StoredArray("aux", (4,))
    assert stored["fc_weight"] == StoredArray("arg", (10, 1024))
    assert "data" not in stored and "softmax_label" not in stored


def test_module_save_checkpoint_fits(tmp_path):
    module = mx.mod.Module(_net(), data_names=["data"], label_names=["softmax_label"])
    module.bind(data_shapes=[("data", (2, 3, 32, 32))], label_shapes=[("softmax_label", (2,))])
    module.init_params()
    module.save_checkpoint(str(tmp_path / "mod"), 3)
    path = str(tmp_path / "mod-0003.params")
    assert {v.kind for v in load_params(path).values()} == {"arg", "aux"}
    assert _check(_net(), (2, 3, 32, 32), path) == []


def test_plain_names_fit_either_kind(tmp_path):
    arg, aux = _arrays(_net(), (1, 3, 32, 32))
    path = str(tmp_path / "plain.params")
    mx.nd.save(path, {**arg, **aux})
    assert {v.kind for v in load_params(path).values()} == {None}
    assert _check(_net(), (1, 3, 32, 32), path) == []


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    """Gluon resnet18_v1 (random init), hybridized, run once, saved three ways."""
    folder = tmp_path_factory.mktemp("resnet")
    mx.random.seed(0)
    net = vision.get_model("resnet18_v1", pretrained=False)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    net(mx.nd.ones((1, 3, 224, 224)))
    net.export(str(folder / "r18"))
    net.save_parameters(str(folder / "structural.params"))
    net.collect_params().save(str(folder / "full-names.params"))
    symbol = mx.sym.load(str(folder / "r18-symbol.json"))
    return symbol, folder


def test_gluon_export_fits(resnet):
    symbol, folder = resnet
    path = str(folder / "r18-0000.params")
    stored = load_params(path)
    assert {v.kind for v in stored.values()} == {"arg", "aux"}
    # Gluon's name prefix (resnetv10_, resnetv11_, ...) counts the nets made before in the process
    assert all(v.kind == "aux" for n, v in stored.items() if n.endswith(("_running_mean", "_running_var")))
    assert len(stored) == len(symbol.list_arguments()) - 1 + len(
        symbol.list_auxiliary_states()
    )  # all but data
    assert _check(symbol, (1, 3, 224, 224), path) == []


def test_gluon_parameter_dict_save_fits(resnet):
    # ParameterDict.save writes the parameters' full names, without prefixes: the symbol's names
    symbol, folder = resnet
    assert _check(symbol, (1, 3, 224, 224), str(folder / "full-names.params")) == []


def test_gluon_save_parameters_is_not_a_checkpoint_of_the_symbol(resnet):
    # save_parameters names blocks (features.0.weight), which no symbol argument is called
    symbol, folder = resnet
    path = str(folder / "structural.params")
    assert "features.0.weight" in load_params(path)
    with pytest.raises(
        GraphError, match=r"shares no array name .* features\.0\.weight, .* save_parameters"
    ) as info:
        _check(symbol, (1, 3, 224, 224), path)
    assert "\n" not in str(info.value) and str(info.value).startswith(path)


# --- files that do not fit ---------------------------------------------------------------------


def test_wrong_num_classes(tmp_path):
    path = _checkpoint(tmp_path, _net(num_hidden=5), (1, 3, 32, 32))
    findings = _check(_net(num_hidden=10), (1, 3, 32, 32), path)
    args, _, _ = _net(num_hidden=10).infer_shape(data=(1, 3, 32, 32))
    inferred = dict(zip(_net().list_arguments(), args))
    assert [(f.rule, f.layer, f.detail["array"]) for f in findings] == [
        ("params-shape", "fc", "fc_weight"),
        ("params-shape", "fc", "fc_bias"),
    ]
    weight, bias = findings
    assert weight.detail["stored"] == [5, 1024] and tuple(weight.detail["expected"]) == inferred["fc_weight"]
    assert bias.detail["stored"] == [5] and tuple(bias.detail["expected"]) == inferred["fc_bias"] == (10,)
    assert not weight.detail["depends_on_input"]  # the input size is not the cause
    assert "fc_weight is stored as (5, 1024), the graph needs (10, 1024)" in weight.message
    assert "num_hidden 5" in weight.message and "num_hidden 5" in bias.message
    assert all(f.severity is Severity.ERROR for f in findings)


def test_wrong_input_size_names_the_input_it_fits(tmp_path):
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    [finding] = _check(_net(), (1, 3, 64, 64), path)
    assert finding.rule == "params-shape" and finding.layer == "fc"
    # at 64 the map is 32x32: (10, 4 * 32 * 32); the stored (10, 1024) is a 16x16 map: sides 31..32
    assert finding.detail["expected"] == [10, 4096] and finding.detail["stored"] == [10, 1024]
    assert finding.detail["depends_on_input"]
    assert finding.detail["fits_input"] == [[3, 31, 31], [3, 32, 32]]
    assert "the checkpoint fits inputs 3x31x31 to 3x32x32" in finding.message
    weight = {
        s: dict(zip(_net().list_arguments(), _net().infer_shape(data=(1, 3, s, s))[0]))["fc_weight"]
        for s in (30, 31, 32, 33)
    }
    assert weight[31] == weight[32] == (10, 1024) and (10, 1024) not in (weight[30], weight[33])


def test_a_flattened_size_no_square_input_gives(tmp_path):
    # 4 * m * m == 1000 has no integer m
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32), fc_weight=mx.nd.ones((10, 1000)))
    [finding] = _check(_net(), (1, 3, 32, 32), path)
    assert finding.detail["depends_on_input"] and finding.detail["fits_input"] is None
    assert "fits no square input" in finding.message


def test_after_a_global_pool_the_weight_does_not_depend_on_the_input(tmp_path):
    pooled = mx.sym.Pooling(
        mx.sym.Convolution(DATA, name="conv", num_filter=4, kernel=(3, 3)), global_pool=True, pool_type="avg"
    )
    symbol = mx.sym.FullyConnected(mx.sym.Flatten(pooled), name="fc", num_hidden=10)
    arg, _ = _arrays(symbol, (1, 3, 32, 32))
    assert arg["fc_weight"].shape == (10, 4) == _arrays(symbol, (1, 3, 64, 64))[0]["fc_weight"].shape
    arg["fc_weight"] = mx.nd.ones((10, 8))  # from a graph of 8 channels
    path = str(tmp_path / "eight.params")
    mx.nd.save(path, arg)
    [finding] = _check(symbol, (1, 3, 32, 32), path)
    assert not finding.detail["depends_on_input"] and finding.detail["fits_input"] is None
    assert "saved for other layer sizes" in finding.message


def test_the_input_a_classifier_after_a_fixed_pool_fits():
    # inception_resnet_v2 with the manual 8x8 pool, run at 331: the pool gives 2x2, fc needs 4 * 1536
    # inputs; a checkpoint of the 1x1 graph (fc_weight (1000, 1536)) fits inputs 299..330 (see
    # test_rules's hand computation). A loaded mapping: no 220 MB file.
    symbol = _manual("inception_resnet_v2", (1, 3, 299, 299), (8, 8))
    args, _, auxs = symbol.infer_shape(data=(1, 3, 299, 299))
    stored = {
        n: StoredArray("arg", s)
        for n, s in zip(symbol.list_arguments(), args)
        if n not in ("data", "softmax_label")
    }
    stored.update((n, StoredArray("aux", s)) for n, s in zip(symbol.list_auxiliary_states(), auxs))
    [finding] = _check(symbol, (1, 3, 331, 331), stored)
    assert finding.detail["array"] == "fc_weight" and finding.detail["expected"] == [1000, 4 * 1536]
    assert finding.detail["fits_input"] == [[3, 299, 299], [3, 330, 330]]


def test_missing_arrays(tmp_path):
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32), conv_bias=None, bn_moving_mean=None)
    findings = _check(_net(), (1, 3, 32, 32), path)
    assert [(f.rule, f.layer, f.detail["array"], f.detail["kind"]) for f in findings] == [
        ("params-missing", "conv", "conv_bias", "arg"),
        ("params-missing", "bn", "bn_moving_mean", "aux"),
    ]
    assert findings[0].message.startswith("conv_bias (4,) is not in the checkpoint")


def test_unexpected_arrays(tmp_path):
    arg, aux = _arrays(_net(), (1, 3, 32, 32))
    path = str(tmp_path / "extra.params")
    extra = {"arg:fc2_weight": mx.nd.ones((3, 3)), "arg:data": mx.nd.ones((1, 3, 32, 32))}
    mx.nd.save(
        path, {**{f"arg:{k}": v for k, v in arg.items()}, **{f"aux:{k}": v for k, v in aux.items()}, **extra}
    )
    findings = _check(_net(), (1, 3, 32, 32), path)
    assert [(f.rule, f.layer, f.detail["array"]) for f in findings] == [
        ("params-unexpected", None, "fc2_weight"),
        ("params-unexpected", "conv", "data"),
    ]
    assert (
        "arg:fc2_weight (3, 3) is in the checkpoint, but fc2_weight is no array of the graph"
        in findings[0].message
    )
    assert "data is a data input or label of the graph" in findings[1].message


def test_an_aux_stored_as_an_argument(tmp_path):
    arg, aux = _arrays(_net(), (1, 3, 32, 32))
    path = str(tmp_path / "kinds.params")
    saved = {f"arg:{k}": v for k, v in arg.items()}
    saved.update({"aux:bn_moving_mean": aux["bn_moving_mean"], "arg:bn_moving_var": aux["bn_moving_var"]})
    mx.nd.save(path, saved)
    [finding] = _check(_net(), (1, 3, 32, 32), path)  # one finding: not also an unexpected arg
    assert finding.rule == "params-missing" and finding.detail["stored_kind"] == "arg"
    assert "stored as arg:bn_moving_var, but it is an auxiliary state" in finding.message
    assert "save it as aux:bn_moving_var" in finding.message


def test_rule_table():
    assert list(PARAMS_RULES) == ["params-missing", "params-unexpected", "params-shape"]
    assert {rule.severity for rule in PARAMS_RULES.values()} == {Severity.ERROR}


def test_the_graph_must_take_the_input(tmp_path):
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    symbol = mx.sym.Convolution(DATA, name="conv", num_filter=4, kernel=(5, 5))
    with pytest.raises(ShapeError, match="too small"):
        check_params(Graph.from_symbol(symbol), {"data": (1, 3, 4, 4)}, path)


# --- files that are not checkpoints: one line each ---------------------------------------------


def _one_line_error(path) -> str:
    with pytest.raises(GraphError) as info:
        load_params(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_truncated_file(tmp_path):
    whole = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    with open(whole, "rb") as handle:
        data = handle.read()
    for cut in (len(data) // 2, 12):
        path = tmp_path / f"cut{cut}.params"
        path.write_bytes(data[:cut])
        assert "truncated or corrupt MXNet NDArray file" in _one_line_error(path)


def test_text_and_json_files(tmp_path):
    text = tmp_path / "notes.params"
    text.write_text("not weights\n")
    assert _one_line_error(text).endswith("not an MXNet NDArray (.params) file")
    graph = tmp_path / "net-symbol.json"
    _net().save(str(graph))
    assert "a -symbol.json is the graph" in _one_line_error(graph)


def test_missing_empty_and_directory(tmp_path):
    assert _one_line_error(tmp_path / "absent.params").endswith("no such file")
    assert _one_line_error(tmp_path).endswith("is a directory, not a .params file")
    empty = tmp_path / "empty.params"
    empty.write_bytes(b"")
    assert _one_line_error(empty).endswith("the file is empty")


def test_unnamed_list_and_duplicate_names(tmp_path):
    unnamed = str(tmp_path / "list.params")
    mx.nd.save(unnamed, [mx.nd.ones((2,)), mx.nd.ones((3,))])
    assert "holds 2 arrays without names (saved as a list)" in _one_line_error(unnamed)
    twice = str(tmp_path / "twice.params")
    mx.nd.save(twice, {"arg:w": mx.nd.ones((2,)), "aux:w": mx.nd.ones((2,))})
    assert "stores the array 'w' twice" in _one_line_error(twice)
    nothing = str(tmp_path / "nothing.params")
    mx.nd.save(nothing, {})  # MXNet reads an empty dict back as an empty list
    assert load_params(nothing) == {}
    assert {f.rule for f in _check(_net(), (1, 3, 32, 32), nothing)} == {"params-missing"}


def test_a_path_like_is_accepted(tmp_path):
    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    assert load_params(os.fspath(path)) == load_params(tmp_path / "net-0000.params")


def test_the_checkpoint_check_reuses_the_shapes_of_the_report(tmp_path, monkeypatch):
    """A report and the check of its checkpoint at the same input size infer the graph's shapes
    once (the Graph keeps them); another size infers again."""
    import nin_mx.graph.shapes as shapes_module
    from nin_mx.checks.check import diagnose
    from nin_mx.report.rows import report_graph

    path = _checkpoint(tmp_path, _net(), (1, 3, 32, 32))
    runs = []
    real = shapes_module.infer_graph
    monkeypatch.setattr(shapes_module, "infer_graph", lambda *a, **k: runs.append(a[1]) or real(*a, **k))
    graph = Graph.from_symbol(_net())
    report = report_graph(graph, (1, 3, 32, 32))
    assert diagnose(graph, report, pitfalls=False, params=path) == []
    assert runs == [{"data": (1, 3, 32, 32)}]
    [finding] = diagnose(graph, report_graph(graph, (1, 3, 8, 8)), pitfalls=False, params=path)
    assert finding.rule == "params-shape" and "fc_weight" in finding.message
    assert {"data": (1, 3, 8, 8)} in runs
