"""The HTTP edge: create a thread and stream a run exactly as the WebChat widget does.

Built on httpcore, the transport layer httpx itself runs on: the high-level httpx client costs
several times more CPU per request (see ../shared/reference/locust-notes.md) and a load
generator's CPU is its own measurement error. One `ChatClient` per simulated person, holding one
keep-alive connection like a browser tab; the SSL context is shared by the whole process.

Timing: the run's clock starts just before its request is written; each chunk is stamped with
`perf_counter()` the moment the transport hands it over, and every event decoded from it gets
that stamp.
"""

from __future__ import annotations

import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpcore
import orjson

from . import __version__
from .errors import ConfigError
from .records import (
    CONNECT_ERROR,
    PROTOCOL_ERROR,
    STOPPED,
    TIMEOUT,
    TRUNCATED,
    RunRecord,
    http_error_class,
)
from .redact import redact
from .scenario import Scenario
from .stream import StreamDecoder
from .tracker import RunTracker

perf_counter = time.perf_counter
WALL_MINUS_PERF_S = time.time() - time.perf_counter()
"""Unix time = perf_counter() + this; taken once per process (both clocks tick at one rate)."""

_MAX_ERROR_BODY = 2000
_TIMEOUT_ERRORS = (httpcore.ReadTimeout, httpcore.WriteTimeout, httpcore.PoolTimeout)
_CONNECT_ERRORS = (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.UnsupportedProtocol)
_BROKEN_ERRORS = (httpcore.ReadError, httpcore.WriteError, httpcore.RemoteProtocolError, httpcore.LocalProtocolError)
_TRANSPORT_ERRORS = (*_TIMEOUT_ERRORS, *_CONNECT_ERRORS, *_BROKEN_ERRORS)


class Tokens(Protocol):
    def token(self) -> str: ...
    def refresh(self, stale: str) -> str: ...


def default_api_prefix(host: str) -> str:
    """Developer Edition (and any host without an instance path): /api/v1; SaaS instance URLs: /v1."""
    return "/v1" if "/instances/" in urlsplit(host).path else "/api/v1"


@dataclass(slots=True)
class ThreadResult:
    thread_id: str | None
    elapsed_ms: float
    outcome: str  # "ok" or an error class
    detail: str | None = None
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed base URL: everything needed to build request targets without re-parsing."""

    scheme: bytes
    host: bytes
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"host {url!r} is not an http(s) URL: pass --host like http://localhost:4321 or https://api.<region>.watson-orchestrate.cloud.ibm.com/instances/<id>.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme.encode(), parts.hostname.encode(), port, parts.path.rstrip("/"))

    def url(self, target: str) -> httpcore.URL:
        return httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=(self.base_path + target).encode())


class ChatClient:
    """One person's connection to Orchestrate: thread creation and streamed runs."""

    def __init__(
        self,
        host: str,
        scenario: Scenario,
        tokens: Tokens,
        *,
        ssl_context: ssl.SSLContext | None = None,
        api_prefix: str | None = None,
        user_agent: str = f"wxo-load/{__version__}",
    ) -> None:
        self.scenario = scenario
        self.tokens = tokens
        endpoint = Endpoint.parse(host)
        prefix = scenario.api.prefix if scenario.api.prefix is not None else (api_prefix if api_prefix is not None else default_api_prefix(host))
        api = scenario.api
        self._threads_url = endpoint.url(prefix + api.threads_path)
        self._runs_url = endpoint.url(f"{prefix}{api.runs_path}?{urlencode(api.stream_query)}")
        req = scenario.request
        self._timeouts = {
            "timeout": {"connect": req.connect_timeout_s, "read": req.stall_timeout_s, "write": req.connect_timeout_s, "pool": req.connect_timeout_s}
        }
        self._stream_timeout_s = req.stream_timeout_s
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=1, keepalive_expiry=30.0, retries=0)
        extra = [(k.encode(), v.encode()) for k, v in req.headers.items()]
        self._base_headers = [
            (b"Accept", b"*/*"),
            (b"Content-Type", b"application/json"),
            (b"x-watson-channel", b"agentic_chat"),
            (b"User-Agent", user_agent.encode()),
            *extra,
        ]
        self._run_body_extra = _run_body_extra(scenario)
        self._agent_id_json = orjson.dumps(scenario.agent_id)

    def close(self) -> None:
        self._pool.close()

    # -- requests -------------------------------------------------------------------------

    def _headers(self, token: str, request_id: str) -> list[tuple[bytes, bytes]]:
        headers = [*self._base_headers, (b"x-ibm-request-id", request_id.encode())]
        if token:
            headers.append((b"Authorization", b"Bearer " + token.encode()))
        return headers

    def create_thread(self, title: str) -> ThreadResult:
        """`POST /threads` with the first message as title; 201 and `{"thread_id"}` expected."""
        body = b'{"title":' + orjson.dumps(title[:200]) + b',"agent_id":' + self._agent_id_json + b"}"
        token = self.tokens.token()
        t0 = perf_counter()
        for attempt in (1, 2):
            try:
                response = self._pool.request(b"POST", self._threads_url, headers=self._headers(token, str(uuid.uuid4())), content=body, extensions=self._timeouts)
            except _TIMEOUT_ERRORS as exc:
                return ThreadResult(None, _ms_since(t0), TIMEOUT, _exc_text(exc))
            except (*_CONNECT_ERRORS, *_BROKEN_ERRORS) as exc:
                return ThreadResult(None, _ms_since(t0), CONNECT_ERROR, _exc_text(exc))
            if response.status == 401 and attempt == 1:
                token = self.tokens.refresh(token)
                continue
            break
        elapsed = _ms_since(t0)
        if response.status not in (200, 201):
            return ThreadResult(None, elapsed, http_error_class(response.status), _body_text(response.content), response.status)
        try:
            thread_id = orjson.loads(response.content)["thread_id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return ThreadResult(None, elapsed, "protocol_error", "thread answer without thread_id: " + _body_text(response.content), response.status)
        return ThreadResult(str(thread_id), elapsed, "ok", None, response.status)

    def _run_body(self, text: str, thread_id: str) -> bytes:
        return (
            b'{"message":{"role":"user","content":' + orjson.dumps(text)
            + b'},"agent_id":' + self._agent_id_json
            + b',"thread_id":' + orjson.dumps(thread_id)
            + self._run_body_extra
        )  # fmt: skip

    def stream_run(self, record: RunRecord, text: str) -> RunTracker:
        """Send one message on `record.thread_id` and measure its streamed answer into `record`.

        Returns the tracker (its `record` is final, `client_lags_ms` holds per-event lags). Never
        raises for anything the server or network does; a stop of the test (GreenletExit) marks
        the run `stopped` and is re-raised.
        """
        body = self._run_body(text, record.thread_id or "")
        token = self.tokens.token()
        t0 = perf_counter()
        tracker = RunTracker(record, t0, WALL_MINUS_PERF_S)
        try:
            for attempt in (1, 2):
                record.attempts = attempt
                headers = self._headers(token, record.request_id)
                retry = self._stream_once(tracker, headers, body, t0, allow_retry=attempt == 1)
                if not retry:
                    break
                token = self.tokens.refresh(token)
        except Exception as exc:  # a bug of ours must never kill the user: count it, keep going
            if tracker.finished:
                tracker.end(perf_counter())
            else:
                tracker.end(perf_counter(), PROTOCOL_ERROR, f"internal error: {_exc_text(exc)}")
        except BaseException:  # GreenletExit: the test is stopping while this run streams
            if tracker.finished:  # `done` had arrived; only the drain of the body was cut
                tracker.end(perf_counter())
            else:
                tracker.end(perf_counter(), STOPPED, "the test stopped while the run was streaming")
            raise
        return tracker

    def _stream_once(self, tracker: RunTracker, headers: list[tuple[bytes, bytes]], body: bytes, t0: float, *, allow_retry: bool) -> bool:
        """One attempt. Returns True when it ended in a 401 that may be retried with a new token."""
        decoder = StreamDecoder()
        got_response = False
        try:
            with self._pool.stream(b"POST", self._runs_url, headers=headers, content=body, extensions=self._timeouts) as response:
                got_response = True
                tracker.record.status_code = response.status
                if response.status != 200:
                    content = _read_bounded(response)
                    if response.status == 401 and allow_retry:
                        return True
                    tracker.end(perf_counter(), http_error_class(response.status), _body_text(content))
                    return False
                if not self._read_events(response, tracker, decoder, t0 + self._stream_timeout_s):
                    return False
        except _TRANSPORT_ERRORS as exc:
            if not tracker.finished:
                outcome, detail = self._classify(exc, got_response)
                tracker.end(perf_counter(), outcome, detail)
                return False
        t_end = perf_counter()
        if not tracker.finished:
            for event in decoder.close():
                if tracker.on_event(event, t_end):
                    break
        if tracker.finished:
            tracker.end(t_end)
        else:
            tracker.end(t_end, TRUNCATED, "the body ended without a done event")
        return False

    def _read_events(self, response: httpcore.Response, tracker: RunTracker, decoder: StreamDecoder, deadline: float) -> bool:
        """Feed the body to the tracker as it arrives. False if the run ran past its deadline."""
        for chunk in response.iter_stream():
            t = perf_counter()
            if tracker.finished:
                continue  # after `done`: drain the body so the connection can be reused
            for event in decoder.feed(chunk):
                if tracker.on_event(event, t):
                    break
            if not tracker.finished and t > deadline:
                tracker.end(t, TIMEOUT, f"run still streaming after stream_timeout_s={self._stream_timeout_s:g}")
                return False
        return True

    def _classify(self, exc: Exception, got_response: bool) -> tuple[str, str]:
        if isinstance(exc, _TIMEOUT_ERRORS):
            return TIMEOUT, f"no event for {self._timeouts['timeout']['read']:g} s (stall_timeout_s)"
        if isinstance(exc, _CONNECT_ERRORS) or not got_response:
            return CONNECT_ERROR, _exc_text(exc)
        return TRUNCATED, f"connection broke: {_exc_text(exc)}"


def _run_body_extra(scenario: Scenario) -> bytes:
    """The constant tail of every run body, encoded once."""
    req = scenario.request
    tail: dict[str, Any] = {
        "additional_properties": dict(req.additional_properties),
        "context": dict(req.context),
        "environment_id": req.environment_id,
    }
    if req.context_variables is not None:
        tail["context_variables"] = dict(req.context_variables)
    if req.llm_params is not None:
        tail["llm_params"] = dict(req.llm_params)
    if req.guardrails is not None:
        tail["guardrails"] = dict(req.guardrails)
    encoded = orjson.dumps(tail)  # b'{"additional_properties":...}'
    return b"," + encoded[1:]


def _ms_since(t0: float) -> float:
    return (perf_counter() - t0) * 1000.0


def _read_bounded(response: httpcore.Response) -> bytes:
    content = b""
    try:
        for chunk in response.iter_stream():
            if len(content) < _MAX_ERROR_BODY:
                content += chunk
    except (*_TIMEOUT_ERRORS, *_BROKEN_ERRORS):
        pass
    return content[:_MAX_ERROR_BODY]


def _body_text(content: bytes) -> str:
    return redact(content[:300].decode("utf-8", "replace").strip())


def _exc_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")[:300]
