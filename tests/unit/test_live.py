"""The live view's pure parts: Prometheus text from a MetricsBook, and the tab's tables."""

from __future__ import annotations

import re

from tests.helpers.gates_support import summary_json, typed
from wxo_load.core import fmt
from wxo_load.core.book import MetricsBook
from wxo_load.core.hdr import Timing
from wxo_load.core.interval import IntervalTimings
from wxo_load.core.records import RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_sections import TimelinePoint
from wxo_load.gates.evaluate import Verdict
from wxo_load.output import live, prometheus


def run(i: int, outcome: str = "ok", turn: int = 0) -> RunRecord:
    record = RunRecord(
        started_at_unix=1000.0 + i,
        user_id="u",
        conversation_id="c",
        turn_index=turn,
        request_id=f"r{i}",
        outcome=outcome,
    )
    record.run_started_ms, record.first_text_ms, record.total_ms = (
        40.0 + i,
        300.0 + 10 * i,
        900.0 + i,
    )
    record.done_ms = record.total_ms if outcome == "ok" else None
    return record


def book_of(n_ok: int, n_503: int) -> MetricsBook:
    book = MetricsBook()
    for i in range(n_ok):
        book.record_run(run(i, turn=i % 2))
    for i in range(n_503):
        book.record_run(run(100 + i, "http_503"))
    for lag in (0.2, 0.7, 3.0):
        book.record_client_lag_ms(lag)
    return book


def samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_prometheus_counters_and_histograms_match_the_book() -> None:
    book = book_of(30, 4)
    text = prometheus.exposition(
        book, users=7, trustworthy=False, running=True, gates=[('done.p95 < 1s "x"', True)]
    )
    values = samples(text)
    assert values['wxo_load_runs_total{outcome="ok"}'] == 30
    assert values['wxo_load_runs_total{outcome="http_503"}'] == 4
    assert values['wxo_load_run_errors_total{error_class="http_503"}'] == 4
    assert values['wxo_load_timing_seconds_count{metric="first_text"}'] == 34
    assert values['wxo_load_timing_seconds_bucket{metric="first_text",le="+Inf"}'] == 34
    assert values['wxo_load_timing_seconds_bucket{metric="first_text",le="0.5"}'] == sum(
        1 for i in [*range(30), *range(100, 104)] if 300 + 10 * i <= 500
    )
    assert values['wxo_load_timing_seconds_sum{metric="done"}'] == round(
        sum(900.0 + i for i in range(30)) / 1000, 6
    )
    assert values["wxo_load_client_lag_seconds_count"] == 3
    assert values['wxo_load_client_lag_seconds_bucket{le="0.001"}'] == 2
    assert values["wxo_load_users"] == 7 and values["wxo_load_trustworthy"] == 0
    assert values['wxo_load_gate_passing{gate="done.p95 < 1s \\"x\\""}'] == 1
    # every histogram has the same buckets, cumulative and ending in +Inf
    for family in re.findall(
        r'^wxo_load_timing_seconds_bucket\{metric="(\w+)",le="\+Inf"\}', text, re.M
    ):
        buckets = re.findall(
            rf'^wxo_load_timing_seconds_bucket\{{metric="{family}",le="([^"]+)"\}} (\d+)',
            text,
            re.M,
        )
        assert [b for b, _ in buckets] == [
            *(prometheus._num(b) for b in prometheus.BUCKETS_S),
            "+Inf",
        ]
        counts = [int(c) for _, c in buckets]
        assert counts == sorted(counts)


def test_counts_at_or_below_use_the_histogram_buckets_exactly_at_bounds() -> None:
    timing = Timing()
    for value in (0.5, 1.0, 2.0, 9.99, 10.0, 10.02, 100.0, 5000.0):
        timing.record(value)
    assert timing.counts_at_or_below_ms([1.0, 10.0, 100.0, 1000.0, 1e9]) == [2, 5, 7, 7, 8]
    assert Timing().counts_at_or_below_ms([1.0]) == [0]


def test_the_tab_shows_the_summary_figures_exactly() -> None:
    book = book_of(30, 4)
    meta = SummaryMeta(started_at=1000.0, ended_at=1010.0, timeline=[
        TimelinePoint(t_s=0.0, runs=0, errors=0, users=0),
        TimelinePoint(t_s=5.0, runs=20, errors=2, users=5, first_text_p95=555.5),
        TimelinePoint(t_s=10.0, runs=34, errors=4, users=5),
    ], load_generator=LoadGeneratorExtras(client_lag_p99_limit_ms=1.0))  # fmt: skip
    summary = build_summary(book, meta=meta)
    verdict = Verdict("error_rate < 5%", "error_rate", "< 5%", "11.8%", False, "11.8% is not < 5%")
    tables = {
        t["key"]: t["data"]
        for t in live.extended_stats(
            summary, [verdict], state="running", abort_gates=["error_rate < 5%"]
        )
    }
    overview = {row["figure"]: row for row in tables[live.OVERVIEW]}
    assert overview["Runs per second"]["value"] == "3.40/s"
    assert overview["Runs per second: http_503"]["value"] == "0.40/s"
    assert overview["Runs per second, last 10 s"]["value"] == "3.40/s"
    assert (
        overview["Gate: error_rate < 5%"]["value"] == "FAIL"
        and "abort gate, armed" in overview["Gate: error_rate < 5%"]["detail"]
    )
    assert any(k.startswith("WARNING: results limited by the load generator") for k in overview)
    follow_up_p95 = summary.by_turn["follow_up"].metrics["first_text"].p95
    assert overview["Follow-up turns"]["value"] == f"first text p95 {fmt.ms(follow_up_p95)}"
    assert overview["First turns"]["detail"].endswith("19 runs, 4 failed")
    timing = {(r["metric"], r["turn"]): r for r in tables[live.TIMINGS]}
    assert timing[("first_text", "all")]["p95"] == round(summary.metrics["first_text"].p95, 1)
    assert timing[("first_text", "follow-up")]["count"] == 15
    assert tables[live.OVER_TIME][1] == {
        "time": 5.0,
        "users": 5,
        "rps": 4.0,
        "eps": 0.4,
        "ftfifty": "",
        "ftninetyfive": 555.5,
        "doneninetyfive": "",
    }


def test_stages_and_steps_appear_whatever_their_fields() -> None:
    base = summary_json(MetricsBook(), meta=SummaryMeta(started_at=0.0, ended_at=10.0))
    segment = {"index": 1, "kind": "stage", "load": {"users": 10}, "started_at": None,
               "duration_s": 3.14159, "measured_s": None, "runs": base["runs"],
               "conversations": base["conversations"], "throughput": base["throughput"],
               "metrics": {}}  # fmt: skip
    summary = typed({**base, "stages": [{**segment, "name": "ramp"}],
                     "search_steps": [{**segment, "name": "", "verdict": "pass"}]})  # fmt: skip
    rows = live.stage_rows(summary)
    assert rows == [
        {"figure": "Stage ramp", "value": "", "detail": "index 1, kind stage, duration_s 3.142"},
        {"figure": "Step 1", "value": "pass", "detail": "index 1, kind stage, duration_s 3.142, "
         "verdict pass"},
    ]  # fmt: skip


def test_interval_timings_give_percentiles_of_each_interval_alone() -> None:
    interval = IntervalTimings()
    for i in range(10):
        interval.record_run(run(i))
    first = interval.take_figures()
    assert first["first_text_p95"] == 390.0
    assert (
        first["done_p50"] is not None and abs(first["done_p50"] - 904.0) < 0.5
    )  # nearest rank, HDR bucket
    assert interval.take_figures()["first_text_p95"] is None
