"""The async channel against the simulator as a real process: runs posted over HTTP, their
answers read from one Socket.IO socket per person (the simulator's `async` profile)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from conversations import new_run, scenario

from wxo_load.config.model import ChannelSettings
from wxo_load.core.records import OK, SOCKET_CLOSED, SOCKET_CONNECT_ERROR
from wxo_load.edge.async_channel import AsyncChannel, socket_query
from wxo_load.edge.auth.jwt import jwt_claims
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.engineio import FrameReader, frame
from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(profile="async", port=0, seed=9) as process:
        yield process


def _channel(sim: SimulatorProcess, socket_url: str | None = None) -> AsyncChannel:
    tokens, _ = resolve_auth(AuthSettings(), sim.url)
    base = scenario(stall_timeout_s=10, stream_timeout_s=30, connect_timeout_s=2)
    settings = ChannelSettings(name="async", socket_url=socket_url)
    return AsyncChannel(sim.url, dataclasses.replace(base, channel=settings), tokens)


def test_two_people_each_get_their_own_answers_on_one_socket_each(sim: SimulatorProcess) -> None:
    # the same credential: both sockets get every event (per user and tenant, not per run)
    alice, bob = _channel(sim), _channel(sim)
    for person in (alice, bob):
        person.open_conversation("hello")
    thread = {id(alice): None, id(bob): None}
    for turn in range(2):
        for person in (alice, bob):
            record = new_run(thread[id(person)], turn)
            result = person.send(record, "hello", keep_text=True)
            rec = result.record
            assert rec.outcome == OK, rec.error_detail
            assert None not in (rec.run_started_ms, rec.first_delta_ms, rec.first_text_ms)
            assert rec.run_started_ms <= rec.first_text_ms <= rec.message_created_ms <= rec.done_ms
            assert result.answer_text and rec.answer_chars == len(result.answer_text)
            assert rec.request_bytes and rec.thread_id and rec.run_id
            assert result.client_lags_ms  # the events' ids carry the server's clock
            thread[id(person)] = rec.thread_id
    assert thread[id(alice)] != thread[id(bob)]
    assert alice._sock_conn.connections_opened == 1  # one socket kept for the whole test
    alice.close()
    bob.close()


def test_no_socket_server_is_a_socket_connect_error_counted_on_the_run(
    sim: SimulatorProcess,
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    channel = _channel(sim, socket_url=f"ws://127.0.0.1:{port}")
    channel.open_conversation("hello")
    rec = channel.send(new_run(None, 0), "hello").record
    assert rec.outcome == SOCKET_CONNECT_ERROR and "cannot connect" in (rec.error_detail or "")
    channel.close()


def test_the_socket_names_the_tokens_user_and_tenant() -> None:
    token = "x." + "eyJzdWIiOiJ1LTEiLCJ3b1RlbmFudElkIjoidC0xIn0" + ".y"  # {"sub","woTenantId"}
    assert jwt_claims(token) == {"sub": "u-1", "woTenantId": "t-1"}
    assert socket_query(token) == "userId=u-1&tenantId=t-1&EIO=4&transport=websocket"


def test_frames_round_trip_through_any_split() -> None:
    payloads = [b"2", b"42" + b"x" * 300, b"42" + b"y" * 70_000]
    wire = b"".join(_server_frame(p) for p in payloads)
    for size in (1, 7, 1000, len(wire)):
        reader = FrameReader()
        got = [m for i in range(0, len(wire), size) for m in reader.feed(wire[i : i + size])]
        assert got == [(1, p) for p in payloads]
    assert frame(b"40")[:2] == b"\x81\x82"  # FIN text, masked, 2 bytes


def _server_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def test_a_socket_that_closes_before_the_answer_is_socket_closed(sim: SimulatorProcess) -> None:
    """A Socket.IO server that connects the person, then closes 0.3 s later (mid-answer: the
    simulator's async answers take about 0.6 s): the run is `socket_closed`."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
                + _server_frame(b'0{"sid":"s","upgrades":[],"pingInterval":25000}')
            )
            conn.recv(4096)  # the client's 40
            conn.sendall(_server_frame(b'40{"sid":"s-io"}'))
            time.sleep(0.3)  # the run is posted and its answer awaited meanwhile

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    channel = _channel(sim, socket_url=f"ws://127.0.0.1:{port}")
    channel.open_conversation("hello")
    rec = channel.send(new_run(None, 0), "hello").record
    server.join(timeout=10)
    listener.close()
    assert rec.outcome == SOCKET_CLOSED, rec.error_detail
    assert rec.run_id is not None and rec.done_ms is None
    channel.close()
