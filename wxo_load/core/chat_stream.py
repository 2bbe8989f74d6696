"""Chat completions (v1 and v2) answers, measured: SSE frames in, a finished RunRecord out.

Pure: the caller passes every timestamp. Framing (`ChatStreamDecoder`): Server-Sent Events, one
JSON object per `data:` (several `data:` lines join), typed by its `object` field; `:` comments
are keep-alives; LF, CRLF or CR line ends at any chunk boundary; `data: [DONE]` ends a v1
answer (tolerated on v2); the last frame may arrive unterminated when the stream closes.

Frames (`ChatTracker`), mapped onto the widget channel's vocabulary so one set of rules decides
timings, answer text, tools and phases (the RunTracker's):

| frame `object` | what it means here |
|----------------|--------------------|
| `thread.message.delta` | a delta; text in `choices[0].delta.content` |
| `chat.completion.chunk` | the same (OpenAI's shape) |
| `thread.run.step.delta` | a tool step (`data.delta.step_details`, as the widget's) |
| `thread.message.completed` | the whole answer: `message_created` (the last one wins) |
| `error` | the run failed: class `error_frame`, text from `choices[0].delta.content` |
| `[DONE]` | `done` (v1) |

v1 is finished at `[DONE]`, or at the stream's end after a completed frame or a chunk with a
`finish_reason`; else it was `truncated`. v2 is finished when the stream closes after a
completed frame (`done` is the close); a close without one is `no_completed`. Run and trace ids
come from every frame's top level; a frame naming another thread or run is a protocol error.
"""

from __future__ import annotations

from typing import cast

import orjson

from wxo_load.core.json_value import Json, JsonObject
from wxo_load.core.records import (
    ERROR_FRAME,
    NO_COMPLETED,
    PROTOCOL_ERROR,
    RUN_FAILED,
    TRUNCATED,
    RunRecord,
)
from wxo_load.core.stream import BAD_LINE, Event, StreamDecoder
from wxo_load.core.tracker import RunTracker

DONE = "[DONE]"
DELTA_OBJECTS = frozenset({"thread.message.delta", "chat.completion.chunk"})
STEP_DELTA = "thread.run.step.delta"
COMPLETED = "thread.message.completed"
ERROR = "error"
_FAILED = frozenset({"thread.run.failed", "thread.run.cancelled", "thread.run.expired"})
_MAX_DETAIL = 300


class ChatStreamDecoder(StreamDecoder):
    """SSE chunks in, frames (dicts typed by `object`) out; `{"object": "[DONE]"}` for [DONE], a
    `{"event": BAD_LINE, "raw"}` for what is not a JSON object."""

    __slots__ = ()

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        line_of = self._line
        for line in self.lines(chunk):
            if line[:6] == b"data: " and self._sse_data is None:  # a frame's first data line
                self._sse_data = [line[6:]]
            else:
                line_of(line, events)
        return events

    def _dispatch_sse(self, events: list[Event]) -> None:
        data = self._sse_data
        if data is None and self._sse_event is None:
            return
        self._sse_data = self._sse_event = self._sse_id = None
        payload = b"\n".join(data) if data else b""
        if payload.strip() == b"[DONE]":
            events.append({"object": DONE})
            return
        try:
            frame = orjson.loads(payload)
        except orjson.JSONDecodeError:
            frame = None
        if type(frame) is dict:
            events.append(cast(Event, frame))  # a JSON object: a frame (its `object` read)
        elif payload:
            events.append({"event": BAD_LINE, "raw": payload[:2000].decode("utf-8", "replace")})


def _first_choice(frame: Event) -> JsonObject:
    choices = frame.get("choices")
    if type(choices) is list and choices:
        first = choices[0]
        if type(first) is dict:
            return first
    return {}


def _content(value: Json) -> str | list[Json] | None:
    return value if type(value) is str or type(value) is list else None


class ChatTracker:
    """Measures one chat completion (`version` 1 or 2) with a RunTracker underneath; has the
    `edge.channel.Turn` interface. `keep_message()` keeps the completed frame's `data.message`
    (a stateless client replays it)."""

    __slots__ = ("run", "version", "completed", "message", "_done", "_finish", "_steps_seen",
                 "_keep_message")  # fmt: skip

    def __init__(self, record: RunRecord, t0: float, wall_minus_perf_s: float, version: int):
        self.run = RunTracker(record, t0, wall_minus_perf_s)
        self.version = version
        self.completed = False
        self.message: JsonObject | None = None  # the completed frame's data.message (kept)
        self._done = False
        self._finish = False  # a chunk with a finish_reason (OpenAI's end of an answer)
        self._steps_seen = False
        self._keep_message = False

    # -- the Turn interface -----------------------------------------------------------------

    @property
    def record(self) -> RunRecord:
        return self.run.record

    @property
    def t0(self) -> float:
        return self.run.t0

    @property
    def client_lags_ms(self) -> list[float]:
        return self.run.client_lags_ms

    @property
    def answer_text(self) -> str | None:
        return self.run.answer_text

    @property
    def agent(self) -> str | None:
        return self.run.agent

    def keep_text(self) -> None:
        self.run.keep_text()

    def keep_message(self) -> None:
        self._keep_message = True

    @property
    def finished(self) -> bool:
        """The whole answer is in (a completed frame or [DONE]): a connection that breaks or a
        test that stops now does not make the run fail."""
        return self._done or self.completed

    @property
    def done_seen(self) -> bool:
        """`[DONE]` came: nothing after it is read."""
        return self._done

    @property
    def failed(self) -> bool:
        return self.run.failed

    # -- frames -----------------------------------------------------------------------------

    def on_frame(self, frame: Event, t: float, t_read: float | None = None) -> bool:
        """Account for one frame that arrived at `t`. True at `[DONE]` (stop reading)."""
        obj = frame.get("object")
        if obj == DONE:
            self._done = True
            self.record.done_ms = (t - self.run.t0) * 1000.0 if not self.run.failed else None
            return True
        if not self._ids(frame):
            return False
        run = self.run
        event: Event
        if obj in DELTA_OBJECTS:
            choice = _first_choice(frame)
            delta = choice.get("delta")
            content = _content(delta.get("content")) if type(delta) is dict else None
            if choice.get("finish_reason"):
                self._finish = True
            event = {"event": "message.delta", "data": {"delta": {"content": content}}}
        elif obj == STEP_DELTA:
            self._steps_seen = True
            data = frame.get("data")
            event = {"event": "run.step.delta", "data": data if type(data) is dict else {}}
        elif obj == COMPLETED:
            event = self._completed(frame, t)
        elif obj == ERROR or obj in _FAILED:
            choice = _first_choice(frame)
            delta = choice.get("delta")
            text = delta.get("content") if type(delta) is dict else None
            error = frame.get("error")
            if not text and type(error) is dict:
                text = error.get("message")
            run.fail(ERROR_FRAME if obj == ERROR else RUN_FAILED, f"{obj}: {text or frame}")
            event = {"event": "error"}  # known: no further effect (the first failure stands)
        elif frame.get("event") == BAD_LINE:
            event = frame
        else:
            event = {"event": f"chat.{obj}"}  # counted as an unknown event
        event["id"] = frame.get("id")
        run.on_event(event, t, t_read)
        return False

    def _ids(self, frame: Event) -> bool:
        """Take the frame's top-level thread, run and trace ids; False (a protocol error) when
        it names another thread or run than the ones already seen."""
        rec = self.record
        for key in ("thread_id", "run_id"):
            value = frame.get(key)
            if type(value) is not str or not value:
                continue
            mine = getattr(rec, key)
            if mine is None or (key == "thread_id" and mine == "new"):
                setattr(rec, key, value)
            elif value != mine:
                self.run.fail(PROTOCOL_ERROR, f"{frame.get('object')} for another {key} {value}")
                return False
        trace = frame.get("trace_id")
        if rec.trace_id is None and type(trace) is str:
            rec.trace_id = trace
        return True

    def _completed(self, frame: Event, t: float) -> Event:
        self.completed = True
        data = frame.get("data")
        message = data.get("message") if type(data) is dict else None
        message = message if type(message) is dict else {}
        text = _first_choice(frame).get("message")
        content = _content(text.get("content")) if type(text) is dict else None
        if content is None:
            content = _content(message.get("content"))
        if self._keep_message:
            self.message = message
        details = message.get("step_details")
        if not self._steps_seen and type(details) is list and details:
            calls: list[Json] = [
                d for d in details if type(d) is dict and d.get("type") == "tool_calls"
            ]
            if calls:  # tools named by the completed frame only: counted, their time unknown
                delta: JsonObject = {"step_details": calls}
                step: Event = {"event": "run.step.delta", "data": {"delta": delta}}
                self.run.on_event(step, t)
        return {
            "event": "message.created",
            "data": {"message": {"role": "assistant", "content": content or ""}},
        }

    def on_json(self, body: bytes, t: float) -> None:
        """A `stream: false` answer (one `chat.completion` JSON) whose end arrived at `t`."""
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            answer = None
        if type(answer) is not dict:
            text = body[:_MAX_DETAIL].decode("utf-8", "replace")
            self.run.fail(PROTOCOL_ERROR, f"the answer is not a JSON object: {text}")
            return
        frame = cast(Event, answer)  # a JSON object: its ids and choices are read
        if not self._ids(frame):
            return
        message = _first_choice(frame).get("message")
        content = _content(message.get("content")) if type(message) is dict else None
        answered: JsonObject = {"role": "assistant", "content": content or ""}
        event: Event = {"event": "message.created", "data": {"message": answered}}
        self.run.on_event(event, t)
        self.completed = True
        rec = self.record
        rec.first_text_ms = None  # not observable: the whole answer came at once
        rec.done_ms = rec.message_created_ms

    def end_of_body(self, t: float) -> RunRecord:
        """The stream ended (closed or its last chunk came) at `t`: decide the outcome."""
        rec, run = self.record, self.run
        if run.failed:
            return run.end(t)
        if self.version == 2:
            if not self.completed:
                return run.end(t, NO_COMPLETED, "the stream closed without a completed frame")
            rec.done_ms = (t - run.t0) * 1000.0
            return run.end(t)
        if self._done or self.completed or self._finish:
            if rec.done_ms is None:
                rec.done_ms = (t - run.t0) * 1000.0
            return run.end(t)
        return run.end(t, TRUNCATED, "the stream ended without a completed frame or [DONE]")

    def end(self, t: float, outcome: str | None = None, detail: str | None = None) -> RunRecord:
        return self.run.end(t, outcome, detail)
