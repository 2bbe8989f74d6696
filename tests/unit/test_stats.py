"""MetricsBook: exact nearest-rank percentiles from HDR histograms, merging, wire format,
summary."""

from __future__ import annotations

import math
import random

import msgspec
import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.gates_support import summary_json
from tests.helpers.wire import via_wire
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import WireFormatError
from wxo_load.core.hdr import (
    HIGHEST_US,
    PERCENTILES,
    Timing,
    _bucket_midpoint_us,
    _index_of,
    nearest_rank,
    nearest_rank_ms,
)
from wxo_load.core.metrics import ALL_METRICS, RUN_METRICS
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_model import SCHEMA
from wxo_load.core.summary_sections import Options, ScenarioInfo, TimelinePoint

# The lead's comparison of summary.json with runs.jsonl: relative 1e-3, or 1 µs absolute.
REL_TOL = 1e-3
ABS_TOL_MS = 0.001

timing_ms = st.floats(min_value=0.0005, max_value=600_000.0, allow_nan=False, allow_infinity=False)


def make_run(rng: random.Random, index: int, *, worker: str = "w0") -> RunRecord:
    turn = index % 3
    outcome = rng.choices(["ok", "timeout", "http_503", "stopped"], [90, 4, 5, 1])[0]
    started = rng.lognormvariate(5.5, 0.4)
    run = RunRecord(
        started_at_unix=1_800_000_000.0 + index * 0.05,
        user_id=f"u{index % 7}",
        conversation_id=f"c{index // 3}",
        turn_index=turn,
        request_id=f"r{index}",
        outcome=outcome,
        run_started_ms=started,
        worker=worker,
        schedule_lag_ms=rng.uniform(0, 3),
        answer_chars=rng.randint(0, 400),
    )
    if outcome == "ok":
        run.first_delta_ms = started + rng.lognormvariate(6.5, 0.5)
        run.first_text_ms = run.first_delta_ms + rng.uniform(0, 50)
        run.message_created_ms = run.first_text_ms + rng.lognormvariate(7, 0.3)
        run.done_ms = run.message_created_ms + rng.uniform(0.1, 5)
        run.total_ms = run.done_ms
    elif outcome == "http_503":
        run.run_started_ms = None
        run.total_ms = rng.uniform(1, 20)
    else:
        run.total_ms = started + 30_000
    return run


def make_runs(n: int, seed: int = 7) -> list[RunRecord]:
    rng = random.Random(seed)
    return [make_run(rng, i, worker=f"w{i % 3}") for i in range(n)]


def book_of(runs: list[RunRecord]) -> MetricsBook:
    book = MetricsBook()
    for run in runs:
        book.record_run(run)
    return book


def test_counts_index_matches_hdrhistogram_for_every_bucket_edge() -> None:
    hist = HdrHistogram(1, HIGHEST_US, 3)
    values = [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097, 999_999, HIGHEST_US]
    values += [2**k + d for k in range(11, 31) for d in (-1, 0, 1)]
    for value in values:
        assert _index_of(value) == hist._counts_index_for(value)
        assert _bucket_midpoint_us(_index_of(value)) == hist._hdr_median_equiv_value(value)


def test_nearest_rank_uses_exact_arithmetic() -> None:
    assert nearest_rank(100, 95.0) == 95  # math.ceil(0.95 * 100) would say 96
    assert nearest_rank(1000, 99.9) == 999
    assert nearest_rank(10, 91.0) == 10
    assert nearest_rank(1, 50.0) == 1
    assert nearest_rank(3, 0.0) == 1
    assert nearest_rank_ms([3.0, 1.0, 2.0], 50.0) == 2.0
    assert nearest_rank_ms([], 50.0) is None


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(timing_ms, min_size=1, max_size=400),
    percentile=st.sampled_from([0.1, 1.0, 10.0, 33.3, 50.0, 66.7, 90.0, 95.0, 99.0, 99.9, 100.0]),
)
def test_percentiles_match_exact_nearest_rank_within_a_thousandth(
    values: list[float], percentile: float
) -> None:
    timing = Timing()
    for value in values:
        timing.record(value)
    reported = round(timing.percentiles_ms([percentile])[0] or 0.0, 3)
    exact = nearest_rank_ms(values, percentile)
    assert exact is not None
    assert math.isclose(reported, exact, rel_tol=REL_TOL, abs_tol=ABS_TOL_MS), (reported, exact)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(timing_ms, min_size=1, max_size=300))
def test_summary_min_max_mean_are_exact(values: list[float]) -> None:
    timing = Timing()
    for value in values:
        timing.record(value)
    summary = msgspec.to_builtins(timing.summary())
    assert summary["count"] == len(values)
    assert summary["min"] == round(min(values), 3)
    assert summary["max"] == round(max(values), 3)
    assert summary["mean"] == pytest.approx(sum(values) / len(values), abs=0.0006)
    ordered = [summary[name] for name in ("min", "p50", "p90", "p95", "p99", "p999", "max")]
    assert ordered == sorted(ordered)


def test_summary_percentiles_match_runs_on_realistic_data() -> None:
    runs = make_runs(5000)
    book = book_of(runs)
    for metric, field in RUN_METRICS.items():
        values = [getattr(r, field) for r in runs if getattr(r, field) is not None]
        summary = msgspec.to_builtins(book.metric_summary(metric))
        assert summary["count"] == len(values)
        for name, p in PERCENTILES:
            exact = nearest_rank_ms(values, p)
            assert exact is not None
            assert math.isclose(summary[name], exact, rel_tol=REL_TOL, abs_tol=ABS_TOL_MS)


def test_merging_books_equals_one_book_over_the_union() -> None:
    runs = make_runs(3000)
    whole = book_of(runs)
    parts = [book_of(runs[i::4]) for i in range(4)]
    merged = MetricsBook()
    for part in parts:
        merged.merge(part)
    via_wire_book = MetricsBook()
    for part in parts:
        via_wire_book.merge_packed(via_wire(part))
    expected = summary_json(whole, meta=SummaryMeta(started_at=0.0, ended_at=60.0))
    assert summary_json(merged, meta=SummaryMeta(started_at=0.0, ended_at=60.0)) == expected
    assert summary_json(via_wire_book, meta=SummaryMeta(started_at=0.0, ended_at=60.0)) == expected
    assert merged.runs_total == 3000
    assert merged.first_start_unix == whole.first_start_unix
    assert merged.last_end_unix == whole.last_end_unix


def test_wire_roundtrip_is_msgpack_safe_and_lossless() -> None:
    book = book_of(make_runs(500))
    book.record_conversation(
        ConversationRecord(1.0, "u", "c", thread_create_ms=12.5, total_ms=900.0)
    )
    for i in range(100):
        book.record_client_lag_ms(0.1 * i)
    wire = via_wire(book)
    assert wire == book.packed()
    back = MetricsBook.unpack(wire)
    assert back.packed() == wire
    assert back.metric_summary("client_lag") == book.metric_summary("client_lag")
    assert back.conversations_total == 1


def test_take_returns_everything_and_starts_afresh() -> None:
    book = book_of(make_runs(50))
    taken = book.take()
    assert taken.runs_total == 50
    assert book.runs_total == 0 and book.is_empty()
    book.record_client_lag_ms(5.0)  # the hot path still works after take()
    assert book.metric_summary("client_lag").count == 1
    book.reset()
    assert book.is_empty()


def test_a_damaged_histogram_is_a_clear_error() -> None:
    wire = book_of(make_runs(5)).packed()
    wire.timings["done"].hist = "not a histogram"
    with pytest.raises(WireFormatError, match="damaged.*same wxo-load version"):
        MetricsBook.unpack(wire)


def test_empty_metrics_have_count_zero_and_null_fields() -> None:
    book = MetricsBook()
    summary = summary_json(book)
    assert summary["schema"] == SCHEMA
    for metric in ALL_METRICS:
        assert summary["metrics"][metric] == {
            "count": 0,
            "min": None,
            "mean": None,
            "p50": None,
            "p90": None,
            "p95": None,
            "p99": None,
            "p999": None,
            "max": None,
        }
    assert summary["runs"] == {
        "total": 0,
        "ok": 0,
        "failed": 0,
        "stopped": 0,
        "left": 0,
        "error_rate": 0.0,
        "by_outcome": {"ok": 0},
        "ended_without_done": 0,
    }
    assert summary["throughput"]["runs_per_s"] == 0.0
    assert book.percentile_ms("done", 99) is None


def test_out_of_range_values_are_clamped_but_min_max_stay_exact() -> None:
    timing = Timing()
    for value in (0.0, 0.0001, 5_000_000.0):  # 0 ms, 0.1 µs, 83 minutes
        timing.record(value)
    timing.record(float("nan"))
    summary = msgspec.to_builtins(timing.summary())
    assert summary["count"] == 3
    assert summary["min"] == 0.0 and summary["max"] == 5_000_000.0
    assert summary["p50"] == pytest.approx(0.001)


def test_build_summary_counts_outcomes_turns_throughput_and_trust() -> None:
    runs = make_runs(900)
    book = book_of(runs)
    book.record_conversation(
        ConversationRecord(1.0, "u", "c1", thread_create_ms=10.0, total_ms=50.0)
    )
    book.record_conversation(
        ConversationRecord(1.0, "u", "c2", thread_create_ms=11.0, outcome="http_503")
    )
    for _ in range(200):
        book.record_client_lag_ms(80.0)
    meta = SummaryMeta(
        scenario=ScenarioInfo(name="smoke", file="s.yaml", config={}),
        options=Options(users=5),
        host="http://127.0.0.1:1",
        started_at=1_800_000_000.0,
        ended_at=1_800_000_045.0,
        users_peak=5,
        timeline=[TimelinePoint(t_s=0.0, users=5, runs=0, errors=0)],
        load_generator=LoadGeneratorExtras(
            cpu_percent_max=97.0,
            cpu_percent_limit=90,
            client_lag_p99_limit_ms=50,
            warnings=["from the lead"],
        ),
    )
    summary = summary_json(book, meta=meta)
    outcomes = [r.outcome for r in runs]
    assert summary["runs"]["total"] == 900
    assert summary["runs"]["ok"] == outcomes.count("ok")
    assert summary["runs"]["stopped"] == outcomes.count("stopped")
    assert summary["runs"]["failed"] == 900 - outcomes.count("ok") - outcomes.count("stopped")
    assert summary["runs"]["by_outcome"]["http_503"] == outcomes.count("http_503")
    assert list(summary["runs"]["by_outcome"])[0] == "ok"
    assert summary["runs"]["error_rate"] == round(summary["runs"]["failed"] / 900, 6)
    assert summary["conversations"]["by_outcome"] == {"ok": 1, "http_503": 1}
    assert summary["started_at"] == "2027-01-15T08:00:00.000Z"
    assert summary["duration_s"] == 45.0
    assert summary["throughput"]["runs_per_s"] == 20.0
    assert summary["throughput"]["answer_chars_per_s"] == round(
        sum(r.answer_chars for r in runs) / 45.0, 3
    )
    first = [r for r in runs if r.turn_index == 0]
    assert summary["by_turn"]["first"]["runs"] == len(first)
    assert summary["by_turn"]["follow_up"]["runs"] == 900 - len(first)
    first_done = [r.done_ms for r in first if r.done_ms is not None]
    assert summary["by_turn"]["first"]["metrics"]["done"]["count"] == len(first_done)
    lg = summary["load_generator"]
    assert lg["trustworthy"] is False
    assert lg["warnings"][0] == "from the lead"
    assert any("client lag p99" in w for w in lg["warnings"])
    assert any("CPU peaked at 97 %" in w for w in lg["warnings"])
    assert lg["client_lag"]["count"] == 200
    assert sum(w["runs"] for w in lg["workers"].values()) == 900
    points = [{k: v for k, v in p.items() if v is not None} for p in summary["timeline"]]
    assert points == [{"t_s": 0.0, "users": 5, "runs": 0, "errors": 0}]


def test_client_lag_recording_is_cheap() -> None:
    import time

    book = MetricsBook()
    n = 20_000
    start = time.perf_counter()
    for i in range(n):
        book.record_client_lag_ms(1.0 + (i % 500) * 0.1)
    per_call_us = (time.perf_counter() - start) / n * 1e6
    assert per_call_us < 10  # about 1.2 µs on the 2-core CI box; generous for noisy machines


def test_record_many_gives_what_record_gives_one_by_one() -> None:
    """A run's values recorded at once (client lags, inter-delta gaps): the same count, sum
    (added in the same order), min, max and histogram as one `record()` each, NaN skipped,
    across the fold of the queue and at the histograms' clamped ends."""
    rng = random.Random(7)
    runs = [[rng.lognormvariate(0.0, 2.0) for _ in range(rng.randint(0, 60))] for _ in range(80)]
    runs[3][:3] = [math.nan, 0.0, -2.0]
    runs.append([1e12, 0.0004, 0.0005, 1e-9])
    one_by_one, at_once = Timing(), Timing()
    for values in runs:
        for value in values:
            one_by_one.record(value)
        at_once.record_many(values)
    assert (at_once.count, at_once.sum_ms, at_once.min_ms, at_once.max_ms) == (
        one_by_one.count, one_by_one.sum_ms, one_by_one.min_ms, one_by_one.max_ms
    )  # fmt: skip
    a, b = at_once.hist, one_by_one.hist
    assert a is not None and b is not None
    assert list(a.counts) == list(b.counts)
    assert (a.total_count, a.min_value, a.max_value) == (b.total_count, b.min_value, b.max_value)
    assert at_once.summary() == one_by_one.summary()
