"""The runs-poll channel against the simulator as a real process: a run posted without
streaming, polled to `completed`, its answer read from the thread's messages."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conversations import new_run, scenario
from net import wait_until

from wxo_load.config.model import ChannelSettings
from wxo_load.core.records import OK, POLL_TIMEOUT
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.poll import RunsPollChannel
from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("poll") / "events.jsonl"


@pytest.fixture(scope="module")
def sim(log: Path) -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(
        profile="default", port=0, seed=5, extra_args=["--event-log", str(log)]
    ) as process:
        yield process


def _channel(sim: SimulatorProcess, interval_s: float, **request: object) -> RunsPollChannel:
    tokens, _ = resolve_auth(AuthSettings(), sim.url)
    base = scenario(**{"stall_timeout_s": 10, "stream_timeout_s": 30, **request})
    polled = dataclasses.replace(
        base, channel=ChannelSettings(name="runs-poll", poll_interval_s=interval_s)
    )
    return RunsPollChannel(sim.url, polled, tokens)


def test_a_conversation_polls_each_run_to_completion_and_reads_its_answer(
    sim: SimulatorProcess, log: Path
) -> None:
    channel = _channel(sim, 0.25)
    opened = channel.open_conversation("hello")
    assert opened.outcome == OK and opened.thread_id is None and opened.elapsed_ms is None
    first = channel.send(new_run(None, 0), "hello", keep_text=True)
    rec = first.record
    assert rec.outcome == OK, rec.error_detail
    assert rec.thread_id and rec.run_id
    assert rec.run_started_ms is None and rec.first_delta_ms is None and rec.first_text_ms is None
    assert rec.polls is not None and rec.polls >= 2  # the default profile's runs take > 1 s
    assert rec.poll_interval_ms == 250.0
    assert rec.completed_after_ms is not None and rec.done_ms is not None
    assert 0 < rec.done_ms - rec.completed_after_ms < 250 + 50  # seen within one interval
    assert rec.message_created_ms is not None and rec.message_created_ms >= rec.done_ms
    assert first.answer_text and rec.answer_chars == len(first.answer_text)
    assert rec.request_bytes is not None and rec.request_bytes > 0
    second_turn = channel.send(new_run(rec.thread_id, 1), "and then?")
    second = second_turn.record
    assert second.outcome == OK and second.thread_id == rec.thread_id
    assert channel.connection.connections_opened == 1  # every request on one kept-alive connection
    channel.close()
    # completion was seen after the simulator completed the run, within one poll interval
    # (docs/channels.md quotes the exact figures, bench/channels_timing.py measures them)
    completed = _completions(log, [first.record.run_id, second.run_id])
    for turn in (first, second_turn):
        seen_late_ms = (turn.t0 + turn.record.done_ms / 1000 - completed[turn.record.run_id]) * 1000
        assert 0 < seen_late_ms < 250 + 50


def _completions(log: Path, run_ids: list[str | None]) -> dict[str, float]:
    """run_id -> when the simulator completed it (its event log, perf_counter's clock)."""

    def read() -> dict[str, float]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line]
        return {x["run_id"]: x["t_mono"] for x in lines if x["event"] == "run.completed"}

    wait_until(lambda: all(r in read() for r in run_ids), timeout_s=5)  # flushed every 0.1 s
    return read()


def test_a_run_with_no_final_status_within_its_timeout_is_a_poll_timeout(
    sim: SimulatorProcess,
) -> None:
    channel = _channel(sim, 0.2, stream_timeout_s=0.5)
    channel.open_conversation("hello")
    rec = channel.send(new_run(None, 0), "hello").record
    assert rec.outcome == POLL_TIMEOUT, rec.error_detail
    assert rec.polls == 3 and rec.done_ms is None
    assert "stream_timeout_s=0.5" in (rec.error_detail or "")
    channel.close()


def test_an_async_agents_answer_is_waited_for_after_its_interim_message() -> None:
    with SimulatorProcess.start(profile="async", port=0, seed=2) as async_sim:
        channel = _channel(async_sim, 0.2)
        channel.open_conversation("hello")
        for turn in range(2):
            result = channel.send(new_run(channel._thread_id, turn), "hello", keep_text=True)
            rec = result.record
            assert rec.outcome == OK, rec.error_detail
            # the run completed with its interim message; the answer came later (~0.6 s)
            assert rec.message_created_ms is not None and rec.done_ms is not None
            assert rec.message_created_ms > rec.done_ms + 500
            assert result.answer_text and "answer follows shortly" not in result.answer_text
        channel.close()
