"""End to end: capture from the simulator seeded with history, then replay the file at 0.5x
the recorded think times, checked against what the simulator saw (its run and event logs)."""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from locust_runs import clean_env, read_jsonl, run_locust, write_scenario

from tests.helpers.history import write_history
from tests.helpers.mockserver import AGENT_ID
from wxo_load.mock.process import SimulatorProcess

pytestmark = [pytest.mark.slow, pytest.mark.alone]  # timings: run with no other test beside it


def _capture(tmp_path: Path) -> Path:
    import subprocess

    history = tmp_path / "history.jsonl"
    write_history(history, 50)
    out = tmp_path / "conversations.jsonl"
    with SimulatorProcess.start(
        profile="fast", port=0, extra_args=["--history", str(history)]
    ) as sim:
        done = subprocess.run(
            [sys.executable, "-m", "wxo_load.cli.main", "capture", "--host", sim.url,
             "--agent-id", AGENT_ID, "-o", str(out)],
            capture_output=True, text=True, timeout=60, env=clean_env(tmp_path),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_replay_at_half_speed_sends_each_conversation_in_order_on_its_thread_with_half_gaps(
    tmp_path: Path,
) -> None:
    captured = _capture(tmp_path)
    conversations = {c["id"]: c for c in read_jsonl(captured)}
    scenario = write_scenario(tmp_path / "replay.yaml", f"""
name: replay
agent_id: {AGENT_ID}
prompts: {{conversations: {captured}, timing: recorded, time_scale: 0.5}}
""")  # fmt: skip
    runs_log, events_log = tmp_path / "runs.log", tmp_path / "events.log"
    logs = ["--run-log", str(runs_log), "--event-log", str(events_log)]
    with SimulatorProcess.start(profile="fast", port=0, extra_args=logs) as sim:
        results = tmp_path / "results"
        proc = run_locust(
            ["--host", sim.url, "--scenario", str(scenario), "--results-dir", str(results),
             "-u", "50", "-r", "50", "-t", "4s"],
            home=tmp_path,
        )  # fmt: skip
        time.sleep(0.3)  # the simulator flushes its logs every 0.1 s
    assert proc.returncode == 0, proc.stderr[-2000:]
    requests = [r for r in read_jsonl(runs_log) if r.get("event") == "run.request"]
    done_at = {e["run_id"]: e["t_sent"] for e in read_jsonl(events_log) if e["event"] == "done"}
    by_thread: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        by_thread[request["thread_id"]].append(request)
    texts = {c["turns"][0]["text"]: c for c in conversations.values()}
    complete, gaps = set(), []
    for runs in by_thread.values():
        runs.sort(key=lambda r: r["t_mono"])
        conversation = texts[runs[0]["text"]]  # each thread holds one conversation ...
        turns = conversation["turns"]
        assert [r["text"] for r in runs] == [t["text"] for t in turns[: len(runs)]]  # in order
        if len(runs) == len(turns):
            complete.add(conversation["id"])
        for k in range(1, len(runs)):
            seen = runs[k]["t_mono"] - done_at[runs[k - 1]["run_id"]]
            gaps.append(seen - 0.5 * turns[k]["think_s"])
    assert complete == set(conversations)  # every captured conversation was replayed whole
    assert len(gaps) >= 100
    # half the recorded gap, plus at most 50 ms (the client reading `done`, scheduling); on a
    # shared 2-core machine a few gaps run later: 95% within 50 ms, none beyond 150 ms
    ordered = [g * 1000 for g in sorted(gaps)]
    p50, p95 = ordered[len(gaps) // 2], ordered[int(len(gaps) * 0.95)]
    print(f"replay gap excess over half the recorded gap: n={len(gaps)} "
          f"p50={p50:.1f} ms p95={p95:.1f} ms max={ordered[-1]:.1f} ms")  # fmt: skip
    within = [g for g in gaps if -0.005 < g < 0.050]
    assert len(within) >= 0.95 * len(gaps), sorted(gaps)[-10:]
    assert max(gaps) < 0.150 and min(gaps) > -0.005
    summary = json.loads((results / "summary.json").read_text())
    replay = summary["replay"]
    assert replay["conversations"] == 50 and abs(replay["recorded_agent_ms"]["p50"] - 1210) < 2
    assert replay["measured_agent_ms"]["p50"] < 100  # the fast simulator answers in ms
    assert all(row["ratio"] < 0.1 for row in replay["per_conversation"])
    assert 'id="replay"' in (results / "report.html").read_text()
    assert "### Then versus now (50 replayed conversations)" in (results / "summary.md").read_text()


def test_order_unique_hands_each_conversation_out_once_across_two_processes_then_ends(
    tmp_path: Path,
) -> None:
    captured = _capture(tmp_path)
    firsts = sorted(c["turns"][0]["text"] for c in read_jsonl(captured))
    scenario = write_scenario(tmp_path / "unique.yaml", f"""
name: unique
agent_id: {AGENT_ID}
conversation: {{pause_between_s: 0}}
prompts: {{conversations: {captured}, time_scale: 0.1, order: unique}}
""")  # fmt: skip
    runs_log = tmp_path / "runs.log"
    started = time.monotonic()
    with SimulatorProcess.start(
        profile="fast", port=0, extra_args=["--run-log", str(runs_log)]
    ) as sim:
        results = tmp_path / "results"
        proc = run_locust(
            ["--host", sim.url, "--scenario", str(scenario), "--results-dir", str(results),
             "-u", "10", "-r", "10", "--processes", "2", "-t", "60s"],
            home=tmp_path,
        )  # fmt: skip
        time.sleep(0.3)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 45  # it ended by itself, long before -t
    requests = [r for r in read_jsonl(runs_log) if r.get("event") == "run.request"]
    first_by_thread: dict[str, dict[str, Any]] = {}
    for request in sorted(requests, key=lambda r: r["t_mono"]):
        first_by_thread.setdefault(request["thread_id"], request)
    assert sorted(r["text"] for r in first_by_thread.values()) == firsts  # each exactly once
    assert len(requests) == 150
    summary = json.loads((results / "summary.json").read_text())
    assert summary["conversations"]["total"] == 50 and summary["replay"]["conversations"] == 50


def test_arrivals_recorded_start_each_conversation_at_its_scaled_offset(tmp_path: Path) -> None:
    captured = _capture(tmp_path)
    offsets = {c["turns"][0]["text"]: c["start_offset_s"] for c in read_jsonl(captured)}
    scale = 0.02  # offsets 7 s apart -> 0.14 s: the 50 start over 6.9 s
    scenario = write_scenario(tmp_path / "arrivals.yaml", f"""
name: arrivals
agent_id: {AGENT_ID}
prompts: {{conversations: {captured}, time_scale: {scale}, order: unique, arrivals: recorded}}
""")  # fmt: skip
    runs_log = tmp_path / "runs.log"
    with SimulatorProcess.start(
        profile="fast", port=0, extra_args=["--run-log", str(runs_log)]
    ) as sim:
        results = tmp_path / "results"
        proc = run_locust(
            ["--host", sim.url, "--scenario", str(scenario), "--results-dir", str(results),
             "-u", "10", "-r", "10", "-t", "60s"],
            home=tmp_path,
        )  # fmt: skip
        time.sleep(0.3)
    assert proc.returncode == 0, proc.stderr[-3000:]
    starts: dict[str, float] = {}
    for request in read_jsonl(runs_log):
        if request.get("event") == "run.request" and request["text"] in offsets:
            starts[request["text"]] = request["t_mono"]
    assert len(starts) == 50
    # the server's clock is not the test's: compare each start with the typical one (the first
    # conversation alone also opens the connection, so it is not the reference)
    shifted = sorted(t - scale * offsets[text] for text, t in starts.items())
    typical = shifted[len(shifted) // 2]
    excess = [abs(x - typical) for x in shifted]
    ranked = sorted(excess)
    print(f"recorded arrivals, start off its scaled offset: p50={ranked[25] * 1000:.1f}"
          f" ms p90={ranked[45] * 1000:.1f} ms max={ranked[-1] * 1000:.1f} ms")  # fmt: skip
    # a user's first conversation also opens its connection; a busy shared machine adds more
    assert sum(e < 0.02 for e in excess) >= 0.9 * len(excess) and max(excess) < 0.1, excess
    summary = json.loads((results / "summary.json").read_text())
    assert summary["conversations"]["total"] == 50
