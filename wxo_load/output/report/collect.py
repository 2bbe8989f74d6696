"""One streaming pass over runs and conversations for the report, and its time axis.

Records become compact arrays (time, value) per metric, run end times per outcome and error
details grouped with ids and numbers blanked; `Timebase` cuts the test's span into round bins.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from datetime import datetime

from wxo_load.core.fmt import grouped
from wxo_load.core.metrics import ALL_METRICS, CONVERSATION_METRICS, RUN_METRICS
from wxo_load.core.records import LEFT_OUTCOMES, NOT_FAILED, OK, ConversationRecord, RunRecord
from wxo_load.core.summary_model import Summary
from wxo_load.core.window import MEASURED
from wxo_load.output.report.svg import Span, fmt_time

MAX_BINS = 120
NICE_BIN_WIDTHS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    14400,
    43200,
    86400,
)
MIN_SAMPLES_PER_BIN = 40  # percentiles over time: fewer samples per bin make p99 mere noise
MAX_ERROR_DETAILS = 2000
DETAIL_CHARS = 160
# ids, timestamps and numbers that make every detail unique; blanked to group alike errors
_DETAIL_VARIABLE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d[\d.:-]{2,}\d|\d{2,}"
)


def _placeholder(match: re.Match[str]) -> str:
    return "<id>" if "-" in match.group(0) and len(match.group(0)) == 36 else "<n>"


def _unix_of(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _bin_width(span_s: float) -> float:
    for width in NICE_BIN_WIDTHS:
        if span_s / width <= MAX_BINS:
            return float(width)
    return math.ceil(span_s / MAX_BINS)


class Collected:
    """One pass over the records: compact arrays, binned later once the time span is known."""

    def __init__(self) -> None:
        self.times: dict[str, array[float]] = {m: array("d") for m in ALL_METRICS}
        self.values: dict[str, array[float]] = {m: array("d") for m in ALL_METRICS}
        self.ends: dict[str, array[float]] = {}
        self.details: Counter[tuple[str, str]] = Counter()  # (class, detail with ids blanked)
        self.examples: dict[tuple[str, str], str] = {}  # the first detail seen of each
        self.first_start: float | None = None
        self.last_end: float | None = None

    def _add_timings(
        self, record: RunRecord | ConversationRecord, metrics: dict[str, str], start: float
    ) -> None:
        for metric, field_name in metrics.items():
            value = getattr(record, field_name)
            if value is not None:
                self.times[metric].append(start + value / 1000.0)
                self.values[metric].append(float(value))

    def add_run(self, run: RunRecord) -> None:
        start = run.started_at_unix
        if run.outcome not in LEFT_OUTCOMES:  # a person who left: counted, out of the timings
            self._add_timings(run, RUN_METRICS, start)
        end = start + (run.total_ms or 0.0) / 1000.0
        outcome = run.outcome or OK
        self.ends.setdefault(outcome, array("d")).append(end)
        if outcome not in NOT_FAILED:
            detail = run.error_detail or ""
            key = (outcome, _DETAIL_VARIABLE.sub(_placeholder, detail)[:DETAIL_CHARS])
            if key in self.details or len(self.details) < MAX_ERROR_DETAILS:
                self.details[key] += 1
                self.examples.setdefault(key, detail[:DETAIL_CHARS])
            else:
                self.details[(outcome, "(other details)")] += 1
        self._span(start, end)

    def add_conversation(self, conv: ConversationRecord) -> None:
        start = conv.started_at_unix
        self._add_timings(conv, CONVERSATION_METRICS, start)
        self._span(start, start + (conv.total_ms or 0.0) / 1000.0)

    def _span(self, start: float, end: float) -> None:
        if self.first_start is None or start < self.first_start:
            self.first_start = start
        if self.last_end is None or end > self.last_end:
            self.last_end = end


def in_window(record: RunRecord | ConversationRecord) -> bool:
    """A run or conversation of the measured window (the report's charts show no other)."""
    return getattr(record, "window", MEASURED) == MEASURED


def excluded_spans(summary: Summary, t0: float, end: float) -> tuple[Span, ...]:
    """The warm-up and cool-down of summary.json's `window`, in seconds since `t0`."""
    window = summary.window
    if window is None:
        return ()
    start, stop = window.start_unix, window.end_unix
    spans: list[Span] = []
    if window.warmup_s and start is not None:
        load_start = window.load_start_unix or t0
        spans.append((load_start - t0, start - t0, "warm-up: not measured"))
    if window.cooldown_applied and stop is not None:
        spans.append((stop - t0, max(end, stop) - t0, "cool-down: not measured"))
    return tuple(spans)


class Timebase:
    """Seconds since the test started, cut into at most MAX_BINS bins of a round width;
    `excluded`: the stretches left out of the figures (shaded on every chart over time)."""

    def __init__(
        self, t0: float, span: float, width: float | None = None, excluded: tuple[Span, ...] = ()
    ) -> None:
        self.t0 = t0
        self.span = max(span, 1.0)
        self.width = width or _bin_width(self.span)
        self.count = max(1, math.ceil(self.span / self.width))
        self.excluded = excluded

    @classmethod
    def of(cls, summary: Summary, collected: Collected) -> Timebase:
        t0 = _unix_of(summary.started_at) or collected.first_start or 0.0
        end = _unix_of(summary.ended_at) or collected.last_end or t0
        if collected.last_end is not None:
            end = max(end, collected.last_end)
        return cls(t0, end - t0, excluded=excluded_spans(summary, t0, end))

    def coarser(
        self, samples: int, per_bin: int = MIN_SAMPLES_PER_BIN, max_bins: int = MAX_BINS
    ) -> Timebase:
        """The same time axis with bins wide enough to hold `per_bin` samples on average
        (and at most `max_bins` of them), but at least 4 bins."""
        for width in (*NICE_BIN_WIDTHS, math.inf):
            if width < self.width or self.span / width > max_bins:
                continue
            if samples * width / self.span >= per_bin or width * 4 >= self.span:
                return Timebase(self.t0, self.span, min(width, self.span / 4), self.excluded)
        return self

    def index(self, unix: float) -> int:
        return min(max(int((unix - self.t0) // self.width), 0), self.count - 1)

    def fmt(self, seconds: float) -> str:
        return fmt_time(seconds, self.span)

    @property
    def x_range(self) -> tuple[float, float]:
        return (0.0, self.count * self.width)

    @property
    def x_label(self) -> str:
        unit = "min:s" if self.span >= 180 else "s"
        return f"time since start ({unit}); {grouped(self.width)} s bins"
