"""The client's HTTP edge against real servers: every framing, idle close by the server, IPv6
hosts, and failures that must end as exactly one error class."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from conversations import new_run, scenario

from wxo_load.core.records import OK, PROTOCOL_ERROR, RunRecord
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.client import ChatClient
from wxo_load.edge.transport import host_header
from wxo_load.mock.framing import FRAMINGS
from wxo_load.mock.process import SimulatorProcess


def converse(url: str, turns: int, pause_s: float = 0.0) -> tuple[ChatClient, list[RunRecord]]:
    tokens, _ = resolve_auth(AuthSettings(), url)
    client = ChatClient(url, scenario(stall_timeout_s=5), tokens)
    thread = client.create_thread("hello")
    assert thread.outcome == OK, thread
    records = []
    for turn in range(turns):
        if pause_s:
            time.sleep(pause_s)
        records.append(client.stream_run(new_run(thread.thread_id, turn), "hello").record)
    return client, records


@pytest.mark.parametrize("framing", FRAMINGS)
def test_every_framing_reads_the_same_runs_over_one_connection(framing: str) -> None:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=3, extra_args=["--framing", framing]
    ) as sim:
        client, records = converse(sim.url, 3)
    assert [r.outcome for r in records] == [OK] * 3
    assert all(r.events >= 14 and r.done_ms is not None for r in records)
    assert client.connection.connections_opened == 1


@pytest.mark.slow
def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_request() -> None:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=3, extra_args=["--keep-alive-timeout", "0.3"]
    ) as sim:
        client, records = converse(sim.url, 2, pause_s=0.8)
    conn = client.connection
    assert [r.outcome for r in records] == [OK, OK]
    assert (conn.connections_opened, conn.stale_closed) == (3, 2)  # seen closed before sending
    assert [r.reconnects for r in records] == [0, 0]  # so no request had to be sent twice


def test_ipv6_host_is_bracketed_in_host_header_and_connects() -> None:
    assert host_header("::1", 4321, 80) == "[::1]:4321" and host_header("::1", 443, 443) == "[::1]"
    assert host_header("example.com", 80, 80) == "example.com"
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        sim = SimulatorProcess.start(profile="fast", port=0, bind="::1", seed=3)
    except Exception as exc:  # noqa: BLE001 - no ::1 here
        pytest.skip(f"cannot listen on ::1: {exc}")
    with sim:
        _, records = converse(f"http://[::1]:{sim.port}", 1)
    assert records[0].outcome == OK


def _answer_once(raw: bytes) -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(raw)
            time.sleep(0.2)
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_an_undecodable_thread_answer_is_a_protocol_error_not_a_stopped_conversation() -> None:
    port = _answer_once(
        b"HTTP/1.1 201 Created\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot-gzip!"
    )

    class Static:
        def token(self) -> str:
            return "t"

        def refresh(self, stale: str) -> str:
            return "t"

    client = ChatClient(f"http://127.0.0.1:{port}", scenario(), Static())
    result = client.create_thread("hello")
    assert result.outcome == PROTOCOL_ERROR and "decoded" in (result.detail or "")
