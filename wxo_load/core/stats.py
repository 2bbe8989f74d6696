"""Exact, mergeable statistics: HDR histograms per metric, and the `summary.json` they produce.

Pure: no clock, no I/O. Every timing is recorded twice over:

- into an HDR histogram (`hdrh`), in integer microseconds from 1 µs to 1 h with 3 significant
  digits, so a distributed run's percentiles are the merge of every worker's histogram;
- into exact counters (count, min, max, sum), so `min`, `max` and `mean` are the recorded values
  themselves, not histogram buckets.

Percentiles use the nearest-rank definition (the value of the ceil(p/100 * n)-th smallest
sample) and report the midpoint of the HDR bucket that holds that sample, clamped to the exact
min and max. Below 2.048 ms the buckets are 1 µs wide; above, a bucket is at most 1/1024 of its
value wide, so a reported percentile is within 0.05 % + 0.5 µs of the exact nearest-rank value
computed from `runs.jsonl` (see `nearest_rank_ms`, and tests/test_stats.py which proves it).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from itertools import accumulate
from typing import Any

from hdrh.histogram import HdrHistogram

from wxo_load import __version__
from wxo_load.core.errors import ResultsError
from wxo_load.core.records import (
    ALL_METRICS,
    CONVERSATION_METRICS,
    OK,
    RUN_METRICS,
    STOPPED,
    ConversationRecord,
    RunRecord,
)
from wxo_load.core.step_stats import ended_without_done, record_run_steps, steps_summary

SCHEMA = "wxo-load/summary/v1"
WIRE_SCHEMA = "wxo-load/book/v1"

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_FIGURES = 3

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p999", 99.9),
)
SUMMARY_FIELDS = ("count", "min", "mean", *(name for name, _ in PERCENTILES), "max")

FIRST = "first"
FOLLOW_UP = "follow_up"
TURN_CLASSES = (FIRST, FOLLOW_UP)
CLIENT_LAG = "client_lag"
SCHEDULE_LAG = "schedule_lag"

# The layout of the histograms' counts array, used to read percentiles in one pass without
# hdrh's own (round-half-up, highest-equivalent) percentile rule. Checked once at import.
_SUB_BUCKET_HALF_MAGNITUDE = 10
_SUB_BUCKET_HALF_COUNT = 1 << _SUB_BUCKET_HALF_MAGNITUDE


def _new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def _check_layout() -> None:
    probe = _new_histogram()
    if probe.unit_magnitude != 0 or probe.sub_bucket_half_count_magnitude != _SUB_BUCKET_HALF_MAGNITUDE:
        raise RuntimeError("unexpected hdrhistogram layout; wxo_load.core.stats needs hdrhistogram>=0.10.8")


_check_layout()


def _index_of(value_us: int) -> int:
    """The counts-array index hdrh uses for `value_us` (unit magnitude 0, 3 significant digits)."""
    bucket = max(value_us.bit_length() - _SUB_BUCKET_HALF_MAGNITUDE - 1, 0)
    return ((bucket + 1) << _SUB_BUCKET_HALF_MAGNITUDE) + (value_us >> bucket) - _SUB_BUCKET_HALF_COUNT


def _bucket_midpoint_us(index: int) -> int:
    """hdrh's "median equivalent value" of the bucket at `index`: lowest value + half its width."""
    bucket = (index >> _SUB_BUCKET_HALF_MAGNITUDE) - 1
    sub_bucket = (index & (_SUB_BUCKET_HALF_COUNT - 1)) + _SUB_BUCKET_HALF_COUNT
    if bucket < 0:
        sub_bucket -= _SUB_BUCKET_HALF_COUNT
        bucket = 0
    return (sub_bucket << bucket) + ((1 << bucket) >> 1)


def nearest_rank(count: int, percentile: float) -> int:
    """1-based rank of the nearest-rank `percentile` among `count` samples: ceil(p/100 * n).

    Computed in exact integer arithmetic (thousandths of a percent), so 95 % of 100 samples is
    rank 95, not the 96 that `math.ceil(0.95 * 100)` gives in floating point.
    """
    milli = round(percentile * 1000)
    return min(max(1, -(-milli * count // 100_000)), count)


def nearest_rank_ms(values: Iterable[float], percentile: float) -> float | None:
    """The exact nearest-rank percentile of `values` (e.g. read from runs.jsonl); None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[nearest_rank(len(ordered), percentile) - 1]


def to_us(value_ms: float) -> int:
    """Milliseconds -> integer microseconds, rounded, clamped to the histograms' 1 µs .. 1 h."""
    value_us = int(value_ms * 1000.0 + 0.5) if value_ms > 0 else 0
    if value_us < LOWEST_US:
        return LOWEST_US
    if value_us > HIGHEST_US:
        return HIGHEST_US
    return value_us


_FOLD_EVERY = 1024
"""Queued values are folded into the histogram at least this often (bounded memory and pauses)."""


class Timing:
    """One metric: an HDR histogram plus its exact count, min, max and sum (milliseconds).

    `record()` is on the load generator's hot path (per event for client lag): it updates the
    exact figures and queues the value; the queue is folded into the histogram, with the same
    bucket index hdrh computes, whenever the histogram is read. hdrh's own `record_value` costs
    several times more per value.
    """

    __slots__ = ("_hist", "_pending", "count", "min_ms", "max_ms", "sum_ms")

    def __init__(self) -> None:
        self._hist: HdrHistogram | None = None
        self._pending: list[float] = []
        self.count = 0
        self.min_ms = math.inf
        self.max_ms = -math.inf
        self.sum_ms = 0.0

    def record(self, value_ms: float) -> None:
        if value_ms != value_ms:  # NaN: nothing was measured
            return
        pending = self._pending
        pending.append(value_ms)
        if len(pending) >= _FOLD_EVERY:
            self.hist  # noqa: B018  (fold now: a bounded pause of well under a millisecond)
        self.count += 1
        self.sum_ms += value_ms
        if value_ms < self.min_ms:
            self.min_ms = value_ms
        if value_ms > self.max_ms:
            self.max_ms = value_ms

    @property
    def hist(self) -> HdrHistogram | None:
        """The histogram with every recorded value in it (None before the first value)."""
        pending = self._pending
        if pending:
            hist = self._hist
            if hist is None:
                hist = self._hist = _new_histogram()
            counts, low, high = hist.counts, hist.min_value, hist.max_value
            for value_ms in pending:
                value_us = to_us(value_ms)
                counts[_index_of(value_us)] += 1
                if value_us < low:
                    low = value_us
                if value_us > high:
                    high = value_us
            hist.total_count += len(pending)
            hist.min_value, hist.max_value = low, high
            pending.clear()
        return self._hist

    @hist.setter
    def hist(self, value: HdrHistogram | None) -> None:
        self._pending.clear()
        self._hist = value

    def merge(self, other: Timing) -> None:
        other_hist = other.hist
        if not other.count or other_hist is None:
            return
        hist = self.hist
        if hist is None:
            hist = self._hist = _new_histogram()
        hist.add(other_hist)
        self.count += other.count
        self.sum_ms += other.sum_ms
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)

    def to_wire(self) -> dict[str, Any]:
        assert self.hist is not None
        return {
            "count": self.count,
            "min": self.min_ms,
            "max": self.max_ms,
            "sum": self.sum_ms,
            "hist": self.hist.encode().decode("ascii"),
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Timing:
        timing = cls()
        timing.hist = HdrHistogram.decode(data["hist"].encode("ascii"))
        timing.count = int(data["count"])
        timing.min_ms = float(data["min"])
        timing.max_ms = float(data["max"])
        timing.sum_ms = float(data["sum"])
        if timing.hist.get_total_count() != timing.count:
            raise ValueError("histogram count does not match the recorded count")
        return timing

    def percentiles_ms(self, percentiles: Sequence[float]) -> list[float | None]:
        """Nearest-rank percentiles in one pass over the histogram (None when empty)."""
        if not self.count or self.hist is None:
            return [None] * len(percentiles)
        lo, cumulative = self._cumulative()
        results: list[float | None] = []
        for p in percentiles:
            rank = nearest_rank(self.count, p)
            position = bisect_left(cumulative, rank)  # the first bucket holding the rank-th sample
            if position >= len(cumulative):  # unreachable unless counts disagree with count
                results.append(self.max_ms)
            else:
                results.append(self._value_at(rank, lo + position))
        return results

    def _cumulative(self) -> tuple[int, list[int]]:
        """(index of the lowest bucket in use, cumulative counts from there to the highest).
        Slicing, accumulating and bisecting run in C: a whole summary's percentiles cost
        a few milliseconds rather than tens, which matters when a live view asks every second."""
        assert self.hist is not None
        lo = _index_of(to_us(self.min_ms))
        hi = _index_of(to_us(self.max_ms))
        return lo, list(accumulate(self.hist.counts[lo : hi + 1]))

    def counts_at_or_below_ms(self, bounds_ms: Sequence[float]) -> list[int]:
        """Samples at or below each bound (ascending), for fixed-bucket exports such as
        Prometheus histograms. A sample counts by its HDR bucket, so one within 0.1 % above a
        bound may be counted below it."""
        if not self.count or self.hist is None:
            return [0] * len(bounds_ms)
        lo, cumulative = self._cumulative()
        results: list[int] = []
        for bound in bounds_ms:
            index = _index_of(to_us(bound)) - lo if bound > 0 else -1
            results.append(0 if index < 0 else cumulative[min(index, len(cumulative) - 1)])
        return results

    def _value_at(self, rank: int, index: int) -> float:
        if rank >= self.count:
            return self.max_ms
        if rank <= 1:
            return self.min_ms
        value_ms = _bucket_midpoint_us(index) / 1000.0
        return min(max(value_ms, self.min_ms), self.max_ms)

    def summary(self) -> dict[str, Any]:
        """{"count","min","mean","p50","p90","p95","p99","p999","max"}, ms rounded to 1 µs."""
        if not self.count:
            return {"count": 0, **{name: None for name in SUMMARY_FIELDS[1:]}}
        values = self.percentiles_ms([p for _, p in PERCENTILES])
        result: dict[str, Any] = {
            "count": self.count,
            "min": _ms(self.min_ms),
            "mean": _ms(self.sum_ms / self.count),
        }
        for (name, _), value in zip(PERCENTILES, values, strict=True):
            result[name] = _ms(value)
        result["max"] = _ms(self.max_ms)
        return result


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _turn_class(turn_index: int) -> str:
    return FIRST if turn_index == 0 else FOLLOW_UP


def _add_counts(into: dict[str, int], other: dict[str, int]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + int(value)


class MetricsBook:
    """Everything a load generator measured, mergeable across processes.

    Histograms (keys of `timings`): every metric in ALL_METRICS; `first/<run metric>` and
    `follow_up/<run metric>` per turn class; `client_lag` (per event) and `schedule_lag` (per
    run). Counters: runs and conversations by outcome, runs by turn class and outcome, runs by
    worker, answer characters, and the wall-clock span the runs covered.
    """

    def __init__(self) -> None:
        self.timings: dict[str, Timing] = {}
        self.runs_by_outcome: dict[str, int] = {}
        self.conversations_by_outcome: dict[str, int] = {}
        self.runs_by_turn: dict[str, dict[str, int]] = {FIRST: {}, FOLLOW_UP: {}}
        self.runs_by_worker: dict[str, dict[str, int]] = {}
        self.answer_chars = 0
        self.first_start_unix: float | None = None
        self.last_end_unix: float | None = None
        self._client_lag = self._timing(CLIENT_LAG)

    # -- recording -------------------------------------------------------------------------

    def _timing(self, key: str) -> Timing:
        timing = self.timings.get(key)
        if timing is None:
            timing = self.timings[key] = Timing()
        return timing

    def _span(self, start_unix: float, duration_ms: float | None) -> None:
        end = start_unix + (duration_ms or 0.0) / 1000.0
        if self.first_start_unix is None or start_unix < self.first_start_unix:
            self.first_start_unix = start_unix
        if self.last_end_unix is None or end > self.last_end_unix:
            self.last_end_unix = end

    def record_run(self, run: RunRecord) -> None:
        turn = _turn_class(run.turn_index)
        for metric, field in RUN_METRICS.items():
            value = getattr(run, field)
            if value is not None:
                self._timing(metric).record(value)
                self._timing(f"{turn}/{metric}").record(value)
        if run.schedule_lag_ms is not None:
            self._timing(SCHEDULE_LAG).record(run.schedule_lag_ms)
        outcome = run.outcome
        self.runs_by_outcome[outcome] = self.runs_by_outcome.get(outcome, 0) + 1
        by_turn = self.runs_by_turn[turn]
        by_turn[outcome] = by_turn.get(outcome, 0) + 1
        worker = self.runs_by_worker.setdefault(run.worker or "local", {"runs": 0, "failed": 0})
        worker["runs"] += 1
        if outcome not in (OK, STOPPED):
            worker["failed"] += 1
        self.answer_chars += run.answer_chars
        self._span(run.started_at_unix, run.total_ms)
        record_run_steps(self, run)

    def record_conversation(self, conv: ConversationRecord) -> None:
        for metric, field in CONVERSATION_METRICS.items():
            value = getattr(conv, field)
            if value is not None:
                self._timing(metric).record(value)
        outcome = conv.outcome
        self.conversations_by_outcome[outcome] = self.conversations_by_outcome.get(outcome, 0) + 1

    def record_client_lag_ms(self, value_ms: float) -> None:
        """Per event: arrival minus the server's event timestamp. About 1.5 µs."""
        self._client_lag.record(value_ms)

    # -- counts ----------------------------------------------------------------------------

    @property
    def runs_total(self) -> int:
        return sum(self.runs_by_outcome.values())

    @property
    def runs_ok(self) -> int:
        return self.runs_by_outcome.get(OK, 0)

    @property
    def runs_stopped(self) -> int:
        return self.runs_by_outcome.get(STOPPED, 0)

    @property
    def runs_failed(self) -> int:
        """Runs that ended in an error class; `stopped` (the test ended first) is not a failure."""
        return self.runs_total - self.runs_ok - self.runs_stopped

    @property
    def conversations_total(self) -> int:
        return sum(self.conversations_by_outcome.values())

    @property
    def conversations_failed(self) -> int:
        by = self.conversations_by_outcome
        return self.conversations_total - by.get(OK, 0) - by.get(STOPPED, 0)

    # -- reading ---------------------------------------------------------------------------

    def timing(self, key: str) -> Timing:
        """The histogram for `key` (a metric, `first/<metric>`, `client_lag`...), empty if unseen."""
        return self.timings.get(key) or Timing()

    def percentile_ms(self, metric: str, p: float) -> float | None:
        value = self.timing(metric).percentiles_ms([p])[0]
        return _ms(value)

    def metric_summary(self, metric: str) -> dict[str, Any]:
        return self.timing(metric).summary()

    # -- merging and the wire --------------------------------------------------------------

    def merge(self, other: MetricsBook) -> None:
        for key, timing in other.timings.items():
            self._timing(key).merge(timing)
        self._merge_counters(
            other.runs_by_outcome,
            other.conversations_by_outcome,
            other.runs_by_turn,
            other.runs_by_worker,
            other.answer_chars,
            other.first_start_unix,
            other.last_end_unix,
        )

    def _merge_counters(
        self,
        runs_by_outcome: dict[str, int],
        conversations_by_outcome: dict[str, int],
        runs_by_turn: dict[str, dict[str, int]],
        runs_by_worker: dict[str, dict[str, int]],
        answer_chars: int,
        first_start_unix: float | None,
        last_end_unix: float | None,
    ) -> None:
        _add_counts(self.runs_by_outcome, runs_by_outcome)
        _add_counts(self.conversations_by_outcome, conversations_by_outcome)
        for turn, counts in runs_by_turn.items():
            _add_counts(self.runs_by_turn.setdefault(turn, {}), counts)
        for worker, counts in runs_by_worker.items():
            _add_counts(self.runs_by_worker.setdefault(worker, {"runs": 0, "failed": 0}), counts)
        self.answer_chars += int(answer_chars)
        if first_start_unix is not None and (
            self.first_start_unix is None or first_start_unix < self.first_start_unix
        ):
            self.first_start_unix = first_start_unix
        if last_end_unix is not None and (
            self.last_end_unix is None or last_end_unix > self.last_end_unix
        ):
            self.last_end_unix = last_end_unix

    def to_wire(self) -> dict[str, Any]:
        """msgpack-safe: dicts, lists, str, int, float, None; histograms as base64 text."""
        return {
            "schema": WIRE_SCHEMA,
            "timings": {key: t.to_wire() for key, t in self.timings.items() if t.count},
            "runs_by_outcome": dict(self.runs_by_outcome),
            "conversations_by_outcome": dict(self.conversations_by_outcome),
            "runs_by_turn": {turn: dict(c) for turn, c in self.runs_by_turn.items()},
            "runs_by_worker": {w: dict(c) for w, c in self.runs_by_worker.items()},
            "answer_chars": self.answer_chars,
            "first_start_unix": self.first_start_unix,
            "last_end_unix": self.last_end_unix,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> MetricsBook:
        book = cls()
        book.merge_wire(data)
        return book

    def merge_wire(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict) or data.get("schema") != WIRE_SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ResultsError(
                f"received statistics in an unknown format ({found!r}, expected {WIRE_SCHEMA!r}). "
                "Run the same wxo-load version on the master and every worker."
            )
        try:
            timings = {key: Timing.from_wire(t) for key, t in data["timings"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(
                f"received a damaged statistics report ({exc}). Run the same wxo-load version "
                "on the master and every worker; if it persists, report it as a bug."
            ) from exc
        for key, timing in timings.items():
            self._timing(key).merge(timing)
        self._merge_counters(
            data.get("runs_by_outcome", {}),
            data.get("conversations_by_outcome", {}),
            data.get("runs_by_turn", {}),
            data.get("runs_by_worker", {}),
            data.get("answer_chars", 0),
            data.get("first_start_unix"),
            data.get("last_end_unix"),
        )

    def reset(self) -> None:
        self.__dict__ = MetricsBook().__dict__

    def take(self) -> MetricsBook:
        """Return everything recorded so far and start afresh (for worker reports)."""
        taken = MetricsBook()
        taken.__dict__, self.__dict__ = self.__dict__, taken.__dict__
        return taken

    def is_empty(self) -> bool:
        return not self.runs_by_outcome and not self.conversations_by_outcome and not any(
            t.count for t in self.timings.values()
        )


# -- summary.json ------------------------------------------------------------------------------


def iso_utc(unix: float | None) -> str | None:
    """Unix seconds -> `2026-11-21T07:00:00.000Z`."""
    if unix is None:
        return None
    moment = datetime.fromtimestamp(unix, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _outcomes(by_outcome: dict[str, int]) -> dict[str, Any]:
    total = sum(by_outcome.values())
    ok = by_outcome.get(OK, 0)
    stopped = by_outcome.get(STOPPED, 0)
    failed = total - ok - stopped
    ordered = {OK: ok}
    for name in sorted(by_outcome, key=lambda k: (-by_outcome[k], k)):
        if name != OK:
            ordered[name] = by_outcome[name]
    return {
        "total": total,
        "ok": ok,
        "failed": failed,
        "stopped": stopped,
        "error_rate": round(failed / total, 6) if total else 0.0,
        "by_outcome": ordered,
    }


def _per_second(amount: float, duration_s: float | None) -> float:
    return round(amount / duration_s, 3) if duration_s else 0.0


def _load_generator(book: MetricsBook, extras: dict[str, Any]) -> dict[str, Any]:
    client_lag = book.metric_summary(CLIENT_LAG)
    schedule_lag = book.metric_summary(SCHEDULE_LAG)
    warnings = [str(w) for w in extras.get("warnings") or []]

    def warn(text: str) -> None:
        if text not in warnings:
            warnings.append(text)

    checks = (
        (client_lag, "client_lag_p99_limit_ms", "client lag"),
        (schedule_lag, "schedule_lag_p99_limit_ms", "schedule lag"),
    )
    for summary, key, label in checks:
        limit = extras.get(key)
        if limit is not None and summary["count"] and summary["p99"] > float(limit):
            warn(
                f"{label} p99 was {summary['p99']:g} ms (limit {float(limit):g} ms): the load "
                "generator fell behind, so server timings may be overstated"
            )
    cpu = extras.get("cpu_percent_max")
    cpu_limit = extras.get("cpu_percent_limit")
    if cpu is not None and cpu_limit is not None and float(cpu) > float(cpu_limit):
        warn(
            f"load generator CPU peaked at {float(cpu):.0f} % (limit {float(cpu_limit):g} %): "
            "add --processes or workers, or lower the user count"
        )
    result: dict[str, Any] = {
        "client_lag": client_lag,
        "schedule_lag": schedule_lag,
        "cpu_percent_max": cpu,
        "trustworthy": not warnings,
        "warnings": warnings,
        "workers": {w: dict(c) for w, c in sorted(book.runs_by_worker.items())},
    }
    for key, value in extras.items():
        result.setdefault(key, value)
    return result


def build_summary(book: MetricsBook, *, meta: dict[str, Any]) -> dict[str, Any]:
    """summary.json (schema wxo-load/summary/v1) as a dict.

    `meta`: scenario (dict, already free of secrets), options, host, started_at / ended_at
    (unix seconds), users_peak, timeline (list of {"t_s","users","runs","errors"}), and
    load_generator extras: cpu_percent_max, warnings, and optional limits
    client_lag_p99_limit_ms, schedule_lag_p99_limit_ms, cpu_percent_limit.
    """
    started = meta.get("started_at")
    ended = meta.get("ended_at")
    started = book.first_start_unix if started is None else started
    ended = book.last_end_unix if ended is None else ended
    duration_s = round(ended - started, 3) if started is not None and ended is not None else None
    runs = _outcomes(book.runs_by_outcome)
    runs["ended_without_done"] = ended_without_done(book)
    conversations = _outcomes(book.conversations_by_outcome)
    by_turn: dict[str, Any] = {}
    for turn in TURN_CLASSES:
        counts = _outcomes(book.runs_by_turn.get(turn, {}))
        by_turn[turn] = {
            "runs": counts["total"],
            "ok": counts["ok"],
            "failed": counts["failed"],
            "by_outcome": counts["by_outcome"],
            "metrics": {m: book.metric_summary(f"{turn}/{m}") for m in RUN_METRICS},
        }
    return {
        "schema": SCHEMA,
        "tool": {"name": "wxo-load", "version": __version__},
        "scenario": meta.get("scenario", {}),
        "options": meta.get("options", {}),
        "host": meta.get("host"),
        "started_at": iso_utc(started),
        "ended_at": iso_utc(ended),
        "duration_s": duration_s,
        "users": {"peak": meta.get("users_peak")},
        "percentiles": {
            "method": "nearest-rank",
            "resolution": "HDR histogram, 1 us to 1 h, 3 significant digits; min, max, mean exact",
            "unit": "ms",
        },
        "metrics": {m: book.metric_summary(m) for m in ALL_METRICS},
        "runs": runs,
        "conversations": conversations,
        "throughput": {
            "runs_per_s": _per_second(runs["total"], duration_s),
            "ok_runs_per_s": _per_second(runs["ok"], duration_s),
            "conversations_per_s": _per_second(conversations["total"], duration_s),
            "answer_chars_per_s": _per_second(book.answer_chars, duration_s),
        },
        "answer_chars": book.answer_chars,
        "by_turn": by_turn,
        **steps_summary(book),
        "load_generator": _load_generator(book, dict(meta.get("load_generator") or {})),
        "timeline": list(meta.get("timeline") or []),
    }
