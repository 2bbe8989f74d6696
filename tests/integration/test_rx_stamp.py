"""Arrival stamps: the kernel's receive time where it has one, the read's own time elsewhere.

The server writes a chunk; the reader waits 50 ms before reading it (as a load generator
waiting for a CPU would). With SO_TIMESTAMPNS the stamp is the write's time, not the read's.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stamp_server import REQUEST, StampServer, kernel_stamping_on

from wxo_load.edge import rxstamp
from wxo_load.edge.transport import Connection

pytestmark = pytest.mark.alone  # timings: run with no other test beside it

LATE_S = 0.05
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SO_TIMESTAMPNS is Linux's"
)


def read_late(
    conn: Connection, server: StampServer, request: bytes = REQUEST
) -> tuple[bytes, float, float]:
    """Request, let the server write its chunk, wait LATE_S, then read the chunk: the body,
    and the chunk's `last_rx` and `last_read`."""
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    response = conn.request(request, b"")
    body = response.iter_body()
    server.go.set()
    assert server.sent.wait(5)
    time.sleep(LATE_S)
    chunk = next(body)
    arrived, read = conn.last_rx, conn.last_read
    server.read.set()
    rest = b"".join(body)
    conn.close()
    thread.join(5)
    return chunk + rest, arrived, read


@pytest.fixture()
def stamping() -> Iterator[None]:
    sockets = kernel_stamping_on()
    yield
    for sock in sockets:
        sock.close()


@linux_only
def test_the_stamp_is_the_kernels_receive_time_not_the_late_read(stamping: None) -> None:
    server = StampServer()
    conn = Connection("127.0.0.1", server.port)
    body, arrived, read = read_late(conn, server)
    assert body == b"hello" and conn.kernel_stamps
    assert abs(arrived - server.wrote_at) < 0.005  # when the bytes arrived
    assert read - server.wrote_at >= LATE_S  # when we got to them


def test_without_kernel_stamps_the_read_time_is_the_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rxstamp, "SO_TIMESTAMPNS", None)  # as on macOS or Windows
    server = StampServer()
    conn = Connection("127.0.0.1", server.port)
    body, arrived, read = read_late(conn, server)
    assert body == b"hello" and not conn.kernel_stamps
    assert arrived == read
    assert arrived - server.wrote_at >= LATE_S


def test_a_socket_without_recvmsg_is_left_to_recv() -> None:
    class TlsLike:  # ssl.SSLSocket has recvmsg, but it raises NotImplementedError
        def setsockopt(self, *args: object) -> None:
            raise AssertionError("not to be called")

    assert rxstamp.enable(TlsLike()) is False  # type: ignore[arg-type]


def test_arrival_reads_the_stamp_and_never_returns_a_future_time() -> None:
    if rxstamp.SO_TIMESTAMPNS is None:
        pytest.skip("no SO_TIMESTAMPNS here")
    level, kind = socket.SOL_SOCKET, rxstamp.SO_TIMESTAMPNS
    ago = time.time_ns() - 20_000_000
    stamp = struct.pack("@ll", ago // 1_000_000_000, ago % 1_000_000_000)
    read_at = time.perf_counter()
    assert 0.019 < read_at - rxstamp.arrival([(level, kind, stamp)], read_at) < 0.03
    ahead = time.time_ns() + 5_000_000_000
    future = struct.pack("@ll", ahead // 1_000_000_000, ahead % 1_000_000_000)
    assert rxstamp.arrival([(level, kind, future)], read_at) == read_at
    assert rxstamp.arrival([(level, kind + 1, stamp)], read_at) == read_at  # someone else's
    assert rxstamp.arrival([], read_at) == read_at


@linux_only
def test_under_gevent_recvmsg_waits_cooperatively_and_stamps_from_the_kernel() -> None:
    """Under Locust: the server is a greenlet of the same process, so a read that blocked the
    loop would never get its answer."""
    code = """
from gevent import monkey; monkey.patch_all()
import gevent, time
from stamp_server import REQUEST, StampServer, kernel_stamping_on
from wxo_load.edge.transport import Connection
stamping = kernel_stamping_on()
server = StampServer()
serving = gevent.spawn(server.serve)
conn = Connection("127.0.0.1", server.port, read_timeout_s=5)
assert conn._watchdog is not None and conn.kernel_stamps is False
response = conn.request(REQUEST, b"")
assert conn.kernel_stamps
body = response.iter_body()
server.go.set()
assert server.sent.wait(5)
time.sleep(0.05)
assert next(body) == b"hello"
arrived, read = conn.last_rx, conn.last_read
server.read.set()
assert b"".join(body) == b""
assert abs(arrived - server.wrote_at) < 0.005, arrived - server.wrote_at
assert read - server.wrote_at >= 0.05
conn.close(); serving.join(5)
print("OK")
"""
    helpers = str(Path(__file__).resolve().parents[1] / "helpers")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [helpers, os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert out.stdout.strip() == "OK", out.stderr[-2000:]


@linux_only
def test_through_an_http_proxy_the_stamp_is_the_proxys_bytes_reaching_us(stamping: None) -> None:
    from forward_proxy import ForwardProxy

    from wxo_load.edge.proxy import Proxy

    forward = ForwardProxy().start()
    try:
        server = StampServer()
        conn = Connection(
            "orchestrate.invalid", server.port, proxy=Proxy("127.0.0.1", forward.port)
        )
        absolute = REQUEST.replace(
            b"/stream", b"http://orchestrate.invalid:%d/stream" % server.port, 1
        )
        body, arrived, read = read_late(conn, server, absolute)
    finally:
        forward.close()
    assert body == b"hello" and conn.kernel_stamps
    assert forward.seen and forward.seen[0].startswith("POST http://orchestrate.invalid")
    assert arrived - server.wrote_at < 0.02  # the proxy's relay, not the reader's 50 ms
    assert read - server.wrote_at >= LATE_S
