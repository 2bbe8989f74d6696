"""End to end: `locust -f locustfile.py --headless` as a subprocess, its exit code and its files."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

import pytest
from locust_runs import (
    lines_in,
    read_jsonl,
    run_locust,
    start_locust,
    write_scenario,
)
from net import wait_until

from wxo_load.core.hdr import nearest_rank_ms

METRIC_FIELDS = {
    "run_started": "run_started_ms",
    "first_delta": "first_delta_ms",
    "first_text": "first_text_ms",
    "message_created": "message_created_ms",
    "done": "done_ms",
}


def check_summary_matches_runs(results: Path) -> tuple[dict, list[dict]]:
    """summary.json's counts equal runs.jsonl's lines; its percentiles equal nearest-rank
    percentiles of runs.jsonl to 3 significant digits."""
    summary = json.loads((results / "summary.json").read_text())
    runs = read_jsonl(results / "runs.jsonl")
    assert summary["schema"] == "wxo-load/summary/v2"
    assert summary["runs"]["total"] == len(runs)
    assert summary["runs"]["by_outcome"] == dict(Counter(r["outcome"] for r in runs))
    for metric, field in METRIC_FIELDS.items():
        values = [
            r[field]
            for r in runs
            if r[field] is not None and (metric != "done" or r["outcome"] == "ok")
        ]
        figures = summary["metrics"][metric]
        assert figures["count"] == len(values), metric
        for p in (50, 90, 95, 99):
            exact = nearest_rank_ms(values, p)
            assert exact is not None
            assert figures[f"p{p}"] == pytest.approx(exact, rel=1e-3, abs=1e-3), (metric, p)
        assert figures["max"] == pytest.approx(max(values), rel=1e-6, abs=1e-3)
    return summary, runs


def test_main_command_completes_conversations_against_the_builtin_simulator(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = run_locust(
        ["-u", "5", "-r", "5", "-t", "6s", "--locust-rows", "all", "--results-dir", str(results)],
        home=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "started the built-in Developer Edition simulator at http://127.0.0.1:" in proc.stderr
    for entry in (
        "run.started",
        "message.delta",
        "first text",
        "message.created",
        "done",
        "/threads",
        "conversation",
    ):
        assert entry in proc.stderr, (
            entry
        )  # with --locust-rows all, Locust's table (on stderr) shows every timing
    summary, runs = check_summary_matches_runs(results)
    assert summary["runs"]["ok"] >= 10
    assert summary["conversations"]["ok"] >= 3
    assert {r["turn_index"] for r in runs} == {0, 1}
    assert all(
        r["request_id"] and r["thread_id"] and r["run_id"] for r in runs if r["outcome"] == "ok"
    )
    for name in ("summary.md", "report.html", "conversations.jsonl"):
        assert (results / name).stat().st_size > 0
    assert "Traceback" not in proc.stderr


def test_processes_2_merges_exact_percentiles_from_both_workers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    csv = tmp_path / "locust"
    master = str(free_port())  # not Locust's default 5557: another test run may hold it
    proc = run_locust(
        [
            "-u",
            "20",
            "-r",
            "20",
            "-t",
            "8s",
            "--processes",
            "2",
            "--master-port",
            master,
            "--master-bind-port",
            master,
            "--results-dir",
            str(results),
            "--csv",
            str(csv),
        ],
        home=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary, runs = check_summary_matches_runs(results)
    # by default Locust counts one request per run, so its RPS and Aggregated row are runs
    rows = {row["Name"]: row for row in csv_rows(tmp_path / "locust_stats.csv")}
    assert set(rows) == {"done", "Aggregated"}, set(rows)
    assert (
        int(rows["Aggregated"]["Request Count"])
        == summary["runs"]["total"] - summary["runs"]["stopped"]
    )
    workers = Counter(r["worker"] for r in runs)
    assert set(workers) == {"worker-0", "worker-1"}, workers
    assert summary["options"]["workers"] == 2
    assert summary["workers"] == {"seen": 2, "lost": 0, "lost_ids": []}  # none lost at the end
    # every report read; none after the results (the quit-time one carries nothing: handoff.py)
    assert "counted as lost" not in proc.stderr and "after the results" not in proc.stderr
    assert (
        "Sending spawn jobs" in proc.stderr and proc.stderr.count("Sending spawn jobs") == 1
    )  # no re-spawn at stop


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_bad_scenario_stops_before_any_user_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    bad = write_scenario(
        tmp_path / "bad.yaml",
        "name: bad\nagent_id: x\nprompts: {messages: [hi]}\n"
        "conversation: {turns: three, tunrs: 2}\n",
    )
    proc = run_locust(["-u", "1", "-t", "5s", "--scenario", str(bad)], home=tmp_path, timeout_s=30)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    message = [line for line in proc.stderr.splitlines() if line.startswith("wxo-load:")]
    assert len(message) == 1
    assert str(bad) in message[0] and "conversation.t" in message[0]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\nprompts: [hi]\n", "key `agent_id`: missing"),
        ("name: x\nagent_id: a\nprompts: {messages: []}\n", "prompt pool is empty"),
        (
            "name: x\nagent_id: a\nprompts: [hi]\nload: {users: many}\n",
            "key `load.users`: expected an integer",
        ),
        ("name: x\nagent_id: a\nprompts: [hi]\nsurprise: 1\n", "key `surprise`: unknown key"),
    ],
)
def test_scenario_errors_name_the_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    bad = write_scenario(tmp_path / "s.yaml", text)
    proc = run_locust(["-u", "1", "-t", "5s", "--scenario", str(bad)], home=tmp_path, timeout_s=30)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert fragment in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_host_stops_the_test_with_exit_2(tmp_path: Path) -> None:
    proc = run_locust(
        ["-u", "1", "-t", "5s", "--host", "http://127.0.0.1:9"], home=tmp_path, timeout_s=30
    )
    assert proc.returncode == 2
    assert "cannot connect" in proc.stderr and "Traceback" not in proc.stderr


def test_malformed_streams_and_faults_are_counted_by_class_and_never_kill_a_user(
    tmp_path: Path,
) -> None:
    scenario = write_scenario(
        tmp_path / "faulty.yaml",
        """
name: faulty
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 3, think_time_s: 0.05, pause_between_s: 0.05}
prompts: [hello, "and then?", thanks]
request: {stall_timeout_s: 1.5, stream_timeout_s: 20}
simulator:
  profile: fast
  seed: 11
  faults: {malformed_line: 0.15, http_503: 0.1, truncated: 0.1, run_failed: 0.1, stall: 0.05,
           drop_connection: 0.05}
""",
    )
    results = tmp_path / "results"
    proc = run_locust(
        [
            "-u",
            "6",
            "-r",
            "6",
            "-t",
            "8s",
            "--scenario",
            str(scenario),
            "--results-dir",
            str(results),
        ],
        home=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]  # failures and no gates: Locust's own rule
    summary, runs = check_summary_matches_runs(results)
    outcomes = Counter(r["outcome"] for r in runs)
    for error_class in ("protocol_error", "http_503", "truncated", "run_failed", "timeout"):
        assert outcomes[error_class] > 0, outcomes
    assert outcomes["ok"] > 0
    bad = [r for r in runs if r["outcome"] == "protocol_error"]
    assert all(r["error_detail"].startswith("unparseable line") for r in bad)
    # the users survived every fault: conversations kept starting until the end
    convs = read_jsonl(results / "conversations.jsonl")
    assert max(c["started_at_unix"] for c in convs) - min(c["started_at_unix"] for c in convs) > 5
    assert "Traceback" not in proc.stderr
    assert "protocol_error" in proc.stderr  # Locust's error table: one row per class
    assert "unparseable" not in proc.stderr  # ... never per line or per id


def test_a_test_stopped_with_sigterm_still_writes_all_its_results(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = start_locust(
        "--headless", "--only-summary", "-u", "5", "-r", "5", "-t", "60s",
        "--results-dir", str(results), home=tmp_path,
    )  # fmt: skip
    wait_until(lambda: lines_in(results / "runs.jsonl") >= 10, timeout_s=40)  # mid-test
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert (results / "summary.json").exists(), err[-3000:]
    summary, runs = check_summary_matches_runs(results)
    assert summary["runs"]["ok"] > 0
    assert "Traceback" not in err
