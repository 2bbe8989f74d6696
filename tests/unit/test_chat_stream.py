"""Chat completions frames, decoded and measured (pure: no sockets)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from wxo_load.core.chat_stream import ChatStreamDecoder, ChatTracker
from wxo_load.core.records import (
    ERROR_FRAME,
    NO_COMPLETED,
    OK,
    PROTOCOL_ERROR,
    TRUNCATED,
    RunRecord,
)


def _frame(obj: str, **fields: object) -> bytes:
    body = {"object": obj, "thread_id": "t1", "run_id": "r1", **fields}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _delta(text: str) -> bytes:
    return _frame("thread.message.delta", choices=[{"delta": {"content": text}}])


COMPLETED = _frame(
    "thread.message.completed",
    choices=[{"message": {"content": "hello world"}}],
    data={"message": {"content": [{"response_type": "text", "text": "hello world"}],
                      "step_details": [{"type": "tool_calls",
                                        "tool_calls": [{"id": "c1", "name": "f", "args": {}}]}]}},
)  # fmt: skip
STREAM = b": keep-alive\n\n" + _delta("hello ") + _delta("world") + COMPLETED


def measure(body: bytes, version: int, cuts: list[int] | None = None) -> ChatTracker:
    record = RunRecord(0.0, "u", "c", 0, "r")
    tracker = ChatTracker(record, 0.0, 0.0, version)
    tracker.keep_text()
    decoder = ChatStreamDecoder()
    bounds = [0, *sorted(cuts or []), len(body)]
    t = 0.0
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        t += 0.01
        for frame in decoder.feed(body[lo:hi]):
            if tracker.on_frame(frame, t):
                tracker.end_of_body(t)
                return tracker
    for frame in decoder.close():
        tracker.on_frame(frame, t)
    tracker.end_of_body(t + 0.01)
    return tracker


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=8),
       st.sampled_from([b"\n", b"\r\n", b"\r"]))  # fmt: skip
def test_any_chunking_and_line_end_reads_the_same_answer(cuts: list[int], end: bytes) -> None:
    body = STREAM.replace(b"\n", end)
    tracker = measure(body, 2, [c for c in cuts if c < len(body)])
    rec = tracker.record
    assert rec.outcome == OK and tracker.answer_text == "hello world"
    assert (rec.deltas, rec.thread_id, rec.run_id, rec.tool_calls) == (2, "t1", "r1", 1)
    assert rec.run_started_ms is None and rec.first_text_ms is not None
    assert rec.done_ms is not None and rec.done_ms > rec.message_created_ms  # type: ignore[operator]


def test_each_end_of_a_chat_answer_is_judged_by_its_version() -> None:
    assert measure(STREAM + b"data: [DONE]\n\n", 1).record.outcome == OK
    assert measure(_delta("hi"), 1).record.outcome == TRUNCATED
    assert measure(_delta("hi"), 2).record.outcome == NO_COMPLETED
    errored = measure(_delta("hi") + _frame("error", choices=[{"delta": {"content": "boom"}}]), 2)
    assert errored.record.outcome == ERROR_FRAME and "boom" in (errored.record.error_detail or "")
    other = _delta("a") + _frame("thread.message.delta", thread_id="t2")
    assert measure(other, 2).record.outcome == PROTOCOL_ERROR
    assert measure(b"data: {not json\n\n", 2).record.outcome == PROTOCOL_ERROR


def test_a_json_answer_observes_only_its_end() -> None:
    tracker = ChatTracker(RunRecord(0.0, "u", "c", 0, "r"), 0.0, 0.0, 1)
    tracker.on_json(b'{"choices": [{"message": {"content": "hi"}}], "thread_id": "t"}', 0.5)
    rec = tracker.end_of_body(0.5)
    assert (rec.outcome, rec.thread_id, rec.first_text_ms, rec.done_ms) == (OK, "t", None, 500.0)


def test_v2_names_its_environment_only_when_one_is_set() -> None:
    from wxo_load.core.deployment import chat_completions_path
    from wxo_load.edge.endpoint import Endpoint
    from wxo_load.edge.heads import chat_head

    path = chat_completions_path("remote", 2, "a b")
    assert path == "/v2/orchestrate/a%20b/chat/completions"
    assert chat_completions_path("local", 1, "a") == "/api/v1/orchestrate/a/chat/completions"
    endpoint = Endpoint.parse("https://api.example.com/instances/i1")
    live = chat_head("h", endpoint, None, "ua", path, {}, "env-1")
    assert live.startswith(b"POST /instances/i1/v2/orchestrate/a%20b/chat/completions HTTP/1.1")
    assert b"X-IBM-ENVIRONMENT-ID: env-1\r\n" in live
    assert b"X-IBM-ENVIRONMENT-ID" not in chat_head("h", endpoint, None, "ua", path, {}, None)


def test_the_chat_decoder_splits_lines_with_the_stream_decoders_splitter() -> None:
    from wxo_load.core.stream import StreamDecoder

    assert ChatStreamDecoder.lines is StreamDecoder.lines  # one line splitter (measured: hot path)
