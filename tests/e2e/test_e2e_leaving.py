"""People who leave, end to end: a Locust run in which a fifth of the runs' people close the tab
at first text. The simulator's count of streams closed early (its own view) equals the harness's
`abandoned` count exactly, and no abandoned run is in any timing figure."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from locust_runs import read_jsonl, run_locust

from wxo_load.mock.process import SimulatorProcess

pytestmark = [pytest.mark.slow, pytest.mark.alone]  # exact counts hang on the answer's timing

SCENARIO = """name: leaving
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 1, pause_between_s: 0.1}
prompts: {messages: [hello]}
request: {stall_timeout_s: 10, stream_timeout_s: 30}
abandon: {share: 20%, at: first_text}
"""


def test_abandoned_runs_match_the_servers_closed_streams_and_stay_out_of_the_timings(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "leaving.yaml"
    scenario.write_text(SCENARIO)
    results = tmp_path / "results"
    with SimulatorProcess.start(profile="default", port=0, seed=11) as sim:
        proc = run_locust(
            ["-u", "8", "-r", "8", "-t", "8s", "--stop-timeout", "10", "--host", sim.url,
             "--scenario", str(scenario), "--results-dir", str(results)],
            home=tmp_path,
        )  # fmt: skip
        stats = httpx.get(f"{sim.url}/_mock/stats", timeout=5).json()
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = results  # --results-dir: the files themselves
    runs = read_jsonl(run_dir / "runs.jsonl")
    outcomes = [r["outcome"] for r in runs]
    abandoned = outcomes.count("abandoned")
    assert outcomes.count("stopped") == 0  # every run ended before the test did (stop-timeout)
    assert 0 < abandoned < len(runs) and outcomes.count("ok") == len(runs) - abandoned
    print(f"{len(runs)} runs, {abandoned} abandoned; simulator: {stats['streams_abandoned']} "
          "streams closed early")  # fmt: skip
    assert stats["streams_abandoned"] == abandoned
    for run in runs:
        if run["outcome"] == "abandoned":
            assert run["left_at_ms"] == run["first_text_ms"] and run["done_ms"] is None

    data = json.loads((run_dir / "summary.json").read_text())
    assert data["runs"]["left"] == abandoned and data["runs"]["failed"] == 0
    assert data["runs"]["by_outcome"]["abandoned"] == abandoned
    booked = [r for r in runs if r["window"] == "measured"]
    timed = sum(1 for r in booked if r["outcome"] == "ok")
    assert data["metrics"]["first_text"]["count"] == timed  # no abandoned run in the figures
    assert data["metrics"]["run_started"]["count"] == timed
