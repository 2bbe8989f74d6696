"""Exact, mergeable timings: one HDR histogram plus exact counters per metric (`Timing`).

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
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate

import msgspec
from hdrh.histogram import HdrHistogram

from wxo_load.core.summary_sections import Stat

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

# The layout of the histograms' counts array, used to read percentiles in one pass without
# hdrh's own (round-half-up, highest-equivalent) percentile rule. Checked once at import.
_SUB_BUCKET_HALF_MAGNITUDE = 10
_SUB_BUCKET_HALF_COUNT = 1 << _SUB_BUCKET_HALF_MAGNITUDE


def _new_histogram() -> HdrHistogram:
    return _acyclic(HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES))


def _acyclic(hist: HdrHistogram) -> HdrHistogram:
    """hdrh's histogram and its encoder point at each other, so a dropped histogram (60 KB of
    counters) waited for a full cyclic collection: the interval timings dropped every 2 s, a
    worker's book every report, piled up between collections (RSS rose ~100 KB per 1,000 runs in
    a 30-minute soak, bench/soak.py). With the encoder's back-reference weak, it goes at once."""
    hist.encoder.histogram = weakref.proxy(hist)
    return hist


def _check_layout() -> None:
    probe = _new_histogram()
    if (
        probe.unit_magnitude != 0
        or probe.sub_bucket_half_count_magnitude != _SUB_BUCKET_HALF_MAGNITUDE
    ):
        raise RuntimeError(
            "unexpected hdrhistogram layout; wxo_load.core.hdr needs hdrhistogram>=0.10.8"
        )


_check_layout()


def _index_of(value_us: int) -> int:
    """The counts-array index hdrh uses for `value_us` (unit magnitude 0, 3 significant digits)."""
    bucket = max(value_us.bit_length() - _SUB_BUCKET_HALF_MAGNITUDE - 1, 0)
    return (
        ((bucket + 1) << _SUB_BUCKET_HALF_MAGNITUDE) + (value_us >> bucket) - _SUB_BUCKET_HALF_COUNT
    )


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


class TimingWire(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """A `Timing` on the wire: exact count, min, max and sum (ms), and the HDR histogram in
    hdrh's own compressed base64 text, so merged percentiles stay exact."""

    count: int
    min: float
    max: float
    sum: float
    hist: str


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

    def record_many(self, values_ms: list[float]) -> None:
        """`record()` of each value in turn, with the same figures (the sum added in the same
        order), in one call: a run's values of one metric, one per event, at its end."""
        values = [value for value in values_ms if value == value]  # NaN: nothing was measured
        if not values:
            return
        pending = self._pending
        pending.extend(values)
        if len(pending) >= _FOLD_EVERY:
            self.hist  # noqa: B018  (fold now: a bounded pause of well under a millisecond)
        self.count += len(values)
        total = self.sum_ms
        for value in values:
            total += value
        self.sum_ms = total
        low, high = min(values), max(values)
        if low < self.min_ms:
            self.min_ms = low
        if high > self.max_ms:
            self.max_ms = high

    @property
    def hist(self) -> HdrHistogram | None:
        """The histogram with every recorded value in it (None before the first value)."""
        pending = self._pending
        if pending:
            hist = self._hist
            if hist is None:
                hist = self._hist = _new_histogram()
            counts, low, high = hist.counts, hist.min_value, hist.max_value
            for value_ms in pending:  # to_us() and _index_of() written out: no call per value
                value_us = int(value_ms * 1000.0 + 0.5) if value_ms > 0 else 0
                if value_us < LOWEST_US:
                    value_us = LOWEST_US
                elif value_us > HIGHEST_US:
                    value_us = HIGHEST_US
                bucket = value_us.bit_length() - _SUB_BUCKET_HALF_MAGNITUDE - 1
                if bucket < 0:
                    bucket = 0
                counts[
                    ((bucket + 1) << _SUB_BUCKET_HALF_MAGNITUDE)
                    + (value_us >> bucket)
                    - _SUB_BUCKET_HALF_COUNT
                ] += 1
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

    def packed(self) -> TimingWire:
        """This timing on the wire (a worker's report): exact figures and the histogram."""
        hist = self.hist
        assert hist is not None
        return TimingWire(self.count, self.min_ms, self.max_ms, self.sum_ms,
                          hist.encode().decode("ascii"))  # fmt: skip

    @classmethod
    def unpack(cls, wire: TimingWire) -> Timing:
        """A timing from the wire; ValueError when its histogram is damaged."""
        timing = cls()
        try:
            timing.hist = _acyclic(HdrHistogram.decode(wire.hist.encode("ascii")))
        except Exception as exc:  # hdrh raises zlib, base64 and its own errors
            raise ValueError(f"damaged histogram ({type(exc).__name__}: {exc})") from exc
        timing.count, timing.sum_ms = wire.count, wire.sum
        timing.min_ms, timing.max_ms = wire.min, wire.max
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

    def summary(self) -> Stat:
        """count, min, mean, p50, p90, p95, p99, p999, max: ms rounded to 1 µs."""
        if not self.count:
            return Stat(count=0)
        p50, p90, p95, p99, p999 = (
            round_ms(v) for v in self.percentiles_ms([p for _, p in PERCENTILES])
        )
        return Stat(
            count=self.count,
            min=round_ms(self.min_ms),
            max=round_ms(self.max_ms),
            mean=round_ms(self.sum_ms / self.count),
            p50=p50, p90=p90, p95=p95, p99=p99, p999=p999,
        )  # fmt: skip


def round_ms(value: float | None) -> float | None:
    """Milliseconds rounded to 1 µs, as summary.json shows them."""
    return None if value is None else round(value, 3)
