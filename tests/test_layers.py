"""The package's layers (docs/architecture.md): every import runs downward, and none in a circle.

Every module's AST is read: imports at the top, inside functions and under ``TYPE_CHECKING``.
A module may import from its own layer and from the layers below it; the one exception is a
``_repr_html_`` method, which may import the HTML renderer (Jupyter's display hook). No test
here imports MXNet.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nin_mx"

# Bottom to top; a module's layer is its subpackage, or its own name for a top-level module.
LAYERS = (
    "core",
    "_mxnet",
    "models",
    "graph",
    "report",
    "analysis",
    "checks",
    "export",
    "document",
    "render",
    "cli",
)
# The package root re-exports the public API lazily, and __main__ is the CLI's other door.
ABOVE_ALL = ("nin_mx", "nin_mx.__main__")


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "nin_mx" or module in ABOVE_ALL:
        return None
    name = parts[1]
    return LAYERS.index(name) if name in LAYERS else -1


class _Imports(ast.NodeVisitor):
    """(imported module, line, inside a _repr_html_ method) for every import of nin_mx."""

    def __init__(self, module: str, is_package: bool, root: Path) -> None:
        self.module, self.is_package, self.root = module, is_package, root
        self.found: list[tuple[str, int, bool]] = []
        self._in_repr_html = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_repr_html += node.name == "_repr_html_"
        self.generic_visit(node)
        self._in_repr_html -= node.name == "_repr_html_"

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, node.lineno, self._in_repr_html > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative: resolved against this module's package
            base = self.module.split(".")
            base = base if self.is_package else base[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:  # `from nin_mx.models import layers` imports a module
            candidate = f"{target}.{alias.name}"
            is_module = (self.root / (candidate.replace(".", "/") + ".py")).exists() or (
                self.root / candidate.replace(".", "/") / "__init__.py"
            ).exists()
            self.found.append((candidate if is_module else target, node.lineno, self._in_repr_html > 0))


def _graph(package: Path = PACKAGE) -> dict[str, list[tuple[str, int, bool]]]:
    edges = {}
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        visitor = _Imports(module, path.name == "__init__.py", package.parent)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        edges[module] = [(t, line, r) for t, line, r in visitor.found if t.split(".")[0] == "nin_mx"]
    return edges


def _cycles(edges: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), ``_repr_html_`` edges
    left out."""
    graph = {m: sorted({t for t, _, r in targets if not r and t in edges}) for m, targets in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_belongs_to_a_layer():
    stray = [m for m in _graph() if _layer(m) == -1]
    assert not stray, f"modules outside the layers of docs/architecture.md: {stray}"


def _upward(edges: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    upward = []
    for module, targets in edges.items():
        own = _layer(module)
        if own is None:
            continue
        for target, line, in_repr_html in targets:
            theirs = _layer(target)
            if theirs is None or theirs <= own:
                continue
            if in_repr_html and target.startswith("nin_mx.render"):
                continue  # Jupyter's display hook may reach the HTML renderer
            upward.append(f"{module}:{line} imports {target} ({LAYERS[own]} -> {LAYERS[theirs]})")
    return upward


def test_no_import_runs_back_up():
    upward = _upward(_graph())
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_checks_find_a_cycle_and_an_upward_import(tmp_path):
    """The test above can fail: a package with a cycle and an upward import is caught."""
    pkg = tmp_path / "nin_mx"
    (pkg / "core").mkdir(parents=True)
    (pkg / "render").mkdir()
    for folder in (pkg, pkg / "core", pkg / "render"):
        (folder / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("def f():\n    from nin_mx.render import b\n")
    (pkg / "render" / "b.py").write_text("from nin_mx.core import a\n")
    edges = _graph(pkg)
    assert _cycles(edges) == [["nin_mx.core.a", "nin_mx.render.b"]]
    assert _upward(edges) == ["nin_mx.core.a:2 imports nin_mx.render.b (core -> render)"]


def test_help_loads_the_cli_and_what_it_needs_only():
    code = (
        "import sys\n"
        "from nin_mx.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('nin_mx', 'mxnet', 'numpy')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = done.stdout.splitlines()[-1].split()
    # nin_mx._mxnet registers a lazy module under "mxnet"; its submodules mean it was loaded.
    assert not [m for m in loaded if m.startswith(("mxnet.", "numpy"))]
    heavy = ("graph", "report", "analysis", "checks", "document", "render")
    assert not [m for m in loaded if m.count(".") and m.split(".")[1] in heavy], loaded
