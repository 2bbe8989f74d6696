"""A small forward HTTP proxy on loopback, for tests: absolute-form requests and CONNECT tunnels.

Names in `aliases` (e.g. `orchestrate.invalid`, which never resolves) are sent to 127.0.0.1.
It records every request line it forwards and every Proxy-Authorization it saw; with
`require_auth` set it answers 407 to requests that lack exactly that value.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from raw_http_server import read_request


@dataclass
class ForwardProxy:
    aliases: tuple[str, ...] = ("orchestrate.invalid",)
    require_auth: str | None = None
    seen: list[str] = field(
        default_factory=list
    )  # "POST http://host:port/path", "CONNECT host:port"
    auth_seen: list[str] = field(default_factory=list)
    port: int = 0

    def start(self) -> ForwardProxy:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self) -> None:
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _upstream(self, authority: str) -> socket.socket:
        host, _, port = authority.rpartition(":")
        host = "127.0.0.1" if host in self.aliases else host.strip("[]")
        return socket.create_connection((host, int(port)), timeout=10)

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = _read_head(client)
            upstream: socket.socket | None = None
            while head is not None:
                raw, rest = head
                lines = raw.split(b"\r\n")
                method, target, _ = lines[0].decode().split(" ", 2)
                self.seen.append(f"{method} {target}")
                auth = next(
                    (
                        ln.split(b":", 1)[1].strip().decode()
                        for ln in lines[1:]
                        if ln.lower().startswith(b"proxy-authorization:")
                    ),
                    None,
                )
                if auth:
                    self.auth_seen.append(auth)
                if self.require_auth and auth != self.require_auth:
                    client.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                    return
                if method == "CONNECT":
                    upstream = self._upstream(target)
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe_both(client, upstream, rest)
                    return
                if upstream is None:
                    upstream = self._upstream(urlsplit(target).netloc)
                    threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
                upstream.sendall(raw + b"\r\n\r\n" + rest)
                head = _read_head(client)


def _read_head(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One request: its head (without the blank line) and its Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            more = conn.recv(65536)
        except OSError:
            return None
        if not more:
            return None
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return head, rest[:length]


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


def _pipe_both(client: socket.socket, upstream: socket.socket, first: bytes) -> None:
    if first:
        upstream.sendall(first)
    threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
    _pump(client, upstream)


__all__ = ["ForwardProxy", "read_request"]
