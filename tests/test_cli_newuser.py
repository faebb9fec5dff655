"""What a new user trips over: factory arguments from the command line, a channels-last input,
the checkpoint's findings once, the pooling comparison's border mode, what ``--border-mode all``
means (issue 23); a symbol file without ``--input``, channels-last input to our models, every
missing file named, one receptive-field notation, a set-up without setuptools' warning (issue 30).

The references: MXNet's ``infer_shape`` (which reads a variable's ``__shape__`` itself), the
arrays ``mx.nd.load`` reads from a Gluon export, and setuptools' own choice of editable install.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._cli import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nin100(tmp_path_factory):
    """A checkpoint of nin_cifar10 saved with num_classes=100."""
    from nin_mx import get_symbol
    from nin_mx._mxnet import mx

    sym = get_symbol("nin_cifar10", num_classes=100)
    args, _, _ = sym.infer_shape(data=(1, 3, 32, 32))
    arrays = {
        f"arg:{n}": mx.nd.zeros(s)
        for n, s in zip(sym.list_arguments(), args)
        if n not in ("data", "softmax_label")
    }
    path = tmp_path_factory.mktemp("ckpt") / "nin100-0000.params"
    mx.nd.save(str(path), arrays)
    return str(path)


@pytest.mark.mxnet
def test_model_arg_builds_the_graph_the_checkpoint_came_from(nin100):
    fits = run_cli("nin_cifar10", "--model-arg", "num_classes=100", "--params", nin100, "--format", "json")
    assert fits.returncode == 0, fits.stderr
    doc = json.loads(fits.stdout)
    assert [r["output_shape"] for r in doc["reports"]] == [[1, 100]] * 3
    assert all(r["findings"] == [] for r in doc["reports"])


@pytest.mark.mxnet
def test_the_checkpoints_findings_that_every_mode_shares_are_printed_once(nin100):
    done = run_cli("nin_cifar10", "--params", nin100)
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert "findings under valid: none" in lines and "findings under full: none" in lines
    shared = [line for line in lines if line.startswith("checkpoint findings")]
    assert shared == ["checkpoint findings, the same under every border mode: 2 (2 errors)"]
    assert sum("cccp6_weight is stored as (100, 192, 1, 1)" in line for line in lines) == 1


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        (
            "classes=100",
            "takes no argument 'classes' (it takes num_classes, pool_kernel, pooling_convention)",
        ),
        ("num_classes=ten", "num_classes takes an integer"),
        ("num_classes", "NAME=VALUE"),
        ("border_mode=same", "--border-mode"),
        ("pool_kernel=8,x", "pool_kernel"),
    ],
)
def test_model_arg_usage_errors(arg, words):
    done = run_cli("nin_cifar10", "--model-arg", arg)
    assert done.returncode == 2 and words in done.stderr, done.stderr


@pytest.mark.mxnet
def test_model_arg_types_follow_the_factory():
    done = run_cli(
        "inception_resnet_v2",
        "--model-arg",
        "repeats=1,2,1",
        "--model-arg",
        "dropout=0.5",
        "--border-mode",
        "valid",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    names = [row["name"] for row in json.loads(done.stdout)["reports"][0]["layers"]]
    assert "block17_2_up" in names and "block17_3_up" not in names


@pytest.mark.parametrize(
    ("model", "given", "meant"),
    [
        ("nin_imagenet", ["--input", "224,224,3"], "3,224,224"),
        ("nin_imagenet", ["--input", "224,224,3", "--format", "json"], "3,224,224"),
        ("nin_cifar10", ["--input", "32,32,3"], "3,32,32"),
        ("inception_resnet_v2", ["--shape", "data=1,299,299,3"], "3,299,299"),
    ],
)
def test_a_channels_last_input_to_our_models_is_a_usage_error(model, given, meant):
    """Our models take 3 channels first (docs/reference.md): H,W,3 is no report of a 224-channel
    input (exit 0, wrong numbers) but a usage error with the C,H,W meant."""
    done = run_cli(model, *given)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("nin-shape-report: error: ") and len(done.stderr.splitlines()) == 1
    assert f"{model} takes 3 channels: did you mean C,H,W = {meant}?" in done.stderr


@pytest.mark.mxnet
def test_an_input_of_three_channels_first_is_no_channels_last_input():
    done = run_cli("nin_cifar10", "--input", "3,32,3", "--border-mode", "full")  # C,H,W = 3,32,3
    assert done.returncode == 0 and "channels-last" not in done.stderr, done.stderr


@pytest.mark.mxnet
def test_compare_pooling_names_its_border_mode():
    done = run_cli("nin_cifar10", "--compare-pooling", "--border-mode", "valid", "--format", "json")
    assert json.loads(done.stdout)["pooling_comparison"]["border_mode"] == "valid"
    table = run_cli("nin_cifar10", "--compare-pooling")
    assert "pooling (reference): manual kernel 8x8" in table.stdout


@pytest.mark.mxnet
def test_border_mode_all_is_what_help_says():
    assert "all, which is valid,same,full" in " ".join(run_cli("--help").stdout.split())
    every = json.loads(run_cli("nin_cifar10", "--border-mode", "all", "--format", "json").stdout)
    assert [r["border_mode"] for r in every["reports"]] == ["valid", "same", "full"]


@pytest.mark.mxnet
def test_compare_pooling_builds_the_model_with_its_model_args():
    done = run_cli("nin_imagenet", "--model-arg", "pooling_convention=valid", "--compare-pooling")
    assert "manual kernel 5x5 at input 1x3x224x224" in done.stdout  # floor pools: a 5x5 last map


@pytest.mark.mxnet
def test_a_stage_leaves_by_its_trunk_and_prints_rf_as_the_layer_view():
    """docs/reference.md: 17x17x1088 after Mixed_6a and the block17s; Mixed_7a's branches are
    not the stage's output, though their 1x1 convolutions come last in graph order."""
    doc = json.loads(run_cli("inception_resnet_v2", "--view", "stages", "--format", "json").stdout)
    rows = {row["name"]: row for row in doc["reports"][0]["view_rows"]}  # valid
    assert rows["stage6"]["output_shape"] == [1, 1088, 17, 17]
    assert rows["stage7"]["input_shape"] == [1, 1088, 17, 17]
    assert rows["stage5"]["output_shape"] == [1, 320, 35, 35]
    table = run_cli("nin_cifar10", "--view", "stages").stdout.splitlines()
    stage1 = next(line for line in table if line.startswith("stage1 "))
    assert stage1.endswith(" 5x5")


# --- a symbol file without --input (issue 30) ------------------------------------------------


def _export(
    folder: Path, name: str, input_shape: tuple[int, ...], *, dense: bool = False, pool: bool = True
) -> dict:
    """A Gluon network (in_channels left to the input, as the model zoo's are) exported at
    ``input_shape``: its files, and the checkpoint's arrays as ``mx.nd.load`` reads them."""
    from nin_mx._mxnet import mx

    net = mx.gluon.nn.HybridSequential(prefix=f"{name}_")
    with net.name_scope():
        net.add(mx.gluon.nn.BatchNorm(), mx.gluon.nn.Conv2D(8, 3, strides=2), mx.gluon.nn.Activation("relu"))
        if pool:
            net.add(mx.gluon.nn.MaxPool2D(3, 2))
        net.add(mx.gluon.nn.Dense(10) if dense else mx.gluon.nn.GlobalAvgPool2D())
    mx.random.seed(0)
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros(input_shape))
    net.export(str(folder / name))
    symbol = folder / f"{name}-symbol.json"
    params = folder / f"{name}-0000.params"
    loaded = {k.partition(":")[2]: v.shape for k, v in mx.nd.load(str(params)).items()}
    return {"symbol": str(symbol), "params": str(params), "arrays": loaded}


def _proposed(stderr: str) -> tuple[int, ...]:
    found = re.findall(r"e\.g\. --input ([0-9,]+)", stderr)
    assert len(found) == 1, stderr
    return tuple(int(v) for v in found[0].split(","))


def _mxnet_takes(symbol: str, shape: tuple[int, ...], arrays: dict | None = None) -> bool:
    """Whether MXNet infers the graph at ``shape`` (and, given a checkpoint's arrays, whether
    every array it infers has the checkpoint's shape)."""
    from nin_mx._mxnet import mx

    sym = mx.sym.load(symbol)
    try:
        args, _, _ = sym.infer_shape(data=shape)
    except mx.MXNetError:
        return False
    if args is None or any(0 in s for s in args):
        return False
    if arrays is None:
        return True
    inferred = dict(zip(sym.list_arguments(), args))
    return all(inferred[name] == stored for name, stored in arrays.items() if name in inferred)


@pytest.fixture(scope="module")
def five(tmp_path_factory):
    """A 5-channel network: MXNet's own checkpoint says 5; nothing else does."""
    return _export(tmp_path_factory.mktemp("five"), "five", (1, 5, 40, 40))


@pytest.mark.mxnet
def test_a_file_without_input_says_what_it_fixes_and_proposes_a_size_mxnet_takes(five):
    done = run_cli(five["symbol"])
    assert (done.returncode, done.stdout) == (2, "")
    line = done.stderr.strip()
    assert len(done.stderr.splitlines()) == 1 and "needs --input C,H,W" in line
    assert "'data' has no __shape__" in line and "--params FILE reads it from a checkpoint" in line
    assert "is a guess" in line  # nothing in the file fixes the channel count
    proposed = _proposed(line)
    assert _mxnet_takes(five["symbol"], (1, *proposed))
    smallest = re.search(r"the smallest square input every layer accepts is (\d+)x(\d+)x(\d+)", line)
    channels, side = int(smallest[1]), int(smallest[2])
    assert _mxnet_takes(five["symbol"], (1, channels, side, side))
    assert not _mxnet_takes(five["symbol"], (1, channels, side - 1, side - 1))


@pytest.mark.mxnet
def test_with_params_the_proposal_has_the_checkpoints_channels(five):
    done = run_cli(five["symbol"], "--params", five["params"])
    assert done.returncode == 2, done.stderr
    weight = "five_conv0_weight"
    stored = five["arrays"][weight]  # (8, 5, 3, 3) as mx.nd.load reads it
    assert (
        f"{weight} is {'x'.join(map(str, stored))} in {five['params']}: {stored[1]} channels" in done.stderr
    )
    proposed = _proposed(done.stderr)
    assert proposed[0] == stored[1] and "guess" not in done.stderr
    assert _mxnet_takes(five["symbol"], (1, *proposed), five["arrays"])  # the checkpoint fits it


@pytest.mark.mxnet
def test_with_params_a_flattening_dense_layer_fixes_the_size_proposed(tmp_path):
    """A Dense after a flattened map: its stored weight fits a few input sizes only; the
    proposal is one of them (MXNet infers the checkpoint's shapes there)."""
    net = _export(tmp_path, "flat", (1, 3, 33, 33), dense=True)
    done = run_cli(net["symbol"], "--params", net["params"])
    assert done.returncode == 2 and "flat_dense0_weight in" in done.stderr, done.stderr
    proposed = _proposed(done.stderr)
    assert _mxnet_takes(net["symbol"], (1, *proposed), net["arrays"])
    assert not _mxnet_takes(net["symbol"], (1, 3, 23, 23), net["arrays"])  # the smallest it accepts


@pytest.mark.mxnet
def test_a_file_whose_data_input_has_a_shape_needs_no_input(tmp_path):
    """``mx.sym.var('data', shape=...)`` saves ``__shape__``; MXNet's infer_shape with no
    arguments reads it, and so does the report."""
    from nin_mx._mxnet import mx

    data = mx.sym.var("data", shape=(2, 3, 20, 20))
    conv = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    sym = mx.sym.Pooling(conv, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    path = tmp_path / "shaped-symbol.json"
    sym.save(str(path))
    _, (out,), _ = sym.infer_shape()
    done = run_cli(str(path), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["input_shapes"] == {"data": [2, 3, 20, 20]}
    assert doc["reports"][0]["output_shape"] == list(out)
    _, (four,), _ = sym.infer_shape(data=(4, 3, 20, 20))
    batch = json.loads(run_cli(str(path), "--batch", "4", "--format", "json").stdout)
    assert batch["reports"][0]["output_shape"] == list(four)


@pytest.mark.mxnet
def test_what_the_file_itself_fixes_of_the_channels_is_proposed(tmp_path):
    """A weight saved with its shape, or a data input whose __shape__ leaves only the sizes open
    (0): MXNet then takes that channel count only, and the proposal has it."""
    from nin_mx._mxnet import mx

    weight = mx.sym.var("conv_weight", shape=(8, 5, 3, 3))
    for data, name in ((mx.sym.var("data"), "weight"), (mx.sym.var("data", shape=(0, 5, 0, 0)), "open")):
        sym = mx.sym.Convolution(data, weight, kernel=(3, 3), num_filter=8, no_bias=True, name="conv")
        path = str(tmp_path / f"{name}-symbol.json")
        sym.save(path)
        done = run_cli(path)
        assert done.returncode == 2 and "5 channels" in done.stderr and "guess" not in done.stderr, (
            done.stderr
        )
        proposed = _proposed(done.stderr)
        assert proposed[0] == 5 and _mxnet_takes(path, (1, *proposed))
        assert not _mxnet_takes(path, (1, 3, *proposed[1:]))  # the weight's 5 channels, not 3
    assert (
        "conv_weight is 8x5x3x3 in the file: 5 channels"
        in run_cli(str(tmp_path / "weight-symbol.json")).stderr
    )


@pytest.mark.mxnet
def test_a_checkpoint_names_the_channels_in_the_channels_last_note(tmp_path):
    three = _export(tmp_path, "three", (1, 3, 40, 40), pool=False)
    stored = three["arrays"]["three_conv0_weight"][1]
    named = run_cli(three["symbol"], "--input", "40,40,3", "--params", three["params"])
    assert f"three_conv0_weight in {three['params']} takes {stored} channels" in named.stderr
    assert "did you mean C,H,W = 3,40,40?" in named.stderr
    plain = run_cli(three["symbol"], "--input", "40,40,3")  # no checkpoint: a note, as before
    assert plain.returncode == 0 and "did you mean C,H,W = 3,40,40?" in plain.stderr
    assert "takes 3 channels" not in plain.stderr
    wide = _export(tmp_path, "wide", (1, 40, 40, 3), pool=False)  # truly 40 channels of 40x3
    taken = run_cli(wide["symbol"], "--input", "40,40,3", "--params", wide["params"])
    assert (taken.returncode, taken.stderr) == (0, "")


# --- files: every missing one named, before what depends on a file ----------------------------


def test_every_missing_file_is_named_before_anything_else(tmp_path):
    symbol, params = tmp_path / "gone-symbol.json", tmp_path / "gone-0000.params"
    both = run_cli(str(symbol), "--params", str(params))  # and no --input
    assert both.returncode == 1 and both.stdout == ""
    assert both.stderr == f"nin-shape-report: {symbol}: no such file; {params}: no such file\n"
    other = tmp_path / "other-symbol.json"
    diff = run_cli(str(symbol), "--diff", str(other), "--input", "3,32,32")
    assert diff.stderr == f"nin-shape-report: {symbol}: no such file; {other}: no such file\n"
    alone = run_cli(str(symbol))
    assert (alone.returncode, alone.stderr) == (1, f"nin-shape-report: {symbol}: no such file\n")


# --- one receptive-field notation ----------------------------------------------------------------


@pytest.mark.mxnet
def test_the_receptive_field_reads_the_same_in_every_view():
    """Inception-ResNet-v2's global pool at 299: 3263, 3327 and 3391 pixels under valid, same
    and full (README); the layer view and the stage view print the one cell, a square by its
    side where the modes differ (the layer table then fits 100 columns, tests/test_render.py)."""
    layers = run_cli("inception_resnet_v2").stdout.splitlines()
    stages = run_cli("inception_resnet_v2", "--view", "stages").stdout.splitlines()
    cell = "3263/3327/3391"
    assert next(ln for ln in layers if ln.startswith("global_pool ")).split()[-1] == cell
    assert next(ln for ln in stages if ln.startswith("stage8 ")).split()[-1] == cell


# --- set-up: no setuptools warning --------------------------------------------------------------


def test_the_editable_install_is_a_path_entry_without_setuptools_warning():
    """setuptools (>= 64) makes an editable install either a .pth line naming the source folder
    (a layout it calls simple) or a meta path finder, whose install warns "Editable
    installation ... folders in your working directory with the same name as your package".
    The choice, and the warning, are setuptools' own (command/editable_wheel.py)."""
    pytest.importorskip("setuptools.command.editable_wheel")
    script = (
        "import json, warnings\n"
        "from setuptools.dist import Distribution\n"
        "from distutils.core import run_setup\n"
        "dist = run_setup('setup.py', stop_after='config')\n"
        "cmd = dist.get_command_obj('editable_wheel')\n"
        "cmd.ensure_finalized()\n"
        "strategy = cmd._select_strategy('nin_mx', 'py3-none-any', 'build/lib')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    with strategy:\n"
        "        pass\n"
        "print(json.dumps({'strategy': type(strategy).__name__,\n"
        "    'paths': [str(p) for p in getattr(strategy, 'path_entries', [])],\n"
        "    'warnings': [str(w.message) for w in caught]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["strategy"] == "_StaticPth", found
    assert [Path(p).resolve() for p in found["paths"]] == [ROOT]
    assert not [w for w in found["warnings"] if "Editable installation" in w], found
