"""End to end: a master and two workers as separate processes; one worker is killed (SIGKILL)
mid-test. The loss is said in summary.json, fails the `workers.lost == 0` gate, and the runs
the lost worker reported before it died stay counted."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from locust_runs import REPO, clean_env, locust_cmd, read_jsonl
from net import free_port, wait_until

from wxo_load.mock.process import SimulatorProcess

ANY_TOKEN = "e2e-any-token-5d1c"
USERS, RUN_TIME_S, KILL_AFTER_S = 6, 14, 5.0


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        locust_cmd(*args),
        cwd=REPO,
        env=clean_env(home, WXO_TOKEN=ANY_TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _end(run: dict[str, Any]) -> float:
    return float(run["started_at_unix"]) + float(run["total_ms"] or 0) / 1000.0


def _span_s(runs: list[dict[str, Any]]) -> float:
    return max(_end(r) for r in runs) - min(float(r["started_at_unix"]) for r in runs)


@pytest.mark.slow
def test_a_worker_killed_mid_test_is_counted_lost_fails_the_gate_and_keeps_its_reported_runs(
    tmp_path: Path,
) -> None:
    results, port = tmp_path / "results", str(free_port())
    with SimulatorProcess.start(
        profile="fast", port=0, seed=3, extra_args=["--accept-any-token"]
    ) as sim:
        master = _start(
            tmp_path, "--master", "--headless", "--only-summary", "--expect-workers", "2",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
            "-u", str(USERS), "-r", str(USERS), "-t", f"{RUN_TIME_S}s", "--stop-timeout", "5",
            "--host", sim.url, "--results-dir", str(results), "--gate", "workers.lost == 0",
        )  # fmt: skip
        worker_args = ("--worker", "--master-host", "127.0.0.1", "--master-port", port)
        workers = [_start(tmp_path, *worker_args) for _ in range(2)]
        try:
            # both workers have reported runs (a report every 3 s) before one is killed
            wait_until(lambda: sim.stats()["runs_completed"] >= 10, timeout_s=40)
            time.sleep(KILL_AFTER_S)
            workers[1].send_signal(signal.SIGKILL)
            out, _ = master.communicate(timeout=RUN_TIME_S + 60)
            served = sim.stats()["runs_completed"]
        finally:
            for proc in (master, *workers):
                if proc.poll() is None:
                    proc.kill()
                proc.communicate(timeout=30)
    assert master.returncode == 3, out[-3000:]  # a gate failed
    summary = json.loads((results / "summary.json").read_text())
    assert summary["workers"]["seen"] == 2 and summary["workers"]["lost"] == 1, summary["workers"]
    assert len(summary["workers"]["lost_ids"]) == 1
    assert summary["load_generator"]["trustworthy"] is False
    verdicts = json.loads((results / "gates.json").read_text())
    assert "workers.lost == 0" in json.dumps(verdicts)
    assert "1 of 2 workers lost" in (results / "summary.md").read_text()
    runs = read_jsonl(results / "runs.jsonl")
    by_worker = Counter(r["worker"] for r in runs)
    assert len(by_worker) == 2, by_worker
    lost_name = min(by_worker, key=lambda w: max(_end(r) for r in runs if r["worker"] == w))
    assert by_worker[lost_name] > 0  # what the lost worker reported before it died is kept
    assert summary["runs"]["total"] == len(runs)
    assert summary["load_generator"]["workers"][lost_name]["runs"] == by_worker[lost_name]
    # the server served every counted run, and the runs it served that are not counted are only
    # those the killed worker measured after its last report (at most one 3 s report interval)
    lost_rate = by_worker[lost_name] / _span_s([r for r in runs if r["worker"] == lost_name])
    unreported = served - sum(1 for r in runs if r["outcome"] != "stopped")
    assert 0 <= unreported <= lost_rate * 4.0 + USERS, (served, len(runs), lost_rate)
    assert "Traceback" not in out
