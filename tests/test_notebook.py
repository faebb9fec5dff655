"""The Jupyter walkthrough (notebooks/walkthrough.ipynb) runs, and its committed copy shows its outputs.

The notebook's cells are written by notebooks/build_walkthrough.py; the committed ``.ipynb``
keeps the outputs of a real run (``python notebooks/build_walkthrough.py`` regenerates and
executes it). These tests execute the committed notebook top to bottom in a real Jupyter
kernel of this interpreter, and check that the committed copy is the generator's notebook
with the outputs a reader browsing the repository expects: the border-mode plots, the graph
drawings and the pooling comparison.

The notebook runs on every leg: where MXNet is missing (Python 3.13) its forward passes run in
onnxruntime and the lines whose point is MXNet itself say that it is missing. So the lines that
name MXNet, Gluon or onnxruntime may differ between legs; every other line a cell prints is the
same everywhere, and the committed copy (a run with MXNet, on Python 3.11) holds MXNet's.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

import nin_mx._mxnet

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
GENERATOR = ROOT / "notebooks" / "build_walkthrough.py"
SCRIPT = ROOT / "scripts" / "notebook.sh"
MAX_BYTES = 1_500_000
PAGE_PT = 720  # a drawing wider than 10 inches does not fit a notebook's page
# Words of the lines that depend on what is installed (MXNet, or onnxruntime where it is missing).
RUNTIME_WORDS = ("MXNet", "Gluon", "onnxruntime")


def _load_generator():
    spec = importlib.util.spec_from_file_location("build_walkthrough", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_walkthrough = _load_generator()


def _tagged(nb, tag):
    return [cell for cell in nb.cells if tag in cell.get("metadata", {}).get("tags", [])]


def _text(cell):
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def check_outputs(nb):
    """The outputs of a notebook run from top to bottom, without errors or stderr noise."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        "code cells were not run once each, top to bottom"
    )
    for index, cell in enumerate(code, 1):
        assert cell.outputs, f"code cell {index} has no output"
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {index} raised {output.get('ename')}"
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"code cell {index} wrote to stderr: {output.text[:200]!r}"
            )

    plots = _tagged(nb, build_walkthrough.TAG_PLOT)
    assert plots, "no plot cell"
    for cell in plots:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), "a plot cell has no image/png"

    graphs = _tagged(nb, build_walkthrough.TAG_GRAPH)
    assert len(graphs) == 2, "expected two graph drawings (mlpconv and block35)"
    for cell in graphs:
        svg = [o.data["image/svg+xml"] for o in cell.outputs if "image/svg+xml" in o.get("data", {})]
        assert svg and "<svg" in svg[0], "a graph cell has no image/svg+xml drawing"
    assert "block35_1_add" in "".join(graphs[1].outputs[-1].data["image/svg+xml"])
    for cell in graphs:  # each drawing fits the page's width, at its own size
        svg = "".join(cell.outputs[-1].data["image/svg+xml"])
        width = float(re.search(r'<svg[^>]* width="([\d.]+)pt"', svg).group(1))
        assert width <= PAGE_PT, f"a graph drawing is {width}pt wide"

    pooling = "".join(_text(cell) for cell in _tagged(nb, build_walkthrough.TAG_POOLING))
    assert "inception_resnet_v2 at 299x299: manual kernel (8, 8)" in pooling
    assert "every internal shape equal: True" in pooling
    assert "manual -> kernel (8, 8) exceeds input (5, 5)" in pooling

    check = "".join(_text(cell) for cell in _tagged(nb, build_walkthrough.TAG_CHECK))
    manual, global_ = check.split("--- Inception-ResNet-v2, global_pool=True\n")
    assert manual.startswith("--- Inception-ResNet-v2, manual 8x8 kernel\nfindings: 1 (1 warning)\n")
    assert "  warning fixed-global-pool at global_pool: fixed 8x8 average pool" in manual
    assert global_ == "findings: none\n"
    diff = "".join(_text(cell) for cell in _tagged(nb, build_walkthrough.TAG_DIFF))
    assert "--- at 299x299: DiffCounts(same=822, changed=1, only_a=0, only_b=0)" in diff  # the pool only
    assert "--- at 331x331: DiffCounts(same=819, changed=4," in diff  # the pool, flatten, dropout, fc
    html = [
        o.data["text/html"] for c in _tagged(nb, build_walkthrough.TAG_DIFF) for o in c.outputs if "data" in o
    ]
    assert len(html) == 2 and all("global_pool" in "".join(h) for h in html)
    for h in html:  # each side says which graph it is (both symbols are named 'softmax')
        heading = re.search(r"<h1>(.*?)</h1>", "".join(h)).group(1)
        assert heading.startswith("diff: a = Inception-ResNet-v2, global_pool=True (")
        assert "; b = Inception-ResNet-v2, manual 8x8 kernel (" in heading
    fix = "".join(_text(cell) for cell in _tagged(nb, build_walkthrough.TAG_FIX))
    assert "b = Inception-ResNet-v2, manual 8x8 kernel (fixed) (" in fix
    views = _tagged(nb, build_walkthrough.TAG_VIEWS)
    tables = [
        "".join(o.data["text/html"]) for c in views for o in c.outputs if "text/html" in o.get("data", {})
    ]
    assert len(tables) == 3 and all("stage1" in t and "<table" in t for t in tables)


def test_committed_notebook_is_the_generators():
    committed = nbformat.read(NOTEBOOK, as_version=4)
    built = build_walkthrough.build()
    assert [(c.cell_type, c.source, c.get("metadata", {}).get("tags", [])) for c in committed.cells] == [
        (c.cell_type, c.source, c.get("metadata", {}).get("tags", [])) for c in built.cells
    ], "walkthrough.ipynb is out of date: run python notebooks/build_walkthrough.py"


def test_committed_notebook_keeps_its_outputs():
    assert NOTEBOOK.stat().st_size < MAX_BYTES
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    check_outputs(nb)
    # The committed run is one with MXNet: its numbers, its infer_shape, its Gluon export.
    printed = "".join(_printed(nb))
    assert "nin_mx 0.1.0, MXNet 1.9.1\n" in printed
    assert "max |difference| of pooled features and softmax (MXNet 1.9.1): 0\n" in printed
    assert "MXNet's infer_shape agrees on all 18 cases\n" in printed
    assert "Gluon:            475,544 values in collect_params()\n" in printed
    assert "not installed" not in printed


def test_every_image_is_described_in_the_markdown_right_before_it():
    nb = build_walkthrough.build()
    images = [
        i for i, c in enumerate(nb.cells) if {"plot", "graph"} & set(c.get("metadata", {}).get("tags", []))
    ]
    assert len(images) == 3  # the border-mode plot and the two drawings
    for index in images:
        before = nb.cells[index - 1]
        assert before.cell_type == "markdown"
        assert before.source.splitlines()[-1] and "*Image below:*" in before.source.split("\n\n")[-1]


def test_the_closing_lines_say_what_reproduces_each_table():
    closing = build_walkthrough.build().cells[-1].source
    assert "`--border-mode all` means\n`valid,same,full`" in closing
    assert "`nin-shape-report nin_cifar10 --border-mode reference`" in closing  # section 1's table
    assert "--border-mode reference,valid,same,full --min-input" in closing


def test_the_notebook_script_is_valid_bash_and_opens_the_walkthrough():
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    text = SCRIPT.read_text(encoding="utf-8")
    assert "NOTEBOOK=notebooks/walkthrough.ipynb" in text and '"$NOTEBOOK"' in text
    assert "bash scripts/bootstrap.sh" in text  # the project's environment first
    assert "pip install" in text and "'notebook>=7'" in text  # then Jupyter, when missing
    assert "--no-browser" in text and "DISPLAY" in text  # no browser without a display
    assert (
        'echo "notebook: the walkthrough is at http://127.0.0.1:$port/notebooks/$NOTEBOOK?token=$token"'
        in text
    )


def test_notebook_downloads_nothing():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "pretrained=False" in source
    for forbidden in ("pretrained=True", "download", "urlopen", "requests", "!pip", "%pip"):
        assert forbidden not in source, forbidden


def _printed(nb):
    """The text each code cell printed (stdout), by cell: the notebook's deterministic output."""
    return [
        "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def _without_runtime_lines(text):
    return [line for line in text.splitlines() if not any(word in line for word in RUNTIME_WORDS)]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The committed notebook without its outputs, run top to bottom here (once per module)."""
    if shutil.which("dot") is None:
        pytest.fail("Graphviz 'dot' is missing: run scripts/bootstrap.sh (Debian package graphviz)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    build_walkthrough.execute(nb, tmp_path_factory.mktemp("walkthrough"))  # raises for a failing cell
    return nb


def test_notebook_executes_top_to_bottom(executed):
    check_outputs(executed)
    committed = nbformat.read(NOTEBOOK, as_version=4)
    # The committed outputs are those of the committed code: the printed text is reproducible,
    # here and on a leg without MXNet, but for the lines that name what ran.
    for index, (fresh, kept) in enumerate(zip(_printed(executed), _printed(committed)), 1):
        assert _without_runtime_lines(fresh) == _without_runtime_lines(kept), (
            f"code cell {index} prints other text than the committed notebook shows: "
            "run python notebooks/build_walkthrough.py"
        )
    printed = "".join(_printed(executed))
    if nin_mx._mxnet.mxnet_available():
        assert "max |difference| of pooled features and softmax (MXNet 1.9.1): 0\n" in printed
    else:  # the numbers from onnxruntime, and one line where MXNet itself would answer
        runtime = re.search(
            r"MXNet is not installed \(Python [\d.]+\): forward passes run in (onnxruntime [\d.]+)", printed
        )
        assert runtime, printed[:300]
        assert f"max |difference| of pooled features and softmax ({runtime.group(1)}): 0\n" in printed
        assert (
            f"on a 7x7 map of ones, in {runtime.group(1)}: global_pool=True with pad (1, 1) -> 1.0;"
            in printed
        )
        assert (
            "MXNet is not installed here, so its infer_shape (the judge of these sizes) is not asked\n"
            in printed
        )
        assert "Gluon's own count (collect_params) needs MXNet, which is not installed here\n" in printed


@pytest.mark.mxnet
def test_notebook_reproduces_mxnets_lines(executed):
    """With MXNet every printed line is the committed one, MXNet's own lines included."""
    committed = nbformat.read(NOTEBOOK, as_version=4)
    for index, (fresh, kept) in enumerate(zip(_printed(executed), _printed(committed)), 1):
        assert fresh == kept, f"code cell {index} prints other text than the committed notebook shows"
