"""End to end: the web UI. Two tests in one session each get complete results; --scenario is in
the form; a bad host in the form is refused with a message."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from locust_runs import lines_in, read_jsonl, start_web_ui
from net import free_port, wait_until


def test_each_test_of_a_web_ui_session_writes_its_own_complete_results(tmp_path: Path) -> None:
    port = free_port()
    results = tmp_path / "results"
    proc = start_web_ui(port, results, home=tmp_path)
    ui = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(ui, timeout=2).status_code == 200)
        assert '"scenario"' in httpx.get(ui, timeout=5).text  # the custom option is in the form
        for _ in range(2):
            answer = httpx.post(
                f"{ui}/swarm",
                data={"user_count": 3, "spawn_rate": 3, "scenario": "scenarios/smoke.yaml"},
                timeout=10,
            )
            assert answer.json()["success"], answer.text
            wait_until(lambda: lines_in(results / "runs.jsonl") >= 3, timeout_s=30)
            httpx.post(f"{ui}/stop", timeout=30)
            wait_until(lambda: (results / "summary.json").exists())
            summary = json.loads((results / "summary.json").read_text())
            assert summary["runs"]["total"] == len(read_jsonl(results / "runs.jsonl")) > 0
            results.rename(
                tmp_path / f"test-{time.monotonic_ns()}"
            )  # the next test writes a fresh directory
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert "Traceback" not in output, output[-3000:]


def test_an_empty_or_invalid_host_in_the_web_form_is_refused_with_a_message_not_a_traceback(
    tmp_path: Path,
) -> None:
    port = free_port()
    results = tmp_path / "results"
    proc = start_web_ui(port, results, home=tmp_path)
    ui = f"http://127.0.0.1:{port}"
    form = {"user_count": 2, "spawn_rate": 2}
    try:
        wait_until(lambda: httpx.get(ui, timeout=2).status_code == 200)
        for bad, says in (
            ("", "host field is empty"),
            ("notaurl", "not an http(s) URL"),
            ("http://x:port", "not a valid URL"),
        ):
            answer = httpx.post(f"{ui}/swarm", data={**form, "host": bad}, timeout=10).json()
            assert answer["success"] is False and says in answer["message"], answer
            assert httpx.get(f"{ui}/stats/requests", timeout=5).json()["state"] in (
                "ready",
                "stopped",
            )
        # a well-formed host the harness cannot use (no credentials for it): the test stops, the UI
        # lives on
        answer = httpx.post(
            f"{ui}/swarm", data={**form, "host": "https://wxo.example.invalid"}, timeout=10
        ).json()
        assert answer["success"] is True
        wait_until(
            lambda: httpx.get(f"{ui}/stats/requests", timeout=5).json()["state"] == "stopped",
            timeout_s=15,
        )
        assert httpx.get(ui, timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert (
        "host field is empty" in output
        and "No credentials for https://wxo.example.invalid" in output
    )
    assert "Traceback" not in output, output[-3000:]
