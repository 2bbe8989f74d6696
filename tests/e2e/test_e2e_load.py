"""End to end: load stages, the open arrival model and the capacity search, as real Locust runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from locust_runs import processes_args, read_jsonl, run_locust, write_scenario

ALONE = pytest.mark.alone  # timings: run with no other test beside it

HEAD = "name: {name}\nagent_id: a\nprompts: [hello, more]\n"


def _summary(results: Path) -> dict:
    return json.loads((results / "summary.json").read_text())


STAGES = (
    HEAD
    + """conversation: {turns: 2, think_time_s: 0.1, pause_between_s: 0.1}
simulator: {profile: fast}
load:
  stages:
    - {duration: 2s, users: 2}
    - {name: peak, duration: 2s, users: 4, spawn_rate: 20}
    - {duration: 2s, users: 1}
"""
)


@ALONE
@pytest.mark.parametrize("processes", [None, 2], ids=["local", "processes-2"])
def test_three_stages_give_three_summaries_whose_runs_add_up(
    tmp_path: Path, processes: int | None
) -> None:
    scenario = write_scenario(tmp_path / "stages.yaml", STAGES.replace("{name}", "stages"))
    results = tmp_path / "results"
    args = ["--scenario", str(scenario), "--results-dir", str(results)] + (
        processes_args(processes) if processes else []
    )
    proc = run_locust(args, home=tmp_path, timeout_s=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(results)
    stages = summary["stages"]
    assert [s["name"] for s in stages] == ["stage 1", "peak", "stage 3"]
    assert [s["load"]["users"] for s in stages] == [2, 4, 1]
    assert all(s["runs"]["total"] > 0 and s["metrics"]["first_text"]["count"] > 0 for s in stages)
    assert (
        sum(s["runs"]["total"] for s in stages)
        == summary["runs"]["total"]
        == len(read_jsonl(results / "runs.jsonl"))
    )
    assert sum(s["conversations"]["total"] for s in stages) == summary["conversations"]["total"]
    # twice the users, about twice the throughput
    assert stages[1]["throughput"]["runs_per_s"] > 1.4 * stages[0]["throughput"]["runs_per_s"]


@pytest.mark.parametrize(
    ("load", "key"),
    [
        ("  stages: [{users: 5}]\n", "load.stages[0].duration"),
        ("  arrival: {rate: 5, max_concurrent: 10}\n", "load.arrival.rate"),
        ("  search: {users: {start: 1, step: 1, max: 4}}\n", "load.search.slo"),
    ],
    ids=["stage-without-duration", "rate-without-unit", "search-without-slo"],
)
def test_a_bad_load_section_stops_before_the_test_with_exit_2(
    tmp_path: Path, load: str, key: str
) -> None:
    scenario = write_scenario(
        tmp_path / "bad.yaml", HEAD.replace("{name}", "bad") + "load:\n" + load
    )
    proc = run_locust(
        ["--scenario", str(scenario), "--results-dir", str(tmp_path / "r")],
        home=tmp_path,
        timeout_s=30,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("wxo-load:")]
    assert len(lines) == 1 and "bad.yaml" in lines[0] and f"`{key}`" in lines[0], proc.stderr[
        -2000:
    ]
    assert not (tmp_path / "r").exists()


ARRIVAL = (
    HEAD
    + """conversation: {turns: 2, think_time_s: 0.5}
simulator: {profile: slow}
request: {stall_timeout_s: 120, stream_timeout_s: 200}
load:
  arrival: {stages: [{duration: 6s, rate: 10/s}], process: constant, max_concurrent: CAP}
"""
)


@ALONE
def test_a_constant_arrival_rate_starts_its_conversations_whatever_the_server_latency(
    tmp_path: Path,
) -> None:
    # the slow profile answers in ~20 s: a closed model of a few users would start a handful.
    # Two processes: each takes every other arrival of the shared schedule, the totals add up.
    scenario = write_scenario(
        tmp_path / "arrival.yaml", ARRIVAL.replace("{name}", "arrival").replace("CAP", "80")
    )
    results = tmp_path / "results"
    args = ["--scenario", str(scenario), "--results-dir", str(results), *processes_args(2)]
    proc = run_locust(args, home=tmp_path, timeout_s=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(results)
    arrivals = summary["arrivals"]
    assert 58 <= arrivals["started"] <= 62 and arrivals["dropped"] == 0, arrivals
    assert summary["conversations"]["total"] == arrivals["started"]
    assert summary["stages"][0]["arrivals"]["started"] == arrivals["started"]
    assert arrivals["arrival_lag"]["p99"] < 100  # each conversation began on its schedule
    assert re.search(r"; arrivals \d+ started, dropped 0", proc.stderr)  # the progress line says so
    assert set(summary["load_generator"]["workers"]) == {"worker-0", "worker-1"}


@ALONE
def test_an_arrival_cap_that_is_too_small_reports_its_dropped_arrivals(tmp_path: Path) -> None:
    scenario = write_scenario(
        tmp_path / "arrival.yaml", ARRIVAL.replace("{name}", "capped").replace("CAP", "5")
    )
    results = tmp_path / "results"
    proc = run_locust(
        ["--scenario", str(scenario), "--results-dir", str(results)], home=tmp_path, timeout_s=60
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    arrivals = _summary(results)["arrivals"]
    assert arrivals["started"] == 5 and 53 <= arrivals["dropped"] <= 57, arrivals
    assert arrivals["dropped_by_reason"] == {"cap_reached": arrivals["dropped"]}
    assert (
        arrivals["scheduled"] == arrivals["started"] + arrivals["dropped"]
        and arrivals["dropped_per_s"] > 5
    )
    assert re.search(r"; arrivals \d+ started, dropped \d+ \(cap_reached \d+\)", proc.stderr)


STEADY_PROFILE = """name: steady
description: fixed latencies (first text ~0.42 s, a run ~0.5 s), so any wait in line shows at once
timing: {run_started_ms: 1, message_started_ms: 5, steps: 3, step_gap_ms: 2, think_ms: 400,
         first_delta_ms: 2, delta_gap_ms: 20, finish_gap_ms: 2}
"""
SEARCH = (
    HEAD
    + """conversation: {turns: 3, think_time_s: 0, pause_between_s: 0}
simulator: {profile: PROFILE, capacity: {concurrent_runs: 10}}
load:
  search:
    users: {start: 4, step: 4, max: 20}
    hold: 4s
    warmup: 1s
    slo: ["first_text.p95 < 500ms", "error_rate < 1%"]
gates: ["capacity.users >= 8"]
"""
)


@ALONE
def test_the_capacity_search_finds_the_simulators_capacity_within_one_step(tmp_path: Path) -> None:
    # uncongested first text p95 ~0.42 s; the SLO sits just above it, so the first user past
    # the simulator's 10 concurrent runs (who waits a whole run in line) breaks it
    profile = write_scenario(tmp_path / "steady.yaml", STEADY_PROFILE)
    scenario = write_scenario(
        tmp_path / "search.yaml",
        SEARCH.replace("{name}", "search").replace("PROFILE", str(profile)),
    )
    results = tmp_path / "results"
    proc = run_locust(
        ["--scenario", str(scenario), "--results-dir", str(results)], home=tmp_path, timeout_s=90
    )
    assert proc.returncode == 0, proc.stderr[-3000:]  # the capacity gate passed
    summary = _summary(results)
    steps = summary["search_steps"]
    assert [s["load"]["users"] for s in steps][:3] == [
        4,
        8,
        12,
    ]  # stepped up, stopped at the first break
    assert [s["verdict"] for s in steps][:3] == ["pass", "pass", "fail"]
    assert len(steps) <= 5 and all(
        s["load"]["users"] < 16 for s in steps
    )  # never went on past the break
    found = summary["capacity"]
    assert 6 <= found["users"] <= 14, found  # the true capacity, 10, within one step (4)
    assert found["metrics"]["first_text"]["p95"] < 500 and found["runs_per_s"] > 10
    assert 6 <= summary["knee"]["users"] <= 14
    for step in steps:
        assert {"name", "load", "runs", "throughput", "metrics", "verdict", "slo"} <= set(step)
    assert "step 3 (12 users) broke the SLO" in proc.stderr and "; step 1 (4 users)" in proc.stderr
    assert (results / "gates.json").exists()
    # the report's chart marks the capacity and the knee there, with the SLO line
    html = (results / "report.html").read_text()
    assert 'id="capacity-chart"' in html and '<line class="slo"' in html
    assert (
        f">capacity {found['users']}</text>" in html
        and f">knee {summary['knee']['users']}</text>" in html
    )
    assert f"Capacity: {found['users']} users" in html
