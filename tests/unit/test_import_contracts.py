"""The layers' import rules are contracts (pyproject.toml, [tool.importlinter]), not hopes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_keep_their_import_contracts() -> None:
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_a_core_module_that_imports_locust_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "wxo_load", tmp_path / "wxo_load", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    records = tmp_path / "wxo_load" / "core" / "records.py"
    records.write_text(records.read_text() + "\nimport locust  # a core module must not do this\n")
    proc = _lint_imports(tmp_path)
    assert proc.returncode != 0
    assert "wxo_load.core.records -> locust" in proc.stdout
    assert "BROKEN" in proc.stdout
