"""A minimal Engine.IO v4 / Socket.IO v5 client over WebSocket, on wxo-load's own transport.

What an async agent's answer needs and nothing more (../shared/reference/orchestrate-api.md, D):
the WebSocket upgrade (bearer token in its `Authorization` header), the server's `0{…}` open
answered by `40` (connect to the default namespace), `2` (ping) answered by `3`, `42[name,
payload]` events handed over raw with their arrival stamps, `41`/`44`/a close frame as the end.

Why our own and not python-socketio's client: under gevent a client must be cooperative and
cheap, and the arrival stamp is the measurement. Here every frame is read by the person's own
greenlet on `edge.transport.Connection` (a gevent-aware socket, the kernel's receive time on
plain TCP), so an event is stamped when its bytes arrived, not when a reader thread's callback
ran; there is no thread or queue per socket (docs/channels.md, "Async agents", has the figures).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

from wxo_load.core.errors import ProtocolError
from wxo_load.edge.transport import Connection

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 1, 2, 8, 9, 10, 0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class SocketGone(ConnectionResetError):
    """The socket closed (a close frame, Socket.IO `41`, Engine.IO `1`, or EOF)."""


def upgrade_head(target: str, host_header: str, token: str, user_agent: str) -> bytes:
    """The WebSocket upgrade request for `target` (path and query)."""
    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{auth}\r\n"
    ).encode()


def frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """One masked client frame (RFC 6455 5.3: a client masks every frame)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return head + mask + masked


class FrameReader:
    """Incremental WebSocket frame decoder: bytes in, whole (opcode, payload) messages out."""

    __slots__ = ("_buf", "_frag_op", "_frag")

    def __init__(self) -> None:
        self._buf = b""
        self._frag_op = 0
        self._frag: list[bytes] = []

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        buf = self._buf + data if self._buf else data
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, at = b1 & 0x7F, pos + 2
            if n == 126:
                if size - at < 2:
                    break
                n, at = int.from_bytes(buf[at : at + 2], "big"), at + 2
            elif n == 127:
                if size - at < 8:
                    break
                n, at = int.from_bytes(buf[at : at + 8], "big"), at + 8
            if n > MAX_MESSAGE_BYTES:
                raise ProtocolError(f"a WebSocket frame of {n} bytes (limit {MAX_MESSAGE_BYTES})")
            if b1 & 0x80:
                raise ProtocolError("the server masked a WebSocket frame (RFC 6455 forbids it)")
            if size - at < n:
                break
            payload, pos = buf[at : at + n], at + n
            message = self._message(b0 & 0x80, b0 & 0x0F, payload)
            if message is not None:
                yield message
        self._buf = buf[pos:]

    def needed(self) -> int:
        """How many more bytes complete the next frame (its header first): reading no more than
        that gives each frame its own arrival stamp when frames arrive in separate segments."""
        buf = self._buf
        have = len(buf)
        if have < 2:
            return 2 - have
        n = buf[1] & 0x7F
        head = 2 if n < 126 else 4 if n == 126 else 10
        if have < head:
            return head - have
        if n >= 126:
            n = int.from_bytes(buf[2:head], "big")
        return max(1, head + n - have)

    def _message(self, fin: int, opcode: int, payload: bytes) -> tuple[int, bytes] | None:
        if opcode >= CLOSE:  # control frames are never fragmented
            return opcode, payload
        if opcode != CONTINUATION:
            self._frag_op, self._frag = opcode, []
        self._frag.append(payload)
        if not fin:
            return None
        whole = self._frag[0] if len(self._frag) == 1 else b"".join(self._frag)
        self._frag = []
        return self._frag_op, whole


class EngineIO:
    """One Socket.IO connection on `conn` (already upgraded): `handle(data)` turns the bytes of
    one read into the Socket.IO events they complete (raw `[name, payload]` JSON), answering
    pings and the open as they come."""

    __slots__ = ("conn", "reader", "connected", "sid")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.reader = FrameReader()
        self.connected = False  # Socket.IO `40` received
        self.sid: str | None = None

    def handle(self, data: bytes) -> list[bytes]:
        events: list[bytes] = []
        for opcode, payload in self.reader.feed(data):
            if opcode == TEXT:
                kind = payload[:1]
                if payload[:2] == b"42":
                    events.append(payload[2:])
                elif kind == b"2":
                    self.conn.send_raw(frame(b"3" + payload[1:]))
                elif kind == b"0":  # the Engine.IO open: connect to the default namespace
                    self.conn.send_raw(frame(b"40"))
                elif payload[:2] == b"40":
                    self.connected = True
                elif payload[:2] == b"44":
                    raise SocketGone(f"Socket.IO connect refused: {payload[2:200]!r}")
                elif payload[:2] == b"41" or kind == b"1":
                    raise SocketGone("the server closed the Socket.IO session")
            elif opcode == PING:
                self.conn.send_raw(frame(payload, PONG))
            elif opcode == CLOSE:
                raise SocketGone("the server sent a WebSocket close frame")
        return events
