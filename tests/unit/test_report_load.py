"""The report's load section: a capacity search's chart and table, per-stage tables."""

from __future__ import annotations

import re

from wxo_load.edge.report.load import load_section


def _step(index: int, users: int, runs_per_s: float, p95: float, verdict: str) -> dict:
    return {"index": index, "name": f"step {index + 1} ({users} users)", "phase": "sweep",
            "load": {"users": users},
            "runs": {"total": 50, "error_rate": 0.0}, "throughput": {"runs_per_s": runs_per_s},
            "metrics": {"first_text": {"p50": p95 - 10, "p95": p95}, "done": {"p95": p95 + 100}},
            "verdict": verdict}  # fmt: skip


def test_a_search_section_draws_latency_and_throughput_against_load_with_slo_capacity_and_knee() -> (  # noqa: E501
    None
):
    summary = {
        "load_plan": {
            "mode": "search",
            "search": {"kind": "users", "slo": ["first_text.p95 < 3s", "error_rate < 1%"]},
        },
        "steps": [
            _step(0, 10, 5.0, 900, "pass"),
            _step(1, 20, 10.0, 1200, "pass"),
            _step(2, 30, 11.0, 4000, "fail"),
            _step(3, 25, 10.5, 2500, "pass"),
        ],
        "capacity": {
            "users": 25,
            "broke_at": {"users": 30},
            "runs_per_s": 10.5,
            "metrics": {"first_text": {"p95": 2500}},
        },
        "knee": {"users": 20, "runs_per_s": 10.0},
    }
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
    summary = {
        "load_plan": {"search": {"kind": "users", "slo": ["error_rate < 1%"]}},
        "steps": [_step(0, 10, 5.0, 900, "fail")],
        "capacity": None,
    }
    assert "No step met the SLO" in load_section(summary)
    assert load_section({"metrics": {}}) == ""


def test_stages_get_a_table_of_their_own_figures() -> None:
    stage = {"name": "peak", "load": {"users": 50}, "duration_s": 120.0,
             "runs": {"total": 300, "error_rate": 0.01}, "throughput": {"runs_per_s": 2.5},
             "metrics": {"first_text": {"p50": 800, "p95": 1500},
                         "done": {"p95": 3000}}}  # fmt: skip
    html = load_section({"stages": [stage]})
    assert "<td>peak</td><td>50 users</td>" in html and "1.00 %" in html
