"""The chat completions channels (v1 `chat`, v2 `chat-v2`) against a real simulator process:
conversations, the stateless transcript, thread failures, each counted as its own class."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from conversations import new_run, scenario

from wxo_load.config.model import ChannelSettings
from wxo_load.core.records import (
    ERROR_FRAME,
    NO_COMPLETED,
    OK,
    THREAD_EXPIRED,
    THREAD_STORE_UNAVAILABLE,
    RunRecord,
)
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.channels import open_channel
from wxo_load.mock.process import SimulatorProcess


def converse(
    url: str, channel: ChannelSettings, turns: int, *, keep_text: bool = False
) -> list[RunRecord]:
    tokens, _ = resolve_auth(AuthSettings(), url)
    sc = dataclasses.replace(scenario(stall_timeout_s=5), channel=channel)
    client = open_channel(url, sc, tokens)
    thread = client.open_conversation("hello")
    assert thread.outcome == OK and thread.elapsed_ms is None
    records = []
    for turn in range(turns):
        record = new_run(None, turn)
        record.channel = client.name
        client.send(record, f"message {turn}", keep_text=keep_text)
        records.append(record)
    client.close()
    return records


def requests_logged(log: Path) -> list[dict]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [line for line in lines if line.get("event") == "run.request"]


def test_v1_streams_every_milestone_and_continues_its_thread(tmp_path: Path) -> None:
    with SimulatorProcess.start(profile="fast", port=0, seed=3) as sim:
        records = converse(sim.url, ChannelSettings(name="chat"), 3, keep_text=True)
        answers = converse(sim.url, ChannelSettings(name="chat", stream=False), 2)
    assert [r.outcome for r in records] == [OK] * 3, [r.error_detail for r in records]
    assert len({r.thread_id for r in records}) == 1 and records[0].thread_id
    for r in records:
        assert r.run_started_ms is None  # not observable on chat completions
        assert r.first_delta_ms is not None and r.first_text_ms is not None
        assert r.first_text_ms <= r.message_created_ms <= r.done_ms  # type: ignore[operator]
        assert r.answer_chars > 0 and r.request_bytes
    assert [r.outcome for r in answers] == [OK] * 2
    assert all(r.first_text_ms is None and r.done_ms == r.message_created_ms for r in answers)
    assert answers[0].thread_id == answers[1].thread_id


def test_v2_stateless_resends_the_growing_transcript_and_records_its_bytes(
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.jsonl"
    with SimulatorProcess.start(
        profile="tools", port=0, seed=3, extra_args=["--run-log", str(log)]
    ) as sim:
        records = converse(sim.url, ChannelSettings(name="chat-v2"), 5)
    assert [r.outcome for r in records] == [OK] * 5, [r.error_detail for r in records]
    sizes = [r.request_bytes or 0 for r in records]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    logged = requests_logged(log)
    assert [line["messages"] for line in logged][:1] == [1]
    counts = [line["messages"] for line in logged]
    assert counts == sorted(counts)
    assert counts[-1] > 9  # more than 4 x (question, answer) + 1: the tool steps are replayed
    assert [line["bytes"] for line in logged] == sizes
    assert len({r.thread_id for r in records}) == 1


def test_v2_stateful_sends_new_then_the_minted_thread(tmp_path: Path) -> None:
    with SimulatorProcess.start(profile="fast", port=0, seed=3) as sim:
        records = converse(sim.url, ChannelSettings(name="chat-v2", mode="stateful"), 3)
    assert [r.outcome for r in records] == [OK] * 3
    assert len({r.thread_id for r in records}) == 1 and records[0].thread_id != "new"


def test_v2_thread_failures_are_their_own_classes() -> None:
    stateful = ChannelSettings(name="chat-v2", mode="stateful")
    with SimulatorProcess.start(
        profile="fast", port=0, seed=3, extra_args=["--thread-store", "off"]
    ) as sim:
        no_store = converse(sim.url, stateful, 2)
    with SimulatorProcess.start(
        profile="fast", port=0, seed=3, extra_args=["--thread-expiry-turns", "1"]
    ) as sim:
        expired = converse(sim.url, stateful, 3)
    assert [r.outcome for r in no_store] == [THREAD_STORE_UNAVAILABLE] * 2
    assert [r.outcome for r in expired] == [OK, THREAD_EXPIRED, OK]  # then a new thread


def test_a_stream_that_ends_early_or_carries_an_error_frame_is_counted_by_its_class() -> None:
    faults = ["--fault", "truncated=0.3", "--fault", "drop_connection=0.3",
              "--fault", "error_event=0.3"]  # fmt: skip
    outcomes: dict[str, set[str]] = {}
    with SimulatorProcess.start(profile="fast", port=0, seed=5, extra_args=faults) as sim:
        for channel in (
            ChannelSettings(name="chat"),
            ChannelSettings(name="chat-v2", mode="stateful"),
        ):
            runs = converse(sim.url, channel, 12)
            outcomes[channel.name] = {r.outcome for r in runs}
    assert outcomes["chat"] <= {OK, "truncated", ERROR_FRAME} and ERROR_FRAME in outcomes["chat"]
    assert outcomes["chat-v2"] <= {OK, NO_COMPLETED, ERROR_FRAME, THREAD_EXPIRED}
    assert NO_COMPLETED in outcomes["chat-v2"] and "truncated" not in outcomes["chat-v2"]
