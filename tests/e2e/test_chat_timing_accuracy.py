"""One Locust run with a persona on each of three channels (the widget's `runs-stream`, chat
completions v1 `chat` and v2 `chat-v2`) against the simulator: every run's outcome and timings
recorded, per-persona and per-channel figures, a gate on each persona's first_text.p95, and each
timing against the simulator's own record of when it wrote the frame (its event log,
perf_counter() = CLOCK_MONOTONIC).

Chat completions have no `run.started`: intervals are measured from the first delta to each later
milestone (first text, the completed frame, the end: v1's [DONE], v2's close), as the widget's
test measures from run.started (test_timing_accuracy.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from locust_runs import read_jsonl, run_locust

from wxo_load.core.hdr import nearest_rank_ms
from wxo_load.mock.process import SimulatorProcess

pytestmark = pytest.mark.alone  # timings: run with no other test beside it

SCENARIO = """name: chat-timing
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 3, think_time_s: [0.2, 0.4], pause_between_s: 0.2}
prompts: {messages: [hello, "what context variables do you accept?"]}
request: {stall_timeout_s: 10, stream_timeout_s: 60}
personas:
  - {name: v1, channel: chat}
  - {name: v2, channel: {name: chat-v2, mode: stateful}}
  - {name: widget, channel: runs-stream}
gates:
  - "personas.v1.first_text.p95 < 5s"
  - "personas.v2.first_text.p95 < 5s"
  - "personas.widget.first_text.p95 < 5s"
"""
MILESTONES = {
    "first_text_ms": "message.delta",
    "message_created_ms": "message.created",
    "done_ms": "done",
}


def test_chat_channels_timings_match_the_servers_write_times(tmp_path: Path) -> None:
    log, results = tmp_path / "events.jsonl", tmp_path / "results"
    scenario = tmp_path / "chat.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    with SimulatorProcess.start(
        profile="default", port=0, seed=3, extra_args=["--event-log", str(log)]
    ) as sim:
        proc = run_locust(
            ["-u", "6", "-r", "6", "-t", "8s", "--host", sim.url, "--scenario", str(scenario),
             "--results-dir", str(results)],
            home=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    written: dict[str, dict[str, float]] = defaultdict(dict)
    for line in read_jsonl(log):
        written[line["run_id"]].setdefault(line["event"], line["t_mono"])  # first of each kind
    runs = read_jsonl(results / "runs.jsonl")
    assert {r["channel"] for r in runs} == {"chat", "chat-v2", "runs-stream"}
    assert all(r["outcome"] in ("ok", "stopped") and r["request_bytes"] for r in runs)
    errors: dict[str, list[float]] = defaultdict(list)
    verdicts = json.loads((results / "gates.json").read_text())
    assert [g["passed"] for g in verdicts["gates"]] == [True] * 3, verdicts
    summary = json.loads((results / "summary.json").read_text())
    assert set(summary["personas"]) == {"v1", "v2", "widget"}
    assert summary["channels"]["chat"]["not_observable"] == ["run_started"]
    for run in (r for r in runs if r["outcome"] == "ok"):
        assert (run["run_started_ms"] is None) == (run["channel"] != "runs-stream")
        server = written[run["run_id"]]
        for field, event in MILESTONES.items():
            harness_ms = run[field] - run["first_delta_ms"]
            server_ms = (server[event] - server["message.delta"]) * 1000.0
            errors[run["channel"]].append(abs(harness_ms - server_ms))
    for channel, values in sorted(errors.items()):
        p50, p99 = nearest_rank_ms(values, 50), nearest_rank_ms(values, 99)
        print(f"{channel}: timing error over {len(values)} intervals: p50 {p50:.3f} ms, "
              f"p99 {p99:.3f} ms")  # fmt: skip
        assert len(values) >= 3 * 10
        assert p99 is not None and p99 <= 2.0
