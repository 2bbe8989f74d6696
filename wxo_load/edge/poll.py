"""The runs-poll channel: a run without streaming, then polling (the ADK's `orchestrate chat ask`).

    POST <runs>                        {"message": ..., "agent_id", "thread_id"?, + extras}
                                       -> {"thread_id", "run_id", ...} at once
    GET  <runs>/{run_id}               at once, then every poll_interval_s (2 s, as the ADK),
                                       until status is completed, failed or cancelled
    GET  <threads>/{thread_id}/messages  the answer: the last assistant message's text (an async
                                       agent's interim message: read again every second)

What it measures (ms from just before the POST was written): `done` is when completion was
*seen* (the arrival of the poll that answered `completed`), `completed_after_ms` when the poll
before it (the last that still saw the run unfinished) answered, so the run completed in between;
`polls` how many GETs it cost and `poll_interval_ms` the interval; `message_created` when the
thread's messages, with the answer, arrived. `run_started`, `first_delta` and `first_text` are
not observable on this channel (left None). Polls are scheduled on a fixed grid from the first
(never drifting by the time each took). No final status within `request.stream_timeout_s` is the
run's own error class, `poll_timeout`.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from wxo_load.core.channels import RUNS_POLL
from wxo_load.core.errors import AuthError
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import (
    OK,
    POLL_TIMEOUT,
    PROTOCOL_ERROR,
    RUN_FAILED,
    STOPPED,
    RunRecord,
    http_error_class,
)
from wxo_load.core.redact import redact
from wxo_load.edge.client import ChatClient
from wxo_load.edge.endpoint import ThreadResult
from wxo_load.edge.failures import TRANSPORT_ERRORS, body_text, classify, exc_text
from wxo_load.edge.leave import cannot_leave
from wxo_load.edge.plain import Answer

_perf = time.perf_counter
FINAL = frozenset({"completed", "failed", "cancelled"})
ASYNC_POLL_S = 1.0  # the ADK reads an async agent's thread every second


class PolledTurn:
    """One turn on runs-poll, as the user reads it (edge.channel.Turn)."""

    __slots__ = ("record", "t0", "client_lags_ms", "answer_text", "agent")

    def __init__(self, record: RunRecord, t0: float) -> None:
        self.record = record
        self.t0 = t0
        self.client_lags_ms: list[float] = []  # no server event stamps on this channel
        self.answer_text: str | None = None
        self.agent: str | None = None


class PostedRuns(ChatClient):
    """A channel whose runs are posted without a stream (runs-poll, async): no thread creation,
    the first run's answer names the thread."""

    def _setup(self) -> None:
        self._thread_id: str | None = None

    def open_conversation(self, title: str) -> ThreadResult:
        self._thread_id = None  # the first run starts the thread, as the ADK relies on
        return ThreadResult(None, None, OK)

    def _body(self, text: str, thread_id: str | None) -> bytes:
        head = b'{"message":{"role":"user","content":' + orjson.dumps(text) + b"}"
        head += b',"agent_id":' + self._agent_id_json + b',"capture_logs":false'
        if thread_id is not None:
            head += b',"thread_id":' + orjson.dumps(thread_id)
        return head + self._run_body_extra


class RunsPollChannel(PostedRuns):
    """One person on runs-poll."""

    name = RUNS_POLL

    def _setup(self) -> None:
        super()._setup()
        self._interval_s = self.scenario.channel.poll_interval_s
        self._last_error = ""  # the final poll's last_error, for a failed run's detail

    def send(
        self,
        record: RunRecord,
        text: str,
        *,
        keep_text: bool = False,
        leave: LeaveAt | None = None,
    ) -> PolledTurn:
        """Post the run, poll it to a final status, read the answer. Never raises but for a stop
        of the test (the run is then `stopped`); its people cannot leave (`leave` is None)."""
        cannot_leave(self.name, leave)
        thread_id = record.thread_id or self._thread_id
        body = self._body(text, thread_id)
        record.request_bytes = len(body)
        record.poll_interval_ms = self._interval_s * 1000.0
        t0 = _perf()
        turn = PolledTurn(record, t0)
        try:
            self._run(turn, body, keep_text)
        except AuthError as exc:
            self._end(turn, http_error_class(401), redact(str(exc)))
        except TRANSPORT_ERRORS as exc:
            self._conn.close()
            self._end(turn, *classify(exc, True, self._stall_timeout_s))
        except Exception as exc:  # a bug of ours must never kill the user: count it
            self._conn.close()
            self._end(turn, PROTOCOL_ERROR, f"internal error: {exc_text(exc)}")
        except BaseException:
            self._conn.close()
            self._end(turn, STOPPED, "the test stopped while the run was polled")
            raise
        if record.total_ms is None:
            record.total_ms = (_perf() - t0) * 1000.0
        return turn

    def _end(self, turn: PolledTurn, outcome: str, detail: str) -> None:
        record = turn.record
        if record.outcome == OK:
            record.outcome, record.error_detail = outcome, detail[:300]
        record.total_ms = (_perf() - turn.t0) * 1000.0

    def _answer(self, answer: Answer, turn: PolledTurn, what: str) -> Any:
        """The JSON of a 200 answer; None (and the run ended with its class) otherwise."""
        if answer.status != 200:
            self._end(turn, http_error_class(answer.status), f"{what}: {body_text(answer.content)}")
            return None
        try:
            return orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            self._end(turn, PROTOCOL_ERROR, f"{what}: not JSON: {body_text(answer.content)}")
            return None

    def _run(self, turn: PolledTurn, body: bytes, keep_text: bool) -> None:
        record = turn.record
        answer = self.plain.post_run(body)
        if answer.status == 401:  # a token that expired: renewed once, as the streamed run does
            self.tokens.refresh(self.tokens.token())
            answer = self.plain.post_run(body)
        posted = self._answer(answer, turn, "POST runs")
        if type(posted) is not dict or not posted.get("run_id"):
            if posted is not None:
                self._end(turn, PROTOCOL_ERROR, "the run's answer has no run_id")
            return
        record.run_id = str(posted["run_id"])
        record.thread_id = self._thread_id = str(posted.get("thread_id") or record.thread_id)
        status = self._poll(turn)
        if status is None:
            return
        if status != "completed":
            self._end(turn, RUN_FAILED, f"run {status}: {self._last_error}")
            return
        text = self._read_answer(turn)
        if text is None:
            return
        record.answer_chars = len(text)
        if keep_text:
            turn.answer_text = text

    def _read_answer(self, turn: PolledTurn) -> str | None:
        """The thread's answer to this turn; an async agent's (only its interim message yet) is
        waited for as the ADK does, reading the messages every second until the run's timeout."""
        record = turn.record
        assert record.thread_id is not None
        deadline = turn.t0 + self._stream_timeout_s
        while True:
            got = self._answer(self.plain.messages(record.thread_id), turn, "GET messages")
            if got is None:
                return None
            text, interim = answer_of(got)
            if text is not None:
                record.message_created_ms = (self._conn.last_rx - turn.t0) * 1000.0
                return text
            if not interim:
                self._end(turn, PROTOCOL_ERROR, "the thread has no assistant answer after the run")
                return None
            if _perf() + ASYNC_POLL_S > deadline:
                self._end(turn, POLL_TIMEOUT, "an async agent's answer did not come in time")
                return None
            time.sleep(ASYNC_POLL_S)

    def _poll(self, turn: PolledTurn) -> str | None:
        """GET the run at once, then on a grid of poll_interval_s, until a final status (its
        name) or the run's timeout (None, the run ended `poll_timeout`)."""
        record = turn.record
        assert record.run_id is not None
        deadline = turn.t0 + self._stream_timeout_s
        first = _perf()
        record.polls = 0
        self._last_error = ""
        while True:
            got = self._answer(self.plain.run_status(record.run_id), turn, "GET run")
            t_rx = self._conn.last_rx
            record.polls += 1
            if got is None:
                return None
            status = str(got.get("status") if type(got) is dict else "")
            since_ms = (t_rx - turn.t0) * 1000.0
            if status in FINAL:
                record.done_ms = since_ms
                self._last_error = str(got.get("last_error") or "")[:200]
                return status
            record.completed_after_ms = since_ms
            next_at = first + record.polls * self._interval_s
            if next_at > deadline:
                self._end(
                    turn,
                    POLL_TIMEOUT,
                    f"run still {status or 'unfinished'} after stream_timeout_s="
                    f"{self._stream_timeout_s:g} ({record.polls} polls)",
                )
                return None
            time.sleep(max(0.0, next_at - _perf()))


def answer_of(messages: Any) -> tuple[str | None, bool]:
    """(the text of the answer to the thread's last user message: its last assistant message
    that is not async, as the ADK reads it; whether an async agent's interim message is there
    instead). Messages: a bare list or `{"data": [...]}`, oldest first."""
    items = messages.get("data") if type(messages) is dict else messages
    if type(items) is not list:
        return None, False
    interim = False
    for message in reversed(items):
        if type(message) is not dict:
            continue
        if message.get("role") == "user":
            break  # an earlier turn's answers are not this one's
        if message.get("role") != "assistant":
            continue
        props = message.get("additional_properties")
        display = props.get("display_properties") if type(props) is dict else None
        if type(display) is dict and display.get("is_async") is True:
            interim = True
            continue
        content = message.get("content")
        if type(content) is str:
            return content, interim
        if type(content) is list:
            return "".join(
                str(c.get("text") or "")
                for c in content
                if type(c) is dict and c.get("response_type", "text") == "text"
            ), interim
    return None, interim
