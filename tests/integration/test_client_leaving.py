"""People who leave mid-answer, against the simulator as a real process: the client closes the
stream at first text or at a time, the run gets its own outcome, and the connection is never
reused (the next run opens a new one and streams normally)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conversations import new_run, scenario

from wxo_load.core.leaving import ABANDON, CANCEL, INTERRUPT, LeaveAt
from wxo_load.core.records import ABANDONED, CANCELLED, INTERRUPTED, OK
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.client import ChatClient
from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(profile="default", port=0, seed=3) as process:
        yield process


@pytest.fixture()
def client(sim: SimulatorProcess) -> Iterator[ChatClient]:
    tokens, _ = resolve_auth(AuthSettings(), sim.url)
    chat = ChatClient(sim.url, scenario(stall_timeout_s=10, stream_timeout_s=30), tokens)
    yield chat
    chat.close()


def _thread(client: ChatClient) -> str:
    thread = client.create_thread("hello")
    assert thread.outcome == OK and thread.thread_id
    return thread.thread_id


def test_abandon_at_first_text_closes_the_stream_and_the_next_run_uses_a_new_connection(
    client: ChatClient,
) -> None:
    thread_id = _thread(client)
    opened = client.connection.connections_opened
    record = client.stream_run(
        new_run(thread_id, 0), "hi", leave=LeaveAt(ABANDON, True, 0.0)
    ).record
    assert record.outcome == ABANDONED
    assert record.first_text_ms is not None and record.done_ms is None
    assert record.left_at_ms == record.first_text_ms == record.total_ms
    assert "first text" in (record.error_detail or "")
    assert client.connection.raw_socket is None  # closed, never reused
    after = client.stream_run(new_run(thread_id, 1), "and then?").record
    assert after.outcome == OK and after.reconnects == 0
    assert client.connection.connections_opened == opened + 1


def test_abandon_after_a_time_shuts_the_waiting_read_at_that_time(client: ChatClient) -> None:
    thread_id = _thread(client)
    # the default profile's runs take 1.5 s or more: 0.3 s in, the answer is still coming
    record = client.stream_run(
        new_run(thread_id, 0), "hi", leave=LeaveAt(ABANDON, False, 0.3)
    ).record
    assert record.outcome == ABANDONED and record.done_ms is None
    assert record.left_at_ms == record.total_ms
    assert record.left_at_ms == pytest.approx(300, abs=60)
    assert client.connection.raw_socket is None
    assert client.stream_run(new_run(thread_id, 1), "again").record.outcome == OK


def test_a_person_who_would_leave_after_the_answer_ended_did_not_leave(
    client: ChatClient,
) -> None:
    thread_id = _thread(client)
    record = client.stream_run(
        new_run(thread_id, 0), "hi", leave=LeaveAt(ABANDON, False, 60.0)
    ).record
    assert record.outcome == OK and record.left_at_ms is None


def test_cancel_closes_the_stream_then_posts_the_runs_cancel(client: ChatClient) -> None:
    thread_id = _thread(client)
    record = client.stream_run(new_run(thread_id, 0), "hi", leave=LeaveAt(CANCEL, True, 0.0)).record
    assert record.outcome == CANCELLED and record.run_id is not None
    assert record.cancel_status is not None  # the simulator's answer to POST runs/cancel/{id}


def test_interrupt_ends_the_run_as_interrupted(client: ChatClient) -> None:
    thread_id = _thread(client)
    record = client.stream_run(
        new_run(thread_id, 0), "hi", leave=LeaveAt(INTERRUPT, False, 0.2)
    ).record
    assert record.outcome == INTERRUPTED and record.done_ms is None
    nxt = client.stream_run(new_run(thread_id, 1), "actually, another thing").record
    assert nxt.outcome == OK
