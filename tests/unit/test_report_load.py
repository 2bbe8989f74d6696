"""The report's load section: a capacity search's chart and table, per-stage tables."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.gates_support import make_summary, typed
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.load import load_section


def _summary(**sections: Any) -> Summary:
    """A whole summary with these load-plan sections."""
    return typed({**make_summary(), **sections})


def _segment(name: str, load: dict, error_rate: float, runs_per_s: float, p95: float) -> dict:
    return {"index": 0, "name": name, "kind": "step", "load": load, "started_at": None,
            "duration_s": 120.0, "measured_s": 120.0,
            "runs": {"total": 300, "ok": 300, "failed": 0, "error_rate": error_rate},
            "conversations": {"total": 0, "ok": 0, "failed": 0},
            "throughput": {"runs_per_s": runs_per_s},
            "metrics": {"first_text": {"count": 1, "p50": p95 - 10, "p95": p95},
                        "done": {"count": 1, "p95": p95 + 100}}}  # fmt: skip


def _step(index: int, users: int, runs_per_s: float, p95: float, verdict: str) -> dict:
    step = _segment(f"step {index + 1} ({users} users)", {"users": users}, 0.0, runs_per_s, p95)
    return {**step, "index": index, "phase": "sweep", "verdict": verdict}


def _plan(slo: list[str]) -> dict:
    search = {"kind": "users", "start": 10, "step": 10, "max": 30, "slo": slo}
    return {"mode": "search", "search": search}


def test_a_search_section_draws_latency_and_throughput_against_load_with_slo_capacity_and_knee() -> (  # noqa: E501
    None
):
    summary = _summary(**{
        "plan": _plan(["first_text.p95 < 3s", "error_rate < 1%"]),
        "search_steps": [
            _step(0, 10, 5.0, 900, "pass"),
            _step(1, 20, 10.0, 1200, "pass"),
            _step(2, 30, 11.0, 4000, "fail"),
            _step(3, 25, 10.5, 2500, "pass"),
        ],
        "capacity": {
            "step": 3,
            "users": 25,
            "broke_at": {"users": 30},
            "limited_by": "slo",
            "runs_per_s": 10.5,
            "conversations_per_s": 1.0,
            "error_rate": 0.0,
            "metrics": {"first_text": {"count": 1, "p95": 2500}},
        },
        "knee": {"users": 20, "runs_per_s": 10.0},
    })  # fmt: skip
    html = load_section(summary)
    assert html.count("<svg") == 2 and "<script" not in html
    assert html.count('<line class="slo"') == 1  # one time gate in the SLO: its limit, 3000 ms
    assert (
        ">capacity 25</text>" in html
        and ">broke at 30</text>" in html
        and ">knee 20</text>" in html
    )
    assert (
        "Capacity: 25 users</b>, 10.5 runs/s, first text p95 2,500 ms; it broke at 30 users."
        in html
    )
    # points sorted by load, so the line goes 10 -> 20 -> 25 -> 30 whatever order they ran in
    titles = re.findall(r"first_text.p95 at (\d+)", html)
    assert titles == ["10", "20", "25", "30"]


def test_no_step_met_the_slo_says_so_and_plain_tests_have_no_section() -> None:
    summary = _summary(
        plan=_plan(["error_rate < 1%"]), search_steps=[_step(0, 10, 5.0, 900, "fail")]
    )
    assert "No step met the SLO" in load_section(summary)
    assert load_section(_summary()) == ""


def test_stages_get_a_table_of_their_own_figures() -> None:
    stage = _segment("peak", {"users": 50}, 0.01, 2.5, 1500)
    html = load_section(_summary(stages=[stage]))
    assert "<td>peak</td><td>50 users</td>" in html and "1.00 %" in html
