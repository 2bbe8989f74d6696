"""Helpers for end-to-end tests: Locust as a real subprocess, with a clean environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from net import free_port

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "locustfile.py"
# a simulator profile whose every run takes 2-6 s (its think pause): tests of how a test ends
RUNS_2_TO_6_S = """name: runs-2-6s
description: every run takes 2-6 s (its think pause), for tests of how a test ends
timing: {think_ms: {uniform: [2000, 5800]}}
"""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: no tokens or ADK config from the developer's machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXO_", "LOCUST_"))}
    env["HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def locust_cmd(*args: str) -> list[str]:
    """`python -m locust -f locustfile.py ARGS`; a `--processes` run that names no master port
    gets a free one (Locust's default 5557 is one port for every test on the machine: two
    `--processes` tests at once failed with "Address already in use")."""
    extra: list[str] = []
    if "--processes" in args and "--master-bind-port" not in args:
        port = str(free_port())
        extra = ["--master-bind-port", port, "--master-port", port]
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args, *extra]


def run_locust(
    args: list[str], *, home: Path, timeout_s: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`locust -f locustfile.py --headless ARGS` as a subprocess, from the repository root."""
    return subprocess.run(
        locust_cmd("--headless", "--only-summary", *args),
        cwd=REPO,
        env=env or clean_env(home),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
    )


def start_locust(
    *args: str, home: Path, merge_stderr: bool = False, new_group: bool = False
) -> subprocess.Popen[str]:
    """`locust -f locustfile.py ARGS` started in the background, from the repository root;
    `new_group`: in a process group of its own, as a shell starts a command (for a Ctrl+C,
    which a terminal sends to the whole group)."""
    return subprocess.Popen(
        locust_cmd(*args),
        cwd=REPO,
        env=clean_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=new_group,
    )


def start_worker(master_port: int | str, *args: str, home: Path) -> subprocess.Popen[str]:
    """`locust -f locustfile.py --worker` for a master on 127.0.0.1:PORT (output in stdout)."""
    return start_locust(
        "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port), *args,
        home=home, merge_stderr=True,
    )  # fmt: skip


def start_web_ui(port: int, results: Path, *, home: Path) -> subprocess.Popen[str]:
    """Locust's web UI on 127.0.0.1:PORT (output merged into stdout), results under RESULTS."""
    return start_locust(
        "--web-host", "127.0.0.1", "--web-port", str(port), "--results-dir", str(results),
        home=home, merge_stderr=True,
    )  # fmt: skip


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def write_scenario(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def processes_args(count: int) -> list[str]:
    """`--processes N` on a free master port: other tests on this machine may hold Locust's 5557."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return ["--processes", str(count), "--master-bind-port", str(port), "--master-port", str(port)]


def lines_in(path: Path) -> int:
    """Complete lines written to a results file so far (0 while it does not exist)."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0
