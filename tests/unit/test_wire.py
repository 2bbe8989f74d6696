"""The one codec (`wxo_load.core.wire`): every wire Struct survives msgpack unchanged, a book with
every part (personas, channels, answers, replay, steps) merges on the master as it was measured,
and a report the master cannot read says what to do, makes its worker lost, never crashes."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from tests.helpers.gates_support import summary_json
from tests.helpers.wire import via_wire
from wxo_load.core.answer_stats import AnswerBook, AnswersWire
from wxo_load.core.book import BookWire, MetricsBook
from wxo_load.core.errors import WireFormatError
from wxo_load.core.hdr import Timing, TimingWire
from wxo_load.core.records import CROSS_TALK, WRONG_ANSWER, ConversationRecord, RunRecord
from wxo_load.core.replay_stats import ReplayBook, ReplayWire
from wxo_load.core.wire import decode, encode
from wxo_load.locust_plugin import handoff
from wxo_load.locust_plugin.arrival import ArrivalsBegin, RateStep
from wxo_load.locust_plugin.handoff import REPORT_SCHEMA, WorkerReport
from wxo_load.locust_plugin.progress import CpuMeter
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.state import TestState
from wxo_load.output.files import ResultsWriter

META = {"started_at": 0.0, "ended_at": 60.0}


def _msgpack(value: object) -> Any:
    """As Locust ships a message (locust.rpc.protocol)."""
    return msgpack.unpackb(msgpack.packb(value, use_bin_type=True), raw=False)


def _run(i: int, **fields: object) -> RunRecord:
    base = 50.0 + (i * 37) % 700
    rec = RunRecord(
        1_700_000_000.0 + i, f"u{i % 4}", f"c{i}", i % 2, f"r{i}", thread_id=f"t{i}",
        run_id=f"run-{i}", run_started_ms=base / 4, first_text_ms=base, done_ms=base * 2,
        total_ms=base * 2, answer_chars=40, thinking_ms=base / 5,
        tools=[("lookup", base / 6, base / 9), ("broken", base / 3, None)],
        delta_gaps_ms=[1.0, 2.5, 0.5], stream_chars_per_s=900.0,
        persona=("hr", "it")[i % 2], channel=("runs-stream", "chat")[i % 3 == 0],
    )  # fmt: skip
    for key, value in fields.items():
        setattr(rec, key, value)
    return rec


def _rich_book(offset: int) -> MetricsBook:
    book = MetricsBook()
    for i in range(offset, offset + 60):
        book.record_run(_run(i, checked=True, good=i % 5 != 0))
    book.record_run(_run(offset + 61, checked=True, outcome=WRONG_ANSWER,
                         failed_checks=["contains"], good=False))  # fmt: skip
    book.record_run(_run(offset + 62, checked=True, outcome=CROSS_TALK, canary="WXO-A",
                         foreign_canary="WXO-B", good=False))  # fmt: skip
    for i in range(5):  # replayed turns
        book.record_run(_run(offset + 70 + i, source_id=f"conv-{i % 2}", recorded_agent_ms=800.0,
                             message_created_ms=900.0 + i))  # fmt: skip
    book.record_conversation(ConversationRecord(1.0, "u", "c", total_ms=900.0, persona="hr"))
    book.exclude("runs", "warmup")
    for i in range(50):
        book.record_client_lag_ms(0.1 * i)
    return book


def test_a_timing_crosses_msgpack_exactly() -> None:
    timing = Timing()
    for i in range(1, 2000):
        timing.record(i * 0.731)
    wire = decode(_msgpack(encode(timing.packed())), TimingWire, "a timing")
    back = Timing.unpack(wire)
    assert back.packed() == timing.packed()
    assert back.summary() == timing.summary()


def test_the_answer_and_replay_books_cross_msgpack_unchanged() -> None:
    book = _rich_book(0)
    answers = decode(_msgpack(encode(book.answers.packed())), AnswersWire, "answers")
    assert answers == book.answers.packed() and len(answers.leaks) == 1
    again = AnswerBook()
    again.merge_packed(answers)
    assert again.summary(60, 60.0) == book.answers.summary(60, 60.0)
    replay = decode(_msgpack(encode(book.replay.packed())), ReplayWire, "replay")
    assert replay == book.replay.packed()
    merged = ReplayBook()
    merged.merge_packed(replay)
    assert merged.summary() == book.replay.summary() and merged.summary()["replay"]
    assert ReplayBook().packed() is None


def test_a_book_with_every_part_round_trips_and_merges_exactly() -> None:
    books = [_rich_book(0), _rich_book(100), _rich_book(200)]
    wire = via_wire(books[0])
    assert set(wire.personas) == {"hr", "it"} and set(wire.channels) == {"runs-stream", "chat"}
    assert wire.replay is not None and wire.answers.checked == 62
    assert any(key.startswith("tool/") for key in wire.timings)
    assert MetricsBook.unpack(wire).packed() == books[0].packed()
    reference, master = MetricsBook(), MetricsBook()
    for book in books:
        reference.merge(book)
        master.merge_packed(via_wire(book))
    assert summary_json(master, meta=META) == summary_json(reference, meta=META)
    assert master.personas["hr"].packed() == reference.personas["hr"].packed()


def _worker_report(**changes: Any) -> dict[str, Any]:
    recorder = Recorder(SimpleNamespace(request=SimpleNamespace(fire=lambda **_: None)))
    recorder.test = TestState.for_process(local=False)
    recorder.local, recorder.worker_name = False, "worker-1"
    recorder.record_run(_run(1), [0.2])
    recorder.test.final_pending = True
    payload = _msgpack(handoff.take_report(recorder, CpuMeter(), None))
    assert isinstance(payload, dict)
    payload.update(changes)
    return payload


def test_a_worker_report_round_trips() -> None:
    report = handoff.read_report(_worker_report())
    assert isinstance(report, WorkerReport) and report.final and report.worker == "worker-1"
    assert report.schema == REPORT_SCHEMA and len(report.runs) == 1
    assert report.runs[0]["request_id"] == "r1" and isinstance(report.book, BookWire)


def test_a_misspelt_key_in_a_worker_report_fails_with_a_clear_message() -> None:
    payload = _worker_report()
    payload["finall"] = payload.pop("final")
    with pytest.raises(WireFormatError, match=r"unknown field `finall`.*same wxo-load version"):
        handoff.read_report(payload)
    payload = _worker_report()
    payload["book"]["runs_by_outcom"] = payload["book"].pop("runs_by_outcome")
    with pytest.raises(WireFormatError, match=r"unknown field `runs_by_outcom`.*\$\.book"):
        handoff.read_report(payload)


def test_a_report_from_another_version_names_both_versions() -> None:
    with pytest.raises(WireFormatError, match=r"wxo-load/report/v1, wxo-load 0\.0\.9.*reads "):
        handoff.read_report(_worker_report(schema="wxo-load/report/v1", version="0.0.9"))
    old = {"book": {"schema": "wxo-load/book/v1"}, "runs": [], "final": True}  # before #31
    with pytest.raises(WireFormatError, match="no schema.*Run the same wxo-load version"):
        handoff.read_report(old)


def test_an_unreadable_worker_is_lost_said_once_and_never_crashes_the_master(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master = TestState.for_process(local=False)
    master.writer = ResultsWriter(tmp_path / "results")
    damaged = _worker_report()
    next(iter(damaged["book"]["timings"].values()))[4] = "not a histogram"
    with caplog.at_level(logging.ERROR, logger="wxo_load"):
        handoff.absorb(master, None, "w-bad", damaged)
        handoff.absorb(master, None, "w-bad", _worker_report())  # later ones are not read
        handoff.absorb(master, None, "w-old", {"unexpected": 1})
        handoff.absorb(master, None, "w-ok", _worker_report())
    assert caplog.text.count("w-bad is counted as lost") == 1
    assert "damaged" in caplog.text and "w-old is counted as lost" in caplog.text
    assert master.total.runs_total == 1 and master.finals == {"w-ok"}
    master.finals_awaited = True
    assert handoff.lost_workers(master) == ["w-bad", "w-old"]
    assert handoff.workers_summary(master, master=True)["lost"] == 2


def test_an_empty_report_after_the_results_is_not_called_late(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Locust's worker reports once more when told to quit, after the master wrote the results;
    it carries nothing, and says nothing."""
    master = TestState.for_process(local=False)
    master.writer = ResultsWriter(tmp_path / "results")
    master.writer.close()
    empty = _worker_report(runs=[], conversations=[], book={})
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        handoff.absorb(master, None, "w0", empty)
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        handoff.absorb(master, None, "w0", _worker_report())
    assert "after the results were written; 1 runs ignored" in caplog.text


def test_a_worker_sends_nothing_after_its_final_report_until_the_next_test() -> None:
    """Why the master logged a report "after the results were written" with 0 runs: Locust's
    worker reports once more when the master tells it to quit, which the master does once the
    final reports came, before it writes the results. That report has no payload now."""
    recorder = Recorder(SimpleNamespace(request=SimpleNamespace(fire=lambda **_: None)))
    recorder.test, cpu = TestState.for_process(local=False), CpuMeter()
    first = handoff.take_report(recorder, cpu, None)
    assert isinstance(first, dict) and "final" not in first  # false: omitted
    recorder.test.final_pending = True  # test_stop: the next report is the last of this test
    last = handoff.take_report(recorder, cpu, None)
    assert isinstance(last, dict) and last["final"] is True
    assert handoff.take_report(recorder, cpu, None) is None  # the quit-time report: nothing
    recorder.test = TestState.for_process(local=False)  # the next test (Session.begin_test)
    assert handoff.take_report(recorder, cpu, None) is not None


def test_the_arrival_messages_are_read_as_typed_and_refuse_a_misspelt_key() -> None:
    """What `control.send_begin` / `send_rate` send, as a worker reads them after msgpack."""
    sent = {"epoch": 1.7e9, "segments": [[0, 0.0, 30.0, 2.5], [1, 30.0, None, 5]],
            "slot": 1, "processes": 2}  # fmt: skip
    begin = decode(_msgpack(sent), ArrivalsBegin, "begin")
    assert begin.segments == [(0, 0.0, 30.0, 2.5), (1, 30.0, None, 5.0)] and begin.slot == 1
    assert decode(_msgpack(encode(begin)), ArrivalsBegin, "begin") == begin
    step = decode({"segment": 2, "start_s": 60.0, "rate": 7.5}, RateStep, "rate")
    assert (step.segment, step.start_s, step.rate) == (2, 60.0, 7.5)
    with pytest.raises(WireFormatError, match="unknown field `rates`"):
        decode({"segment": 2, "start_s": 60.0, "rates": 7.5}, RateStep, "the master's rate")
