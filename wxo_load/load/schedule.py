"""Schedule math: which stage a moment falls in, and when each arrival of an open model is due.

Pure: times are seconds from the test's (or segment's) start, passed in by the caller.

Arrivals are generated per *segment* of constant rate (an arrival stage, or one step of a
rate search), each from its own seeded generator, so every load-generating process computes the
same shared schedule and process `slot` of `processes` takes every `processes`-th arrival: the
totals add up whatever the number of workers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wxo_load.core.plan import CONSTANT, RateStage, Stage


def boundaries(durations: Sequence[float | None]) -> list[tuple[float, float | None]]:
    """[(start_s, end_s)] of consecutive stages; an open-ended stage has end None."""
    out: list[tuple[float, float | None]] = []
    t = 0.0
    for duration in durations:
        end = None if duration is None else t + duration
        out.append((t, end))
        t = end if end is not None else t
    return out


def stage_at(stages: Sequence[Stage], elapsed_s: float) -> int | None:
    """Index of the stage running `elapsed_s` into the test, or None once every stage is over."""
    for index, (_start, end) in enumerate(boundaries([s.duration_s for s in stages])):
        if end is None or elapsed_s < end:
            return index
    return None


@dataclass(frozen=True, slots=True)
class Due:
    """One arrival: its number in its segment, when it is due (s from the epoch), its segment."""

    number: int
    at_s: float
    segment: int


def segment_arrivals(
    segment: int, start_s: float, end_s: float | None, rate_per_s: float, process: str, seed: int
) -> Iterator[Due]:
    """Every arrival of one constant-rate segment, in order (endless when end_s is None)."""
    if rate_per_s <= 0:
        return
    rng = random.Random(f"{seed}-{segment}")
    number = 0
    t = start_s if process == CONSTANT else start_s + rng.expovariate(rate_per_s)
    while end_s is None or t < end_s:
        yield Due(number, t, segment)
        number += 1
        t = (
            start_s + number / rate_per_s
            if process == CONSTANT
            else t + rng.expovariate(rate_per_s)
        )


def stage_segments(stages: Sequence[RateStage]) -> list[tuple[int, float, float | None, float]]:
    """(segment, start_s, end_s, rate) of each arrival stage."""
    spans = boundaries([s.duration_s for s in stages])
    return [
        (i, start, end, s.rate_per_s)
        for i, (s, (start, end)) in enumerate(zip(stages, spans, strict=True))
    ]


def my_share(arrivals: Iterator[Due], slot: int, processes: int) -> Iterator[Due]:
    """The arrivals one process of `processes` takes: every `processes`-th, from `slot`."""
    for due in arrivals:
        if due.number % processes == slot:
            yield due
