"""People who leave before the answer ends: who leaves which run, and when.

    abandon:   {share: 10%, at: first_text}   # closes the connection mid-answer (the tab closed)
    cancel:    {share: 5%, at: 2s}            # closes it and posts `<runs>/cancel/{run_id}`
    interrupt: {share: 5%, at: [1s, 5s]}      # closes it and sends the next message at once

Pure: the caller passes the random generator. A run is left by at most one kind: the kinds are
tried in the order above, each with its own share. `at` is `first_text` (the moment the first
text arrives) or seconds after the request was written (one value, or a [low, high] range
sampled per run).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ABANDON = "abandon"
CANCEL = "cancel"
INTERRUPT = "interrupt"
KINDS = (ABANDON, CANCEL, INTERRUPT)
FIRST_TEXT = "first_text"
LEAVING_CHANNELS = ("runs-stream",)
"""The channels whose people can leave mid-answer in this version (wxo_load.core.channels)."""


@dataclass(frozen=True, slots=True)
class LeaveRule:
    """One kind of leaving: how many runs (`share`, 0..1) and when (`at_s` or at first text)."""

    share: float
    at_first_text: bool = False
    at_s: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class LeaveAt:
    """This run's person leaves: how (`kind`) and when (at first text, else `after_s`)."""

    kind: str
    at_first_text: bool
    after_s: float


@dataclass(frozen=True, slots=True)
class Leaving:
    """A scenario's (or persona's) `abandon`, `cancel` and `interrupt`; None: nobody does."""

    abandon: LeaveRule | None = None
    cancel: LeaveRule | None = None
    interrupt: LeaveRule | None = None

    @property
    def any(self) -> bool:
        return self.abandon is not None or self.cancel is not None or self.interrupt is not None

    def decide(self, rng: random.Random, *, has_next: bool) -> LeaveAt | None:
        """Whether this run's person leaves and how; `interrupt` only when a message follows."""
        for kind in KINDS:
            rule: LeaveRule | None = getattr(self, kind)
            if rule is None or (kind == INTERRUPT and not has_next):
                continue
            if rng.random() < rule.share:
                low, high = rule.at_s
                after_s = low if low == high else rng.uniform(low, high)
                return LeaveAt(kind, rule.at_first_text, after_s)
        return None


__all__ = [
    "ABANDON",
    "CANCEL",
    "FIRST_TEXT",
    "INTERRUPT",
    "KINDS",
    "LEAVING_CHANNELS",
    "LeaveAt",
    "LeaveRule",
    "Leaving",
]
