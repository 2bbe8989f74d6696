"""The run tracker's rules: which event sets which timing, and which outcome a run gets."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from steps_support import blank_record

from wxo_load.core.records import OK, PROTOCOL_ERROR, RUN_FAILED, TIMEOUT, TRUNCATED, RunRecord
from wxo_load.core.stream import BAD_LINE
from wxo_load.core.tracker import RunTracker, event_id_unix_ms

DATA = Path(__file__).resolve().parents[1] / "data"
THREAD = "fd438015-df29-4b3b-9fa3-d84c61871336"


def capture(n: int) -> list[dict]:
    return [
        orjson.loads(x)
        for x in (DATA / f"capture_run{n}.ndjson").read_bytes().splitlines()
        if x.strip()
    ]


def replay(events: list[dict], *, t0: float = 100.0, clock_from_ids: bool = True) -> RunRecord:
    """Feed events with arrival stamps equal to their id timestamps (relative to the first)."""
    record = blank_record(THREAD)
    first_ms = event_id_unix_ms(events[0]["id"]) or 0
    tracker = RunTracker(record, t0, wall_minus_perf_s=first_ms / 1000.0 - t0)
    t = t0
    for event in events:
        if clock_from_ids and event_id_unix_ms(event.get("id")):
            t = t0 + ((event_id_unix_ms(event["id"]) or 0) - first_ms) / 1000.0
        if tracker.on_event(event, t):
            break
    return tracker.end_of_body(t if tracker.finished else t + 0.001)


def test_captured_run_with_text_in_its_delta() -> None:
    rec = replay(capture(1))
    assert rec.outcome == OK
    assert rec.run_started_ms == 0
    assert rec.first_delta_ms == pytest.approx(1814)  # 1770397027183 - 1770397025369
    assert rec.first_text_ms == rec.first_delta_ms
    assert rec.message_created_ms == pytest.approx(1843)
    assert rec.done_ms == pytest.approx(1853)
    assert (rec.events, rec.deltas, rec.intermediate_steps) == (15, 1, 8)
    assert rec.answer_chars == len(
        "Hello! I am Watsonx Orchestrate, an AI assistant, created by IBM. "
        "How can I help you today?"
    )
    assert rec.max_gap_ms == pytest.approx(1748)
    assert rec.run_id == "a6d81785-d70e-4e9d-a858-6df96b4d383e"
    assert rec.message_id == "060f231a-bac4-484d-9181-17e8f04e64ad"


def test_captured_run_with_empty_deltas_gets_its_first_text_from_message_created() -> None:
    rec = replay(capture(2))
    assert rec.outcome == OK
    assert rec.deltas == 2
    assert rec.first_delta_ms == pytest.approx(1770397921134 - 1770397917176)
    assert (
        rec.first_text_ms == rec.message_created_ms == pytest.approx(1770397922940 - 1770397917176)
    )
    assert rec.answer_chars > 50


def test_body_ending_without_done_is_truncated() -> None:
    rec = replay(capture(1)[:-2])  # message.completed, then the body ends: no run.completed
    assert rec.outcome == TRUNCATED
    assert rec.done_ms is None and rec.message_created_ms is not None
    assert not rec.ended_without_done


def test_body_ending_after_run_completed_without_done_is_a_finished_run() -> None:
    rec = replay(capture(1)[:-1])  # run.completed is the last event, as the ADK accepts
    assert rec.outcome == OK and rec.ended_without_done
    assert rec.done_ms == rec.total_ms and rec.error_detail is None


def test_connection_broken_after_run_completed_stays_truncated() -> None:
    record = RunRecord(
        started_at_unix=0, user_id="u", conversation_id="c", turn_index=0, request_id="r"
    )
    tracker = RunTracker(record, 0.0, 0.0)
    tracker.on_event({"event": "run.started", "data": {}}, 0.001)
    tracker.on_event({"event": "run.completed", "data": {}}, 0.002)
    tracker.end(0.003, TRUNCATED, "connection broke: reset by peer")
    assert record.outcome == TRUNCATED and not record.ended_without_done


def _created(message: dict, **extra: object) -> dict:
    return {
        "event": "message.created",
        "data": {"thread_id": THREAD, "message_id": message.get("id"), "message": message, **extra},
    }


def test_answer_and_first_text_come_from_the_last_non_async_assistant_message() -> None:
    events = capture(2)
    k = next(i for i, e in enumerate(events) if e["event"] == "message.created")
    real = events[k]
    interim = {
        "id": "m-async",
        "role": "assistant",
        "content": [
            {"response_type": "text", "text": "Working on it in the background, please wait"}
        ],
        "additional_properties": {"display_properties": {"is_async": True}},
    }
    roleless = {
        "id": "m-none",
        "content": [{"response_type": "text", "text": "not an answer at all"}],
    }
    events[k:k] = [
        {**_created(interim), "id": events[k - 1]["id"]},
        {**_created(roleless), "id": events[k - 1]["id"]},
    ]
    rec = replay(events)
    answer = real["data"]["message"]["content"][0]["text"]
    assert rec.outcome == OK and rec.answer_chars == len(answer)
    assert (
        rec.first_text_ms == rec.message_created_ms == pytest.approx(1770397922940 - 1770397917176)
    )
    assert rec.message_id == real["data"]["message_id"]


def test_trace_id_of_message_created_is_kept() -> None:
    events = capture(1)
    k = next(i for i, e in enumerate(events) if e["event"] == "message.created")
    events[k] = {
        **events[k],
        "data": {**events[k]["data"], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
    }
    rec = replay(events)
    assert rec.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert replay(capture(1)).trace_id is None


@pytest.mark.parametrize("name", ["run.failed", "run.cancelled", "run.expired", "error"])
def test_failure_events_fail_the_run_and_keep_the_server_message(name: str) -> None:
    events = (
        capture(1)[:3]
        + [
            {
                "id": "1770397025500-0",
                "event": name,
                "data": {"thread_id": THREAD, "error": {"message": "model overloaded"}},
            }
        ]
        + capture(1)[-1:]
    )
    rec = replay(events)
    assert rec.outcome == RUN_FAILED
    assert "model overloaded" in (rec.error_detail or "")
    assert rec.done_ms is None


def test_unparseable_line_marks_protocol_error_and_keeps_the_line() -> None:
    events = capture(1)
    events.insert(4, {"event": BAD_LINE, "raw": "<html>502 Bad Gateway"})
    rec = replay(events)
    assert rec.outcome == PROTOCOL_ERROR
    assert "502 Bad Gateway" in (rec.error_detail or "")
    assert rec.events == 16  # the run was read to its end


def test_events_for_another_thread_are_a_protocol_error() -> None:
    events = capture(1)
    events[3] = {**events[3], "data": {**events[3]["data"], "thread_id": "someone-else"}}
    assert replay(events).outcome == PROTOCOL_ERROR


def test_events_for_another_run_are_a_protocol_error() -> None:
    events = capture(1)
    events[5] = {**events[5], "data": {**events[5]["data"], "run_id": "another-run"}}
    assert replay(events).outcome == PROTOCOL_ERROR


def test_done_before_run_started_is_a_protocol_error() -> None:
    assert replay(capture(1)[-1:]).outcome == PROTOCOL_ERROR


def test_unknown_events_are_counted_not_fatal() -> None:
    events = capture(1)
    events.insert(2, {"id": "1770397025380-0", "event": "run.step.brand_new", "data": {}})
    events.insert(2, {"id": "1770397025380-1", "event": "totally.new", "data": {}})
    rec = replay(events)
    assert rec.outcome == OK and rec.unknown_events == 1 and rec.intermediate_steps == 9


def test_first_verdict_stands() -> None:
    record = RunRecord(
        started_at_unix=0, user_id="u", conversation_id="c", turn_index=0, request_id="r"
    )
    tracker = RunTracker(record, 10.0, 0.0)
    tracker.end(11.0, TIMEOUT, "stall")
    tracker.end(12.0, TRUNCATED, "later")
    assert (record.outcome, record.total_ms) == (TIMEOUT, 1000.0)


def test_client_lag_is_arrival_minus_event_id_time() -> None:
    record = RunRecord(
        started_at_unix=0, user_id="u", conversation_id="c", turn_index=0, request_id="r"
    )
    tracker = RunTracker(record, t0=50.0, wall_minus_perf_s=1_000_000.0)  # unix = perf + 1e6
    tracker.on_event({"id": "1000050500-0", "event": "run.started", "data": {}}, t=50.503)
    assert tracker.client_lags_ms == [pytest.approx(3.0)]
    assert (
        event_id_unix_ms("17-3") == 17
        and event_id_unix_ms(None) is None
        and event_id_unix_ms("x-1") is None
    )


def test_timings_use_the_arrival_stamp_and_client_lag_the_read_time() -> None:
    """With kernel stamps an event arrives at `t` and is read later at `t_read`: the run's
    timings take the arrival, the client lag (the load generator's lateness) the read."""
    record = RunRecord(
        started_at_unix=0, user_id="u", conversation_id="c", turn_index=0, request_id="r"
    )
    tracker = RunTracker(record, t0=50.0, wall_minus_perf_s=1_000_000.0)
    tracker.on_event(
        {"id": "1000050500-0", "event": "run.started", "data": {}}, t=50.501, t_read=50.540
    )
    assert record.run_started_ms == pytest.approx(501.0)
    assert tracker.client_lags_ms == [pytest.approx(40.0)]


def test_delta_text_of_one_part_or_many() -> None:
    """A delta's content: one part (the usual case, read without building a list) or several;
    parts that are not objects and texts that are not strings count as no text."""
    record = RunRecord(
        started_at_unix=0, user_id="u", conversation_id="c", turn_index=0, request_id="r"
    )
    tracker = RunTracker(record, t0=0.0, wall_minus_perf_s=0.0)
    tracker.keep_text()
    contents = [
        [{"response_type": "text", "text": "one "}],
        [{"text": "two "}, "not a part", {"text": 3}, {"text": "parts "}],
        ["not a part"],
        [{"text": None}],
        [],
        "plain ",
    ]
    for i, content in enumerate(contents):
        data = {"delta": {"role": "assistant", "content": content}}
        tracker.on_event({"event": "message.delta", "data": data}, t=0.1 * (i + 1))
    assert tracker.answer_text == "one two parts plain "
    assert record.deltas == 6
