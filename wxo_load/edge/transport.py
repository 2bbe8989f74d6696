"""A lean, conformant HTTP/1.1 keep-alive connection for the load generator's hot path.

Why not httpx or httpcore here: a load generator's CPU is its own measurement error. Profiled
under gevent with 100 users and 14-event runs, httpcore's pool bookkeeping, its per-request
liveness poll and h11's general-purpose parser took about half of the harness's CPU. This module
does only what a chat client needs: one persistent connection per simulated person, a request
written in one `send`, and the body handed over the moment `recv` returns it (`last_rx` is the
perf_counter() stamp taken then).

Responses are parsed by httptools' `HttpResponseParser` (llhttp, the C parser of Node.js, which
uvicorn already brings): every 1xx is skipped until the final answer, chunk extensions and
trailers, Content-Length, read-to-close bodies and `Connection: close` / HTTP/1.0 are handled as
the RFC says, at about a third of the CPU of the hand-written parser it replaced.

A connection is reused only when idle and clean: before reuse a zero-timeout poll checks that
the server has written nothing (an EOF, a proxy's 408); if it has, the connection is closed and
a new one opened. A request on a reused connection that fails before any byte of the answer
(the server closed it meanwhile) is sent again once on a new connection: `retries` says so, and
every timeout, the stall watchdog included, starts again for it.

Works with plain or gevent-patched sockets. Errors are the built-in `OSError` family and
`TimeoutError`; `ConnectFailed` when no connection could be made; `ProtocolError` for an answer
that is not valid HTTP/1.1 (or not decodable).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httptools

from wxo_load.edge.idle import readable
from wxo_load.edge.watchdog import StallWatchdog, gevent_loop

if TYPE_CHECKING:
    from wxo_load.edge.proxy import Proxy

_MAX_HEADER_BYTES = 64 * 1024
_RECV_BYTES = 65536
DRAIN_MAX_BYTES = 64 * 1024
DRAIN_MAX_S = 0.5
_perf = time.perf_counter
_join = b"".join


class ConnectFailed(ConnectionError):
    """The connection (TCP, proxy tunnel or TLS) could not be opened."""


class ProtocolError(Exception):
    """The peer did not speak HTTP/1.1 as expected (bad status line, bad chunk size...)."""


class _StaleConnection(ConnectionResetError):
    """A kept-alive connection the server had already closed: safe to send the request again."""


class _Unsolicited(Exception):
    """Bytes after the final answer: they belong to no request of ours."""


class Response:
    """A response whose body is read lazily through `iter_body()` (or `read()`).

    It is also the parser's protocol: httptools calls the `on_*` methods while `feed_data` runs.
    """

    __slots__ = (
        "status", "headers", "_conn", "_parser", "_pieces", "_head_done", "_complete", "_dirty",
        "_keep_alive", "_close_delimited", "_interim", "_head_bytes",
    )  # fmt: skip

    def __init__(self, conn: Connection) -> None:
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self._conn = conn
        self._parser = httptools.HttpResponseParser(self)
        self._pieces: list[bytes] = []
        self._head_done = self._complete = self._dirty = self._keep_alive = False
        self._close_delimited = self._interim = False
        self._head_bytes = 0

    # -- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            raise _Unsolicited
        self.headers = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_done:
            return  # a chunked trailer: nothing we use
        key = name.lower()
        headers = self.headers
        headers[key] = headers[key] + b", " + value if key in headers else value

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            if status == 101:
                raise ProtocolError("the server switched protocols (101), which wxo-load never asks for")
            self._interim = True  # 100 Continue, 102, 103 Early Hints...: the answer follows
            return
        self.status = status
        self._head_done = True
        headers = self.headers
        self._close_delimited = (
            status not in (204, 304) and b"content-length" not in headers
            and b"chunked" not in headers.get(b"transfer-encoding", b"").lower()
        )  # fmt: skip

    def on_body(self, body: bytes) -> None:
        self._pieces.append(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        parser = self._parser  # HTTP/1.0 keep-alive is legal but rare: not reused, like h11
        self._keep_alive = parser.should_keep_alive() and parser.get_http_version() == "1.1"
        self._complete = True

    # -- reading --------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Unsolicited):
                self._dirty = True
            elif isinstance(cause, ProtocolError):
                raise cause from None
            else:
                raise ProtocolError(f"bad HTTP response: {cause or exc}") from None
        except httptools.HttpParserError as exc:
            if not self._complete:
                raise ProtocolError(f"bad HTTP response: {exc}") from None
            self._dirty = True  # garbage after the answer: the connection is not reused

    def _read_head(self) -> None:
        """Read until the final status and headers (1xx skipped); some body may follow."""
        conn = self._conn
        while not self._head_done:
            data = conn._recv()
            if not data:
                if self._head_bytes == 0:
                    raise _StaleConnection("the server closed the connection before answering")
                raise ConnectionResetError("the connection closed in the middle of the response headers")
            self._head_bytes += len(data)
            if self._head_bytes > _MAX_HEADER_BYTES and not self._head_done:
                raise ProtocolError("response headers larger than 64 KiB")
            self._feed(data)

    @property
    def complete(self) -> bool:
        """True once the whole body was read (the connection can then be reused)."""
        return self._complete

    def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in self.iter_body():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                break
        return _join(parts)

    def iter_body(self) -> Iterator[bytes]:
        """Body bytes as they arrive (one piece per `recv`); ends at the end of the body."""
        raw = self._iter_raw()
        encoding = self.headers.get(b"content-encoding", b"").lower()
        if encoding in (b"gzip", b"deflate"):
            return _iter_decoded(raw, zlib.decompressobj(47))  # gzip or zlib header, detected
        return raw

    def _iter_raw(self) -> Iterator[bytes]:
        pieces = self._pieces
        if pieces:
            chunk = pieces[0] if len(pieces) == 1 else _join(pieces)
            pieces.clear()
            yield chunk
        recv, feed = self._conn._recv, self._feed
        while not self._complete:
            data = recv()
            if not data:
                self._at_eof()
                return
            feed(data)
            if pieces:
                chunk = pieces[0] if len(pieces) == 1 else _join(pieces)
                pieces.clear()
                yield chunk
        self._finish()

    def _at_eof(self) -> None:
        if not self._close_delimited:
            raise ConnectionResetError("the connection closed before the end of the body")
        self._complete = True  # a read-to-close body: its end is the connection's end
        self._conn.close()

    def _finish(self) -> None:
        self._parser = None  # type: ignore[assignment]  # break the parser <-> protocol cycle: no GC work
        self._conn._response_done(self._keep_alive and not self._dirty)

    def drain(self, max_bytes: int = DRAIN_MAX_BYTES, max_s: float = DRAIN_MAX_S) -> bool:
        """Read and drop the rest of the body, at most `max_bytes` within `max_s`, so the
        connection can be reused. True if it was; else the connection is closed."""
        conn = self._conn
        pieces = self._pieces
        pieces.clear()
        got = 0
        deadline = _perf() + max_s
        try:
            while not self._complete:
                left_s = deadline - _perf()
                if got > max_bytes or left_s <= 0:
                    conn.close()
                    return False
                data = conn._recv_within(left_s)
                if not data:
                    self._at_eof()
                    return False
                got += len(data)
                self._feed(data)
                pieces.clear()
        except (OSError, ProtocolError):
            conn.close()
            return False
        self._finish()
        return conn._reusable


def _iter_decoded(raw: Iterator[bytes], decoder: zlib._Decompress) -> Iterator[bytes]:
    try:
        for chunk in raw:
            data = decoder.decompress(chunk)
            if data:
                yield data
        tail = decoder.flush()
    except zlib.error as exc:
        raise ProtocolError(f"the compressed body cannot be decoded: {exc}") from None
    if tail:
        yield tail


class Connection:
    """One keep-alive HTTP/1.1 connection to one origin, used by one greenlet at a time."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 30.0,
        proxy: Proxy | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.proxy = proxy
        self._sock: socket.socket | None = None
        self._response: Response | None = None  # the last one, whose parser cycle close() breaks
        self._reusable = False
        self.last_rx = 0.0
        loop = gevent_loop()
        self._watchdog = StallWatchdog(self, loop, read_timeout_s) if loop is not None else None
        self._host_header = host_header(host, port, 443 if ssl_context is not None else 80)
        self.requests_sent = 0
        self.connections_opened = 0
        self.retries = 0  # of the last request: 1 when it was sent again on a new connection
        self.stale_closed = 0  # idle connections found closed (or written to) before reuse

    @property
    def host_header(self) -> str:
        return self._host_header

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._reusable = False
        response, self._response = self._response, None
        if response is not None:  # an answer not read to its end: break its parser cycle
            response._parser = None  # type: ignore[assignment]
        if self._watchdog is not None:
            self._watchdog.disarm()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _connect(self) -> socket.socket:
        from wxo_load.edge.proxy import open_socket

        sock = open_socket(self.host, self.port, self.proxy, self.ssl_context, self.connect_timeout_s)
        sock.settimeout(None if self._watchdog is not None else self.read_timeout_s)
        self.connections_opened += 1
        return sock

    def _recv(self) -> bytes:
        sock = self._sock
        if sock is None:
            raise ConnectionResetError("the connection is closed")
        try:
            data = sock.recv(_RECV_BYTES)
        except OSError:  # gevent cancels the wait when the watchdog shuts the socket down
            if self._watchdog is not None and self._watchdog.stalled:
                raise TimeoutError(f"no data for {self.read_timeout_s:g} s") from None
            raise
        if data:
            self.last_rx = _perf()
        elif self._watchdog is not None and self._watchdog.stalled:
            raise TimeoutError(f"no data for {self.read_timeout_s:g} s")
        return data

    def _recv_within(self, timeout_s: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise ConnectionResetError("the connection is closed")
        sock.settimeout(timeout_s)
        try:
            return self._recv()
        finally:
            if self._sock is sock:
                sock.settimeout(None if self._watchdog is not None else self.read_timeout_s)

    def _response_done(self, reusable: bool) -> None:
        if self._watchdog is not None:
            self._watchdog.disarm()
        if reusable:
            self._reusable = True
        else:
            self.close()

    def _idle_and_clean(self) -> bool:
        """Whether the kept-alive connection can carry the next request."""
        sock = self._sock
        if sock is None or not self._reusable:
            return False
        if readable(sock):  # EOF, a reset or unsolicited bytes (a 408): never an answer of ours
            self.stale_closed += 1
            return False
        return True

    def request(self, head: bytes, body: bytes, method: bytes = b"POST") -> Response:
        """Send a request whose head (request line + headers, ending with the blank line) is
        ready-made, and return the response once its final status and headers have arrived.

        `method` is accepted for compatibility; HEAD is never sent by wxo-load.
        """
        self.retries = 0
        reused = self._idle_and_clean()
        if not reused:
            self.close()
            self._sock = self._connect()
        self._reusable = False
        try:
            try:
                return self._attempt(head, body, reused)
            except _StaleConnection:
                if not reused:
                    raise
                self.close()
                self._sock = self._connect()
                self.retries = 1
                return self._attempt(head, body, False)
        except BaseException:
            self.close()
            raise

    def _attempt(self, head: bytes, body: bytes, reused: bool) -> Response:
        sock = self._sock
        assert sock is not None
        watchdog = self._watchdog
        if watchdog is not None:  # every attempt gets the whole stall limit, a retry included
            self.last_rx = _perf()
            watchdog.stalled = False
            watchdog.arm(self.read_timeout_s)
        data = head + body
        previous = self._response
        if previous is not None:
            previous._parser = None  # type: ignore[assignment]  # done with: break its cycle
        self._response = response = Response(self)
        try:
            sent = sock.send(data)  # a request fits the socket buffer: one call, no sendall loop
            if sent < len(data):
                sock.sendall(data[sent:])
            self.requests_sent += 1
            response._read_head()
        except (BrokenPipeError, ConnectionResetError) as exc:
            if response._head_bytes == 0 and not isinstance(exc, _StaleConnection):
                raise _StaleConnection(f"the connection broke before the answer: {exc}") from None
            raise
        if reused and response.status == 408:  # the server timed the idle connection out
            raise _StaleConnection("the server sent 408 on the idle connection")
        return response


def host_header(host: str, port: int, default_port: int) -> str:
    """The Host header (and authority) for host:port; IPv6 literals in brackets."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port == default_port else f"{shown}:{port}"
