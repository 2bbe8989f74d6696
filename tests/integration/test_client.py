"""The chat client against the simulator as a real server process: what it sends, what it
measures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from conversations import new_run, scenario

from wxo_load.core.errors import AuthError
from wxo_load.core.records import OK
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.client import ChatClient
from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def replay() -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(profile="replay", port=0, seed=1) as sim:
        yield sim


@pytest.mark.slow
def test_replayed_conversation_measures_the_captured_timings(replay: SimulatorProcess) -> None:
    tokens, _ = resolve_auth(AuthSettings(), replay.url)
    client = ChatClient(replay.url, scenario(), tokens)
    thread = client.create_thread("hello")
    assert thread.outcome == OK and thread.thread_id
    first = client.stream_run(new_run(thread.thread_id, 0), "hello").record
    second = client.stream_run(
        new_run(thread.thread_id, 1), "what context variables do you accept?"
    ).record
    assert first.outcome == second.outcome == OK
    # capture 1: text in its only delta, 1.81 s after run.started
    assert (first.events, first.deltas) == (15, 1)
    assert first.first_text_ms == first.first_delta_ms
    assert first.first_delta_ms - first.run_started_ms == pytest.approx(1814, abs=60)
    # capture 2: both deltas empty, the text arrives with message.created 5.76 s after run.started
    assert (second.events, second.deltas) == (22, 2)
    assert second.first_text_ms == second.message_created_ms
    assert second.first_text_ms - second.run_started_ms == pytest.approx(5764, abs=60)
    assert (
        client.connection.connections_opened == 1
    )  # one keep-alive connection, like a browser tab
    client.close()


def test_a_token_that_cannot_be_refreshed_is_an_http_401_run_not_a_dead_user(
    replay: SimulatorProcess,
) -> None:
    class Revoked:
        def token(self) -> str:
            return "not-a-valid-token"

        def refresh(self, stale: str) -> str:
            raise AuthError(
                "the token was refused and cannot be renewed: set WXO_TOKEN to a fresh one"
            )

    client = ChatClient(replay.url, scenario(), Revoked())
    assert client.create_thread("hi").outcome == "http_401"
    record = client.stream_run(new_run(str(uuid.uuid4()), 0), "hi").record
    assert record.outcome == "http_401" and "cannot be renewed" in (record.error_detail or "")


def test_a_401_before_streaming_is_retried_once_with_a_refreshed_token(
    replay: SimulatorProcess,
) -> None:
    good, _ = resolve_auth(AuthSettings(), replay.url)

    class StaleFirst:
        refreshed = 0

        def token(self) -> str:
            return "stale" if not self.refreshed else good.token()

        def refresh(self, stale: str) -> str:
            self.refreshed += 1
            return good.token()

    tokens = StaleFirst()
    client = ChatClient(replay.url, scenario(), tokens)
    thread = client.create_thread("hello")
    assert thread.outcome == OK and tokens.refreshed == 1


@pytest.mark.slow
def test_stall_limit_ends_a_silent_run_as_timeout() -> None:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=1, extra_args=["--fault", "stall=1.0"]
    ) as sim:
        tokens, _ = resolve_auth(AuthSettings(), sim.url)
        client = ChatClient(sim.url, scenario(stall_timeout_s=0.5), tokens)
        thread = client.create_thread("hello")
        record = client.stream_run(new_run(thread.thread_id, 0), "hello").record
    assert record.outcome == "timeout" and "stall_timeout_s" in (record.error_detail or "")
    assert record.total_ms is not None and 450 < record.total_ms < 5000
