"""End to end: the web UI. Two tests in one session each get complete results; --scenario is in the form."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2e import LOCUSTFILE, REPO, clean_env, read_jsonl

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_each_test_of_a_web_ui_session_writes_its_own_complete_results(tmp_path: Path) -> None:
    port = free_port()
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--web-host", "127.0.0.1", "--web-port", str(port), "--results-dir", str(results)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    ui = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(ui, timeout=2).status_code == 200)
        assert '"scenario"' in httpx.get(ui, timeout=5).text  # the custom option is in the form
        for _ in range(2):
            answer = httpx.post(f"{ui}/swarm", data={"user_count": 3, "spawn_rate": 3, "scenario": "scenarios/smoke.yaml"}, timeout=10)
            assert answer.json()["success"], answer.text
            time.sleep(4)
            httpx.post(f"{ui}/stop", timeout=30)
            wait_until(lambda: (results / "summary.json").exists())
            summary = json.loads((results / "summary.json").read_text())
            assert summary["runs"]["total"] == len(read_jsonl(results / "runs.jsonl")) > 0
            results.rename(tmp_path / f"test-{time.monotonic_ns()}")  # the next test writes a fresh directory
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert "Traceback" not in output, output[-3000:]
