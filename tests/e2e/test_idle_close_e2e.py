"""A server that closes idle keep-alive connections after 1 s (uvicorn's behaviour, 5 s by
default) and stalls 40% of runs for longer than the stall limit, with think times above 1 s:
every stalled run is `timeout`, every other run `ok`, run by run against the simulator's own
event log. Before the fix, a request retried after an idle close ran with no stall watchdog
and stalled runs came back `ok`."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from locust_runs import read_jsonl, run_locust, write_scenario

from wxo_load.mock.process import SimulatorProcess

STALL_LIMIT_S = 1.0

PROFILE = """
name: idle-close-and-stalls
timing: {run_started_ms: 0.5, message_started_ms: 0.2, steps: 6, step_gap_ms: 0.1, think_ms: 2,
         first_delta_ms: 0.2, delta_gap_ms: 0.5, finish_gap_ms: 0.1}
answer: {chars: {uniform: [40, 80]}, chars_per_delta: 30}
faults: {stall: 0.4, stall_s: 2.5}
"""

SCENARIO = f"""
name: idle-close
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {{turns: 3, think_time_s: [1.2, 1.5], pause_between_s: 1.2}}
prompts: [hello, "and then?", thanks]
request: {{stall_timeout_s: {STALL_LIMIT_S}, stream_timeout_s: 30}}
"""


def test_idle_closes_and_stalls_every_stalled_run_is_a_timeout_and_only_those(
    tmp_path: Path,
) -> None:
    profile = write_scenario(tmp_path / "profile.yaml", PROFILE)
    scenario = write_scenario(tmp_path / "scenario.yaml", SCENARIO)
    log = tmp_path / "events.jsonl"
    results = tmp_path / "results"
    args = ["--keep-alive-timeout", "1", "--event-log", str(log)]
    with SimulatorProcess.start(profile=str(profile), port=0, seed=21, extra_args=args) as sim:
        proc = run_locust(
            [
                "-u",
                "8",
                "-r",
                "8",
                "-t",
                "16s",
                "--host",
                sim.url,
                "--scenario",
                str(scenario),
                "--results-dir",
                str(results),
            ],
            home=tmp_path,
            timeout_s=120,
        )
        faults = sim.stats().get("faults", {})
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    written: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for line in read_jsonl(log):
        written[line["run_id"]].append((line["t_mono"], line["event"]))
    runs = [r for r in read_jsonl(results / "runs.jsonl") if r["outcome"] != "stopped"]
    outcomes = Counter(r["outcome"] for r in runs)
    assert set(outcomes) <= {"ok", "timeout"}, outcomes
    for run in runs:
        events = sorted(written[run["run_id"]])
        gaps = [b[0] - a[0] for a, b in zip(events, events[1:], strict=False)]
        finished = any(name == "done" for _, name in events)
        if run["outcome"] == "ok":  # the server wrote the whole run without a long silence
            assert finished and max(gaps, default=0) < STALL_LIMIT_S, run
        else:  # the server stalled: the client left after the limit, before `done` was written
            assert not finished, run
            assert STALL_LIMIT_S * 1000 <= run["total_ms"] < 2400, (
                run
            )  # ended by the watchdog, not by the stall's end
    assert outcomes["timeout"] >= 5 and outcomes["ok"] >= 5, outcomes
    assert outcomes["timeout"] <= faults.get("stall", 0), (
        outcomes,
        faults,
    )  # runs cut by the end stay `stopped`
    summary = json.loads((results / "summary.json").read_text())
    assert summary["runs"]["by_outcome"].get("connect_error", 0) == 0
