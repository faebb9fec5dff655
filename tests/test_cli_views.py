"""``--view`` and ``--format html`` end to end: the grouped rows, their totals, the page."""

from __future__ import annotations

import html.parser
import json

import pytest
from _cli import run_cli as run


def test_block_view_of_inception_resnet_v2_collapses_the_repeated_blocks():
    proc = run("inception_resnet_v2", "--view", "blocks", "--border-mode", "valid")
    assert proc.returncode == 0, proc.stderr
    names = [ln.split()[0] for ln in proc.stdout.splitlines()[5:] if ln and not ln.startswith("valid:")]
    # TF-slim's layout: the stem, Mixed_5b, 10 x block35, Mixed_6a, 20 x block17, Mixed_7a,
    # 9 x block8 and the last block8 (scale 1, no ReLU), then the head
    assert names == [
        "stem",
        "mixed_5b",
        "block35_1..10",
        "mixed_6a",
        "block17_1..20",
        "mixed_7a",
        "block8_1..9",
        "block8_10",
        "head",
    ]
    assert "view: blocks by __block__ attribute, 9 rows for 823 layers" in proc.stdout


def test_stage_view_is_short_and_keeps_the_totals():
    layers = run("inception_resnet_v2", "--format", "json")
    stages = run("inception_resnet_v2", "--view", "stages", "--format", "json")
    assert stages.returncode == 0, stages.stderr
    by_layers, by_stages = json.loads(layers.stdout), json.loads(stages.stdout)
    assert by_stages["view"] == "stages"
    for plain, grouped in zip(by_layers["reports"], by_stages["reports"]):
        assert sum(row["params"] for row in grouped["view_rows"]) == plain["total_params"] == 55_843_464
        assert sum(row["macs"] for row in grouped["view_rows"]) == plain["total_macs"]
        assert sum(row["layers"] for row in grouped["view_rows"]) == len(plain["layers"]) == 823
    table = run("inception_resnet_v2", "--view", "stages")
    assert len(table.stdout.splitlines()) < 25  # one screen, where the layer view has 831 lines


def test_the_layer_view_is_the_default_and_unchanged():
    assert run("nin_cifar10", "--view", "layers").stdout == run("nin_cifar10").stdout


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tables = 0
        self.void = {"meta", "br", "hr", "img", "input", "link", "col"}

    def handle_starttag(self, tag, attrs):
        self.tables += tag == "table"
        if tag not in self.void:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()


def test_html_page_with_findings_is_written_atomically_and_balanced(tmp_path):
    out = tmp_path / "report.html"
    proc = run("nin_cifar10", "--format", "html", "--check", "--view", "stages", "--output", str(out))
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "http://" not in text and "https://" not in text
    parser = _Tags()
    parser.feed(text)
    assert parser.stack == [] and parser.tables >= 3  # a table per view, the totals, the findings
    assert "pooling-convention-sensitive" in text


@pytest.mark.parametrize(
    "args",
    [
        ("nin_cifar10", "--view", "modules"),
        ("nin_cifar10", "--diff", "nin_cifar10", "--view", "stages"),
    ],
)
def test_view_usage_errors_exit_2(args):
    proc = run(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
