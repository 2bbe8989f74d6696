"""What one streamed run and one conversation measured: the records every other part reads.

Pure data: no clock, no sockets. Times are milliseconds measured from the moment just before
the run's request was written (for runs) or the conversation began (for conversations).

A run's `outcome` is `"ok"` or exactly one low-cardinality error class:

    http_<status>    the server answered with a non-2xx status (http_401, http_429, http_503...)
    connect_error    the connection could not be made or broke before any response
    timeout          no event for longer than the stall limit, or the whole run past stream_timeout
    run_failed       run.failed / run.cancelled / run.expired / error events (message kept)
    truncated        the body ended without `done` (and without `run.completed` before it)
    protocol_error   an unparseable line, events for another thread or run, `done` before
                     `run.started`
    stopped          the test stopped while the run was still streaming
    wrong_answer     the run streamed fine but its answer failed a check (`expect:`; the names
                     of the checks it failed in `failed_checks`; wxo_load.core.answers)
    cross_talk       its answer carries another conversation's canary (`checks: {canary: true}`)
    error_frame      chat completions: the stream carried an `error` frame (its text kept)
    no_completed     chat completions v2: the stream closed without a completed frame
    thread_expired   chat completions v2: 404 naming the thread on a continued conversation
    thread_store_unavailable  chat completions v2: 503 naming the thread store (stateful turn)
    poll_timeout     runs-poll: no final status (completed, failed, cancelled) within the run's
                     timeout (`request.stream_timeout_s`)
    socket_connect_error  async: the Socket.IO channel could not be opened (refused, upgrade
                     refused, no Engine.IO open or Socket.IO connect)
    socket_closed    async: the Socket.IO channel closed before the run's answer arrived

Three outcomes are people who left before the answer ended (wxo_load.core.leaving): `abandoned`
(closed the connection), `cancelled` (closed it and posted the run's cancel), `interrupted`
(closed it and sent the next message at once). Like `stopped` they are never errors; unlike it
they are the test's own doing, counted, and kept out of every timing figure (`LEFT_OUTCOMES`).

A body that ends after `run.completed` with no `done` is a finished run, as the ADK reads it:
its outcome is `ok` and its `ended_without_done` flag is set (counted apart in summary.json).

Error classes never contain ids or free text, so Locust shows one row per class. Details go in
`error_detail`, which is kept in the run's own record only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import msgspec

# The metric tables live in wxo_load.core.metrics (one row per metric).
from wxo_load.core.channels import RUNS_STREAM
from wxo_load.core.window import MEASURED

# One tool call of a run: its name, start and duration (None: it never ended). A tuple when the
# tracker made it, a list when it came back from JSON or a worker's report; read by unpacking.
ToolCall = tuple[str, float, float | None]

OK = "ok"
CONNECT_ERROR = "connect_error"
TIMEOUT = "timeout"
RUN_FAILED = "run_failed"
TRUNCATED = "truncated"
PROTOCOL_ERROR = "protocol_error"
STOPPED = "stopped"
WRONG_ANSWER = "wrong_answer"
CROSS_TALK = "cross_talk"
ERROR_FRAME = "error_frame"
NO_COMPLETED = "no_completed"
THREAD_EXPIRED = "thread_expired"
THREAD_STORE_UNAVAILABLE = "thread_store_unavailable"
POLL_TIMEOUT = "poll_timeout"
SOCKET_CONNECT_ERROR = "socket_connect_error"
SOCKET_CLOSED = "socket_closed"
ABANDONED = "abandoned"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
LEFT_OUTCOMES = frozenset({ABANDONED, CANCELLED, INTERRUPTED})
"""A person left before the answer ended: counted, never a failure, out of the timing figures."""
NOT_FAILED = frozenset({OK, STOPPED, *LEFT_OUTCOMES})
"""Outcomes that are not an error class."""

FIXED_ERROR_CLASSES = (
    CONNECT_ERROR, TIMEOUT, RUN_FAILED, TRUNCATED, PROTOCOL_ERROR, STOPPED,
    WRONG_ANSWER, CROSS_TALK, ERROR_FRAME, NO_COMPLETED, THREAD_EXPIRED, THREAD_STORE_UNAVAILABLE,
    POLL_TIMEOUT, SOCKET_CONNECT_ERROR, SOCKET_CLOSED, ABANDONED, CANCELLED, INTERRUPTED,
)  # fmt: skip


def http_error_class(status: int) -> str:
    return f"http_{status}"


@dataclass(slots=True)
class RunRecord:
    """One run (one turn): its request on the test's channel and every event it produced."""

    started_at_unix: float  # wall clock when the request was about to be written
    user_id: str
    conversation_id: str
    turn_index: int  # 0 = the conversation's first message
    request_id: str  # the x-ibm-request-id sent, to join with server logs
    thread_id: str | None = None
    run_id: str | None = None
    message_id: str | None = None
    outcome: str = OK
    error_detail: str | None = None  # server's message, bad line (truncated), exception text
    status_code: int | None = None
    run_started_ms: float | None = None
    first_delta_ms: float | None = None
    first_text_ms: float | None = None  # first delta with text, else message.created
    message_created_ms: float | None = None
    done_ms: float | None = None
    total_ms: float | None = None  # until the stream ended, successfully or not
    events: int = 0
    intermediate_steps: int = 0
    deltas: int = 0
    unknown_events: int = 0
    answer_chars: int = 0
    max_gap_ms: float | None = None  # longest silence between two events (or request and first)
    client_lag_max_ms: float | None = None  # worst arrival-minus-event-id-timestamp in this run
    schedule_lag_ms: float | None = None  # how late the run began against its schedule
    attempts: int = 1  # 2 when a 401 before streaming was retried with a refreshed token
    # times the request was sent again on a new connection (the kept-alive one had closed before
    # any answer byte)
    reconnects: int = 0
    worker: str = ""  # which load-generator process measured it
    ended_without_done: bool = False  # ok: the body ended after run.completed with no `done`
    trace_id: str | None = None  # from message.created: joins the run with Orchestrate's traces
    # Where the time went (wxo_load.core.steps): phases in ms, tool calls as [name, start_ms, ms]
    # (ms None: no tool_response came), streaming cadence between text deltas.
    thinking_ms: float | None = None  # run.started -> first tool call or first text
    intermediate_ms: float | None = None  # after thinking, before first text, outside tools
    streaming_ms: float | None = None  # first text -> message.created
    finish_ms: float | None = None  # message.created -> done
    handoff_ms: float | None = None  # time in hand-overs to collaborator agents (`*_agent`)
    tool_calls: int = 0
    handoffs: int = 0
    unknown_steps: int = 0  # step details of a shape not understood (kept out of tool figures)
    tools: list[ToolCall] | None = None  # [(name, start_ms, duration_ms | None), ...] by start
    inter_delta_p50_ms: float | None = None  # median gap between consecutive text deltas
    inter_delta_max_ms: float | None = None
    stream_chars_per_s: float | None = None  # delta text / (last text delta - first text)
    # not in runs.jsonl
    delta_gaps_ms: list[float] | None = field(default=None, metadata={"wire": False})
    # Whether the answer is right (wxo_load.core.answers; filled only when checks, canaries,
    # goodput limits or --keep-answers are on)
    checked: bool = False  # checks or a canary scan ran on this run's answer
    failed_checks: list[str] | None = None  # names of the checks the answer failed
    answer_text: str | None = None  # first 2 KiB: wrong answers, or every run (--keep-answers)
    answered_by: str | None = None  # the agent that answered (with an answered_by check)
    canary: str | None = None  # this conversation's canary
    foreign_canary: str | None = None  # cross_talk: the other conversation's canary it carried
    cross_talk_thread_id: str | None = None  # cross_talk: that conversation's thread, when known
    good: bool | None = None  # goodput: ok, right and within the limits (None: not judged)
    persona: str | None = None  # the persona (Locust user class) that sent it, if any
    row_index: int | None = None  # the data row the conversation used (never its values)
    window: str = MEASURED  # warmup | measured | cooldown (wxo_load.core.window)
    # a replayed turn (docs/replay.md): its conversation's id in the file, the agent time recorded
    source_id: str | None = None
    recorded_agent_ms: float | None = None
    # a person who left (abandoned, cancelled, interrupted): when, from the request's write; the
    # cancel's HTTP status (None: no cancel was sent, or no run_id was known yet)
    left_at_ms: float | None = None
    cancel_status: int | None = None
    # runs-poll: how many GET runs/{id} it took, the poll interval, and when the last poll that
    # still saw the run unfinished answered (completion fell between it and done_ms)
    polls: int | None = None
    poll_interval_ms: float | None = None
    completed_after_ms: float | None = None
    channel: str = RUNS_STREAM  # how it was sent (wxo_load.core.channels)
    request_bytes: int | None = None  # the request body's size (a stateless transcript grows)

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    def to_dict(self) -> dict[str, object]:
        """A plain dict of every field (flat, so no deep copy: dataclasses.asdict costs 10x
        more)."""
        return {name: getattr(self, name) for name in _RUN_FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RunRecord:
        """A row of runs.jsonl (or `to_dict`'s) back as a record: unknown keys are ignored, a
        value of the wrong type is a msgspec.ValidationError naming its field."""
        return msgspec.convert(data, cls, strict=False)


@dataclass(slots=True)
class ConversationRecord:
    """One person's conversation: a thread and the runs sent on it."""

    started_at_unix: float
    user_id: str
    conversation_id: str
    thread_id: str | None = None
    turns_planned: int = 0
    turns_completed: int = 0  # runs that ended `ok`
    runs: int = 0  # runs attempted
    thread_create_ms: float | None = None
    total_ms: float | None = None
    outcome: str = OK  # ok, or the error class that ended it (thread creation or a run)
    worker: str = ""
    persona: str | None = None
    row_index: int | None = None
    window: str = MEASURED  # warmup | measured | cooldown (wxo_load.core.window)
    # runs-poll: how many GET runs/{id} it took, the poll interval, and when the last poll that
    # still saw the run unfinished answered (completion fell between it and done_ms)
    polls: int | None = None
    poll_interval_ms: float | None = None
    completed_after_ms: float | None = None
    channel: str = RUNS_STREAM  # how it was held (wxo_load.core.channels)

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _CONV_FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ConversationRecord:
        """A row of conversations.jsonl back as a record (as RunRecord.from_dict)."""
        return msgspec.convert(data, cls, strict=False)


_RUN_FIELD_NAMES = tuple(f.name for f in fields(RunRecord) if f.metadata.get("wire", True))
_CONV_FIELD_NAMES = tuple(f.name for f in fields(ConversationRecord))


__all__ = [
    "ABANDONED",
    "CANCELLED",
    "CONNECT_ERROR",
    "CROSS_TALK",
    "ERROR_FRAME",
    "FIXED_ERROR_CLASSES",
    "INTERRUPTED",
    "LEFT_OUTCOMES",
    "NOT_FAILED",
    "NO_COMPLETED",
    "OK",
    "POLL_TIMEOUT",
    "PROTOCOL_ERROR",
    "RUN_FAILED",
    "SOCKET_CLOSED",
    "SOCKET_CONNECT_ERROR",
    "STOPPED",
    "THREAD_EXPIRED",
    "THREAD_STORE_UNAVAILABLE",
    "TIMEOUT",
    "TRUNCATED",
    "WRONG_ANSWER",
    "ConversationRecord",
    "RunRecord",
    "http_error_class",
]
