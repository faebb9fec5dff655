"""Loads ``nin_mx._mxnet`` first, and skips the tests that need MXNet where it cannot run.

``nin_mx._mxnet`` is imported before any test module runs ``import mxnet`` itself: MXNet 1.9.1
reads ``numpy.bool`` at import, which the numpy of Python 3.12 (1.26) no longer has, and
``nin_mx._mxnet`` puts the alias back just before MXNet is loaded and registers the (lazy) module
under ``mxnet``, so a later ``import mxnet`` gets that module. Where MXNet is missing the import
still succeeds (``nin_mx._mxnet.mxnet_available()`` is then False).

MXNet 1.9.1 runs on Python 3.9-3.12 only (it needs numpy<2). Where it is unavailable (Python 3.13,
or not installed), the tests that need it are skipped with the reason ``SKIP_REASON``:

* A whole module needs MXNet when its file name is in ``NEEDS_MXNET``, or when it says so itself
  with a top-level ``pytestmark = pytest.mark.mxnet`` (alone or in a list). Such a module is not
  even imported: it is reported as one skip, so it may ``import mxnet`` (or ``_gluon``) at the top.
* As a safety net, a module that imports ``mxnet`` or ``_gluon`` at the top (outside functions)
  is treated the same way, wherever it is listed.
* A single test in any other module needs MXNet when it carries ``@pytest.mark.mxnet``.

Where MXNet is available every such test runs, and each test of a module that needs MXNet carries
the ``mxnet`` marker, so ``pytest -m "not mxnet"`` runs on Python 3.11 what runs on 3.13.

To move a module off ``NEEDS_MXNET`` once most of it stops needing MXNet: remove its name from
the list, move its ``import mxnet`` (and ``_gluon``) into the tests that use them, mark those
tests ``@pytest.mark.mxnet``, and run it with ``.venv-3.13/bin/python -m pytest tests/test_x.py``.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import nin_mx._mxnet

SKIP_REASON = "needs MXNet 1.9.1 (Python 3.9-3.12)"

# The test modules that need MXNet throughout today (see the docstring).
NEEDS_MXNET = frozenset(
    {
        "test_bad_input.py",
        "test_bench.py",
        "test_border.py",
        "test_cli_check.py",
        "test_diff.py",
        "test_gluon_blocks.py",
        "test_gluon_exports.py",
        "test_graph.py",
        "test_html_browser.py",
        "test_params.py",
        "test_properties.py",
        "test_render_html.py",
        "test_report.py",
        "test_rules.py",
        "test_views.py",
    }
)

# Top-level imports that mean a module cannot even be imported without MXNet.
_MXNET_IMPORTS = frozenset({"mxnet", "_gluon", "tests._gluon"})

MXNET = nin_mx._mxnet.mxnet_available()


def _top_level(tree: ast.AST):
    """The statements run when the module is imported: all but function bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        yield from _top_level(node)


def _imports_mxnet(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
        names = [node.module]
    else:
        return False
    return any(name in _MXNET_IMPORTS or name.startswith("mxnet.") for name in names)


def _marks_mxnet(node: ast.AST) -> bool:
    """``pytestmark = ...`` naming ``pytest.mark.mxnet`` (or ``mark.mxnet``)."""
    targets = node.targets if isinstance(node, ast.Assign) else []
    if not any(getattr(target, "id", None) == "pytestmark" for target in targets):
        return False
    return any(
        isinstance(sub, ast.Attribute)
        and sub.attr == "mxnet"
        and isinstance(sub.value, (ast.Attribute, ast.Name))
        and getattr(sub.value, "attr", getattr(sub.value, "id", None)) == "mark"
        for sub in ast.walk(node.value)
    )


@functools.cache
def module_needs_mxnet(path: Path) -> bool:
    """Whether the test module at ``path`` needs MXNet as a whole (without importing it)."""
    if path.name in NEEDS_MXNET:
        return True
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):  # let pytest report it
        return False
    return any(_imports_mxnet(node) or _marks_mxnet(node) for node in _top_level(tree))


class _NeedsMXNetModule(pytest.Module):
    """A test module that needs MXNet, where MXNet is unavailable: one skip, never imported."""

    def collect(self):
        pytest.skip(SKIP_REASON, allow_module_level=True)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if not MXNET and module_path.name != "conftest.py" and module_needs_mxnet(module_path):
        return _NeedsMXNetModule.from_parent(parent, path=module_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport | None:
    # The skip reported at the module's own path (a skip raised in collect() would name this file).
    if isinstance(collector, _NeedsMXNetModule):
        return pytest.CollectReport(collector.nodeid, "skipped", (str(collector.path), None, SKIP_REASON), [])
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if module_needs_mxnet(item.path):
            item.add_marker(pytest.mark.mxnet)
        if not MXNET and item.get_closest_marker("mxnet") is not None:
            item.add_marker(skip)
