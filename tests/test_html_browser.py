"""The HTML report in a real browser: headless Chromium loads it without console errors.

Debian's ``chromium`` (``scripts/bootstrap.sh`` installs it). Without it the test fails, it
does not skip: a report nobody opened is not tested. The console check is itself checked on
a page with a broken script, so a Chromium that logs nothing cannot pass it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from nin_mx import Document, Graph
from nin_mx.analysis.views import View, block_map, group_rows
from nin_mx.checks.check import diagnose
from nin_mx.render import render_html
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
