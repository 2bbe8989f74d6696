"""Then versus now: a replayed run's agent time next to what the capture recorded. Mergeable.

A `ReplayBook` is part of every `MetricsBook` (`book.replay`). A run of a replayed turn carries
its conversation's id (`RunRecord.source_id`) and the turn's recorded agent time
(`RunRecord.recorded_agent_ms`: from the user message to the assistant's last message, as the
tenant stored them). Its measured counterpart is the run's `message_created_ms` (the request to
the assistant message's `message.created`; `total_ms` when there was none). Only runs that ended
`ok` count. summary.json gains, for a replay:

    replay: {conversations, turns,
             recorded_agent_ms: {p50, p95}, measured_agent_ms: {p50, p95},
             ratio_p50, ratio_p95,                      measured / recorded at each percentile
             per_conversation: [{id, turns, recorded_ms, measured_ms, ratio}]}  (first 500)
"""

from __future__ import annotations

from typing import Any

import msgspec

from wxo_load.core.hdr import Timing, TimingWire
from wxo_load.core.records import OK, RunRecord

MAX_LISTED = 500


class ConversationSums(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """One replayed conversation's sums on the wire."""

    turns: int
    recorded_ms: float
    measured_ms: float


class ReplayWire(msgspec.Struct, forbid_unknown_fields=True):
    """A `ReplayBook` on the wire (inside a `BookWire`)."""

    recorded: TimingWire
    measured: TimingWire
    by_conversation: dict[str, ConversationSums]


class ReplayBook:
    __slots__ = ("recorded", "measured", "by_conversation")

    def __init__(self) -> None:
        self.recorded = Timing()
        self.measured = Timing()
        # conversation id -> [turns, recorded ms, measured ms]
        self.by_conversation: dict[str, list[float]] = {}

    def record(self, run: RunRecord) -> None:
        recorded = run.recorded_agent_ms
        measured = run.message_created_ms if run.message_created_ms is not None else run.total_ms
        if recorded is None or measured is None or run.outcome != OK or run.source_id is None:
            return
        self.recorded.record(recorded)
        self.measured.record(measured)
        sums = self.by_conversation.setdefault(run.source_id, [0, 0.0, 0.0])
        sums[0] += 1
        sums[1] += recorded
        sums[2] += measured

    def merge(self, other: ReplayBook) -> None:
        self.recorded.merge(other.recorded)
        self.measured.merge(other.measured)
        self._add(other.by_conversation)

    def _add(self, by_conversation: dict[str, list[float]]) -> None:
        for key, (turns, recorded, measured) in by_conversation.items():
            sums = self.by_conversation.setdefault(key, [0, 0.0, 0.0])
            sums[0] += turns
            sums[1] += recorded
            sums[2] += measured

    def packed(self) -> ReplayWire | None:
        """This book on the wire (a worker's report); None when no replayed turn was measured."""
        if not self.by_conversation:
            return None
        return ReplayWire(
            self.recorded.packed(),
            self.measured.packed(),
            {k: ConversationSums(int(t), r, m) for k, (t, r, m) in self.by_conversation.items()},
        )

    def merge_packed(self, wire: ReplayWire | None) -> None:
        """Add a book read from the wire (ValueError: a damaged histogram)."""
        if wire is None:
            return
        self.recorded.merge(Timing.unpack(wire.recorded))
        self.measured.merge(Timing.unpack(wire.measured))
        self._add({key: [s.turns, s.recorded_ms, s.measured_ms]
                   for key, s in wire.by_conversation.items()})  # fmt: skip

    def summary(self) -> dict[str, Any]:
        """`{"replay": {...}}`, or {} when no replayed turn was measured."""
        if not self.by_conversation:
            return {}
        recorded = self.recorded.percentiles_ms((50, 95))
        measured = self.measured.percentiles_ms((50, 95))
        rows = [
            {"id": key, "turns": int(turns), "recorded_ms": round(rec, 3),
             "measured_ms": round(mea, 3), "ratio": _ratio(mea, rec)}
            for key, (turns, rec, mea) in sorted(self.by_conversation.items())
        ]  # fmt: skip
        return {
            "replay": {
                "conversations": len(rows),
                "turns": self.recorded.count,
                "recorded_agent_ms": {"p50": recorded[0], "p95": recorded[1]},
                "measured_agent_ms": {"p50": measured[0], "p95": measured[1]},
                "ratio_p50": _ratio(measured[0], recorded[0]),
                "ratio_p95": _ratio(measured[1], recorded[1]),
                "per_conversation": rows[:MAX_LISTED],
            }
        }


def _ratio(now: float | None, then: float | None) -> float | None:
    return round(now / then, 4) if now is not None and then else None
