"""The Locust layer's imports point one way: no cycle among the modules of
`wxo_load/locust_plugin/`, counting every import (top-level, inside functions, under
TYPE_CHECKING, and `importlib.import_module("...")` by name), so none is broken only at run time
by a lazy import. Beside the import-linter contracts (test_import_contracts.py), which check the
layers between packages; this checks the modules inside one."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "wxo_load.locust_plugin"


def _imports(path: Path) -> set[str]:
    """The modules of the package that `path` imports, by their last name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:  # from wxo_load.locust_plugin import finish, handoff
                names = [f"{PACKAGE}.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names = [a.value for a in node.args if isinstance(a, ast.Constant)]
        found |= {n.split(".")[2] for n in names if n.startswith(PACKAGE + ".")}
    return found - {path.stem}


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    return {p.stem: _imports(p) for p in sorted(package_dir.glob("*.py")) if p.stem != "__init__"}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in graph:
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_the_locust_layer_has_no_import_cycle() -> None:
    graph = import_graph(ROOT / "wxo_load" / "locust_plugin")
    assert {"harness", "control", "strategies", "finish", "webtab"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_a_lazy_import_that_closes_a_circle_is_found(tmp_path: Path) -> None:
    copy = tmp_path / "locust_plugin"
    shutil.copytree(ROOT / "wxo_load" / "locust_plugin", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    strategies = copy / "strategies.py"
    strategies.write_text(
        strategies.read_text()
        + "\n\ndef _late() -> None:\n    from wxo_load.locust_plugin.control import LoadControl\n"
    )
    assert find_cycle(import_graph(copy)) == ["control", "strategies", "control"]
    user = copy / "user.py"  # by name, as personas.py once registered the listeners
    user.write_text(
        user.read_text() + '\nimportlib.import_module("wxo_load.locust_plugin.entry")\n'
    )
    assert "entry" in import_graph(copy)["user"]
