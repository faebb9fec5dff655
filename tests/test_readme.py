"""The README's examples run and print what the README says they print."""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nin_mx._mxnet import mxnet_available

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.mxnet  # get_symbol and compare_pooling's numbers
def test_readme_python_examples_pass_as_doctests() -> None:
    result = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.attempted >= 5, "the README lost its Python examples"
    assert result.failed == 0


def test_readme_commands_name_the_scripts_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for script in set(re.findall(r"bash (scripts/\S+\.sh)", text)):
        assert (README.parent / script).is_file(), script
    assert "bash scripts/test.sh" in text
    assert "bash scripts/test.sh" in (README.parent / ".ci" / "run").read_text(encoding="utf-8")


# --- every README command, run against the files scripts/make_examples.py writes --------------

_TRANSCRIPT = re.compile(r"```\n(\$ [^\n]+\n.*?)```", re.S)


def _transcripts() -> list[tuple[str, list[str]]]:
    """``(command, expected lines)`` of every README block that starts with ``$ ``."""
    found = []
    for block in _TRANSCRIPT.findall(README.read_text(encoding="utf-8")):
        first, *rest = block.rstrip("\n").split("\n")
        found.append((first[2:], rest))
    return found


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` has the ``expected`` lines in order: a line ``...`` stands for any lines
    (none included) and a line ending in ``...`` for any line that begins with the rest."""

    def line_ok(want: str, have: str) -> bool:
        if want.endswith("...") and want != "...":
            return have.startswith(want[:-3])
        return want.rstrip() == have.rstrip()

    def match(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(actual) or (bool(expected) and expected[-1] == "...")
        if expected[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and line_ok(expected[i], actual[j]) and match(i + 1, j + 1)

    return match(0, 0)


def test_the_transcript_matcher():
    assert _matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert _matches(["a", "b..."], ["a", "bcd"])
    assert not _matches(["a", "d"], ["a", "b", "d"])
    assert not _matches(["a", "x..."], ["a", "bcd"])


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """The files scripts/make_examples.py writes; without MXNet, only the one nin_mx writes
    alone (our manual-kernel Inception-ResNet-v2: the bytes MXNet would save)."""
    folder = tmp_path_factory.mktemp("examples")
    if not mxnet_available():
        from nin_mx import manual_pool_kernel, symbol_json

        kernel = manual_pool_kernel("inception_resnet_v2", (1, 3, 299, 299))
        text = symbol_json("inception_resnet_v2", pool_kernel=kernel)
        (folder / "irv2-manual-symbol.json").write_text(text, encoding="utf-8")
        return folder
    subprocess.run(
        [sys.executable, str(README.parent / "scripts" / "make_examples.py"), str(folder)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return folder


def _needs_mxnet(command: str) -> bool:
    """A command that reads the Gluon export (MXNet writes it) or prints a forward pass's numbers."""
    return "densenet121" in command or "--compare-pooling" in command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(c, e, marks=[pytest.mark.mxnet] if _needs_mxnet(c) else [], id=c)
        for c, e in _transcripts()
    ],
)
def test_every_readme_command_prints_what_the_readme_shows(examples, command, expected):
    argv = shlex.split(command)
    prefix = {"nin-shape-report": 1, "bash": 2}[argv[0]]  # bash scripts/report.sh: its command
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", *argv[prefix:]],
        capture_output=True,
        text=True,
        cwd=examples,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode in (0, 3), done.stderr
    actual = done.stdout.rstrip("\n").split("\n")
    assert _matches(expected, actual), "\n".join(actual[:60])


def test_the_readme_shows_commands_for_every_example_file():
    text = README.read_text(encoding="utf-8")
    used = set()
    for command, _ in _transcripts():  # the files each command reads (not those it writes)
        argv = shlex.split(command)
        used |= {a for i, a in enumerate(argv) if a.endswith("-symbol.json") and argv[i - 1] != "--fix"}
    made = (README.parent / "scripts" / "make_examples.py").read_text(encoding="utf-8")
    assert used and all(name in made for name in used), used
    assert "bash scripts/examples.sh" in text


# --- --help's examples and the set-up line (issue 30) --------------------------------------------


def _help_examples() -> list[list[str]]:
    """The commands ``nin-shape-report --help`` lists under "examples", as argument lists."""
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    block = done.stdout.split("\nexamples", 1)[1].split("\n\n", 1)[0]
    return [shlex.split(line)[1:] for line in block.splitlines()[1:] if line.strip()]


def _arguments(command: str) -> list[str]:
    """A README command's ``nin-shape-report`` arguments (``bash scripts/report.sh`` passes its own)."""
    argv = shlex.split(command)
    return argv[{"nin-shape-report": 1, "bash": 2}[argv[0]] :]


def test_every_help_example_is_a_readme_command_whose_output_is_checked():
    """Each of --help's examples is a command the README shows with its output, so the test
    above runs it against the files scripts/examples.sh writes and compares what it prints."""
    shown = [_arguments(command) for command, expected in _transcripts() if expected]
    examples = _help_examples()
    assert len(examples) >= 5
    missing = [" ".join(example) for example in examples if example not in shown]
    assert not missing, missing
    made = (README.parent / "scripts" / "make_examples.py").read_text(encoding="utf-8")
    files = {a for example in examples for a in example if a.endswith((".json", ".params"))}
    written = {a for example in examples for i, a in enumerate(example) if example[i - 1] == "--fix"}
    assert files - written and all(name in made for name in files - written), files


def test_the_readme_says_how_to_run_its_examples_as_printed():
    """After the set-up command, ``nin-shape-report`` is a command of the environment it made:
    the README says to activate it before its first bare ``nin-shape-report`` example."""
    text = README.read_text(encoding="utf-8")
    first_example = text.index("\n$ nin-shape-report ")
    assert text.index("source .venv/bin/activate") < first_example
    first_inline = re.search(r"`nin-shape-report [\w-]", text)
    assert first_inline is not None and text.index("source .venv/bin/activate") < first_inline.start()
    script = Path(sys.executable).with_name("nin-shape-report")  # what activating puts on PATH
    assert script.is_file() and os.access(script, os.X_OK), script
    bootstrap = (README.parent / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    assert "VENV=${VENV:-.venv}" in bootstrap and "-m venv" in bootstrap  # it makes .venv/bin/activate


def test_help_the_usage_line_and_the_readme_say_when_input_is_needed():
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", "--help"], capture_output=True, text=True, timeout=60
    )
    usage = done.stdout.split("\n\n", 1)[0]
    assert "nin-shape-report FILE-symbol.json --input C,H,W" in usage and "__shape__" in usage
    text = README.read_text(encoding="utf-8")
    command_line = text[text.index("## The command line") :]
    assert "nin-shape-report FILE-symbol.json --input C,H,W" in command_line.split("```")[1]
    without = text[text.index("### Without MXNet") : text.index("## What is in it")]
    assert "needs `--input C,H,W`" in without and "`__shape__`" in without
    for option in ("--model-arg NAME=VALUE", "`reference` builds the model with its published padding"):
        assert option in command_line, option


@pytest.mark.mxnet
def test_the_readmes_line_for_a_file_without_input_is_what_the_command_prints(examples):
    """ "Without MXNet" quotes the line a symbol file without --input gets (``...``: left out)."""
    text = README.read_text(encoding="utf-8")
    without = text[text.index("### Without MXNet") : text.index("## What is in it")]
    quoted = re.search(r"`(nin-shape-report: error: (\S+) needs --input[^`]*)`", without)
    assert quoted is not None
    done = subprocess.run(
        [sys.executable, "-m", "nin_mx", quoted[2]], capture_output=True, text=True, cwd=examples, timeout=300
    )
    assert (done.returncode, done.stdout) == (2, "")
    printed = done.stderr.rstrip("\n")
    pieces = quoted[1].split("...")
    assert printed.startswith(pieces[0]) and printed.endswith(pieces[-1]), printed
    at = 0
    for piece in pieces:
        at = printed.index(piece, at) + len(piece)
