"""A lean, conformant HTTP/1.1 keep-alive connection for the load generator's hot path.

Why not httpx or httpcore here: a load generator's CPU is its own measurement error. Profiled
under gevent with 100 users and 14-event runs, httpcore's pool bookkeeping, its per-request
liveness poll and h11's general-purpose parser took about half of the harness's CPU. This module
does only what a chat client needs: one persistent connection per simulated person, a request
written in one `send`, and the body handed over as `recv` returns it, stamped with when it
arrived: `last_rx` is the kernel's receive time of the read's last bytes where the kernel
stamps them (plain TCP on Linux, see wxo_load.edge.rxstamp), else the perf_counter() taken when
`recv` returned; `last_read` is always the latter.

Responses are parsed by httptools' llhttp (wxo_load.edge.response), at about a third of the CPU
of the hand-written parser it replaced.

A connection is reused only when idle and clean: before reuse a zero-timeout poll checks that
the server has written nothing (an EOF, a proxy's 408); if it has, the connection is closed and
a new one opened. A request on a reused connection that fails before any byte of the answer
(the server closed it meanwhile) is sent again once on a new connection: `retries` says so, and
every timeout, the stall watchdog included, starts again for it.

Received data is acknowledged at once (TCP_QUICKACK, set after each request is written, on
Linux). A client that sends a request right after reading an answer is taken by Linux for an
interactive peer and its ACKs are delayed until the process reads; a server whose congestion
window is used up (as after every pause longer than its retransmission timeout, when TCP starts
again from ten segments) then holds the rest of an event until that ACK. A load generator a few
milliseconds late to read would so delay the bytes themselves, and no arrival stamp can see it.

Works with plain or gevent-patched sockets. Errors are the built-in `OSError` family and
`TimeoutError`; `ConnectionFailed` when no connection could be made; `ProtocolError` for an answer
that is not valid HTTP/1.1 (or not decodable).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wxo_load.core.errors import ProtocolError
from wxo_load.edge import rxstamp
from wxo_load.edge.idle import readable
from wxo_load.edge.response import Response, StaleConnection
from wxo_load.edge.watchdog import StallWatchdog, gevent_loop

if TYPE_CHECKING:
    from wxo_load.edge.proxy import Proxy

__all__ = [
    "Connection",
    "host_header",
]

_RECV_BYTES = 65536
_ANC_BYTES = rxstamp.ANCILLARY_BYTES
_arrival = rxstamp.arrival
_perf = time.perf_counter
_TCP = socket.IPPROTO_TCP
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


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
        self.reusable = False
        self._rx = 0.0
        self._ancdata: list[tuple[int, int, bytes]] | None = None  # the last read's kernel stamp
        self.last_read = 0.0  # perf_counter() when the last read returned
        self.kernel_stamps = False  # whether the socket's reads carry the kernel's receive time
        self._parked: _Parked | None = None  # gevent's wait for the plain socket, see recv_piece
        self._drained = True  # the last read left nothing behind: wait before the next one
        loop = gevent_loop()
        self._watchdog = StallWatchdog(self, loop, read_timeout_s) if loop is not None else None
        self._host_header = host_header(host, port, 443 if ssl_context is not None else 80)
        self.requests_sent = 0
        self.connections_opened = 0
        self.retries = 0  # of the last request: 1 when it was sent again on a new connection
        self.stale_closed = 0  # idle connections found closed (or written to) before reuse
        self.leaving = False  # a person is leaving this request (edge/leave.py): never resend it

    @property
    def host_header(self) -> str:
        return self._host_header

    @property
    def last_rx(self) -> float:
        """perf_counter() time the last read's bytes arrived: the kernel's receive time of its
        newest bytes when the socket has kernel stamps, else `last_read`. Converted on demand:
        most reads of a finely chunked stream complete no event and are never asked."""
        ancdata = self._ancdata
        if ancdata:
            self._ancdata = None
            self._rx = _arrival(ancdata, self.last_read)
        return self._rx

    @last_rx.setter
    def last_rx(self, value: float) -> None:
        self._ancdata = None
        self._rx = value

    @property
    def raw_socket(self) -> socket.socket | None:
        """The open socket (None when closed): for shutting it down from a timer."""
        return self._sock

    @property
    def drained(self) -> bool:
        """Nothing more has arrived than was read (a zero-timeout poll): what was read is all
        the server had written, up to bytes still in flight."""
        sock = self._sock
        return sock is None or not readable(sock)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self.reusable = False
        self._parked = None
        response, self._response = self._response, None
        if response is not None:  # an answer not read to its end: break its parser cycle
            response.release()
        if self._watchdog is not None:
            self._watchdog.disarm()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _connect(self) -> socket.socket:
        from wxo_load.edge.proxy import open_socket

        sock = open_socket(
            self.host, self.port, self.proxy, self.ssl_context, self.connect_timeout_s
        )
        sock.settimeout(None if self._watchdog is not None else self.read_timeout_s)
        # TLS decrypts in user space (no recvmsg): https keeps the user-space stamp
        self.kernel_stamps = self.ssl_context is None and rxstamp.enable(sock)
        self._parked = _Parked.of(sock) if self.ssl_context is None else None
        self._drained = True
        self.connections_opened += 1
        return sock

    def recv_piece(self, size: int = _RECV_BYTES) -> bytes:
        sock = self._sock
        if sock is None:
            raise ConnectionResetError("the connection is closed")
        try:
            parked = self._parked
            if parked is not None and self._drained:
                # The last read emptied the socket, so the next bytes are most likely not there
                # yet: wait for them first. gevent's own recv would try, fail with EAGAIN (a
                # system call and an exception, once per event of a stream) and then wait.
                parked.wait(parked.watcher)
                sock = parked.raw  # a wake-up with nothing to read raises BlockingIOError
            try:
                if self.kernel_stamps:
                    data, ancdata, _flags, _addr = sock.recvmsg(size, _ANC_BYTES)
                else:
                    data = sock.recv(size)
                    ancdata = None
            except BlockingIOError:
                if sock is self._sock:
                    raise
                self._drained = False
                return self.recv_piece(size)  # gevent's way: try, then wait
        except OSError:  # gevent cancels the wait when the watchdog shuts the socket down
            if self._watchdog is not None and self._watchdog.stalled:
                raise TimeoutError(f"no data for {self.read_timeout_s:g} s") from None
            raise
        if data:
            self.last_read = self._rx = _perf()
            self._ancdata = ancdata
            self._drained = len(data) < size
        elif self._watchdog is not None and self._watchdog.stalled:
            raise TimeoutError(f"no data for {self.read_timeout_s:g} s")
        return data

    def recv_within(self, timeout_s: float, size: int = _RECV_BYTES) -> bytes:
        sock = self._sock
        if sock is None:
            raise ConnectionResetError("the connection is closed")
        sock.settimeout(timeout_s)
        try:
            return self.recv_piece(size)
        finally:
            if self._sock is sock:
                sock.settimeout(None if self._watchdog is not None else self.read_timeout_s)

    def response_done(self, reusable: bool) -> None:
        if self._watchdog is not None:
            self._watchdog.disarm()
        if reusable:
            self.reusable = True
        else:
            self.close()

    def _idle_and_clean(self) -> bool:
        """Whether the kept-alive connection can carry the next request."""
        sock = self._sock
        if sock is None or not self.reusable:
            return False
        if readable(sock):  # EOF, a reset or unsolicited bytes (a 408): never an answer of ours
            self.stale_closed += 1
            return False
        return True

    def upgrade(self, head: bytes, timeout_s: float) -> tuple[int, bytes, bytes]:
        """Leave HTTP: send an Upgrade request (`head`) on a new connection and read its answer's
        head. Returns (status, the head, the bytes after it); the socket then carries the new
        protocol (`send_raw`, `recv_within`). Not kept alive for HTTP afterwards."""
        self.close()
        sock = self._sock = self._connect()
        try:
            sock.sendall(head)
            data = b""
            while b"\r\n\r\n" not in data:
                piece = self.recv_within(timeout_s)
                if not piece:
                    raise ConnectionResetError("the server closed the connection mid-upgrade")
                data += piece
                if len(data) > 65536:
                    raise ProtocolError("the upgrade's answer head is larger than 64 KiB")
        except BaseException:
            self.close()
            raise
        end = data.index(b"\r\n\r\n") + 4
        parts = data[:end].split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return status, data[:end], data[end:]

    def send_raw(self, data: bytes) -> None:
        """Write bytes on an upgraded connection."""
        sock = self._sock
        if sock is None:
            raise ConnectionResetError("the connection is closed")
        sock.sendall(data)

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
        self.reusable = False
        try:
            try:
                return self._attempt(head, body, reused)
            except StaleConnection:
                if not reused or self.leaving:
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
            previous.release()  # done with: break its cycle
        self._response = response = Response(self)
        try:
            sent = sock.send(data)  # a request fits the socket buffer: one call, no sendall loop
            if sent < len(data):
                sock.sendall(data[sent:])
            self.requests_sent += 1
            if _QUICKACK is not None:  # ACK the answer as it arrives, not when we read it
                with contextlib.suppress(OSError):
                    sock.setsockopt(_TCP, _QUICKACK, 1)
            response.read_head()
        except (BrokenPipeError, ConnectionResetError) as exc:
            if response.head_bytes == 0 and not isinstance(exc, StaleConnection):
                raise StaleConnection(f"the connection broke before the answer: {exc}") from None
            raise
        if reused and response.status == 408:  # the server timed the idle connection out
            raise StaleConnection("the server sent 408 on the idle connection")
        return response


class _Parked:
    """What waiting on a gevent socket takes: its wait function, its read watcher and the
    non-blocking socket under it. None for a socket that is not gevent's (or a gevent version
    without these attributes): reads then go through the socket's own `recv`."""

    __slots__ = ("wait", "watcher", "raw")

    def __init__(self, wait: Callable[[Any], None], watcher: Any, raw: Any) -> None:
        self.wait, self.watcher, self.raw = wait, watcher, raw

    @classmethod
    def of(cls, sock: socket.socket) -> _Parked | None:
        wait = getattr(sock, "_wait", None)
        watcher = getattr(sock, "_read_event", None)
        raw = getattr(sock, "_sock", None)
        if wait is None or watcher is None or not hasattr(raw, "recv"):
            return None
        return cls(wait, watcher, raw)


def host_header(host: str, port: int, default_port: int) -> str:
    """The Host header (and authority) for host:port; IPv6 literals in brackets."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port == default_port else f"{shown}:{port}"
