"""One path per name: every name is imported from the module that defines it, no `__all__` lists a
name its module does not define, and package `__init__`s import none of their modules (they hold
a docstring, and `mock` three constants). docs/architecture.md, "One path per name"."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from wxo_load.config.fields import Where, duration_s, value_range
from wxo_load.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "wxo_load"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _defined(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level itself (not by importing them)."""
    names: set[str] = set()
    body = list(tree.body)
    for node in body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` ... `else:` binds at the top level too
            body += node.body + node.orelse
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
DEFINED = {name: _defined(ast.parse(p.read_text())) for name, p in MODULES.items()}


def wrong_imports(tree: ast.AST, modules: dict[str, set[str]]) -> list[str]:
    """`from wxo_load.X import Y` where Y is neither defined in X nor a submodule of it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wxo_load"):
            for alias in node.names:
                module = node.module or ""
                if f"{module}.{alias.name}" in modules or alias.name == "*":
                    continue
                if alias.name not in modules.get(module, set()):
                    found.append(f"line {node.lineno}: {alias.name} from {module}")
    return found


CODE_IMPORT = re.compile(r"from (wxo_load[\w.]*) import ([\w ,]+)")


def imports_in_strings(tree: ast.AST) -> ast.Module:
    """The `from wxo_load... import` lines of code held in strings (`python -c` scripts)."""
    lines = [
        match.group(0)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for match in CODE_IMPORT.finditer(node.value)
    ]
    return ast.parse("\n".join(lines))


def _sources() -> list[Path]:
    return [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
            *(ROOT / "bench").glob("*.py"), ROOT / "locustfile.py"]  # fmt: skip


def test_every_name_is_imported_from_the_module_that_defines_it() -> None:
    problems = {}
    for path in _sources():
        tree = ast.parse(path.read_text())
        found = wrong_imports(tree, DEFINED)
        if path != Path(__file__).resolve():  # this file's strings are examples
            found += wrong_imports(imports_in_strings(tree), DEFINED)
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert not problems, f"import these from their defining modules: {problems}"


def test_no_all_lists_a_name_its_module_does_not_define() -> None:
    foreign = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                listed = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
                if extra := [n for n in listed if n not in DEFINED[name]]:
                    foreign[name] = extra
    assert not foreign, f"re-exports (list only names defined here): {foreign}"


def test_package_inits_import_none_of_their_modules() -> None:
    importing = [
        name
        for name, path in MODULES.items()
        if path.name == "__init__.py"
        and any(
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wxo_load")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert not importing, f"package __init__s that import their modules: {importing}"


def test_the_check_bites_on_a_re_export() -> None:
    modules = {"wxo_load.a": {"thing"}, "wxo_load.b": set()}
    assert wrong_imports(ast.parse("from wxo_load.b import thing"), modules) == [
        "line 1: thing from wxo_load.b"
    ]
    assert wrong_imports(ast.parse("from wxo_load.a import thing"), modules) == []


def test_duration_and_range_helpers_read_what_scenarios_write() -> None:
    w = Where("s.yaml")
    assert duration_s(w, "k", "1h30m") == 5400 and duration_s(w, "k", 2.5) == 2.5
    assert value_range(w, "k", [2, 5]) == (2.0, 5.0) and value_range(w, "k", 3) == (3.0, 3.0)
    with pytest.raises(ConfigError, match="s.yaml, key `k`: expected a duration"):
        duration_s(w, "k", "soon")
