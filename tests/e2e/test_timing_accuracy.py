"""The harness's timings against the server's own record of when it wrote each event.

The simulator logs `perf_counter()` (CLOCK_MONOTONIC, shared by every process on this host) just
before handing each event's bytes to the transport. For every run the harness measured, the
interval from `run.started` to each later milestone must match the server's interval between
writing the same two events: under light load, within 2 ms at p50 and p95.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from locust_runs import read_jsonl, run_locust

from wxo_load.core.hdr import nearest_rank_ms
from wxo_load.mock.process import SimulatorProcess

pytestmark = pytest.mark.alone  # timings: run with no other test beside it

MILESTONES = {
    "first_delta_ms": "message.delta",
    "message_created_ms": "message.created",
    "done_ms": "done",
}


def test_harness_intervals_match_the_servers_write_times_within_2ms(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    results = tmp_path / "results"
    with SimulatorProcess.start(
        profile="default", port=0, seed=3, extra_args=["--event-log", str(log)]
    ) as sim:
        proc = run_locust(
            ["-u", "5", "-r", "5", "-t", "8s", "--host", sim.url, "--results-dir", str(results)],
            home=tmp_path,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]

    written: dict[str, dict[str, float]] = defaultdict(dict)
    for line in read_jsonl(log):
        written[line["run_id"]].setdefault(line["event"], line["t_mono"])  # first of each kind

    errors_ms: list[float] = []
    runs = [r for r in read_jsonl(results / "runs.jsonl") if r["outcome"] == "ok"]
    assert len(runs) >= 20
    for run in runs:
        server = written[run["run_id"]]
        for field, event in MILESTONES.items():
            harness_ms = run[field] - run["run_started_ms"]
            server_ms = (server[event] - server["run.started"]) * 1000.0
            errors_ms.append(abs(harness_ms - server_ms))
    p50, p95 = nearest_rank_ms(errors_ms, 50), nearest_rank_ms(errors_ms, 95)
    print(
        f"timing error vs server record over {len(errors_ms)} intervals: "
        f"p50 {p50:.3f} ms, p95 {p95:.3f} ms"
    )
    assert p50 is not None and p95 is not None
    assert p50 <= 2.0 and p95 <= 2.0
