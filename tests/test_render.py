"""Renderers: every format parses, holds the report's numbers, and the JSON is the README's."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
from _contract import CSV_COLUMNS

from nin_mx import check, compare_border_modes, compare_pooling
from nin_mx.checks.findings import Finding
from nin_mx.document import Document
from nin_mx.render import (
    SCHEMA_VERSION,
    OutputFormat,
    parse_format,
    render,
    render_csv,
    render_html,
    render_json,
    render_markdown,
    render_table,
    to_dict,
)
from nin_mx.render.cells import finding_lines, mib
from nin_mx.report.rows import LayerRow, Report

README = Path(__file__).resolve().parents[1] / "README.md"


def _doc(shape=(1, 3, 32, 32), modes=("valid", "same", "full"), **extra) -> Document:
    reports = compare_border_modes("nin_cifar10", shape, modes=modes)
    return Document("nin_cifar10", reports[0].input_shapes, reports, **extra)


@pytest.fixture(scope="module")
def nin_doc() -> Document:
    return _doc()


@pytest.fixture(scope="module")
def failing_doc() -> Document:
    return _doc((1, 3, 8, 8))


@pytest.fixture(scope="module")
def full_doc() -> Document:
    """With the pooling comparison, minimum sizes and findings, as --compare-pooling --min-input
    --check."""
    reports = compare_border_modes("nin_cifar10", (1, 3, 32, 32))
    findings = [check("nin_cifar10", (1, 3, 32, 32), border_mode=r.border_mode) for r in reports]
    assert all(findings)  # the pools' ceil rounding, at least: every finding key is emitted
    return Document(
        "nin_cifar10",
        reports[0].input_shapes,
        reports,
        pooling_comparison=compare_pooling("nin_cifar10", (1, 3, 32, 32)),
        min_input={"valid": 24, "same": 6, "full": 1},
        findings=findings,
    )


def _tiny_report(mode: str = "valid") -> Report:
    """A hand-made two-layer report: renderers depend on the dataclasses only."""
    conv = LayerRow(
        name="c1",
        op="Convolution",
        inputs=("data",),
        output_shape=(1, 4, 6, 6),
        params=1234567,
        aux=0,
        macs=3_000_000,
        kernel=(3, 3),
        stride=(1, 1),
        pad=(0, 0),
        dilate=(1, 1),
        receptive_field=(3, 3),
        jump=(1, 1),
    )
    flat = LayerRow("f", "Flatten", ("c1",), (1, 144), 0, 0, 0)
    return Report(
        model="tiny",
        border_mode=mode,
        input_shapes={"data": (1, 2, 8, 8)},
        ok=True,
        error=None,
        failed_at=None,
        layers=(conv, flat),
        output_shape=(1, 144),
        total_params=1234567,
        total_aux=0,
        total_macs=3_000_000,
        activation_bytes=4 * (144 + 144),
        notes=("a note",),
    )


# --- JSON -------------------------------------------------------------------------------------


def test_json_layout(nin_doc):
    text = render_json(nin_doc)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert list(data) == ["schema_version", "model", "input_shape", "input_shapes", "reports"]
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["model"] == "nin_cifar10"
    assert data["input_shape"] == [1, 3, 32, 32]
    assert data["input_shapes"] == {"data": [1, 3, 32, 32]}
    assert [r["border_mode"] for r in data["reports"]] == ["valid", "same", "full"]
    for entry, report in zip(data["reports"], nin_doc.reports):
        assert list(entry) == [
            "border_mode",
            "ok",
            "error",
            "failed_at",
            "layers",
            "output_shape",
            "total_params",
            "total_aux",
            "total_macs",
            "activation_bytes",
            "notes",
        ]
        assert entry["total_params"] == report.total_params == 966_986
        assert entry["output_shape"] == [1, 10]
        assert [layer["name"] for layer in entry["layers"]] == [r.name for r in report.layers]
        conv1 = entry["layers"][0]
        assert list(conv1) == list(LayerRow._fields)
        assert conv1["inputs"] == ["data"] and conv1["kernel"] == [5, 5]
        assert entry["layers"][-1]["receptive_field"] is None  # softmax: null, not "-"
    assert render_json(nin_doc) == text  # stable


def test_json_failing_mode(failing_doc):
    data = json.loads(render_json(failing_doc))
    valid = data["reports"][0]
    assert valid["ok"] is False and valid["failed_at"] == "conv2"
    assert valid["output_shape"] is None and "conv2" in valid["error"]
    assert [layer["name"] for layer in valid["layers"]][-1] == "drop1"
    assert [r["ok"] for r in data["reports"]] == [False, True, True]


def test_json_optional_sections(full_doc):
    data = json.loads(render_json(full_doc))
    assert data["min_input"] == {"valid": 24, "same": 6, "full": 1}
    pooling = data["pooling_comparison"]
    assert pooling["manual_kernel"] == [8, 8]  # conv3's 8 x 8 map at 32 x 32
    assert pooling["shapes_equal"] is True
    assert pooling["probe_shape"] == [1, 3, 24, 24]
    assert list(pooling) == [f.name for f in dataclasses.fields(full_doc.pooling_comparison)]


def _emitted_keys(value, parent: str = "") -> set[str]:
    """Every field name in a to_dict() result; the keys of name->value maps are data."""
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            if parent not in ("input_shapes", "min_input", "detail"):
                keys.add(key)
            keys |= _emitted_keys(child, key)
    elif isinstance(value, list):
        for child in value:
            keys |= _emitted_keys(child, parent)
    return keys


def _readme_json_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## JSON output\n(.*?)(?=^## )", text + "\n## ", flags=re.M | re.S)
    assert match, "README.md has no '## JSON output' section"
    return match.group(1)


def test_readme_documents_every_json_field(full_doc, failing_doc):
    section = _readme_json_section()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    emitted = _emitted_keys(to_dict(full_doc)) | _emitted_keys(to_dict(failing_doc))
    assert emitted - documented == set(), "fields missing from README '## JSON output'"
    assert documented - emitted == set(), "README documents fields the code does not emit"


def test_readme_json_tables_name_their_objects():
    section = _readme_json_section()
    for heading in (
        "### Top level",
        "### `reports[]`",
        "### `reports[].layers[]`",
        "### `pooling_comparison`",
        "### `reports[].findings[]`",
    ):
        assert heading in section


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_rows(nin_doc):
    rows = list(csv.DictReader(io.StringIO(render_csv(nin_doc))))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(r.layers) for r in nin_doc.reports) == 3 * 25
    first = rows[0]
    assert first["border_mode"] == "valid" and first["name"] == "conv1"
    assert first["output_shape"] == "1x192x28x28"
    assert first["kernel"] == "5x5" and first["pad"] == "0x0" and first["inputs"] == "data"
    assert int(first["params"]) == 192 * 3 * 25 + 192
    assert int(first["macs"]) == 28 * 28 * 192 * 3 * 25
    relu = rows[1]
    assert relu["kernel"] == "-" and relu["macs"] == "0"
    same = [r for r in rows if r["border_mode"] == "same"]
    assert sum(int(r["params"]) for r in same) == 966_986


def test_csv_says_which_modes_failed_and_why(failing_doc):
    rows = list(csv.DictReader(io.StringIO(render_csv(failing_doc))))
    valid = [r for r in rows if r["border_mode"] == "valid"]
    same = [r for r in rows if r["border_mode"] == "same"]
    # valid fails at conv2 (8 -> 4 -> pool 2 < 5): the rows before it, each with the one error
    assert [r["name"] for r in valid][-1] == "drop1"
    assert {r["ok"] for r in valid} == {"false"}
    assert {r["error"] for r in valid} == {failing_doc.reports[0].error}
    assert "'conv2'" in valid[0]["error"]
    assert same and {(r["ok"], r["error"]) for r in same} == {("true", "")}


def test_csv_gives_a_mode_that_fails_at_its_first_layer_one_row():
    failed = dataclasses.replace(
        _tiny_report(), ok=False, error="too small", failed_at="c1", layers=(), output_shape=None
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(Document("tiny", failed.input_shapes, [failed])))))
    assert len(rows) == 1
    assert (rows[0]["border_mode"], rows[0]["ok"], rows[0]["error"]) == ("valid", "false", "too small")
    assert {rows[0][key] for key in CSV_COLUMNS[3:]} == {""}


def test_csv_of_a_merge_lists_every_input():
    report = _tiny_report()
    merged = dataclasses.replace(
        report, layers=(*report.layers, LayerRow("cat", "Concat", ("c1", "f"), (1, 8), 0, 0, 0))
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(Document("tiny", merged.input_shapes, [merged])))))
    assert rows[-1]["inputs"] == "c1 f"


# --- markdown and table -----------------------------------------------------------------------


def test_markdown_table(nin_doc):
    text = render_markdown(nin_doc)
    lines = text.splitlines()
    assert lines[0].startswith("### nin_cifar10")
    table = [ln for ln in lines if ln.startswith("|")]
    assert len(table) == 2 + 25
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == [
        "layer",
        "op",
        "valid (CxHxW)",
        "valid MACs",
        "same (CxHxW)",
        "same MACs",
        "full (CxHxW)",
        "full MACs",
        "params",
        "RF",
    ]
    assert set(table[1]) <= set("|-: ")
    assert all(ln.count("|") == table[0].count("|") for ln in table)
    assert "- valid: output 1x10, params 966,986" in text


def test_table_has_every_layer_and_totals(nin_doc):
    text = render_table(nin_doc)
    for report in nin_doc.reports:
        for row in report.layers:
            assert re.search(rf"^{row.name}\s", text, flags=re.M), row.name
    assert "valid: output 1x10, params 966,986, aux 0, MACs 104,204,160" in text
    conv2 = next(ln for ln in text.splitlines() if ln.startswith("conv2 "))
    assert conv2.split()[2:5] == ["192x10x10", "192x16x16", "192x22x22"]  # 16 - 4, 16, 16 + 4 + 2


def test_table_fits_100_columns(nin_doc, failing_doc):
    for doc in (nin_doc, failing_doc):
        table = render_table(doc).split("\n\n")[1]  # title, table, totals
        assert max(map(len, table.splitlines())) <= 100
    assert max(map(len, render_table(nin_doc).splitlines())) <= 100


def test_table_marks_the_failing_layer(failing_doc):
    text = render_table(failing_doc)
    conv2 = next(ln for ln in text.splitlines() if ln.startswith("conv2 "))
    assert conv2.split()[2:5] == ["FAILS", "192x4x4", "192x10x10"]
    cccp3 = next(ln for ln in text.splitlines() if ln.startswith("cccp3 "))
    assert cccp3.split()[2:4] == ["192x4x4", "192x10x10"]  # valid column empty after the failure
    assert re.search(r"^valid: FAILS: .*'conv2'", text, flags=re.M)


def test_receptive_field_per_mode_where_it_differs(nin_doc):
    """A global pool's window is the whole map, so its receptive field depends on the mode:
    conv3 gives 3x3 (valid), 8x8 (same), 13x13 (full) -> 27 + (n - 1) * 4 = 35, 55, 75."""
    text = render_table(nin_doc)
    pool3 = next(ln for ln in text.splitlines() if ln.startswith("pool3 "))
    assert pool3.split()[-1] == "35/55/75"
    conv3 = next(ln for ln in text.splitlines() if ln.startswith("conv3 "))
    assert conv3.split()[-1] == "27x27"


def test_table_shows_macs_for_one_mode_and_compact_numbers():
    report = _tiny_report()
    text = render_table(Document("tiny", report.input_shapes, [report]))
    header = text.splitlines()[2].split()
    assert header[:6] == ["layer", "op", "valid", "(CxHxW)", "valid", "MACs"]
    c1 = next(ln for ln in text.splitlines() if ln.startswith("c1 "))
    assert c1.split() == ["c1", "Convolution", "4x6x6", "3M", "1.23M", "3x3"]
    assert "  note: a note" in text


def test_optional_sections_in_table(full_doc):
    text = render_table(full_doc)
    assert "smallest square input: valid 24x24, same 6x6, full 1x1" in text
    assert "pooling (reference): manual kernel 8x8" in text
    assert "shapes equal: True" in text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (0, "0.0 MiB"),
        (369_412_000, "352.3 MiB"),
        (1023 * 2**20, "1023.0 MiB"),
        (2**30 - 2**14, "1.0 GiB"),  # 1023.99 MiB would round to '1024.0 MiB'
        (3 * 2**29, "1.5 GiB"),
        (int(49784847.6 * 2**20), "47.5 TiB"),  # issue 23: was '49784847.6 MiB'
        (5 * 2**50, "5.0 PiB"),
    ],
)
def test_sizes_use_binary_units_up_to_pib(nbytes, text):
    assert mib(nbytes) == text


def test_a_huge_input_reads_its_activations_in_tib():
    report = dataclasses.replace(_tiny_report(), activation_bytes=int(49784847.6 * 2**20))
    doc = Document("tiny", report.input_shapes, [report])
    assert "activations 47.5 TiB" in render_table(doc)
    assert json.loads(render_json(doc))["reports"][0]["activation_bytes"] == int(49784847.6 * 2**20)


def test_finding_counts_are_plural_where_they_should_be():
    def findings(*severities):
        return [Finding("r", severity, "c1", "m") for severity in severities]

    assert finding_lines("valid", findings("error", "error"))[0] == "findings under valid: 2 (2 errors)"
    assert finding_lines(None, findings("warning"))[0] == "findings: 1 (1 warning)"
    assert finding_lines(None, findings("error", "warning", "warning", "info", "info"))[0] == (
        "findings: 5 (1 error, 2 warnings, 2 info)"
    )
    assert finding_lines("same", [])[0] == "findings under same: none"


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_render_dispatches_by_name(nin_doc, fmt):
    expected = {
        "table": render_table,
        "markdown": render_markdown,
        "csv": render_csv,
        "json": render_json,
        "html": render_html,
    }
    assert render(nin_doc, fmt.value) == expected[fmt.value](nin_doc)


def test_unknown_format():
    assert parse_format("json") is OutputFormat.JSON
    with pytest.raises(ValueError, match="table, markdown, csv, json, html"):
        parse_format("yaml")
    report = _tiny_report()
    with pytest.raises(ValueError):
        render(Document("tiny", report.input_shapes, [report]), "yaml")
