"""The async channel: the run posted over HTTP, its answer read from the Socket.IO channel.

    socket  <socket_url>/api/async/?userId=<sub>&tenantId=<woTenantId>&EIO=4&transport=websocket
            one per person, opened before its first run and kept (bearer token in the upgrade)
    POST <runs>   (no stream)  -> {"thread_id", "run_id"} at once; the HTTP run completes with
                                  an interim message (is_async true)
    socket  42["run.started", {"id", "event", "data"}] ... message.created ... done

Events are per user and tenant, not per run: every socket of the same credential gets them all,
so a run's events are picked by its thread (a byte search before any JSON is parsed) and run id.
They are the streamed run's own events, so the streamed run's tracker measures them: every
milestone (`run_started`, `first_delta`, `first_text`, `message_created`, `done`) is the time
the socket delivered that event (the kernel's receive time on plain TCP), from just before the
POST was written. Error classes: `socket_connect_error` (no socket, the upgrade or the Socket.IO
connect refused), `socket_closed` (the socket closed before `done`); `timeout` as for a stream.

Where the socket is: `channel: {name: async, socket_url: ws://host:port}`, else the API's host
and port (a Developer Edition's `:4321` becomes `:4001`, where it serves /api/async/).
"""

from __future__ import annotations

import time
from typing import cast
from urllib.parse import urlencode, urlsplit

import orjson

from wxo_load.core.channels import ASYNC
from wxo_load.core.errors import AuthError
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import (
    PROTOCOL_ERROR,
    SOCKET_CLOSED,
    SOCKET_CONNECT_ERROR,
    STOPPED,
    TIMEOUT,
    RunRecord,
    http_error_class,
)
from wxo_load.core.redact import redact
from wxo_load.core.stream import Event
from wxo_load.core.tracker import RunTracker
from wxo_load.edge.auth.jwt import jwt_claims
from wxo_load.edge.client import WALL_MINUS_PERF_S
from wxo_load.edge.engineio import EngineIO, SocketGone, upgrade_head
from wxo_load.edge.failures import TRANSPORT_ERRORS, body_text, exc_text
from wxo_load.edge.idle import readable
from wxo_load.edge.leave import cannot_leave
from wxo_load.edge.poll import PostedRuns
from wxo_load.edge.transport import Connection, host_header

_perf = time.perf_counter
ASYNC_PATH = "/api/async/"
DEV_EDITION_PORTS = {4321: 4001}  # the API's port -> the Socket.IO server's (docker compose)


def socket_query(token: str) -> str:
    """userId (the JWT's `sub`, else userId/user_id) and tenantId (`woTenantId`, else
    tenantId/tenant_id), as the ADK's WebSocketClient sends them."""
    claims = jwt_claims(token) or {}

    def first(*keys: str) -> str:
        return next((str(claims[k]) for k in keys if claims.get(k)), "")

    user = first("sub", "userId", "user_id")
    tenant = first("woTenantId", "tenantId", "tenant_id")
    return urlencode({"userId": user, "tenantId": tenant, "EIO": "4", "transport": "websocket"})


class AsyncChannel(PostedRuns):
    """One person on async: runs posted over HTTP, answers read from one Socket.IO socket."""

    name = ASYNC

    def _setup(self) -> None:
        super()._setup()
        url = urlsplit(self.scenario.channel.socket_url or self.host)
        tls = url.scheme in ("https", "wss")
        port = url.port or (443 if tls else 80)
        if not self.scenario.channel.socket_url:
            port = DEV_EDITION_PORTS.get(port, port) if url.hostname in _LOCAL else port
        hostname = url.hostname or "127.0.0.1"
        req = self.scenario.request
        self._sock_conn = Connection(
            hostname,
            port,
            ssl_context=self._conn.ssl_context if tls else None,
            connect_timeout_s=req.connect_timeout_s,
            read_timeout_s=req.stall_timeout_s,
        )
        self._sock_host = host_header(hostname, port, 443 if tls else 80)
        self._sock_path = url.path.rstrip("/") if self.scenario.channel.socket_url else ""
        self._eio: EngineIO | None = None

    def close(self) -> None:
        self._sock_conn.close()
        self._eio = None
        super().close()

    # -- the socket ------------------------------------------------------------------------

    def _open_socket(self) -> EngineIO:
        """Connect (upgrade, Engine.IO open, Socket.IO connect); raises SocketGone/OSError."""
        token = self.tokens.token()
        target = f"{self._sock_path}{ASYNC_PATH}?{socket_query(token)}"
        conn = self._sock_conn
        head = upgrade_head(target, self._sock_host, token, "wxo-load")
        status, answer, rest = conn.upgrade(head, self.scenario.request.connect_timeout_s)
        if status != 101:
            conn.close()
            raise SocketGone(f"the upgrade was answered {status}: {body_text(answer)}")
        eio = EngineIO(conn)
        deadline = _perf() + self.scenario.request.connect_timeout_s
        data = rest
        while not eio.connected:
            eio.handle(data)
            if eio.connected:
                break
            left_s = deadline - _perf()
            if left_s <= 0:
                raise SocketGone("no Socket.IO connect within connect_timeout_s")
            data = conn.recv_within(left_s)
            if not data:
                raise SocketGone("the server closed the socket before the Socket.IO connect")
        return eio

    def _socket(self) -> EngineIO:
        """The person's socket, open and idle: what arrived since the last run (pings, other
        runs' events) is handled and dropped; a socket found closed is opened again."""
        eio = self._eio
        sock = self._sock_conn.raw_socket
        if eio is not None and sock is not None:
            try:
                while readable(sock):
                    data = self._sock_conn.recv_within(1.0)
                    if not data:
                        raise SocketGone("closed while idle")
                    eio.handle(data)
                return eio
            except (SocketGone, *TRANSPORT_ERRORS):
                self._sock_conn.close()
        self._eio = None
        self._eio = eio = self._open_socket()
        return eio

    # -- a turn ----------------------------------------------------------------------------

    def send(
        self,
        record: RunRecord,
        text: str,
        *,
        keep_text: bool = False,
        leave: LeaveAt | None = None,
    ) -> RunTracker:
        """Post the run and read its events from the socket (its people cannot leave: `leave`
        is None)."""
        cannot_leave(self.name, leave)
        thread_id = record.thread_id or self._thread_id
        body = self._body(text, thread_id)
        record.request_bytes = len(body)
        try:
            eio = self._socket()
        except AuthError as exc:
            return self._failed(record, http_error_class(401), redact(str(exc)))
        except (SocketGone, *TRANSPORT_ERRORS) as exc:
            self._sock_conn.close()
            return self._failed(record, SOCKET_CONNECT_ERROR, exc_text(exc))
        t0 = _perf()
        tracker = RunTracker(record, t0, WALL_MINUS_PERF_S)
        if keep_text:
            tracker.keep_text()
        try:
            if self._post(tracker, body):
                self._read_socket(tracker, eio)
        except AuthError as exc:
            tracker.end(_perf(), http_error_class(401), redact(str(exc)))
        except SocketGone as exc:
            self._sock_conn.close()
            tracker.end(_perf(), SOCKET_CLOSED, exc_text(exc))
        except TimeoutError:
            self._sock_conn.close()
            tracker.end(_perf(), TIMEOUT, f"no event for {self._stall_timeout_s:g} s on the socket")
        except TRANSPORT_ERRORS as exc:
            self._conn.close()
            self._sock_conn.close()
            tracker.end(_perf(), SOCKET_CLOSED, exc_text(exc))
        except Exception as exc:  # a bug of ours must never kill the user: count it
            self._sock_conn.close()
            tracker.end(_perf(), PROTOCOL_ERROR, f"internal error: {exc_text(exc)}")
        except BaseException:
            self._sock_conn.close()
            tracker.end(_perf(), STOPPED, "the test stopped while the run was answered")
            raise
        tracker.end(_perf())
        return tracker

    def _failed(self, record: RunRecord, outcome: str, detail: str) -> RunTracker:
        tracker = RunTracker(record, _perf(), WALL_MINUS_PERF_S)
        tracker.end(_perf(), outcome, detail)
        return tracker

    def _post(self, tracker: RunTracker, body: bytes) -> bool:
        """POST the run; True when its ids came back (else the run is ended with its class)."""
        record = tracker.record
        answer = self.plain.post_run(body)
        if answer.status == 401:
            self.tokens.refresh(self.tokens.token())
            answer = self.plain.post_run(body)
        record.status_code = answer.status
        if answer.status != 200:
            tracker.end(_perf(), http_error_class(answer.status), body_text(answer.content))
            return False
        try:
            posted = orjson.loads(answer.content)
            record.run_id = str(posted["run_id"])
            record.thread_id = self._thread_id = str(posted.get("thread_id") or record.thread_id)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            tracker.end(_perf(), PROTOCOL_ERROR, f"the run's answer: {body_text(answer.content)}")
            return False
        return True

    def _read_socket(self, tracker: RunTracker, eio: EngineIO) -> None:
        """Read the socket until the run's `done` (or a failure it announced, or its timeout)."""
        record = tracker.record
        conn = self._sock_conn
        mine = (record.thread_id or "").encode()
        deadline = tracker.t0 + self._stream_timeout_s
        while True:
            left_s = deadline - _perf()
            if left_s <= 0:
                tracker.end(_perf(), TIMEOUT, "no done on the socket within stream_timeout_s")
                return
            # one frame a read: a frame that arrived alone keeps its own arrival stamp, even
            # when the greenlet gets to the socket after later frames came (every socket of a
            # user and tenant gets every run's events, so several often wait together)
            data = conn.recv_within(min(left_s, self._stall_timeout_s), eio.reader.needed())
            if not data:
                raise SocketGone("the server closed the socket before the answer ended")
            events = eio.handle(data)
            if not events:
                continue
            t_read = conn.last_read
            t = conn.last_rx
            for raw in events:
                if mine not in raw:  # another conversation's event (the same user and tenant)
                    continue
                if self._on_event(tracker, raw, t, t_read):
                    return

    def _on_event(self, tracker: RunTracker, raw: bytes, t: float, t_read: float) -> bool:
        """One Socket.IO event of this thread; True when the run is over."""
        try:
            packet = orjson.loads(raw)
            event = packet[1]
        except (orjson.JSONDecodeError, IndexError, TypeError):
            return False
        if type(event) is not dict or "event" not in event:
            return False
        return self._on_payload(tracker, cast(Event, event), t, t_read)  # the widget's event

    def _on_payload(self, tracker: RunTracker, event: Event, t: float, t_read: float) -> bool:
        """One event's payload (`{"id", "event", "data"}`); True when the run is over."""
        data = event.get("data")
        run_id = data.get("run_id") if type(data) is dict else None
        if run_id is not None and run_id != tracker.record.run_id:
            return False  # a run of this thread that is not ours (an earlier one's late events)
        if tracker.on_event(event, t, t_read):
            tracker.end(t)
            return True
        if tracker.failed:  # run.failed / error: nothing more is coming for this run
            tracker.end(t)
            return True
        return False


_LOCAL = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})
