"""The transport reads tricky HTTP/1.1 answers as h11 (the oracle) does: status, headers, body
bytes and whether the connection may carry another request, with the answer cut in two at
every byte boundary, through a real loopback socket."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h11
import pytest
from conformance_server import CASES, CLOSES_AFTER, start

from wxo_load.edge.transport import Connection

Reading = tuple[int, dict[bytes, bytes], bytes, bool]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    number, server = start()
    yield number
    server.close()


def head(path: str) -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % path.encode()


def oracle(raw: bytes, closes: bool) -> Reading:
    conn = h11.Connection(h11.CLIENT)
    conn.send(
        h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")])
    )
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    status, headers, body, eof = 0, {}, b"", False
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            assert closes, "h11 wants more bytes"
            conn.receive_data(b"")
            closes, eof = False, True
        elif isinstance(event, h11.Response):
            status = event.status_code
            for name, value in event.headers:
                headers[name] = headers[name] + b", " + value if name in headers else value
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
    try:
        conn.start_next_cycle()  # h11's own verdict: may this connection carry another request?
    except h11.LocalProtocolError:
        return status, headers, body, False
    return (
        status,
        headers,
        body,
        not eof,
    )  # a body read to the close: h11 says ConnectionClosed next


def ours(conn: Connection, case: str, split: int) -> Reading:
    response = conn.request(head(f"/{case}/{split}"), b"")
    body = response.read()
    assert response.complete
    return response.status, dict(response.headers), body, conn.reusable


@pytest.mark.parametrize("case", sorted(c for c in CASES if c != "idle_408"))
def test_every_cut_of_the_answer_reads_as_h11_reads_it(port: int, case: str) -> None:
    raw = CASES[case]
    expected = oracle(raw, case in CLOSES_AFTER)
    conn = Connection("127.0.0.1", port)
    for split in range(1, len(raw) + 1):
        assert ours(conn, case, split) == expected, f"{case} cut at byte {split}: {raw[:split]!r}"
    reusable = expected[3]
    assert conn.connections_opened == (1 if reusable else len(raw))


def test_bytes_written_on_an_idle_connection_are_never_the_next_answer(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    assert ours(conn, "idle_408", 999)[0] == 200
    time.sleep(0.2)  # the server writes a 408 on the idle connection and closes it
    assert ours(conn, "zero_chunks", 999)[:3] == (200, {b"transfer-encoding": b"chunked"}, b"")
    assert (conn.stale_closed, conn.connections_opened, conn.retries) == (1, 2, 0)


def test_a_request_lost_to_an_idle_close_is_sent_again_once_and_counted(port: int) -> None:
    conn = Connection("127.0.0.1", port)
    ours(conn, "prime", 0)
    assert ours(conn, "zero_chunks", 999)[0] == 200  # the first try got no answer at all
    assert (conn.retries, conn.connections_opened) == (1, 2)


@pytest.mark.slow
def test_under_gevent_a_retried_request_has_the_whole_stall_watchdog_again(port: int) -> None:
    """The retry after an idle close used to run with no stall limit at all."""
    code = f"""
from gevent import monkey; monkey.patch_all()
import time
from wxo_load.edge.transport import Connection
conn = Connection("127.0.0.1", {port}, read_timeout_s=0.4)
head = lambda p: b"POST %s HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n" % p
conn.request(head(b"/prime/0"), b"").read()
t0 = time.perf_counter()
try:
    conn.request(head(b"/stall/3"), b"")
except TimeoutError:
    elapsed = time.perf_counter() - t0
    assert conn.retries == 1 and 0.35 < elapsed < 2.0, (conn.retries, elapsed)
    print("OK")
"""
    env_path = str(Path(__file__).resolve().parents[1] / "helpers")
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r})\n" + code],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.strip() == "OK", out.stderr[-2000:]
