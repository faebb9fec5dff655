"""The README's examples run and print what the README says they print."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


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
