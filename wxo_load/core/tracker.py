"""From stamped events to a measured run: the rules that decide timings and outcomes.

Pure: the caller passes every timestamp (`time.perf_counter()` seconds: when the bytes
arrived, and when the load generator read them). `RunTracker.on_event()` returns True once
the run has reached a final event (`done`, or a failure the server announced), so the caller
can stop reading.
"""

from __future__ import annotations

from wxo_load.core.json_value import Json, JsonObject
from wxo_load.core.records import PROTOCOL_ERROR, RUN_FAILED, TRUNCATED, RunRecord
from wxo_load.core.steps import StepTracker, finish_phases
from wxo_load.core.stream import BAD_LINE, Event

KNOWN_EVENTS = frozenset(
    {
        "run.started", "run.completed", "run.failed", "run.expired", "run.cancelled",
        "run.step.started", "run.step.completed", "run.step.failed", "run.step.delta",
        "run.step.intermediate", "run.step.thinking", "message.created", "message.started",
        "message.delta", "message.completed", "message.interrupt", "transcription", "summary",
        "error", "done", "planning", "flow.slot.listen",
    }
)  # fmt: skip
FAILURE_EVENTS = frozenset({"run.failed", "run.cancelled", "run.expired", "error"})
_MAX_DETAIL = 300
TEXT_KEPT_MAX = 65536  # characters of an answer's deltas kept for its checks (keep_text())


def _text_of_content(content: Json) -> str:
    """Concatenated text of a `content` list (`[{"response_type": "text", "text": ...}]`)."""
    if type(content) is str:
        return content
    if type(content) is not list:
        return ""
    if len(content) == 1:  # a delta's usual content: one part (no list, generator or join)
        part = content[0]
        text = part.get("text") if type(part) is dict else None
        return text if type(text) is str else ""
    parts = [part.get("text") for part in content if type(part) is dict]
    return "".join(p for p in parts if type(p) is str)


def _is_async(message: JsonObject) -> bool:
    props = message.get("additional_properties")
    display = props.get("display_properties") if type(props) is dict else None
    return type(display) is dict and display.get("is_async") is True


def _failure_detail(name: str, data: Json) -> str:
    if type(data) is dict:
        for key in ("error", "message", "detail", "reason", "last_error"):
            value = data.get(key)
            if value:
                if type(value) is dict:
                    value = value.get("message") or value.get("text") or value
                return f"{name}: {value}"[:_MAX_DETAIL]
    return f"{name}: {data}"[:_MAX_DETAIL] if data else name


def event_id_unix_ms(event_id: Json) -> int | None:
    """`"1770397025369-0"` -> 1770397025369 (the server's wall clock when it wrote the event)."""
    if type(event_id) is not str:
        return None
    dash = event_id.find("-")
    head = event_id[:dash] if dash > 0 else event_id
    return int(head) if head.isdigit() else None


class RunTracker:
    """Measures one run. `t0` is the perf_counter() taken just before the request was written.

    `wall_minus_perf_s` converts perf_counter() to Unix time (time.time() - perf_counter(),
    taken once per process) so each event's arrival can be compared with the server's own
    timestamp in the event id: the client lag.
    """

    __slots__ = (
        "record", "t0", "wall_minus_perf_ms", "client_lags_ms", "_last_t", "_answer_from_deltas",
        "finished", "_failed", "_ended", "_completed", "steps", "_gaps", "_last_text_ms",
        "_texts", "_message_text", "agent",
    )  # fmt: skip

    def __init__(self, record: RunRecord, t0: float, wall_minus_perf_s: float) -> None:
        self.record = record
        self.t0 = t0
        self.wall_minus_perf_ms = wall_minus_perf_s * 1000.0
        self.client_lags_ms: list[float] = []
        self._last_t = t0
        self._answer_from_deltas = 0
        self.finished = False
        self._failed = False
        self._ended = False
        self._completed = False  # run.completed seen: a body ending without `done` is finished
        self.steps: StepTracker | None = None  # made at the first run.step.delta
        self._gaps: list[float] = []  # between consecutive text deltas, ms
        self._last_text_ms: float | None = None
        self._texts: list[str] | None = None  # the answer's delta texts, with keep_text()
        self._message_text: str | None = None  # the answer as message.created gave it
        self.agent: str | None = None  # the last `current_agent` the steps named (keep_text())

    def keep_text(self) -> None:
        """Keep the answer's text (for its checks): off by default, so the hot path only counts."""
        self._texts = []

    @property
    def answer_text(self) -> str | None:
        """The whole answer (message.created's, else the deltas'), when keep_text() was called."""
        if self._texts is None:
            return None
        return self._message_text if self._message_text is not None else "".join(self._texts)

    def on_event(self, event: Event, t: float, t_read: float | None = None) -> bool:
        """Account for one event that arrived at perf_counter() `t` and was read at `t_read`
        (default `t`; the client lag runs to it). True when the run is over.

        Runs for every event of every run: the common path is written out inline.
        """
        rec = self.record
        rec.events += 1
        gap_ms = (t - self._last_t) * 1000.0
        if rec.max_gap_ms is None or gap_ms > rec.max_gap_ms:
            rec.max_gap_ms = gap_ms
        self._last_t = t
        event_id = event.get("id")
        if type(event_id) is str:  # "<unix-ms>-<seq>": the client lag behind the server's clock
            dash = event_id.find("-")
            head = event_id[:dash] if dash > 0 else event_id
            if head.isdigit():
                lag = (
                    (t if t_read is None else t_read) * 1000.0 + self.wall_minus_perf_ms - int(head)
                )
                self.client_lags_ms.append(lag)
                if rec.client_lag_max_ms is None or lag > rec.client_lag_max_ms:
                    rec.client_lag_max_ms = lag
        name = event["event"]
        if name == BAD_LINE:
            self._protocol_error(f"unparseable line: {event.get('raw', '')}")
            return False
        got = event.get("data")
        data: JsonObject = got if type(got) is dict else {}
        thread_id = data.get("thread_id")
        if thread_id is not None and thread_id != rec.thread_id and rec.thread_id is not None:
            self._protocol_error(f"{name} for another thread {thread_id}")
            return False
        run_id = data.get("run_id")
        if run_id is not None and run_id != rec.run_id:
            if rec.run_id is not None:
                self._protocol_error(f"{name} for another run {run_id}")
                return False
            rec.run_id = run_id if type(run_id) is str else str(run_id)
        return self._apply(name, data, (t - self.t0) * 1000.0)

    def _apply(self, name: str, data: JsonObject, since_ms: float) -> bool:
        rec = self.record
        if name == "message.delta":
            self._on_delta(data, since_ms)
        elif name.startswith("run.step."):
            self._on_step(name, data, since_ms)
        elif name == "run.started":
            if rec.run_started_ms is None:
                rec.run_started_ms = since_ms
        elif name == "message.created":
            self._on_message_created(data, since_ms)
        elif name == "done":
            return self._on_done(since_ms)
        elif name == "run.completed":
            self._completed = True
        elif name in FAILURE_EVENTS:
            self._fail(RUN_FAILED, _failure_detail(name, data))
        elif name not in KNOWN_EVENTS:
            rec.unknown_events += 1
        return False

    def _on_step(self, name: str, data: JsonObject, since_ms: float) -> None:
        self.record.intermediate_steps += 1
        agent = data.get("current_agent") if self._texts is not None else None
        if type(agent) is str:
            self.agent = agent  # who is answering (an answered_by check)
        if name == "run.step.delta":
            steps = self.steps
            if steps is None:
                steps = self.steps = StepTracker()
            steps.on_delta(data, since_ms)

    def _on_delta(self, data: JsonObject, since_ms: float) -> None:
        rec = self.record
        rec.deltas += 1
        if rec.first_delta_ms is None:
            rec.first_delta_ms = since_ms
        delta = data.get("delta")
        if type(delta) is not dict or delta.get("role", "assistant") != "assistant":
            return  # only the assistant's own text is the answer
        text = _text_of_content(delta.get("content"))
        if text:
            if self._texts is not None and self._answer_from_deltas < TEXT_KEPT_MAX:
                self._texts.append(text)
            self._answer_from_deltas += len(text)
            last = self._last_text_ms
            if last is not None:
                self._gaps.append(since_ms - last)
            self._last_text_ms = since_ms
            if rec.first_text_ms is None:
                rec.first_text_ms = since_ms

    def _on_message_created(self, data: JsonObject, since_ms: float) -> None:
        """The answer is the last assistant message that is not async (as the ADK reads it)."""
        rec = self.record
        got = data.get("message")
        message: JsonObject = got if type(got) is dict else {}
        trace_id = data.get("trace_id") or message.get("trace_id")
        if type(trace_id) is str and rec.trace_id is None:
            rec.trace_id = trace_id
        if message and (message.get("role") != "assistant" or _is_async(message)):
            return  # no role, someone else's, or an async agent's interim message
        rec.message_created_ms = since_ms
        message_id = data.get("message_id")
        if message_id is not None:
            rec.message_id = message_id if type(message_id) is str else str(message_id)
        text = _text_of_content(message.get("content"))
        if text and rec.first_text_ms is None:
            rec.first_text_ms = since_ms  # every delta was empty: the text arrives here
        if text:
            rec.answer_chars = len(text)
            if self._texts is not None:
                self._message_text = text[:TEXT_KEPT_MAX]

    def _on_done(self, since_ms: float) -> bool:
        rec = self.record
        if rec.run_started_ms is None and not self._failed:
            self._protocol_error("done before run.started")
        elif not self._failed:
            rec.done_ms = since_ms
        self.finished = True
        return True

    def fail(self, outcome: str, detail: str) -> None:
        """Mark the run failed with `outcome` (a channel's own class); the first failure wins."""
        self._fail(outcome, detail)

    def _protocol_error(self, detail: str) -> None:
        self._fail(PROTOCOL_ERROR, detail)

    def _fail(self, outcome: str, detail: str) -> None:
        if not self._failed:  # the first failure decides the outcome; later ones add nothing
            self._failed = True
            self.record.outcome = outcome
            self.record.error_detail = detail[:_MAX_DETAIL]

    @property
    def failed(self) -> bool:
        return self._failed

    def end_of_body(self, t: float) -> RunRecord:
        """The body ended cleanly at `t`. After `done` the run is over; after `run.completed`
        without `done` it is finished too, as the ADK reads it (flagged `ended_without_done`);
        before either, the run was truncated."""
        if self.finished:
            return self.end(t)
        if self._completed and not self._failed:
            self.record.ended_without_done = True
            rec = self.end(t)
            rec.done_ms = rec.total_ms
            return rec
        return self.end(t, TRUNCATED, "the body ended without a done event")

    def end(self, t: float, outcome: str | None = None, detail: str | None = None) -> RunRecord:
        """The stream is over at `t` (ended, broke or was abandoned). Returns the final record.

        `outcome` is the transport's verdict (timeout, truncated, connect_error, stopped...); it
        applies unless the server already announced a failure.
        """
        rec = self.record
        if self._ended:  # the first verdict stands
            return rec
        self._ended = True
        rec.total_ms = (t - self.t0) * 1000.0
        if outcome is not None:
            self._fail(outcome, detail or outcome)
        if self._answer_from_deltas > rec.answer_chars:
            rec.answer_chars = self._answer_from_deltas
        finish_phases(rec, self.steps, self._gaps, self._answer_from_deltas, self._last_text_ms)
        return rec
