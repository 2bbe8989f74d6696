"""The HTTP edge: create a thread and stream a run exactly as the WebChat widget does.

What is sent (../shared/seeds/002_*: the widget talking to a Developer Edition):

    POST {prefix}/threads                       {"title": <first message>, "agent_id": ...}
    POST {prefix}/orchestrate/runs?stream=true&stream_timeout=120000&multiple_content=true
         {"message": {"role": "user", "content": ...}, "agent_id", "thread_id",
          "additional_properties": {}, "context": {}, "environment_id": "", + scenario extras}

with `Authorization: Bearer`, `Content-Type: application/json`, `Accept`, a fresh
`x-ibm-request-id` per request and `x-watson-channel: agentic_chat`. Browser-only headers
(Origin, Referer, Sec-Fetch-*) are not sent; `Accept-Encoding` is not sent either, so the
stream arrives uncompressed as the capture shows.

One `ChatClient` per simulated person, holding one keep-alive connection like a browser tab,
over wxo-load's lean HTTP/1.1 transport (see wxo_load.edge.transport for why not httpx here). The
SSL context is shared by the whole process. Timing: the run's clock starts just before its
request is written; each chunk is stamped with when it arrived (the kernel's receive time on
plain TCP on Linux, else `perf_counter()` the moment `recv` returns it), and every event
decoded from that chunk carries the stamp. Client lag is taken from when the read returned.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import orjson

from wxo_load import __version__
from wxo_load.config.model import RequestSettings, Scenario
from wxo_load.core.deployment import Deployment, deployment_for
from wxo_load.core.errors import AuthError
from wxo_load.core.json_value import Json
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import PROTOCOL_ERROR, STOPPED, TIMEOUT, RunRecord, http_error_class
from wxo_load.core.redact import redact
from wxo_load.core.stream import StreamDecoder
from wxo_load.core.tracker import RunTracker
from wxo_load.edge.channel import Measuring
from wxo_load.edge.endpoint import Endpoint, ThreadResult, Tokens, request_id
from wxo_load.edge.failures import TRANSPORT_ERRORS, body_text, classify, exc_text, ms_since
from wxo_load.edge.heads import request_heads, run_body_extra
from wxo_load.edge.leave import Leaver, after_leaving, end_if_left
from wxo_load.edge.plain import PlainRequests
from wxo_load.edge.proxy import proxy_for
from wxo_load.edge.response import Response
from wxo_load.edge.transport import Connection

perf_counter = time.perf_counter
WALL_MINUS_PERF_S = time.time() - time.perf_counter()
"""Unix time = perf_counter() + this; taken once per process (both clocks tick at one rate)."""

MAX_ERROR_BODY = 2000
HTTP_401 = http_error_class(401)
Once = Callable[..., bool]  # one attempt: (tracker, head, body, t0, allow_retry=) -> retry?


class ChatClient:
    """One person's connection to Orchestrate: thread creation and streamed runs."""

    def __init__(
        self,
        host: str,
        scenario: Scenario,
        tokens: Tokens,
        *,
        ssl_context: ssl.SSLContext | None = None,
        deployment: Deployment | None = None,
        user_agent: str = f"wxo-load/{__version__}",
    ) -> None:
        self.scenario = scenario
        self.tokens = tokens
        endpoint = Endpoint.parse(host)
        if endpoint.https and ssl_context is None:
            ssl_context = ssl.create_default_context()
        api, req = scenario.api, scenario.request
        if deployment is None:  # the harness decides once per process; a library user, here
            deployment = deployment_for(host, api)
        proxy = proxy_for(host)
        self._conn = Connection(
            endpoint.host,
            endpoint.port,
            ssl_context=ssl_context if endpoint.https else None,
            connect_timeout_s=req.connect_timeout_s,
            read_timeout_s=req.stall_timeout_s,
            proxy=proxy,
        )
        self.host = host
        self._head_args = (self._conn.host_header, endpoint, deployment, api, proxy, user_agent)
        self._stream_timeout_s = req.stream_timeout_s
        self._stall_timeout_s = req.stall_timeout_s
        self._agent_id_json = orjson.dumps(scenario.agent_id)
        self._auth_token = ""
        self._auth_line = b""
        self._default_tokens = tokens
        self._leaver: Leaver | None = None  # the current run's, when its person leaves
        self._own_requests = False  # a conversation's own headers or context variables are set
        self._requests_for(req)
        self._setup()

    def _setup(self) -> None:
        """A channel's own state, made once after the common set-up (none here)."""

    def _requests_for(self, req: RequestSettings) -> None:
        """Encode the constant parts of the requests for `req`: the scenario's, or one
        conversation's own (converse_as). A channel with other requests extends this."""
        self._thread_head, self._run_head = request_heads(*self._head_args, req)
        self._run_body_extra = run_body_extra(req)
        self.plain = PlainRequests(self._conn, self._run_head, self._thread_head, self._finish)

    def _finish(self, start: bytes, length: int) -> bytes:
        """A small request's head (edge/plain.py): a fresh request id, the current token."""
        return self._head(start, self.tokens.token(), request_id(), length)

    def converse_as(
        self,
        *,
        context_variables: Mapping[str, Json] | None = None,
        headers: Mapping[str, str] | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        """Set one conversation's own context variables, extra headers and credential (a
        persona's data row); None keeps the scenario's. Free when nothing is overridden; the
        one implementation for every channel (each encodes its requests in _requests_for)."""
        own = context_variables is not None or headers is not None
        if own or self._own_requests:
            req = self.scenario.request
            if headers is not None:
                req = replace(req, headers=headers)
            if context_variables is not None:
                req = replace(req, context_variables=context_variables)
            self._requests_for(req)
            self._own_requests = own
        self.tokens = tokens if tokens is not None else self._default_tokens

    def close(self) -> None:
        self._conn.close()

    @property
    def connection(self) -> Connection:
        return self._conn

    # -- requests -------------------------------------------------------------------------

    def _head(self, start: bytes, token: str, request_id: str, length: int) -> bytes:
        if token != self._auth_token:  # encode the Authorization line once per token
            self._auth_token = token
            self._auth_line = f"Authorization: Bearer {token}\r\n".encode() if token else b""
        return b"%sx-ibm-request-id: %s\r\n%sContent-Length: %d\r\n\r\n" % (
            start,
            request_id.encode(),
            self._auth_line,
            length,
        )

    def create_thread(self, title: str) -> ThreadResult:
        """`POST /threads` with the first message as title; 201 and `{"thread_id"}` expected."""
        body = (
            b'{"title":' + orjson.dumps(title[:200]) + b',"agent_id":' + self._agent_id_json + b"}"
        )
        t0 = perf_counter()
        response: Response | None = None
        try:
            token = self.tokens.token()
            for attempt in (1, 2):
                response = self._conn.request(
                    self._head(self._thread_head, token, request_id(), len(body)), body
                )
                content = response.read(MAX_ERROR_BODY * 8)
                if response.status == 401 and attempt == 1:
                    token = self.tokens.refresh(token)
                    continue
                break
        except AuthError as exc:
            return ThreadResult(None, ms_since(t0), HTTP_401, redact(str(exc))[:300], 401)
        except Exception as exc:  # every failure is one error class, never an escape (`stopped`)
            self._conn.close()
            outcome, detail = self._classify(exc, response is not None)
            return ThreadResult(None, ms_since(t0), outcome, detail)
        elapsed = ms_since(t0)
        assert response is not None
        if response.status not in (200, 201):
            return ThreadResult(
                None,
                elapsed,
                http_error_class(response.status),
                body_text(content),
                response.status,
            )
        try:
            thread_id = orjson.loads(content)["thread_id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return ThreadResult(
                None,
                elapsed,
                PROTOCOL_ERROR,
                "thread answer without thread_id: " + body_text(content),
                response.status,
            )
        return ThreadResult(str(thread_id), elapsed, "ok", None, response.status)

    def _run_body(self, text: str, thread_id: str) -> bytes:
        return (
            b'{"message":{"role":"user","content":' + orjson.dumps(text)
            + b'},"agent_id":' + self._agent_id_json
            + b',"thread_id":' + orjson.dumps(thread_id)
            + self._run_body_extra
        )  # fmt: skip

    def stream_run(
        self,
        record: RunRecord,
        text: str,
        *,
        keep_text: bool = False,
        leave: LeaveAt | None = None,
    ) -> RunTracker:
        """Send one message on `record.thread_id` and measure its streamed answer into `record`;
        with `leave`, its person leaves mid-answer (edge/leave.py).

        Returns the tracker (its `record` is final, `client_lags_ms` holds per-event lags). Never
        raises for anything the server or network does; a stop of the test (GreenletExit) marks
        the run `stopped` and is re-raised.
        """
        body = self._run_body(text, record.thread_id or "")
        record.request_bytes = len(body)
        tracker = RunTracker(record, perf_counter(), WALL_MINUS_PERF_S)
        if keep_text:  # for the answer's checks (wxo_load.core.answers)
            tracker.keep_text()
        leaver = self._leaver = Leaver(self._conn, leave) if leave is not None else None
        if leaver is None:
            self._attempts(tracker, self._run_head, body, self._stream_once)
            return tracker
        try:
            leaver.arm(tracker.t0)
            self._attempts(tracker, self._run_head, body, self._stream_once)
        finally:
            leaver.disarm()
            self._leaver = None
        if leaver.left_at is not None:
            after_leaving(tracker, leaver, self.plain)
        return tracker

    def _attempts(self, tracker: Measuring, start: bytes, body: bytes, once: Once) -> None:
        """Send the request (`start`: its head up to the per-request lines) and read the answer
        with `once`, again with a refreshed token after a 401. Never raises for anything the
        server or network does; a stop of the test (GreenletExit) ends the run `stopped` and is
        re-raised. The clock started at `tracker.t0`, just before this call."""
        record = tracker.record
        try:
            token = self.tokens.token()
            for attempt in (1, 2):
                record.attempts = attempt
                head = self._head(start, token, record.request_id, len(body))
                again = once(tracker, head, body, tracker.t0, allow_retry=attempt == 1)
                record.reconnects += self._conn.retries
                if not again:
                    break
                token = self.tokens.refresh(token)
        except AuthError as exc:  # no valid token could be had: the server would answer 401
            tracker.end(perf_counter(), HTTP_401, redact(str(exc)))
        except Exception as exc:  # a bug of ours must never kill the user: count it, keep going
            self._conn.close()
            if tracker.finished:
                tracker.end(perf_counter())
            else:
                tracker.end(perf_counter(), PROTOCOL_ERROR, f"internal error: {exc_text(exc)}")
        except BaseException:  # GreenletExit: the test is stopping while this run streams
            self._conn.close()
            if tracker.finished:  # `done` had arrived; only the drain of the body was cut
                tracker.end(perf_counter())
            else:
                tracker.end(perf_counter(), STOPPED, "the test stopped while the run was streaming")
            raise

    def _left(self, tracker: RunTracker) -> bool:
        """If this run's person has left and the answer was not over: end it so. True if so."""
        return self._leaver is not None and end_if_left(tracker, self._leaver)

    def _stream_once(
        self, tracker: RunTracker, head: bytes, body: bytes, t0: float, *, allow_retry: bool
    ) -> bool:
        """One attempt. Returns True when it ended in a 401 that may be retried with a new token."""
        decoder = StreamDecoder()
        response: Response | None = None
        try:
            response = self._conn.request(head, body)
            tracker.record.status_code = response.status
            if response.status != 200:
                content = response.read(MAX_ERROR_BODY)  # an unfinished body is never reused
                if response.status == 401 and allow_retry:
                    return True
                tracker.end(perf_counter(), http_error_class(response.status), body_text(content))
                return False
            self._read_events(response, tracker, decoder, t0 + self._stream_timeout_s)
        except TRANSPORT_ERRORS as exc:
            self._conn.close()
            if self._left(tracker):
                return False
            if not tracker.finished:
                outcome, detail = self._classify(exc, response is not None)
                tracker.end(perf_counter(), outcome, detail)
                return False
        if self._left(tracker):
            return False
        t_end = perf_counter()
        if not tracker.finished:
            for event in decoder.close():
                if tracker.on_event(event, t_end):
                    break
        tracker.end_of_body(t_end)
        return False

    def _read_events(
        self, response: Response, tracker: RunTracker, decoder: StreamDecoder, deadline: float
    ) -> None:
        """Feed the body to the tracker as it arrives, until it ends or the run is over."""
        feed, on_event, conn = decoder.feed, tracker.on_event, self._conn
        leaver = self._leaver
        at_text = leaver is not None and leaver.at_first_text
        for chunk in response.iter_body():
            events = feed(chunk)
            t_read = conn.last_read  # when we got to these bytes: the client lag's end
            t = conn.last_rx if events else t_read  # when they arrived (see Connection.last_rx)
            for event in events:
                if on_event(event, t, t_read):
                    tracker.end(t)  # the run is over at `done`, whatever the drain takes
                    response.drain()  # the body's end (bounded), so the connection can be reused
                    return
            if at_text and tracker.record.first_text_ms is not None and conn.drained:
                assert leaver is not None
                leaver.leave_now(t)  # the text is read: the person goes, the connection closes
                return
            if t > deadline:
                self._conn.close()
                tracker.end(
                    t,
                    TIMEOUT,
                    f"run still streaming after stream_timeout_s={self._stream_timeout_s:g}",
                )
                return

    def _classify(self, exc: Exception, got_response: bool) -> tuple[str, str]:
        return classify(exc, got_response, self._stall_timeout_s)
