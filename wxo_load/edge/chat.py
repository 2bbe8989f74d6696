"""Chat completions v1 (`chat`) and v2 (`chat-v2`): the channels of apps that embed an agent and
of IBM's evaluation framework (../shared/reference/orchestrate-api.md, A and B; docs/channels.md).

    POST {path}   v1: …/v1/orchestrate/{agent_id}/chat/completions (core.deployment.CHAT_PATHS)
                  v2: …/v2/orchestrate/{agent_id}/chat/completions, /api/v2/{agent_id}/… locally
    {"messages": [...], "stream": true, "context"?, "context_variables"?, "thread_id"?}

Conversations. v1: the first turn names no thread (the server starts one and says which in
every frame's `thread_id`); later turns send `X-IBM-THREAD-ID: <it>`. v2 stateful: the first
turn sends `X-IBM-THREAD-ID: new`, later ones the id the server minted (a deployment without a
thread store echoes `new`: each turn then starts afresh). v2 stateless: no header; each turn
resends the whole transcript with a client-minted `thread_id` in the body, every earlier turn's
tool steps replayed as the evaluation framework does (`wxo_v2_wire.history_append`: an assistant
message with the `tool_calls`, a `tool` message per response, then the assistant's answer).

Same connection, auth, token refresh, TLS and proxy as the widget's channel (edge.client), the
same arrival stamps; frames are measured by core.chat_stream. The error classes of their own:
`thread_expired` (404 naming the thread on a continued turn: the next turn starts a new thread,
as the framework restarts), `thread_store_unavailable` (503 naming the thread store),
`error_frame`, `no_completed` (v2 closed, cleanly or not, without a completed frame).
"""

from __future__ import annotations

import orjson

from wxo_load.config.model import RequestSettings
from wxo_load.core.channels import CHAT, CHAT_V2
from wxo_load.core.chat_stream import ChatStreamDecoder, ChatTracker
from wxo_load.core.deployment import chat_completions_path
from wxo_load.core.json_value import Json, JsonObject
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import (
    NO_COMPLETED,
    OK,
    THREAD_EXPIRED,
    THREAD_STORE_UNAVAILABLE,
    TIMEOUT,
    TRUNCATED,
    RunRecord,
    http_error_class,
)
from wxo_load.edge.client import (
    MAX_ERROR_BODY,
    WALL_MINUS_PERF_S,
    ChatClient,
    perf_counter,
)
from wxo_load.edge.endpoint import ThreadResult, request_id
from wxo_load.edge.failures import TRANSPORT_ERRORS, body_text
from wxo_load.edge.heads import chat_body_extra, chat_head
from wxo_load.edge.leave import cannot_leave
from wxo_load.edge.response import Response

_JSON_MAX_BYTES = 4 * 1024 * 1024  # a `stream: false` answer larger than this is cut (counted)
NEW_THREAD = "new"


class ChatCompletionsChannel(ChatClient):
    """Chat completions v1 (`chat`): one person's connection and conversation."""

    name = CHAT
    version = 1

    def _setup(self) -> None:
        settings = self.scenario.channel
        self._stream = settings.stream if self.version == 1 else True
        self._stateless = self.version == 2 and settings.mode == "stateless"
        self._thread: str | None = None  # the conversation's thread, once known
        self._transcript: list[JsonObject] = []  # v2 stateless: every earlier message

    def _requests_for(self, req: RequestSettings) -> None:
        """The chat request's head and constant body fields (v2's environment header)."""
        super()._requests_for(req)
        host_header, endpoint, deployment, _, proxy, user_agent = self._head_args
        environment_id = self.scenario.channel.environment_id if self.version == 2 else None
        path = chat_completions_path(deployment.kind, self.version, self.scenario.agent_id)
        self._chat_head = chat_head(
            host_header, endpoint, proxy, user_agent, path, req.headers, environment_id
        )
        self._extra = chat_body_extra(req)

    def open_conversation(self, title: str) -> ThreadResult:
        """Nothing is sent: the first turn starts the thread (a stateless client mints its id)."""
        self._thread = request_id() if self._stateless else None
        self._transcript = []
        return ThreadResult(None, None, OK)

    # -- a turn -----------------------------------------------------------------------------

    def _body(self, text: str) -> tuple[bytes, bytes]:
        """(the request body, its thread header line or b"")."""
        user: JsonObject = {"role": "user", "content": text}
        messages: list[Json] = [*self._transcript, user] if self._stateless else [user]
        body: JsonObject = {"messages": messages, "stream": self._stream, **self._extra}
        line = b""
        if self._stateless:
            body["thread_id"] = self._thread
        elif self._thread is not None:
            line = b"X-IBM-THREAD-ID: %s\r\n" % self._thread.encode()
        elif self.version == 2:
            line = b"X-IBM-THREAD-ID: new\r\n"
        return orjson.dumps(body), line

    def send(
        self,
        record: RunRecord,
        text: str,
        *,
        keep_text: bool = False,
        leave: LeaveAt | None = None,
    ) -> ChatTracker:
        """Send one message of the conversation and measure its answer into `record` (its
        people cannot leave mid-answer: `leave` is None)."""
        cannot_leave(self.name, leave)
        body, thread_line = self._body(text)
        record.request_bytes = len(body)
        record.thread_id = self._thread
        tracker = ChatTracker(record, perf_counter(), WALL_MINUS_PERF_S, self.version)
        if keep_text or self._stateless:
            tracker.keep_text()
        if self._stateless:
            tracker.keep_message()
        self._attempts(tracker, self._chat_head + thread_line, body, self._chat_once)
        self._after(tracker, text)
        return tracker

    def _after(self, tracker: ChatTracker, text: str) -> None:
        rec = tracker.record
        if self._stateless:
            if rec.outcome == OK and tracker.message is not None:
                self._transcript.append({"role": "user", "content": text})
                self._transcript.extend(_replay(tracker.message))
            return
        if rec.outcome == THREAD_EXPIRED:
            self._thread = None  # the next turn starts a new thread
        elif self._thread is None and rec.thread_id not in (None, NEW_THREAD):
            self._thread = rec.thread_id

    def _chat_once(
        self, tracker: ChatTracker, head: bytes, body: bytes, t0: float, *, allow_retry: bool
    ) -> bool:
        """One attempt. True when it ended in a 401 that may be retried with a new token."""
        decoder = ChatStreamDecoder()
        response: Response | None = None
        conn = self._conn
        try:
            response = conn.request(head, body)
            tracker.record.status_code = response.status
            if response.status != 200:
                content = response.read(MAX_ERROR_BODY)
                if response.status == 401 and allow_retry:
                    return True
                outcome = self._error_class(response.status, content, tracker.record)
                tracker.end(perf_counter(), outcome, body_text(content))
                return False
            if not self._stream:
                content = response.read(_JSON_MAX_BYTES)
                if not response.complete:
                    conn.close()
                tracker.on_json(content, conn.last_rx)
                tracker.end_of_body(conn.last_rx)
                return False
            if self._read_frames(response, tracker, decoder, t0 + self._stream_timeout_s):
                return False
        except TRANSPORT_ERRORS as exc:
            conn.close()
            if tracker.finished:  # the whole answer was in: its end is the last bytes' arrival
                tracker.end_of_body(conn.last_rx)
            else:
                outcome, detail = self._classify(exc, response is not None)
                if outcome == TRUNCATED and self.version == 2:  # v2's end is the close
                    outcome = NO_COMPLETED
                tracker.end(perf_counter(), outcome, detail)
            return False
        t_end = conn.last_rx  # the read that brought the body's end: v2's `done`
        if not tracker.done_seen:
            for frame in decoder.close():
                tracker.on_frame(frame, t_end)
        tracker.end_of_body(t_end)
        return False

    def _read_frames(
        self, response: Response, tracker: ChatTracker, decoder: ChatStreamDecoder, deadline: float
    ) -> bool:
        """Feed the body to the tracker as it arrives. True when the run ended here (past its
        deadline); False when the body ended or `[DONE]` came (end_of_body decides)."""
        feed, on_frame, conn = decoder.feed, tracker.on_frame, self._conn
        for chunk in response.iter_body():
            frames = feed(chunk)
            t_read = conn.last_read
            t = conn.last_rx if frames else t_read
            for frame in frames:
                if on_frame(frame, t, t_read):
                    response.drain()  # [DONE]: the body's end (bounded), to reuse the connection
                    tracker.end_of_body(t)
                    return True
            if t > deadline:
                conn.close()
                tracker.end(
                    t,
                    TIMEOUT,
                    f"answer still streaming after stream_timeout_s={self._stream_timeout_s:g}",
                )
                return True
        return False

    def _error_class(self, status: int, content: bytes, record: RunRecord) -> str:
        """v2's thread failures by their status and the word `thread` in the body."""
        said_thread = b"thread" in content.lower()
        if status == 503 and said_thread and not self._stateless:
            return THREAD_STORE_UNAVAILABLE
        if status == 404 and said_thread and record.thread_id not in (None, NEW_THREAD):
            return THREAD_EXPIRED
        return http_error_class(status)


class ChatV2Channel(ChatCompletionsChannel):
    """Chat completions v2 (`chat-v2`), `mode: stateless` (the default) or `stateful`."""

    name = CHAT_V2
    version = 2


def _list(value: Json) -> list[Json]:
    return value if type(value) is list else []


def _replay(message: JsonObject) -> list[JsonObject]:
    """A completed frame's `data.message` as the messages that replay it in the next request:
    its tool calls, their responses, then the answer (the evaluation framework's order)."""
    out: list[JsonObject] = []
    called: set[str] = set()
    for step in _list(message.get("step_details")):
        if type(step) is not dict:
            continue
        if step.get("type") == "tool_calls":
            calls = [c for c in _list(step.get("tool_calls")) if type(c) is dict]
            if calls:
                tool_calls: list[Json] = [*calls]
                out.append({"role": "assistant", "content": "", "tool_calls": tool_calls})
                for call in calls:
                    call_id = call.get("id")
                    if type(call_id) is str and call_id:
                        called.add(call_id)
        elif step.get("type") == "tool_response" and step.get("tool_call_id") in called:
            call_id = step["tool_call_id"]
            name, content = step.get("name", ""), step.get("content", "")
            out.append({"role": "tool", "content": content, "name": name, "tool_call_id": call_id})
    out.append({"role": "assistant", "content": message.get("content", [])})
    return out
