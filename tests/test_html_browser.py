"""The HTML report in a real browser: headless Chromium loads it without console errors.

Debian's ``chromium`` (``scripts/bootstrap.sh`` installs it). Without it the test fails, it
does not skip: a report nobody opened is not tested. The console check is itself checked on
a page with a broken script, so a Chromium that logs nothing cannot pass it.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from nin_mx import Document, Graph, build_document, diff_reports, graph_attrs
from nin_mx.analysis.views import View, block_map, group_rows
from nin_mx.checks.check import diagnose
from nin_mx.render import diff_to_html, render_html
from nin_mx.report.rows import report_graph

CHROMIUM = "/usr/bin/chromium"
_CONSOLE = re.compile(r"CONSOLE.*|Uncaught.*")


def _chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap.sh (it installs Debian's chromium)")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        url,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _console(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return _CONSOLE.findall(proc.stderr)


@pytest.fixture(scope="module")
def irv2_doc():
    graphs = [Graph.from_model("inception_resnet_v2", border_mode=mode) for mode in ("valid", "same")]
    reports = [report_graph(graph, (1, 3, 299, 299)) for graph in graphs]
    findings = [diagnose(graph, report) for graph, report in zip(graphs, reports)]
    return Document(
        "inception_resnet_v2",
        reports[0].input_shapes,
        reports,
        findings=findings,
        blocks=block_map(graphs[0].nodes),
    )


def test_the_console_check_sees_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>notAFunction();</script></body></html>")
    proc = _chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert any("notAFunction" in line for line in _console(proc)), proc.stderr[-2000:]


def test_the_stages_page_loads_without_console_errors(tmp_path, irv2_doc):
    page = tmp_path / "report.html"
    page.write_text(render_html(irv2_doc, view=View.STAGES), encoding="utf-8")
    screenshot = tmp_path / "page.png"
    proc = _chromium(tmp_path, page.as_uri(), f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert _console(proc) == []
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank 1280x2000 page is ~10 KB
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 2000

    dom = _chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert _console(dom) == []
    stages = re.search(r'<details open="" class="view-stages">(.*?)</details>', dom.stdout, re.S)
    assert stages is not None, dom.stdout[:2000]
    rows = len(group_rows(irv2_doc, View.STAGES).rows)
    assert stages.group(1).count("<tr") == rows + 1  # the header and one row per stage
    n_findings = sum(len(f) for f in irv2_doc.findings)
    assert n_findings and dom.stdout.count('<tr class="') >= n_findings


# Issue 23: status colours win over the striping, and findings wrap, in a real browser's layout.
# The pages are those of saved symbol files (no MXNet); a probe script appended to a copy of the
# page writes what Chromium computed into the DOM, which --dump-dom prints.
ORACLE = Path(__file__).resolve().parent / "data" / "oracle"
WIDTH = 1400
_PROBE = """
<script>
(() => {
  const rgb = (el) => getComputedStyle(el).backgroundColor;
  const rows = [...document.querySelectorAll("tbody tr")].map((tr) => ({
    cls: tr.className, even: (tr.sectionRowIndex + 1) % 2 === 0, bg: [...tr.cells].map(rgb),
  }));
  const findings = [...document.querySelectorAll("table")].filter((t) =>
    [...t.tHead.rows[0].cells].map((c) => c.textContent).join() === "severity,rule,layer,message");
  const cells = findings.flatMap((t) => [...t.tBodies[0].querySelectorAll("td")]).map((td) => ({
    text: td.textContent.slice(0, 40), scroll: td.scrollWidth, client: td.clientWidth,
    right: td.getBoundingClientRect().right,
  }));
  const order = [...document.querySelectorAll("h2")].map((h) => h.textContent);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({width: window.innerWidth, rows, cells, order});
  document.body.appendChild(out);
})();
</script>
"""
_COLOURS = {
    "changed": "rgb(255, 246, 214)",
    "only_a": "rgb(253, 226, 226)",
    "only_b": "rgb(226, 245, 226)",
}
_STRIPE, _PLAIN = "rgb(250, 250, 250)", "rgba(0, 0, 0, 0)"


def _probe(tmp_path: Path, markup: str) -> dict:
    """What Chromium computes for ``markup`` in a 1400 px wide window (see ``_PROBE``)."""
    page = tmp_path / "probed.html"
    page.write_text(markup.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    proc = _chromium(tmp_path, page.as_uri(), f"--window-size={WIDTH},1000", "--dump-dom")
    assert _console(proc) == []
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found is not None, proc.stdout[-2000:]
    data = json.loads(html.unescape(found.group(1)))
    assert data["width"] == WIDTH
    return data


def _oracle(name: str) -> Graph:
    return Graph.from_file(ORACLE / f"{name}-symbol.json")


@pytest.mark.parametrize("all_rows", [False, True])
def test_diff_status_colours_win_over_the_striping(tmp_path, all_rows):
    a, b = _oracle("resnet18_v1"), _oracle("squeezenet1.1")
    diff = diff_reports(
        report_graph(a, (1, 3, 224, 224)),
        report_graph(b, (1, 3, 224, 224)),
        attrs_a=graph_attrs(a),
        attrs_b=graph_attrs(b),
    )
    rows = _probe(tmp_path, diff_to_html(diff, all_rows=all_rows))["rows"]
    seen = set()
    for row in rows:
        expected = _COLOURS.get(row["cls"], _STRIPE if row["even"] else _PLAIN)
        assert set(row["bg"]) == {expected}, row
        seen.add((row["cls"], row["even"]))
    # every status on even (striped) and odd rows: the case the zebra rule used to win
    assert {(status, even) for status in _COLOURS for even in (False, True)} <= seen


def test_findings_come_first_and_wrap_at_1400_px(tmp_path):
    graph = _oracle("densenet121")
    doc = build_document([graph], (1, 3, 224, 224), check=True)
    assert len(doc.findings[0]) >= 2
    markup = render_html(doc, view="layers")  # the 427-row table open, as --view layers shows it
    header = markup[markup.index("<header>") : markup.index("</header>")]
    assert "findings under as built: 2 (1 warning, 1 info)" in header
    probe = _probe(tmp_path, markup)
    assert probe["order"][:2] == ["Totals", "Findings"]  # then the views: "Views" is last
    assert probe["order"][-1] == "Views"
    cells = probe["cells"]
    assert len(cells) == 4 * len(doc.findings[0])
    for cell in cells:
        assert cell["scroll"] <= cell["client"], cell  # nothing cut off inside the cell
        assert cell["right"] <= WIDTH, cell  # and the cell is on screen
