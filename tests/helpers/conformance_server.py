"""A loopback HTTP/1.1 server that answers each request with hand-written bytes, cut in two at
a chosen byte: `POST /<case>/<split>` writes CASES[case][:split], pauses, then the rest.

Used in-process (a thread per connection) by test_conformance.py; `IDLE_AFTER` bytes are
written on the idle connection after the answer (a proxy's 408), then it is closed.
"""

from __future__ import annotations

import socket
import threading
import time

from raw_http_server import read_request

BODY = b'{"id": "1-0", "event": "run.started", "data": {}}\n'
CASES: dict[str, bytes] = {
    "interim": b"HTTP/1.1 102 Processing\r\n\r\n"
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Seen: final\r\n\r\n%s"
    % (len(BODY), BODY),
    "continue": b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
    % (len(BODY), BODY),
    "chunk_ext_trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    b"X-A: 1\r\nx-a: 2\r\n\r\n"
    b'5;name=value\r\n%s\r\n%x;a;b="c"\r\n%s\r\n0;last\r\nX-Trailer: t\r\nX-More: m\r\n\r\n'
    % (BODY[:5], len(BODY) - 5, BODY[5:]),
    "close_header": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
    % (len(BODY), BODY),
    "read_to_close": b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n\r\n%s" % BODY,
    "no_content": b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
    "not_modified": b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
    "http10": b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "http10_keep_alive": b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "error_with_body": b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
    b"Content-Length: 4\r\n\r\nbusy",
    "zero_chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "idle_408": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}
CLOSES_AFTER = {"close_header", "read_to_close", "http10"}
IDLE_AFTER = {
    "idle_408": b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
}
PAUSE_S = 0.003


def _serve(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    drop_next = False
    with conn:
        while True:
            request = read_request(conn, pending)
            if request is None:
                return
            path, pending = request
            _, case, split = path.split("/")
            if drop_next:  # the request crossed the server's idle close: no answer at all
                return
            if case == "prime":  # answer, and close the connection when the next request comes
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                drop_next = True
                continue
            if case == "stall":  # never answer (a stalled server), then go away
                time.sleep(float(split))
                return
            raw = CASES[case]
            cut = min(int(split), len(raw))
            conn.sendall(raw[:cut])
            if cut < len(raw):
                time.sleep(PAUSE_S)
                conn.sendall(raw[cut:])
            if case in IDLE_AFTER:
                time.sleep(0.05)
                conn.sendall(IDLE_AFTER[case])
                return
            if case in CLOSES_AFTER:
                return


def start() -> tuple[int, socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server
