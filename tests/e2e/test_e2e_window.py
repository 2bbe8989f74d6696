"""End to end: a test with `warmup: 5s` (and a 1 s cool-down) measures only the runs started
after 5 s and ended before the cool-down, checked run by run against runs.jsonl, and its gate
reads those figures.

The warm-up is made slow on purpose: 8 users against a simulator that serves one run at a time
(~0.3 s each) for the first 5 s, so warm-up runs wait in line for seconds; then one user alone
(the other seven stopped at once), whose runs take ~0.3 s. The gate `done.max < 1500ms` fails
on the warm-up runs (checked from runs.jsonl) and passes on the measured ones (4x margin for a
busy machine).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from locust_runs import processes_args, read_jsonl, run_locust, write_scenario

PROFILE = """name: steady
description: fixed latencies (a run ~0.3 s), so any wait in line shows at once
timing: {run_started_ms: 1, message_started_ms: 5, steps: 3, step_gap_ms: 2, think_ms: 250,
         first_delta_ms: 2, delta_gap_ms: 20, finish_gap_ms: 2}
"""
SCENARIO = """name: windowed
agent_id: a
prompts: [hello]
conversation: {turns: 1, think_time_s: 0, pause_between_s: 0}
simulator: {profile: PROFILE, capacity: {concurrent_runs: 1}}
load:
  warmup: 5s
  cooldown: 1s
  stages:
    - {name: crowded, duration: 5s, users: 8}
    - {name: alone, duration: 4s, users: 1, spawn_rate: 100}
gates: ["done.max < 1500ms", "runs >= 3"]
"""
GATE_MS = 1500.0


def _expected_window(record: dict, window: dict) -> str:
    if record["started_at_unix"] < window["start_unix"]:
        return "warmup"
    if record["started_at_unix"] + (record["total_ms"] or 0) / 1000.0 > window["end_unix"]:
        return "cooldown"
    return "measured"


@pytest.mark.slow
@pytest.mark.parametrize("processes", [None, 2], ids=["local", "processes-2"])
def test_warmup_runs_are_written_but_left_out_of_every_figure_and_gate(
    tmp_path: Path, processes: int | None
) -> None:
    """With --processes 2 the workers classify against the master's window (spawn message) and
    the master's merged figures still equal the measured runs' own."""
    profile = write_scenario(tmp_path / "steady.yaml", PROFILE)
    scenario = write_scenario(tmp_path / "windowed.yaml", SCENARIO.replace("PROFILE", str(profile)))
    results = tmp_path / "results"
    args = ["--scenario", str(scenario), "--results-dir", str(results)]
    args += processes_args(processes) if processes else []
    proc = run_locust(args, home=tmp_path, timeout_s=90)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]  # the gates passed
    summary = json.loads((results / "summary.json").read_text())
    window = summary["window"]
    assert window["warmup_s"] == 5.0 and window["cooldown_s"] == 1.0 and window["cooldown_applied"]
    assert window["start_unix"] - window["load_start_unix"] == pytest.approx(5.0)
    assert window["planned_end_unix"] - window["load_start_unix"] == pytest.approx(9.0, abs=0.2)

    # run by run: each record's mark is what its start and end say, and the figures are
    # exactly those of the measured runs
    runs = read_jsonl(results / "runs.jsonl")
    for run in runs:
        assert run["window"] == _expected_window(run, window), run
    measured = [r for r in runs if r["window"] == "measured"]
    warmup = [r for r in runs if r["window"] == "warmup"]
    cooldown = [r for r in runs if r["window"] == "cooldown"]
    assert len(measured) >= 3 and len(warmup) >= 8
    assert summary["runs"]["total"] == len(measured)
    assert window["excluded"]["runs"] == {"warmup": len(warmup), "cooldown": len(cooldown)}
    done = summary["metrics"]["done"]
    done_ms = [r["done_ms"] for r in measured if r["done_ms"] is not None]
    assert done["count"] == len(done_ms)
    assert done["max"] == pytest.approx(max(done_ms), abs=0.001)  # min, max: exact
    assert done["min"] == pytest.approx(min(done_ms), abs=0.001)
    first_text = [r["first_text_ms"] for r in measured if r["first_text_ms"] is not None]
    assert summary["metrics"]["first_text"]["max"] == pytest.approx(max(first_text), abs=0.001)
    assert sum(s["runs"]["total"] for s in summary["stages"]) == len(measured)

    # the gate read the measured figures; on the warm-up runs it would have failed
    assert max(r["done_ms"] or r["total_ms"] for r in warmup) > GATE_MS
    verdicts = json.loads((results / "gates.json").read_text())
    gate = next(g for g in verdicts["gates"] if g["gate_text"] == "done.max < 1500ms")
    assert gate["passed"] and gate["value"] == pytest.approx(max(done_ms), abs=0.001)

    # conversations are marked by their own start and end, and counted apart the same way
    convs = read_jsonl(results / "conversations.jsonl")
    for conv in convs:
        assert conv["window"] == _expected_window(conv, window), conv
    assert summary["conversations"]["total"] == sum(c["window"] == "measured" for c in convs)
    assert "Measured window" in (results / "summary.md").read_text()
    assert "warm-up: not measured" in (results / "report.html").read_text()


ARRIVALS = """name: windowed-arrivals
agent_id: a
prompts: [hello]
conversation: {turns: 1, think_time_s: 0, pause_between_s: 0}
simulator: {profile: fast}
load:
  warmup: 1.9s    # 12 arrivals at 6/s, none on the boundary
  cooldown: 1s
  arrival: {stages: [{duration: 5s, rate: 6/s}], process: constant, max_concurrent: 20}
"""


@pytest.mark.slow
def test_an_arrival_models_window_starts_with_its_schedule(tmp_path: Path) -> None:
    """Open model: the warm-up counts from the schedule's start (1 s after the test's), the
    cool-down from the schedule's end; every conversation started is counted, measured or not."""
    scenario = write_scenario(tmp_path / "arrivals.yaml", ARRIVALS)
    results = tmp_path / "results"
    proc = run_locust(
        ["--scenario", str(scenario), "--results-dir", str(results)], home=tmp_path, timeout_s=60
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    window = summary["window"]
    assert window["planned_end_unix"] - window["load_start_unix"] == pytest.approx(5.0, abs=0.01)
    assert window["start_unix"] - window["load_start_unix"] == pytest.approx(1.9, abs=0.01)
    convs = read_jsonl(results / "conversations.jsonl")
    for conv in convs:
        assert conv["window"] == _expected_window(conv, window), conv
    by_window = {w: sum(c["window"] == w for c in convs) for w in ("warmup", "measured")}
    assert by_window["warmup"] == 12 and by_window["measured"] >= 10  # 6/s: 1.9 s, then ~2 s
    assert summary["conversations"]["total"] == by_window["measured"]
    arrivals = summary["arrivals"]
    assert arrivals["started"] == len(convs) and arrivals["scheduled"] == 30
    runs = read_jsonl(results / "runs.jsonl")
    assert summary["runs"]["total"] == sum(r["window"] == "measured" for r in runs)
