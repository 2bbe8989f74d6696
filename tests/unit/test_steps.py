"""Where the time goes inside a run: tool calls, hand-overs, phases and streaming cadence."""

from __future__ import annotations

import pytest
from steps_support import blank_record, ev, run_of, step, two_tools_and_a_handoff

from tests.helpers.gates_support import summary_json
from tests.helpers.wire import via_wire
from wxo_load.core.book import MetricsBook
from wxo_load.core.records import OK
from wxo_load.core.tracker import RunTracker


def test_two_tool_calls_and_a_handover_give_every_phase() -> None:
    rec = run_of(two_tools_and_a_handoff())
    assert rec.outcome == OK
    assert rec.tools == [
        ("lookup_order", 100, 300),
        ("search_kb", 450, 200),
        ("billing_agent", 700, 200),
    ]
    assert (rec.tool_calls, rec.handoffs, rec.handoff_ms, rec.unknown_steps) == (3, 1, 200, 0)
    assert rec.run_started_ms == 10 and rec.thinking_ms == 90  # run.started -> first tool call
    assert rec.intermediate_ms == pytest.approx(850 - 700)  # 100..950 outside the three tools
    assert rec.streaming_ms == 70 and rec.finish_ms == 11
    assert rec.inter_delta_p50_ms == 20 and rec.inter_delta_max_ms == 20
    assert rec.stream_chars_per_s == pytest.approx(8 * 1000 / 60, abs=0.1)
    assert "delta_gaps_ms" not in rec.to_dict()


def test_unknown_step_shapes_are_counted_and_kept_out_of_tools() -> None:
    timeline = two_tools_and_a_handoff()
    timeline[4:4] = [
        (300, step({"type": "brand_new_kind", "x": 1})),
        (301, step({"type": "tool_response", "name": "nobody", "tool_call_id": "c-unknown"})),
        (302, step({"type": "tool_calls", "tool_calls": "not a list"})),
        (303, step({"type": "tool_call", "name": "no_id"})),
        (304, ev("run.step.delta", delta="not a mapping")),
    ]
    rec = run_of(timeline)
    assert rec.outcome == OK and rec.unknown_steps == 5
    assert [t[0] for t in rec.tools or []] == ["lookup_order", "search_kb", "billing_agent"]


def test_a_call_without_response_is_a_tool_failure() -> None:
    timeline = two_tools_and_a_handoff()
    del timeline[6]  # search_kb never answers
    rec = run_of(timeline)
    assert rec.tools is not None and rec.tools[1] == ("search_kb", 450, None)
    book = MetricsBook()
    book.record_run(rec)
    summary = summary_json(book, meta={})
    assert (
        summary["tools"]["search_kb"]["calls"] == 1
        and summary["tools"]["search_kb"]["failures"] == 1
    )
    assert summary["tools"]["lookup_order"]["p95"] == 300


def test_tool_figures_merge_exactly_across_workers() -> None:
    books = [MetricsBook(), MetricsBook()]
    for i in range(10):
        books[i % 2].record_run(run_of(two_tools_and_a_handoff()))
    merged = MetricsBook()
    for book in books:
        merged.merge_packed(via_wire(book))
    summary = summary_json(merged, meta={})
    assert summary["tools"]["lookup_order"]["calls"] == 10
    assert summary["phases"]["thinking"]["p50"] == 90
    assert (
        summary["streaming"]["inter_delta"]["count"] == 30
        and summary["streaming"]["inter_delta"]["p99"] == 20
    )


def test_tool_names_are_bounded() -> None:
    book = MetricsBook()
    for i in range(60):
        rec = run_of(two_tools_and_a_handoff())
        rec.tools = [[f"tool_{i}", 0.0, 5.0]]
        book.record_run(rec)
    tools = summary_json(book, meta={})["tools"]
    assert len(tools) == 51 and tools["other"]["calls"] == 10


def test_a_call_cut_off_by_the_end_of_the_test_is_not_a_tool_failure() -> None:
    timeline = two_tools_and_a_handoff()[:6]  # search_kb called, then the test stops
    tracker = RunTracker(blank_record(), 0.0, 0.0)
    for at_ms, event in timeline:
        tracker.on_event(event, at_ms / 1000.0)
    rec = tracker.end(0.7, "stopped", "the test stopped")
    book = MetricsBook()
    book.record_run(rec)
    tools = summary_json(book, meta={})["tools"]
    assert tools["lookup_order"]["calls"] == 1 and "search_kb" not in tools
