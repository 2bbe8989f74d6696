"""A tiny HTTP/1.1 server that answers with hand-written bytes, cut where a test wants them cut.

Run as a process: `python tests/raw_http_server.py` prints `listening on PORT`. The request
path picks the answer (see ANSWERS); `|` in an answer marks a pause of 20 ms, so the bytes on
either side arrive in different reads.
"""

from __future__ import annotations

import gzip
import socket
import sys
import threading
import time

BODY = (
    b'{"id": "1-0", "event": "run.started", "data": {}}\n'
    b'{"id": "1-1", "event": "done", "data": {}}\n'
)
# mtime=0: the gzip header otherwise stamps the current second, and a `|` byte in it (a pause
# marker below, dropped on the wire) broke the body in some seconds and not others.
GZ = gzip.compress(BODY, mtime=0)
assert b"|" not in GZ, "the compressed body must not hold the pause marker"
BIG = b"x" * 200_000  # more than one read's buffer (64 KiB), written at once

ANSWERS: dict[str, bytes] = {
    # chunk sizes, data and CRLFs cut at awkward places; a chunk extension and a trailer
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"%x;ext=1\r\n%s|\r\n" % (len(BODY[:30]), BODY[:30])
    + b"%x\r\n%s\r|\n0\r\nX-Trailer: 1\r\n|\r\n" % (len(BODY[30:]), BODY[30:]),
    "/length": b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s|%s"
    % (len(BODY), BODY[:10], BODY[10:]),
    "/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY[:20] + b"|" + BODY[20:],
    "/gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
    % (len(GZ), GZ),
    "/broken": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/notkeepalive": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    "/garbage": b"SMTP ready\r\n\r\n",
    "/big": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG), BIG),
}


def read_request(conn: socket.socket, pending: bytes) -> tuple[str, bytes] | None:
    data = pending
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return None
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    path = lines[0].split()[1].decode()
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return path, rest[length:]


def serve(conn: socket.socket) -> None:
    pending = b""
    served = 0
    with conn:
        while True:
            request = read_request(conn, pending)
            if request is None:
                return
            path, pending = request
            served += 1
            if path == "/count":
                body = str(served).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                continue
            if path == "/once-then-close":  # answer, then close the idle keep-alive connection
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.05)
                return
            for i, piece in enumerate(ANSWERS[path].split(b"|")):
                if i:
                    time.sleep(0.02)
                conn.sendall(piece)
            if path in ("/close", "/broken", "/notkeepalive", "/garbage"):
                return


def main() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print(f"listening on {server.getsockname()[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
