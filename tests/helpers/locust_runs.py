"""Helpers for end-to-end tests: Locust as a real subprocess, with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "locustfile.py"


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: no tokens or ADK config from the developer's machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXO_", "LOCUST_"))}
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_locust(
    args: list[str], *, home: Path, timeout_s: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`locust -f locustfile.py --headless ARGS` as a subprocess, from the repository root."""
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        *args,
    ]
    return subprocess.run(
        cmd,
        cwd=REPO,
        env=env or clean_env(home),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def write_scenario(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
