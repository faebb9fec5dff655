"""The HTML renderer (valid, escaped, self-contained) and the text renderers of the views."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from nin_mx import Document, Graph, diff_reports
from nin_mx._mxnet import mx
from nin_mx.analysis.views import block_map, group_rows
from nin_mx.checks.findings import Finding
from nin_mx.render import (
    diff_to_html,
    findings_to_html,
    render,
    render_html,
    render_json,
    render_view,
    to_dict,
    view_to_dict,
)
from nin_mx.report.rows import report_graph

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}
EVIL = "conv<script>alert(1)</script>&x"


class _Checker(HTMLParser):
    """Fails on an unbalanced tag; counts tags and collects the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.text: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.urls += [value for key, value in attrs if key in ("src", "href") and value]
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(markup: str) -> _Checker:
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert checker.stack == [], checker.stack
    return checker


def _document(graph, shape, **kwargs):
    report = report_graph(graph, shape)
    return Document(graph.label, report.input_shapes, [report], blocks=block_map(graph.nodes), **kwargs)


@pytest.fixture(scope="module")
def evil_doc():
    x = mx.sym.var("data")
    with mx.AttrScope(__block__="block<b>&1"):
        x = mx.sym.Convolution(x, name=EVIL, num_filter=4, kernel=(3, 3))
        x = mx.sym.Activation(x, name="relu&<i>", act_type="relu")
    x = mx.sym.Pooling(x, name="pool", kernel=(2, 2), stride=(2, 2), pool_type="max")
    graph = Graph.from_symbol(x, label="net<&>")
    finding = Finding("rule<x>", "warning", EVIL, "a message with <tags> & ampersands")
    return _document(graph, (1, 3, 10, 10), findings=[[finding]])


@pytest.fixture(scope="module")
def irv2_doc():
    graphs = [Graph.from_model("inception_resnet_v2", border_mode=mode) for mode in ("valid", "same")]
    reports = [report_graph(graph, (1, 3, 299, 299)) for graph in graphs]
    return Document(
        "inception_resnet_v2", reports[0].input_shapes, reports, blocks=block_map(graphs[0].nodes)
    )


def test_page_is_balanced_html5_with_one_table_per_view(irv2_doc):
    page = render(irv2_doc, "html")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    checker = _parse(page)
    assert checker.counts["html"] == checker.counts["head"] == checker.counts["body"] == 1
    assert checker.counts["title"] == 1 and checker.counts["details"] == 3
    assert checker.counts["table"] == 4  # totals, blocks, stages, layers
    views = {name: len(group_rows(irv2_doc, name).rows) for name in ("blocks", "stages", "layers")}
    # a header row per table, a row per mode in the totals, a row per group in each view
    assert checker.counts["tr"] == 4 + len(irv2_doc.reports) + sum(views.values())
    text = "".join(checker.text)
    assert "block35_1..10 x10" in text and "55,843,464" in text


def test_names_and_messages_are_escaped(evil_doc):
    page = render_html(evil_doc)
    assert "<script>" not in page and "<b>" not in page and "<tags>" not in page
    assert "conv&lt;script&gt;alert(1)&lt;/script&gt;&amp;x" in page
    checker = _parse(page)
    text = "".join(checker.text)
    for value in (EVIL, "relu&<i>", "block<b>&1", "net<&>", "rule<x>", "a message with <tags> & ampersands"):
        assert value in text
    assert "script" not in checker.counts and "b" not in checker.counts and "i" not in checker.counts


def test_page_is_self_contained(evil_doc, irv2_doc):
    for page in (render_html(evil_doc), render_html(irv2_doc, view="layers")):
        checker = _parse(page)
        assert checker.urls == [] and "http" not in page and "url(" not in page
        assert not {"script", "link", "img", "iframe"} & set(checker.counts)


def test_the_view_asked_comes_first_and_open(irv2_doc):
    page = render_html(irv2_doc, view="stages")
    first = page.index("<details")
    assert page.startswith('<details open="" class="view-stages">', first) or page.startswith(
        '<details open class="view-stages">', first
    )
    assert page.count("<details open") == 1
    with pytest.raises(ValueError, match="view must be one of"):
        render_html(irv2_doc, view="modules")


def test_repr_html_of_documents_findings_and_diffs(evil_doc, irv2_doc):
    fragment = irv2_doc._repr_html_()
    assert fragment.startswith('<div class="nin-mx">') and "<html" not in fragment
    _parse(fragment)
    finding = evil_doc.findings[0][0]
    one = _parse(finding._repr_html_())
    assert one.counts["tr"] == 2 and EVIL in "".join(one.text)
    assert finding._repr_html_() == findings_to_html([finding])
    a, b = irv2_doc.reports
    diff = diff_reports(a, b)
    cell = _parse(diff._repr_html_())
    assert "<html" not in diff._repr_html_()
    assert cell.counts["tr"] == 1 + diff.counts.changed + diff.counts.only_a + diff.counts.only_b
    page = diff_to_html(diff, all_rows=True)
    assert _parse(page).counts["tr"] == 1 + len(diff.rows)
    assert render(irv2_doc, "html") == render_html(irv2_doc)


def test_layers_view_renders_as_the_report(irv2_doc):
    for fmt in ("table", "markdown", "csv", "json"):
        assert render_view(irv2_doc, fmt, "layers") == render(irv2_doc, fmt)


def test_view_json_adds_rows_whose_sums_are_the_totals(irv2_doc):
    data = json.loads(render_view(irv2_doc, "json", "blocks"))
    assert data["view"] == "blocks" and data["view_basis"] == "__block__ attribute"
    base = json.loads(render_json(irv2_doc))
    for entry, plain in zip(data["reports"], base["reports"]):
        rows = entry.pop("view_rows")
        assert entry == plain
        assert sum(r["params"] for r in rows) == plain["total_params"]
        assert sum(r["macs"] for r in rows) == plain["total_macs"]
        assert sum(r["aux"] for r in rows) == plain["total_aux"]
        assert [r["name"] for r in rows][2] == "block35_1..10" and rows[2]["repeat"] == 10
    assert view_to_dict(irv2_doc, "layers") == to_dict(irv2_doc)


def test_view_table_markdown_and_csv(irv2_doc):
    table = render_view(irv2_doc, "table", "blocks")
    assert "block35_1..10 x10" in table and "block17_1..20 x20" in table and "block8_1..9 x9" in table
    assert "320x35x35 -> 1088x17x17" in table  # Mixed_6a under valid
    assert "55,843,464" in table  # the report's totals
    lines = render_view(irv2_doc, "markdown", "stages").splitlines()
    assert sum(line.startswith("| stage") for line in lines) == len(group_rows(irv2_doc, "stages").rows) + 1
    rows = render_view(irv2_doc, "csv", "blocks").splitlines()
    assert len(rows) == 1 + 2 * len(group_rows(irv2_doc, "blocks").rows)
    assert rows[0].startswith("border_mode,ok,view,name,repeat")


def test_findings_come_right_under_the_totals_with_their_counts_in_the_header(evil_doc, irv2_doc):
    page = render_html(evil_doc)
    header = page[page.index("<header>") : page.index("</header>")]
    mode = evil_doc.reports[0].border_mode
    assert f'<p class="finding-counts warning">findings under {mode}: 1 (1 warning)</p>' in header
    assert page.index("</header>") < page.index("<h2>Totals</h2>") < page.index("<h2>Findings</h2>")
    assert page.index("<h2>Findings</h2>") < page.index("<h2>Views</h2>") < page.index("<details")
    # the message wraps (the other cells of a finding do not)
    assert '<td class="message">a message with &lt;tags&gt; &amp; ampersands</td>' in page
    assert ".nin-mx td.message { white-space: normal;" in page
    # without findings: no header counts and no findings section
    plain = render_html(irv2_doc)
    assert "<header>" not in plain and "Findings" not in plain


def test_numbers_are_right_aligned_in_every_table_the_totals_too(irv2_doc):
    page = render_html(irv2_doc, view="layers")
    totals = page[page.index("<h2>Totals</h2>") : page.index("</table>")]
    for head in ("params", "aux", "MACs", "activations"):
        assert f'<th class="num">{head}</th>' in totals
    first_row = totals[totals.index("<tbody>") :].split("</tr>")[0]
    assert first_row.count('<td class="num">') == 4  # params, aux, MACs, activations
    for head in ("layers", "valid MACs", "params", "RF"):
        assert f'<th class="num">{head}</th>' in page
    assert "<th>mode</th>" in totals and "<th>status</th>" in totals  # words stay left


def test_status_colours_are_more_specific_than_the_striping(irv2_doc):
    # The zebra rule's specificity is (0,2,2); each status rule's is (0,2,3), so it wins on even
    # rows too (tests/test_html_browser.py checks the colours Chromium computes).
    page = diff_to_html(diff_reports(*irv2_doc.reports))
    for status in ("changed", "only_a", "only_b"):
        assert f".nin-mx tbody tr.{status} td {{ background:" in page
    assert ".nin-mx tr:nth-child(even) td { background: #fafafa; }" in page
