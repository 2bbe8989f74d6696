"""The shape of the house (docs/architecture.md): small modules, and one home for the files a
test writes (wxo_load/output/)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "wxo_load"
MAX_LINES = 350
WRITES = {"write_bytes", "write_text"}
OPEN_MODES = ("w", "a", "x")
ALLOWED_WRITERS = {
    "output": "the outputs: every result file and text",
    "mock": "the simulator, beside the layers: its own event and run logs",
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_350_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}  # fmt: skip
    assert not long, f"split these by job (over {MAX_LINES} lines): {long}"


def _writes(tree: ast.AST) -> list[int]:
    """Lines that write a file: Path.write_bytes/write_text, open(..., "w"/"a"/"x"...)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in WRITES:
            lines.append(node.lineno)
        elif name == "open":
            modes = [a for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value for k in node.keywords if k.arg == "mode"]  # type: ignore[misc]
            if any(isinstance(m, ast.Constant) and str(m.value)[:1] in OPEN_MODES for m in modes):
                lines.append(node.lineno)
    return lines


def test_no_module_outside_output_writes_a_result_file() -> None:
    found = {}
    for path in _modules():
        top = path.relative_to(PACKAGE).parts[0]
        if top in ALLOWED_WRITERS:
            continue
        lines = _writes(ast.parse(path.read_text()))
        if lines:
            found[str(path.relative_to(PACKAGE))] = lines
    assert not found, f"write result files through wxo_load/output/ instead: {found}"


def test_the_write_check_bites() -> None:
    assert _writes(ast.parse("p.write_text('x')\nopen(f, 'ab')\nopen(f)\n")) == [1, 2]
