"""The simulator as a process: CLI contract, clean stops, bad options, workers, event log."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mockserver import bearer, login, new_thread, simulator, stream_run
from net import wait_until

from wxo_load.core.errors import WxoLoadError
from wxo_load.mock.process import SimulatorProcess

LINE_RE = re.compile(r"^wxo-load mock: listening on http://127\.0\.0\.1:(\d+) \(profile (\S+)\)$")


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_one_listening_line_and_stops_cleanly_on_a_signal(sig: signal.Signals) -> None:
    proc, line = _start("wxo_load.mock", "--port", "0", "--profile", "fast")
    try:
        match = LINE_RE.match(line.rstrip("\n"))
        assert match, line
        port = int(match.group(1))
        assert port != 0 and match.group(2) == "fast"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health/ready").status_code == 200
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out == "" and "Traceback" not in err


def test_wxo_load_mock_subcommand_runs_the_same_server() -> None:
    proc, line = _start("wxo_load.cli", "mock", "--port", "0", "--profile", "replay")
    try:
        assert LINE_RE.match(line.rstrip("\n")) and line.rstrip().endswith("(profile replay)")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--profile", "missing.yaml"], "missing.yaml"),
        (["--profile", "{bad}"], "timing.think"),
        (["--fault", "http_504=0.1"], "--fault"),
        (["--fault", "http_503=2"], "between 0 and 1"),
        (["--workers", "0"], "--workers"),
        (["--token-ttl", "-1"], "--token-ttl"),
    ],
)
def test_bad_options_and_profiles_exit_2_with_one_paragraph_and_no_traceback(
    tmp_path: Path, args: list[str], words: str
) -> None:
    if "{bad}" in args:
        bad = tmp_path / "bad.yaml"
        bad.write_text("timing:\n  think: 3\n")
        args = [str(bad) if a == "{bad}" else a for a in args]
    proc = subprocess.run(
        [sys.executable, "-m", "wxo_load.mock", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_a_port_in_use_is_a_clear_error() -> None:
    with simulator("fast") as sim:
        proc = subprocess.run(
            [sys.executable, "-m", "wxo_load.mock", "--port", str(sim.port)],
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert proc.returncode == 2 and "--port" in proc.stderr and "Traceback" not in proc.stderr


def test_simulator_process_reports_a_failed_start_with_its_stderr() -> None:
    with pytest.raises(WxoLoadError, match="unknown profile"):
        SimulatorProcess.start(profile="no-such-profile")


def test_simulator_process_exposes_url_port_pid_and_stops() -> None:
    sim = SimulatorProcess.start(profile="fast")
    try:
        assert sim.url == f"http://127.0.0.1:{sim.port}" and sim.running
        assert sim.stats()["pid"] == sim.pid
    finally:
        assert sim.stop() == 0
    assert not sim.running


@pytest.mark.slow
def test_workers_accept_each_others_tokens_and_threads() -> None:
    with simulator("fast", args=["--workers", "2"]) as sim:
        token = login(httpx.Client(base_url=sim.url))
        threads = []
        statuses = []
        for _ in range(
            30
        ):  # a fresh connection each time: the kernel spreads them over the workers
            with httpx.Client(base_url=sim.url) as client:
                threads.append(new_thread(client, token))
        for thread_id in threads:
            with httpx.Client(base_url=sim.url) as client:
                result = stream_run(client, token, thread_id)
                statuses.append((result.status, result.events()[-1]["event"]))
        # the workers publish their counters every 0.25 s, and each answer comes from whichever
        # worker the connection reached: keep the first answer in which both have published
        stats: dict = {}

        def settled() -> bool:
            stats.update(sim.stats())
            return bool(stats["streams_served"] == 30)

        wait_until(settled, timeout_s=5)
    assert statuses == [(200, "done")] * 30
    assert stats["workers"] == 2
    assert stats["streams_served"] == 30
    assert all(w["streams_served"] > 0 for w in stats["per_worker"])


def test_event_log_records_every_event_with_monotonic_times(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    with (
        simulator("fast", args=["--event-log", str(log)]) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        token = login(client)
        t_before = time.perf_counter()
        result = stream_run(client, token, new_thread(client, token))
        t_after = time.perf_counter()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    events = result.events()
    assert [r["event"] for r in rows] == [e["event"] for e in events]
    assert [r["id"] for r in rows] == [e["id"] for e in events]
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    assert {r["run_id"] for r in rows} == {events[0]["data"]["run_id"]}
    assert {r["thread_id"] for r in rows} == {events[0]["data"]["thread_id"]}
    for row in rows:
        assert set(row) == {
            "run_id",
            "thread_id",
            "seq",
            "event",
            "id",
            "t_mono",
            "t_sent",
            "t_sched",
        }
        assert row["t_mono"] <= row["t_sent"]
        assert t_before <= row["t_mono"] <= t_after  # the same clock across processes
        assert row["t_mono"] >= row["t_sched"] - 0.001


def test_the_listening_line_is_the_only_stdout_output_even_at_info_level() -> None:
    proc, line = _start("wxo_load.mock", "--port", "0", "--log-level", "info")
    try:
        port = int(LINE_RE.match(line.rstrip("\n")).group(1))  # type: ignore[union-attr]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            stream_run(client, login(client), None)
            assert client.get("/api/v1/tenants", headers=bearer("x")).status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out == ""
