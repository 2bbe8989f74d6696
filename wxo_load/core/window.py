"""The measured window of a test: a warm-up cut from its start, a cool-down from its planned end.

Pure: no clock (every time is unix seconds passed in). A run or a conversation is classified
once, when it ends, by the process that measured it (`MeasuredWindow.classify`):

- `warmup`: it *started* before `load_start + warmup_s`;
- `cooldown`: it *ended* after `planned_end - cooldown_s` (only with a cool-down and a known
  planned end). A record is booked when it ends, so the check needs nothing held back: a run
  that ends after the boundary was never booked;
- `measured`: every other one. Only these go into a `MetricsBook`'s figures; the others are
  counted by window (`MetricsBook.book_run`) and still written to the record files.

A record started in the warm-up that also ends in the cool-down is `warmup` (its start decides
first). The boundaries are the master's: it sends its window to the workers at test start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wxo_load.core.summary_sections import Window

WARMUP = "warmup"
MEASURED = "measured"
COOLDOWN = "cooldown"
EXCLUDED_WINDOWS = (WARMUP, COOLDOWN)


@dataclass(frozen=True, slots=True)
class MeasuredWindow:
    """`load_start_unix`: when the load began (None: no test, nothing is excluded);
    `planned_end_unix`: when the test is planned to end (None: unknown, no cool-down)."""

    load_start_unix: float | None = None
    warmup_s: float = 0.0
    cooldown_s: float = 0.0
    planned_end_unix: float | None = None

    @property
    def start_unix(self) -> float | None:
        """The first moment a record may start and be measured."""
        if self.load_start_unix is None:
            return None
        return self.load_start_unix + self.warmup_s

    @property
    def end_unix(self) -> float | None:
        """The last moment a record may end and be measured (None: no cool-down applies)."""
        if self.planned_end_unix is None or self.cooldown_s <= 0:
            return None
        return self.planned_end_unix - self.cooldown_s

    @property
    def cooldown_applies(self) -> bool:
        return self.end_unix is not None

    def classify(self, started_at_unix: float, ended_at_unix: float) -> str:
        start = self.start_unix
        if self.warmup_s > 0 and start is not None and started_at_unix < start:
            return WARMUP
        end = self.end_unix
        if end is not None and ended_at_unix > end:
            return COOLDOWN
        return MEASURED

    def classify_record(self, started_at_unix: float, total_ms: float | None) -> str:
        """A run or conversation record: its end is its start plus `total_ms`."""
        return self.classify(started_at_unix, started_at_unix + (total_ms or 0.0) / 1000.0)

    # -- summary.json ----------------------------------------------------------------------

    def measured_span(
        self, started_unix: float | None, ended_unix: float | None
    ) -> tuple[float | None, float | None]:
        """(start, end) unix of what was measured, for a test that ran from `started_unix` to
        `ended_unix`: the whole test but for a warm-up and a cool-down that applied."""
        start = self.start_unix if self.warmup_s > 0 else started_unix
        end = self.end_unix
        if end is None or (ended_unix is not None and ended_unix < end):
            end = ended_unix
        if start is not None and end is not None and end < start:
            end = start  # the test ended inside its warm-up: nothing was measured
        return start, end

    def summary(
        self,
        started_unix: float | None,
        ended_unix: float | None,
        excluded: dict[str, dict[str, int]],
    ) -> dict[str, Any]:
        """summary.json's `window`: what was measured and how many records were left out."""
        start, end = self.measured_span(started_unix, ended_unix)
        return {  # unix times unrounded: a script can classify records exactly as the test did
            "start_unix": start,
            "end_unix": end,
            "duration_s": _round(end - start) if start is not None and end is not None else None,
            "warmup_s": self.warmup_s,
            "cooldown_s": self.cooldown_s,
            "load_start_unix": self.load_start_unix,
            "planned_end_unix": self.planned_end_unix,
            "cooldown_applied": self.cooldown_applies,
            "excluded": {
                kind: {w: int(counts.get(w, 0)) for w in EXCLUDED_WINDOWS}
                for kind, counts in excluded.items()
            },
        }


def window_text(window: Window | None) -> str:
    """One sentence for people (summary.md, the report): what was measured and left out; ''
    when the whole test was measured."""
    if window is None or not (window.warmup_s or window.cooldown_applied):
        return ""
    parts = []
    for name, label, seconds in ((WARMUP, "warm-up", window.warmup_s),
                                 (COOLDOWN, "cool-down", window.cooldown_s)):  # fmt: skip
        if seconds and (name == WARMUP or window.cooldown_applied):
            runs = getattr(window.excluded.get("runs"), name, 0)
            convs = getattr(window.excluded.get("conversations"), name, 0)
            parts.append(f"{label} {seconds:g} s ({runs} runs, {convs} conversations)")
    duration = window.duration_s
    span = f" {duration:g} s" if duration is not None else ""
    return f"Measured window{span}: left out the " + " and the ".join(parts) + "."


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def measured(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records (run or conversation dicts) of the measured window."""
    return [r for r in records if r.get("window", MEASURED) == MEASURED]
