"""The lean HTTP/1.1 transport against a real server process that cuts its bytes on purpose."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from raw_http_server import BIG, BODY

from wxo_load.core.errors import ConnectionFailed, ProtocolError
from wxo_load.edge.transport import Connection


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve().parents[1] / "helpers" / "raw_http_server.py"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    yield int(line.split()[-1])
    proc.kill()
    proc.wait()


def head(path: str, body: bytes = b"") -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), len(body))


def chunks(conn: Connection, path: str) -> tuple[int, list[bytes]]:
    response = conn.request(head(path, b"{}"), b"{}")
    return response.status, list(response.iter_body())


def test_chunked_body_cut_anywhere_arrives_whole_with_extensions_and_trailers(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    status, parts = chunks(conn, "/chunked")
    assert status == 200 and b"".join(parts) == BODY
    assert len(parts) >= 2  # handed over as it arrived, not after the end
    status, parts = chunks(conn, "/chunked")  # the connection was reused
    assert b"".join(parts) == BODY and conn.connections_opened == 1


def test_content_length_body_and_keep_alive(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    for _ in range(3):
        status, parts = chunks(conn, "/length")
        assert status == 201 and b"".join(parts) == BODY
    assert conn.connections_opened == 1 and conn.requests_sent == 3


def test_read_to_close_body_then_a_new_connection(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    assert b"".join(chunks(conn, "/close")[1]) == BODY
    assert b"".join(chunks(conn, "/length")[1]) == BODY
    assert conn.connections_opened == 2


def test_gzip_body_is_decoded(port: int) -> None:
    assert b"".join(chunks(Connection("127.0.0.1", port), "/gzip")[1]) == BODY


def test_100_continue_is_skipped(port: int) -> None:
    status, parts = chunks(Connection("127.0.0.1", port), "/continue")
    assert (status, b"".join(parts)) == (200, b"ok")


def test_connection_close_header_is_honoured(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    chunks(conn, "/notkeepalive")
    chunks(conn, "/notkeepalive")
    assert conn.connections_opened == 2


def test_a_keep_alive_connection_closed_by_the_server_is_reopened_once(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    assert chunks(conn, "/once-then-close")[0] == 200
    import time

    time.sleep(0.2)  # the server has closed the idle connection
    assert chunks(conn, "/count") == (200, [b"1"])  # a fresh connection served it
    assert conn.connections_opened == 2


def test_body_broken_mid_chunk_raises_a_connection_error(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    response = conn.request(head("/broken"), b"")
    with pytest.raises(ConnectionError):
        list(response.iter_body())


def test_a_non_http_answer_is_a_protocol_error(port: int) -> None:
    with pytest.raises(ProtocolError):
        Connection("127.0.0.1", port).request(head("/garbage"), b"")


def test_nothing_listening_is_a_connect_failure() -> None:
    with pytest.raises(ConnectionFailed):
        Connection("127.0.0.1", 9, connect_timeout_s=2).request(head("/x"), b"")


def test_a_silent_server_times_out(port: int) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    conn = Connection("127.0.0.1", server.getsockname()[1], read_timeout_s=0.3)
    with pytest.raises(TimeoutError):
        conn.request(head("/x"), b"")
    server.close()


@pytest.mark.slow
def test_under_gevent_a_silent_server_times_out_through_the_stall_watchdog(port: int) -> None:
    """Under Locust the transport watches for stalls with one timer per request, not per read."""
    code = f"""
from gevent import monkey; monkey.patch_all()
import socket, time
from wxo_load.edge.transport import Connection
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
conn = Connection("127.0.0.1", server.getsockname()[1], read_timeout_s=0.3)
assert conn._watchdog is not None
t0 = time.perf_counter()
try:
    conn.request(b"POST /x HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n", b"")
except TimeoutError:
    elapsed = time.perf_counter() - t0
    assert 0.29 < elapsed < 1.0, elapsed
    ok = Connection("127.0.0.1", {port}, read_timeout_s=0.3)
    for _ in range(3):  # a healthy server across several requests: no false stall
        r = ok.request(
            b"POST /chunked HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n", b""
        )
        assert list(r.iter_body())
        time.sleep(0.4)  # idle longer than the limit between requests
    print("OK")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "OK", out.stderr[-2000:]


def test_under_gevent_reads_wait_for_data_first_and_recover_from_a_wake_up_for_nothing(
    port: int,
) -> None:
    """Under Locust a read that emptied the socket waits before the next one (no EAGAIN try per
    event); a body larger than a read's buffer is read on at once; and if the wait wakes with
    nothing to read, gevent's own recv (try, then wait) takes over."""
    code = f"""
from gevent import monkey; monkey.patch_all()
from wxo_load.edge.transport import Connection
conn = Connection("127.0.0.1", {port}, read_timeout_s=5)
def body(path):
    head = b" HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n"
    r = conn.request(b"POST " + path + head, b"")
    return b"".join(r.iter_body())
assert body(b"/chunked") == {BODY!r}
assert conn._parked is not None
assert body(b"/big") == b"x" * {len(BIG)}
conn._parked.wait = lambda watcher: None  # as if woken with nothing to read
assert body(b"/chunked") == {BODY!r} and body(b"/length") == {BODY!r}
assert conn.connections_opened == 1
print("OK")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "OK", out.stderr[-2000:]
