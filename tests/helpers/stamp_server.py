"""A one-connection HTTP server on loopback that writes a chunk when told and says when it did.

For the tests of the transport's arrival stamps: the reader knows the perf_counter() time at
which the server wrote the chunk (`wrote_at`), so it can compare its own stamps with it.
Works in a thread, or in a greenlet once gevent has patched the process.
"""

from __future__ import annotations

import socket
import threading
import time

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
REQUEST = b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


class StampServer:
    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.go = threading.Event()  # the reader is ready for the chunk
        self.sent = threading.Event()  # the chunk was written, at `wrote_at`
        self.read = threading.Event()  # the reader has read it: the body may end
        self.wrote_at = 0.0

    def serve(self) -> None:
        sock, _ = self.listener.accept()
        with sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = b""
            while b"\r\n\r\n" not in request:
                request += sock.recv(4096)
            sock.sendall(HEAD)
            self.go.wait(10)
            self.wrote_at = time.perf_counter()
            sock.sendall(b"5\r\nhello\r\n")
            self.sent.set()
            self.read.wait(10)  # else the end would arrive in the same read, under its stamp
            sock.sendall(b"0\r\n\r\n")
        self.listener.close()


def kernel_stamping_on(timeout_s: float = 2.0) -> list[socket.socket]:
    """Linux turns receive stamps on for the whole system a moment after the first socket asks
    (a deferred static key): until then reads carry no stamp. Wait for it; keep the returned
    sockets open while stamps are needed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    a = socket.create_connection(listener.getsockname())
    b, _ = listener.accept()
    listener.close()
    b.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS (Linux, asm-generic)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        a.send(b"x")
        _, ancdata, _, _ = b.recvmsg(16, 64)
        if ancdata:
            break
        time.sleep(0.01)
    return [a, b]
