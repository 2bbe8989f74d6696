"""A lean HTTP/1.1 keep-alive connection for the load generator's hot path.

Why not httpx or httpcore here: a load generator's CPU is its own measurement error. Profiled
under gevent with 100 users and 14-event runs, httpcore's pool bookkeeping, its per-request
liveness poll and h11's general-purpose parser took about half of the harness's CPU. This module
does only what a chat client needs: one persistent connection per simulated person, a request
written in one `sendall`, the status line and headers parsed once, and the body handed over
chunk by chunk the moment `recv` returns (chunked transfer coding, Content-Length, or read to
close; gzip/deflate decoded if a server insists). Everything else (token exchanges, one-off
calls) uses httpx.

Works with plain or gevent-patched sockets. Errors are the built-in `OSError` family and
`TimeoutError`; `ProtocolError` for a response that is not HTTP/1.1.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
import zlib
from collections.abc import Iterator

_MAX_HEADER_BYTES = 64 * 1024
_RECV_BYTES = 65536
_perf = time.perf_counter


def _gevent_loop() -> object | None:
    """The gevent event loop when sockets are gevent's (under Locust), else None."""
    try:
        from gevent import get_hub
        from gevent.monkey import is_module_patched
    except ImportError:  # pragma: no cover - gevent comes with locust
        return None
    return get_hub().loop if is_module_patched("socket") else None


class _StallWatchdog:
    """Detects a silent peer without a timer per `recv`.

    A gevent socket with a timeout creates and cancels a timer for every blocking read: about
    15 per run here. The watchdog instead arms one timer per request; `recv` only notes when
    data last arrived, and when the timer fires it either re-arms for the time left or, if the
    peer really was silent for the whole limit, shuts the socket down so the waiting `recv`
    returns and reports a timeout.
    """

    __slots__ = ("conn", "loop", "limit_s", "timer", "stalled")

    def __init__(self, conn: Connection, loop: object, limit_s: float) -> None:
        self.conn, self.loop, self.limit_s = conn, loop, limit_s
        self.timer: object | None = None
        self.stalled = False

    def arm(self, delay_s: float) -> None:
        self.disarm()
        timer = self.loop.timer(delay_s)  # type: ignore[attr-defined]
        timer.start(self._fire)
        self.timer = timer

    def disarm(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.stop()  # type: ignore[attr-defined]
            timer.close()  # type: ignore[attr-defined]

    def _fire(self) -> None:
        self.disarm()
        silent_s = _perf() - self.conn.last_rx
        if silent_s < self.limit_s:
            self.arm(self.limit_s - silent_s)
            return
        self.stalled = True
        sock = self.conn._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ConnectFailed(ConnectionError):
    """The connection (TCP or TLS) could not be opened."""


class ProtocolError(Exception):
    """The peer did not speak HTTP/1.1 as expected (bad status line, bad chunk size...)."""


class Response:
    """A response whose body is read lazily through `iter_body()` (or `read()`)."""

    __slots__ = ("status", "headers", "_conn", "_buffer", "_mode", "_remaining", "_done", "_decoder")

    def __init__(self, conn: Connection, status: int, headers: dict[bytes, bytes], buffer: bytes, method: bytes) -> None:
        self.status = status
        self.headers = headers
        self._conn = conn
        self._buffer = buffer
        self._done = False
        self._decoder: zlib._Decompress | None = None
        encoding = headers.get(b"content-encoding", b"").lower()
        if encoding in (b"gzip", b"deflate"):
            self._decoder = zlib.decompressobj(47)  # gzip or zlib header, detected
        if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
            self._mode, self._remaining = "length", 0
        elif b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            self._mode, self._remaining = "chunked", -1
        elif b"content-length" in headers:
            try:
                self._mode, self._remaining = "length", int(headers[b"content-length"])
            except ValueError:
                raise ProtocolError(f"bad Content-Length {headers[b'content-length']!r}") from None
        else:
            self._mode, self._remaining = "close", -1

    @property
    def complete(self) -> bool:
        """True once the whole body was read (the connection can then be reused)."""
        return self._done

    def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in self.iter_body():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                break
        return b"".join(parts)

    def iter_body(self) -> Iterator[bytes]:
        """Body bytes as they arrive; ends at the end of the body."""
        raw = self._iter_chunked() if self._mode == "chunked" else self._iter_plain()
        return raw if self._decoder is None else self._iter_decoded(raw, self._decoder)

    @staticmethod
    def _iter_decoded(raw: Iterator[bytes], decoder: zlib._Decompress) -> Iterator[bytes]:
        for chunk in raw:
            data = decoder.decompress(chunk)
            if data:
                yield data
        tail = decoder.flush()
        if tail:
            yield tail

    def _finish(self, reusable: bool) -> None:
        self._done = True
        self._conn._response_done(self, reusable and not self._buffer)

    def _iter_plain(self) -> Iterator[bytes]:
        conn = self._conn
        remaining = self._remaining
        buffer, self._buffer = self._buffer, b""
        if remaining == 0:
            self._finish(True)
            return
        if buffer:
            if remaining > 0:
                data, rest = buffer[:remaining], buffer[remaining:]
                self._buffer = rest
                remaining -= len(data)
                yield data
            else:
                yield buffer
        while remaining != 0:
            data = conn._recv()
            if not data:
                if remaining > 0:
                    raise ConnectionResetError("the connection closed before the end of the body")
                self._finish(False)  # read-to-close body: its end is the connection's end
                return
            if remaining > 0:
                if len(data) > remaining:
                    data, self._buffer = data[:remaining], data[remaining:]
                remaining -= len(data)
            yield data
        self._finish(True)

    def _iter_chunked(self) -> Iterator[bytes]:
        """Decode `size CRLF data CRLF ... 0 CRLF [trailers] CRLF` as bytes arrive.

        One generator frame per body: this loop runs for every event of every run.
        """
        reader = _BufferedReader(self._conn, self._buffer)
        self._buffer = b""
        line = reader.line
        while True:
            size_text = line("chunk size")
            try:
                size = int(size_text, 16)
            except ValueError:
                try:
                    size = int(size_text.split(b";", 1)[0].strip(), 16)  # a chunk extension
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                break
            while size > 0:  # the data, handed over as it arrives
                buf, pos = reader.buf, reader.pos
                available = len(buf) - pos
                if available <= 0:
                    reader.buf, reader.pos = reader._more("chunk"), 0
                    continue
                n = size if size < available else available
                reader.pos = pos + n
                size -= n
                yield buf[pos : pos + n] if (pos or n != len(buf)) else buf
            if line("chunk"):
                raise ProtocolError("chunk data longer than its size")
        while line("chunked trailer"):
            pass
        self._buffer = reader.rest()
        self._finish(True)


class _BufferedReader:
    """Lines and fixed-size pieces from a buffer refilled from the connection."""

    __slots__ = ("conn", "buf", "pos")

    def __init__(self, conn: Connection, buf: bytes) -> None:
        self.conn, self.buf, self.pos = conn, buf, 0

    def _more(self, where: str) -> bytes:
        data = self.conn._recv()
        if not data:
            raise ConnectionResetError(f"the connection closed in the middle of a {where}")
        return data

    def line(self, where: str) -> bytes:
        buf, pos = self.buf, self.pos
        end = buf.find(b"\r\n", pos)
        while end < 0:
            buf, pos = buf[pos:] + self._more(where), 0
            end = buf.find(b"\r\n")
        self.buf, self.pos = buf, end + 2
        return buf[pos:end]

    def rest(self) -> bytes:
        return self.buf[self.pos :]


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
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._sock: socket.socket | None = None
        self._reusable = False
        self.last_rx = 0.0
        loop = _gevent_loop()
        self._watchdog = _StallWatchdog(self, loop, read_timeout_s) if loop is not None else None
        self._host_header = host if port in (80, 443) else f"{host}:{port}"
        self.requests_sent = 0
        self.connections_opened = 0

    @property
    def host_header(self) -> str:
        return self._host_header

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._reusable = False
        if self._watchdog is not None:
            self._watchdog.disarm()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake, connect timeout
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from None
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

    def _response_done(self, response: Response, reusable: bool) -> None:
        if self._watchdog is not None:
            self._watchdog.disarm()
        if reusable and response.headers.get(b"connection", b"").lower() != b"close":
            self._reusable = True
        else:
            self.close()

    def request(self, head: bytes, body: bytes, method: bytes = b"POST") -> Response:
        """Send a request whose head (request line + headers, ending with the blank line) is
        ready-made, and return the response once its headers have arrived.

        A reused connection that the server closed while idle is reopened once, transparently,
        if the failure came before any byte of the response (the request was not processed).
        """
        reused = self._sock is not None and self._reusable
        if not reused:
            self.close()
            self._sock = self._connect()
        self._reusable = False
        if self._watchdog is not None:
            self.last_rx = _perf()
            self._watchdog.stalled = False
            self._watchdog.arm(self.read_timeout_s)
        try:
            try:
                return self._exchange(head, body, method)
            except _StaleConnection:
                if not reused:
                    raise
                self.close()
                self._sock = self._connect()
                return self._exchange(head, body, method)
        except BaseException:
            self.close()
            raise

    def _exchange(self, head: bytes, body: bytes, method: bytes) -> Response:
        sock = self._sock
        assert sock is not None
        data = head + body
        try:
            sent = sock.send(data)  # a request fits the socket buffer: one call, no sendall loop
            if sent < len(data):
                sock.sendall(data[sent:])
            buf = self._recv()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _StaleConnection(f"the connection broke before the answer: {exc}") from None
        self.requests_sent += 1
        if not buf:
            raise _StaleConnection("the server closed the connection before answering")
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            if len(buf) > _MAX_HEADER_BYTES:
                raise ProtocolError("response headers larger than 64 KiB")
            more = self._recv()
            if not more:
                raise ConnectionResetError("the connection closed in the middle of the response headers")
            buf += more
            end = buf.find(b"\r\n\r\n")
        status, headers = _parse_head(buf[:end])
        if status == 100:  # 100 Continue: skip it, the real answer follows
            rest = buf[end + 4 :]
            self._sock = sock
            return self._continue(rest, method)
        return Response(self, status, headers, buf[end + 4 :], method)

    def _continue(self, rest: bytes, method: bytes) -> Response:
        sock = self._sock
        assert sock is not None
        buf = rest
        while b"\r\n\r\n" not in buf:
            more = self._recv()
            if not more:
                raise ConnectionResetError("the connection closed after 100 Continue")
            buf += more
        end = buf.find(b"\r\n\r\n")
        status, headers = _parse_head(buf[:end])
        return Response(self, status, headers, buf[end + 4 :], method)


class _StaleConnection(ConnectionResetError):
    """A kept-alive connection the server had already closed: safe to retry once."""


def _parse_head(head: bytes) -> tuple[int, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x response: {status_line[:60]!r}")
    try:
        status = int(status_line[9:12])
    except ValueError:
        raise ProtocolError(f"bad status line {status_line[:60]!r}") from None
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            key = name.strip().lower()
            value = value.strip()
            headers[key] = headers[key] + b", " + value if key in headers else value
    return status, headers
