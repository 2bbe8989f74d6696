"""End to end: where the time goes inside a run, against the simulator's `tools` profile.

The simulator logs when it wrote each tool_call and tool_response (`--event-log`); the harness's
per-tool percentiles must match the server's own durations, the streaming cadence must match
the profile's rate, and gates on tool figures decide the exit code.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from browser import CHROMIUM, _script
from locust_runs import read_jsonl, run_locust, write_scenario
from steps_support import WATERFALL_PHASES

from wxo_load.core.hdr import nearest_rank_ms
from wxo_load.mock.process import SimulatorProcess

EXIT_GATE_FAILED = 3
SCENARIO = """
name: tools-e2e
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 1, think_time_s: 0.1, pause_between_s: 0.1}
prompts: ["where is my order 1234"]
request: {stall_timeout_s: 10, stream_timeout_s: 30}
gates:
  - tools.lookup_order.p95 < 400ms
  - tools.search_kb.p95 < 600ms
  - streaming.inter_delta.p99 < 250ms
"""


def server_tool_durations(log: Path, run_ids: set[str]) -> dict[str, list[float]]:
    """Per tool: response written minus call written, ms, for the given runs."""
    calls: dict[str, dict[str, float]] = defaultdict(dict)
    names: dict[str, str] = {}
    for line in read_jsonl(log):
        if line.get("step") in ("tool_call", "tool_response") and line["run_id"] in run_ids:
            calls[line["tool_call_id"]][line["step"]] = line["t_mono"]
            names[line["tool_call_id"]] = line["tool"]
    out: dict[str, list[float]] = defaultdict(list)
    for call_id, times in calls.items():
        if len(times) == 2:
            out[names[call_id]].append((times["tool_response"] - times["tool_call"]) * 1000.0)
    return out


@pytest.mark.alone  # client-measured tool times against the server's log, within 5 ms
def test_tool_percentiles_cadence_and_gates_match_the_simulators_log(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    scenario = write_scenario(tmp_path / "tools.yaml", SCENARIO)
    results, failing = tmp_path / "results", tmp_path / "failing"
    common = ["-u", "12", "-r", "4", "--stop-timeout", "5", "--scenario", str(scenario)]
    with SimulatorProcess.start(
        profile="tools", port=0, seed=11, extra_args=["--event-log", str(log)]
    ) as sim:
        proc = run_locust(
            [
                *common,
                "-t",
                "15s",
                "--host",
                sim.url,
                "--results-dir",
                str(results),
                "--locust-rows",
                "all",
            ],
            home=tmp_path,
        )
        failed = run_locust(
            [
                *common,
                "-t",
                "3s",
                "--host",
                sim.url,
                "--results-dir",
                str(failing),
                "--gate",
                "tools.lookup_order.p95 < 250ms",
            ],
            home=tmp_path,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert failed.returncode == EXIT_GATE_FAILED, failed.stderr[-3000:]
    assert "tools.lookup_order.p95 < 250ms" in failed.stdout and "FAIL" in failed.stdout
    assert (
        "TOOL     lookup_order" in proc.stdout + proc.stderr
    )  # one Locust row per tool (--locust-rows all)
    assert (
        "TOOL" not in failed.stdout + failed.stderr
    )  # by default Locust counts one request per run

    summary = json.loads((results / "summary.json").read_text())
    runs = read_jsonl(results / "runs.jsonl")
    outcomes = Counter(r["outcome"] for r in runs)
    assert outcomes["ok"] >= 60 and set(outcomes) <= {"ok", "stopped"}, (
        outcomes
    )  # stopped: cut off by the end
    server = server_tool_durations(log, {r["run_id"] for r in runs})
    for tool in ("lookup_order", "search_kb", "billing_agent"):
        measured = summary["tools"][tool]
        assert (
            measured["calls"] == len(server[tool]) >= outcomes["ok"] and measured["failures"] == 0
        )
        for name, p in (("p50", 50), ("p95", 95)):
            expected = nearest_rank_ms(server[tool], p)
            assert expected is not None
            print(f"{tool} {name}: measured {measured[name]:.3f} ms, server {expected:.3f} ms")
            assert abs(measured[name] - expected) <= 5.0, (tool, name, measured[name], expected)
    assert abs(summary["tools"]["lookup_order"]["p50"] - 300.0) <= 5.0

    inter = summary["streaming"]["inter_delta"]
    print(
        f"inter-delta p50 {inter['p50']:.3f} ms, p99 {inter['p99']:.3f} ms "
        f"over {inter['count']} gaps"
    )
    assert abs(inter["p50"] - 20.0) <= 2.0
    assert summary["streaming"]["chars_per_s"]["p50"] == pytest.approx(
        200.0, rel=0.1
    )  # 4 chars / 20 ms

    run = next(r for r in runs if r["outcome"] == "ok")
    assert [t[0] for t in run["tools"]] == ["lookup_order", "search_kb", "billing_agent"]
    assert run["handoffs"] == 1 and run["tool_calls"] == 3 and run["trace_id"]
    for field in (
        "run_started_ms",
        "thinking_ms",
        "intermediate_ms",
        "handoff_ms",
        "streaming_ms",
        "finish_ms",
        "inter_delta_p50_ms",
    ):
        assert run[field] is not None, field
    assert summary["phases"]["thinking"]["count"] >= outcomes["ok"]

    if CHROMIUM is None and not os.environ.get("WXO_REQUIRE_BROWSER"):
        pytest.skip("every check above passed; the waterfall as Chromium renders it needs Chromium")
    dom = _script(str(results), "--dump-dom").stdout  # the typical run's waterfall, rendered
    typical = dom[dom.index("A typical run") :]
    typical = typical[: typical.index("</svg>")]
    for phase in WATERFALL_PHASES:
        assert f'data-phase="{phase}"' in typical, phase
