"""One-off: move wxo_load's flat modules into layer folders and rewrite every import.

Run from the repository root. Kept in scripts/ as the record of the move (git log shows it).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# old module -> new module (dotted, under wxo_load)
MOVES = {
    "errors": "core.errors",
    "redact": "core.redact",
    "records": "core.records",
    "stream": "core.stream",
    "tracker": "core.tracker",
    "steps": "core.steps",
    "step_stats": "core.step_stats",
    "stats": "core.stats",
    "deployment": "core.deployment",
    "gates": "gates.engine",
    "step_gates": "gates.steps",
    "scenario": "config.scenario",
    "load.config": "config.load",
    "client": "edge.client",
    "transport": "edge.transport",
    "idle": "edge.idle",
    "watchdog": "edge.watchdog",
    "proxy": "edge.proxy",
    "tls": "edge.tls",
    "auth": "edge.auth",
    "adk_config": "edge.auth.adk_config",
    "results": "edge.results",
    "report": "edge.report.html",
    "report_load": "edge.report.load",
    "report_waterfall": "edge.report.waterfall",
    "gate_output": "edge.gate_output",
    "live": "edge.live",
    "prometheus": "edge.prometheus",
    "cli": "cli.main",
    "gate_cli": "cli.gate",
    "report_cli": "cli.report",
    "bench": "cli.bench",
}
PACKAGES = {"auth"}  # moved as a whole folder
NEW_PACKAGES = ["core", "gates", "config", "edge", "edge/report", "cli"]


def old_modules() -> set[str]:
    found = set()
    for p in (ROOT / "wxo_load").rglob("*.py"):
        rel = p.relative_to(ROOT / "wxo_load").with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.add(".".join(parts))
    return found


def map_module(mod: str) -> str:
    """wxo_load.<old> (full dotted) -> wxo_load.<new>."""
    if not mod.startswith("wxo_load"):
        return mod
    rest = mod[len("wxo_load"):].lstrip(".")
    if not rest:
        return mod
    for old in sorted(MOVES, key=len, reverse=True):
        if rest == old or rest.startswith(old + "."):
            return "wxo_load." + MOVES[old] + rest[len(old):]
    return mod


def resolve(path: Path, level: int, module: str | None) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    pkg = parts[:-1]  # the package the file is in (also right for __init__)
    if level > 1:
        pkg = pkg[: len(pkg) - (level - 1)]
    base = ".".join(pkg)
    return base + ("." + module if module else "") if base else (module or "")


def rewrite_file(path: Path, known: set[str]) -> bool:
    src = path.read_text()
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return False
    lines = src.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                module = resolve(path, node.level, node.module)
            else:
                module = node.module or ""
            if not module.startswith("wxo_load"):
                continue
            groups: dict[str, list[str]] = {}
            for alias in node.names:
                sub = module[len("wxo_load"):].lstrip(".")
                candidate = (sub + "." if sub else "") + alias.name
                local = alias.asname or alias.name
                if candidate in known and alias.name != "*":
                    new_full = map_module("wxo_load." + candidate)
                    parent, leaf = new_full.rsplit(".", 1)
                    item = leaf if leaf == local else f"{leaf} as {local}"
                    groups.setdefault(parent, []).append(item)
                else:
                    target = map_module(module)
                    item = alias.name if not alias.asname else f"{alias.name} as {alias.asname}"
                    groups.setdefault(target, []).append(item)
            indent = " " * node.col_offset
            text = "".join(
                f"{indent if i else ''}from {mod} import {', '.join(names)}\n"
                for i, (mod, names) in enumerate(groups.items())
            )
            edits.append((node.lineno, node.end_lineno or node.lineno, text, node.col_offset))
        elif isinstance(node, ast.Import):
            changed = False
            names = []
            for alias in node.names:
                new = map_module(alias.name)
                changed |= new != alias.name
                names.append(new if not alias.asname else f"{new} as {alias.asname}")
            if changed:
                edits.append((node.lineno, node.end_lineno or node.lineno,
                              f"import {', '.join(names)}\n", node.col_offset))
    if not edits:
        return False
    for start, end, text, col in sorted(edits, reverse=True):
        first = lines[start - 1]
        prefix = first[:col]
        last = lines[end - 1]
        # keep anything after the statement on its last line (comments)
        tail = ""
        stripped = last.rstrip("\n")
        if "#" in stripped and end == start:
            code, _, comment = stripped.partition("#")
            if ")" not in comment:
                tail = "  #" + comment
        body = text.rstrip("\n") + tail + "\n"
        lines[start - 1:end] = [prefix + body]
    new = "".join(lines)
    if new != src:
        path.write_text(new)
        return True
    return False


STRING_RE = re.compile(r"wxo_load\.([a-z_]+(?:\.[a-z_]+)*)")


def rewrite_strings(path: Path) -> None:
    src = path.read_text()

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "wxo_load.cli":  # `python -m wxo_load.cli` and the entry point stay
            return m.group(0)
        return map_module(m.group(0))

    out = []
    for line in src.splitlines(keepends=True):
        if line.lstrip().startswith(("from ", "import ")):
            out.append(line)
        else:
            out.append(STRING_RE.sub(sub, line))
    new = "".join(out)
    # logger names stay as users see them
    new = new.replace('getLogger("wxo_load.edge.auth")', 'getLogger("wxo_load.auth")')
    new = new.replace('logger="wxo_load.edge.auth"', 'logger="wxo_load.auth"')
    if new != src:
        path.write_text(new)


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True)


def main() -> int:
    known = old_modules()
    pyfiles = [*ROOT.joinpath("wxo_load").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py"),
               ROOT / "locustfile.py", *ROOT.joinpath("bench").rglob("*.py"),
               *ROOT.joinpath("scripts").rglob("*.py"), *ROOT.joinpath("examples").rglob("*.py")]
    pyfiles = [p for p in pyfiles if p.name != "relayer.py" and ".venv" not in p.parts]
    for p in pyfiles:
        rewrite_strings(p)
    for p in pyfiles:
        rewrite_file(p, known)
    for extra in ["pyproject.toml", "README.md", *map(str, ROOT.joinpath("docs").rglob("*.md"))]:
        rewrite_strings(ROOT / extra)
    # now move the files
    for d in NEW_PACKAGES:
        (ROOT / "wxo_load" / d).mkdir(parents=True, exist_ok=True)
    git("mv", "wxo_load/auth", "wxo_load/edge/auth")
    git("mv", "wxo_load/load/config.py", "wxo_load/config/load.py")
    git("mv", "wxo_load/bench_assets", "wxo_load/cli/bench_assets")
    for old, new in MOVES.items():
        if old in PACKAGES or old == "load.config":
            continue
        src = "wxo_load/" + old.replace(".", "/") + ".py"
        dst = "wxo_load/" + new.replace(".", "/") + ".py"
        git("mv", src, dst)
    for d in NEW_PACKAGES:
        init = ROOT / "wxo_load" / d / "__init__.py"
        if not init.exists():
            init.write_text(f'"""wxo_load.{d.replace("/", ".")}."""\n')
            git("add", str(init))
    return 0


if __name__ == "__main__":
    sys.exit(main())
