"""Each stage's or step's own figures, kept apart from the test's totals.

Pure: timestamps are passed in. A run belongs to the segment it STARTED in, judged by the wall
clock of its `started_at_unix` against the segment's bounds (taken on the master, or computed
from the stage plan): robust in distributed runs, where records reach the master seconds after
they were measured, and needs no message when a stage changes. A conversation of the open model
belongs to the segment of its scheduled start. Dropped arrivals carry their scheduled time too.
A step of a capacity search is measured only from `measure_from_unix` (after its warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wxo_load.core.book import MetricsBook
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary import build_summary, iso_utc
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_plan import (
    Segment,
    SegmentArrivals,
    SegmentKind,
    SloVerdict,
    StepPhase,
    Verdict,
)

SUMMARY_METRICS = (
    "thread_create",
    "run_started",
    "first_delta",
    "first_text",
    "done",
    "conversation",
)


SegmentLoad = dict[str, int | float | None]
"""A segment's load: `users` and `spawn_rate` (a stage, a users search step) or `arrival_rate`."""


@dataclass(slots=True)
class SegmentBook:
    """A stage or search step under way: its bounds and its own book of records (summary.json
    states it as a `summary_plan.Segment`)."""

    index: int
    name: str
    kind: SegmentKind
    load: SegmentLoad
    start_unix: float
    end_unix: float | None = None
    measure_from_unix: float | None = None  # None: from the start
    book: MetricsBook = field(default_factory=MetricsBook)
    dropped: dict[str, int] = field(default_factory=dict)
    phase: StepPhase | None = None  # search steps
    verdict: Verdict | None = None  # search steps, once judged
    slo: list[SloVerdict] | None = None  # search steps, once judged

    def holds(self, unix: float) -> bool:
        begin = self.start_unix if self.measure_from_unix is None else self.measure_from_unix
        return begin <= unix and (self.end_unix is None or unix < self.end_unix)


class SegmentLog:
    def __init__(self) -> None:
        self.segments: list[SegmentBook] = []

    def open(self, segment: SegmentBook) -> SegmentBook:
        self.segments.append(segment)
        return segment

    def close(self, end_unix: float) -> None:
        if self.segments and self.segments[-1].end_unix is None:
            self.segments[-1].end_unix = end_unix

    def find(self, unix: float | None) -> SegmentBook | None:
        if unix is None:
            return None
        for segment in reversed(self.segments):
            if segment.holds(unix):
                return segment
        return None

    def add_runs(self, runs: list[dict[str, Any]]) -> None:
        for data in runs:
            segment = self.find(data.get("started_at_unix"))
            if segment is not None:
                segment.book.record_run(RunRecord.from_dict(data))

    def add_conversations(self, conversations: list[dict[str, Any]]) -> None:
        for data in conversations:
            segment = self.find(data.get("started_at_unix"))
            if segment is not None:
                segment.book.record_conversation(ConversationRecord.from_dict(data))

    def add_dropped(self, dropped: list[list[Any]]) -> None:
        """[[scheduled_unix, reason], ...] of arrivals that could not start on time."""
        for unix, reason in dropped:
            segment = self.find(unix)
            if segment is not None:
                segment.dropped[reason] = segment.dropped.get(reason, 0) + 1

    def summaries(self, now_unix: float) -> list[Segment]:
        return [summarize(s, now_unix) for s in self.segments]


def _span(segment: SegmentBook, now_unix: float) -> tuple[float, float]:
    begin = segment.start_unix if segment.measure_from_unix is None else segment.measure_from_unix
    return begin, segment.end_unix if segment.end_unix is not None else now_unix


def segment_summary(segment: SegmentBook, now_unix: float) -> Summary:
    """The segment's own figures as a whole `Summary` (what a search step's SLO is judged on)."""
    begin, end = _span(segment, now_unix)
    return build_summary(segment.book, meta={"started_at": begin, "ended_at": max(end, begin)})


def summarize(segment: SegmentBook, now_unix: float) -> Segment:
    """One segment's figures: load, duration, runs, throughput, percentiles, errors, arrivals."""
    full = segment_summary(segment, now_unix)
    _begin, end = _span(segment, now_unix)
    conversations = full.conversations
    dropped = sum(segment.dropped.values())
    scheduled = conversations.total + dropped
    arrivals = SegmentArrivals(
        scheduled=scheduled,
        started=conversations.total,
        dropped=dropped,
        dropped_by_reason=dict(segment.dropped),
        dropped_rate=round(dropped / scheduled, 6) if scheduled else 0.0,
    )
    return Segment(
        index=segment.index,
        name=segment.name,
        kind=segment.kind,
        load=dict(segment.load),
        started_at=iso_utc(segment.start_unix),
        duration_s=round(end - segment.start_unix, 3),
        measured_s=full.duration_s,
        runs=full.runs,
        conversations=conversations,
        throughput=full.throughput,
        metrics={m: full.metrics[m] for m in SUMMARY_METRICS},
        answers=full.answers,
        goodput=full.goodput,
        arrivals=arrivals if "arrival_rate" in segment.load else None,
        phase=segment.phase,
        slo=segment.slo,
        verdict=segment.verdict,
    )
