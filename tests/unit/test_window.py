"""The measured window (warm-up and cool-down): classification, the book that leaves excluded
records out of every figure (also across the worker -> master wire), summary.json's `window`,
the Prometheus histograms, the scenario key and options, the report's shaded spans.
No locust import (the pure units and the plugin's Locust-free parts only)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from tests.helpers.gates_support import summary_json, typed
from tests.helpers.wire import via_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ConfigError, WireFormatError
from wxo_load.core.plan import ARRIVAL, STAGES, Arrival, LoadPlan, RateStage, Stage
from wxo_load.core.records import OK, ConversationRecord, RunRecord
from wxo_load.core.window import COOLDOWN, MEASURED, WARMUP, MeasuredWindow, window_text
from wxo_load.core.wire import decode, encode
from wxo_load.locust_plugin import window as plugin_window
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.session import Session
from wxo_load.locust_plugin.state import TestState
from wxo_load.output.prometheus import exposition
from wxo_load.output.report.html import build_report_html

T0 = 1_700_000_000.0
WINDOW = MeasuredWindow(T0, warmup_s=5.0, cooldown_s=3.0, planned_end_unix=T0 + 30.0)


def _run(start_s: float, total_ms: float, done_ms: float | None = None) -> RunRecord:
    return RunRecord(
        started_at_unix=T0 + start_s, user_id="u", conversation_id=f"c{start_s}", turn_index=0,
        request_id=f"r{start_s}", outcome=OK, first_text_ms=total_ms / 2,
        done_ms=done_ms if done_ms is not None else total_ms, total_ms=total_ms,
    )  # fmt: skip


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_s", "end_s", "expected"),
    [
        (0.0, 1.0, WARMUP),  # started and ended in the warm-up
        (4.99, 12.0, WARMUP),  # started in the warm-up, ended well inside: its start decides
        (5.0, 6.0, MEASURED),  # starts exactly at the boundary: measured
        (10.0, 27.0, MEASURED),  # ends exactly at the cool-down boundary: measured
        (20.0, 27.01, COOLDOWN),  # ends after end - cooldown
        (26.0, 40.0, COOLDOWN),  # ended after the planned end (stopped, or drained)
        (2.0, 29.0, WARMUP),  # started in the warm-up and ended in the cool-down
    ],
)
def test_a_record_is_classified_by_its_start_and_its_end(
    start_s: float, end_s: float, expected: str
) -> None:
    assert WINDOW.classify(T0 + start_s, T0 + end_s) == expected


def test_no_cooldown_applies_without_a_planned_end_and_zero_cuts_nothing() -> None:
    open_ended = MeasuredWindow(T0, warmup_s=0.0, cooldown_s=10.0, planned_end_unix=None)
    assert not open_ended.cooldown_applies
    assert open_ended.classify(T0, T0 + 3600) == MEASURED
    nothing = MeasuredWindow(T0, 0.0, 0.0, T0 + 10)
    assert nothing.classify(T0 - 1, T0 + 100) == MEASURED  # the defaults change nothing
    assert MeasuredWindow().classify(0.0, 1e12) == MEASURED  # no test: nothing excluded


def test_the_window_crosses_msgpack_unchanged() -> None:
    wire = msgpack.unpackb(msgpack.packb(encode(WINDOW)), raw=False)
    assert decode(wire, MeasuredWindow, "the window") == WINDOW
    with pytest.raises(WireFormatError, match=r"the window could not be read.*\$\.warmup_s"):
        decode({**wire, "warmup_s": "ten"}, MeasuredWindow, "the window")


# -- the book, the recorder, the wire, the summary, Prometheus ---------------------------------


def _recorder(window: MeasuredWindow, fired: list[Any]) -> Recorder:
    events = SimpleNamespace(request=SimpleNamespace(fire=lambda **kw: fired.append(kw)))
    recorder = Recorder(events)
    recorder.test = TestState.for_process(local=False)
    recorder.test.measured = window
    recorder.local = False
    return recorder


def _three_runs(recorder: Recorder) -> None:
    recorder.record_run(_run(1.0, 9000.0), [50.0])  # warm-up, slow, with a large client lag
    recorder.record_run(_run(10.0, 2000.0), [0.5])  # measured
    recorder.record_run(_run(25.0, 4000.0), [0.5])  # ends at 29 s: cool-down
    recorder.record_conversation(
        ConversationRecord(T0 + 1.0, "u", "c1", runs=1, total_ms=9000.0)
    )  # warm-up
    recorder.record_conversation(ConversationRecord(T0 + 10.0, "u", "c2", runs=1, total_ms=2000.0))


def test_excluded_runs_are_written_marked_but_in_no_figure_row_or_histogram() -> None:
    fired: list[Any] = []
    worker = _recorder(WINDOW, fired)
    _three_runs(worker)
    assert [r["window"] for r in worker.pending_runs] == [WARMUP, MEASURED, COOLDOWN]
    assert [c["window"] for c in worker.pending_conversations] == [WARMUP, MEASURED]
    assert len(fired) == 1 and fired[0]["response_time"] == 2000.0  # one Locust row: measured
    # shipped to the master as a worker report does, and merged there
    master = MetricsBook()
    master.merge_packed(via_wire(worker.test.book.take()))
    assert master.runs_total == 1 and master.conversations_total == 1
    done = master.metric_summary("done")
    assert done["count"] == 1 and done["max"] == done["min"] == 2000.0
    assert master.metric_summary("client_lag")["max"] == 0.5  # the warm-up lag is left out too
    assert master.excluded == {
        "runs": {WARMUP: 1, COOLDOWN: 1},
        "conversations": {WARMUP: 1},
    }
    text = exposition(master, users=1, trustworthy=True, running=True)
    assert 'wxo_load_timing_seconds_count{metric="done"} 1' in text
    assert 'wxo_load_timing_seconds_bucket{metric="done",le="5"} 1' in text
    assert 'wxo_load_runs_total{outcome="ok"} 1' in text
    assert 'wxo_load_runs_excluded_total{window="warmup"} 1' in text
    assert 'wxo_load_runs_excluded_total{window="cooldown"} 1' in text


def test_the_summary_says_its_window_and_what_it_left_out() -> None:
    worker = _recorder(WINDOW, [])
    _three_runs(worker)
    meta = {"started_at": T0, "ended_at": T0 + 31.0, "window": WINDOW}
    summary = summary_json(worker.test.book, meta=meta)
    window = summary["window"]
    assert (window["start_unix"], window["end_unix"]) == (T0 + 5.0, T0 + 27.0)
    assert (window["warmup_s"], window["cooldown_s"], window["duration_s"]) == (5.0, 3.0, 22.0)
    assert window["excluded"] == {
        "runs": {WARMUP: 1, COOLDOWN: 1},
        "conversations": {WARMUP: 1, COOLDOWN: 0},
    }
    assert summary["runs"]["total"] == 1 and summary["metrics"]["done"]["max"] == 2000.0
    assert summary["throughput"]["runs_per_s"] == round(1 / 22.0, 3)  # per measured second
    assert summary["duration_s"] == 31.0  # the test's own length is unchanged
    assert "warm-up 5 s (1 runs, 1 conversations)" in window_text(typed(summary).window)


def test_a_test_stopped_early_measures_up_to_its_end_and_a_plain_one_everything() -> None:
    early = WINDOW.summary(T0, T0 + 12.0, {"runs": {}})
    assert (early["start_unix"], early["end_unix"], early["duration_s"]) == (T0 + 5, T0 + 12, 7.0)
    inside_warmup = WINDOW.summary(T0, T0 + 3.0, {})
    assert inside_warmup["duration_s"] == 0.0
    plain = summary_json(MetricsBook(), meta={"started_at": T0, "ended_at": T0 + 10.0})
    assert plain["window"]["start_unix"] == T0 and plain["window"]["duration_s"] == 10.0
    assert window_text(typed(plain).window) == ""


# -- the scenario key, the options, the planned end ------------------------------------------

SCENARIO = """\
name: w
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
host: http://localhost:4321/
prompts: {messages: [hi]}
load: {users: 2, run_time: 20s, warmup: 5s, cooldown: 2s}
"""


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    return path


def test_the_scenario_reads_warmup_and_cooldown(tmp_path: Path) -> None:
    load = load_scenario(_scenario(tmp_path, SCENARIO)).load
    assert (load.warmup_s, load.cooldown_s) == (5.0, 2.0)


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ("{warmup: soon}", r"key `load.warmup`: expected a duration"),
        ("{cooldown: -3}", r"key `load.cooldown`: must be at least 0"),
        ("{run_time: 10s, warmup: 8s, cooldown: 2s}", r"leave nothing of the 10 s test"),
        ("{stages: [{duration: 6s, users: 1}], warmup: 6s}", r"leave nothing of the 6 s test"),
    ],
)
def test_a_bad_window_names_the_file_and_key(tmp_path: Path, load: str, message: str) -> None:
    text = SCENARIO.replace("{users: 2, run_time: 20s, warmup: 5s, cooldown: 2s}", load)
    with pytest.raises(ConfigError, match=message):
        load_scenario(_scenario(tmp_path, text))


def _session(tmp_path: Path, **options: Any) -> tuple[Session, Any]:
    scenario = load_scenario(_scenario(tmp_path, SCENARIO))
    parsed = SimpleNamespace(run_time=20, warmup=None, cooldown=None, **options)
    return Session(SimpleNamespace(parsed_options=parsed)), scenario


def test_options_win_over_the_scenario_and_are_checked(tmp_path: Path) -> None:
    session, scenario = _session(tmp_path)
    assert session.window_s(scenario) == (5.0, 2.0)
    session.options.warmup, session.options.cooldown = "1m", "0"
    session.options.run_time = 120
    assert session.window_s(scenario) == (60.0, 0.0)
    session.options.warmup = "later"
    with pytest.raises(ConfigError, match=r"`--warmup`: expected a duration"):
        session.window_s(scenario)
    session.options.warmup, session.options.cooldown = "15s", None  # the scenario's 2 s
    session.options.run_time = 16  # -t 16 s: 15 + 2 >= 16
    with pytest.raises(ConfigError, match="leave nothing of the 16 s test"):
        session.window_s(scenario)


def _harness(
    plan: LoadPlan | None, run_time: int | None, t0: float | None, epoch: float | None
) -> Any:
    scenario = SimpleNamespace(load=SimpleNamespace(warmup_s=5.0, cooldown_s=2.0, plan=plan))
    options = SimpleNamespace(run_time=run_time, warmup=None, cooldown=None)
    session = Session(SimpleNamespace(parsed_options=options))
    load = SimpleNamespace(plan=plan, t0=t0, epoch=epoch) if plan else None
    return SimpleNamespace(
        scenario=scenario, session=session, options=options, load=load,
        test=SimpleNamespace(started_at=T0),
    )  # fmt: skip


def _begin(h: Any) -> MeasuredWindow:
    return plugin_window.begin(h.options, h.test.started_at, h.session.window_s(h.scenario), h.load)


def test_the_master_sets_the_window_from_run_time_or_plan_and_sends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stages = LoadPlan(STAGES, stages=(Stage("s", 60.0, 2),))
    h = _harness(stages, 40, T0 - 0.01, None)  # -t 40s ends before the 60 s of stages
    window = _begin(h)
    assert window == MeasuredWindow(T0, 5.0, 2.0, T0 + 40.0)
    assert plugin_window.from_master(h.options) == window  # what a worker reads at test_start
    arrival = LoadPlan(ARRIVAL, arrival=Arrival((RateStage("r", 30.0, 2.0),)))
    window = _begin(_harness(arrival, None, T0, T0 + 1.0))  # schedule starts at +1
    assert window == MeasuredWindow(T0 + 1.0, 5.0, 2.0, T0 + 31.0)
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        open_ended = _begin(_harness(None, None, None, None))  # web UI, no run time
    assert open_ended.planned_end_unix is None and not open_ended.cooldown_applies
    assert "cool-down 2 s ignored: this test has no planned end" in caplog.text


# -- the report ------------------------------------------------------------------------------


def test_the_report_shades_the_excluded_spans_and_charts_only_measured_runs() -> None:
    worker = _recorder(WINDOW, [])
    _three_runs(worker)
    meta = {"started_at": T0, "ended_at": T0 + 31.0, "window": WINDOW}
    summary = typed(summary_json(worker.test.book, meta=meta))
    html = build_report_html(summary, worker.pending_runs, worker.pending_conversations)
    assert html.count("<title>warm-up: not measured</title>") >= 3  # every chart over time
    assert "<title>cool-down: not measured</title>" in html
    assert "9,000" not in html  # the slow warm-up run is in no chart, table or waterfall
    assert "Measured window 22 s" in html
