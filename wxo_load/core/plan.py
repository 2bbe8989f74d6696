"""The load plan of a scenario: closed stages, an open arrival model, or a capacity search.

One model, three uses: `wxo_load.config.load` validates a scenario's `load:` into it, it travels
to workers inside the scenario, and summary.json states it as `plan` (schema wxo-load/summary/v2).
Frozen msgspec Structs: encoded with `msgspec.to_builtins`, decoded with `msgspec.convert`; a key
that is not a field is an error. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

PlanMode = Literal["stages", "arrival", "search"]
ArrivalProcess = Literal["poisson", "constant"]
SearchKind = Literal["users", "arrival_rate"]

STAGES: Final = "stages"
ARRIVAL: Final = "arrival"
SEARCH: Final = "search"
POISSON: Final = "poisson"
CONSTANT: Final = "constant"
SEARCH_USERS: Final = "users"
SEARCH_RATE: Final = "arrival_rate"


class PlanPart(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The base of the plan's parts: frozen; a key that is not a field fails to decode."""


class Stage(PlanPart, frozen=True):
    """A closed-model stage: hold `users` for `duration_s`, reaching them at `spawn_rate`/s."""

    name: str
    duration_s: float
    users: int
    spawn_rate: float | None = None  # None: all at once


class RateStage(PlanPart, frozen=True):
    """An open-model stage: start `rate_per_s` conversations a second for `duration_s`."""

    name: str
    duration_s: float | None  # None: until the test ends (only the last stage)
    rate_per_s: float


class Arrival(PlanPart, frozen=True):
    """The open model: its rate stages, how arrivals are spaced, and the pool of users."""

    stages: tuple[RateStage, ...]
    process: ArrivalProcess = POISSON
    max_concurrent: int = 100  # conversations in flight at once (the pool of Locust users)
    tolerance_s: float = 1.0  # an arrival started later than this is dropped
    seed: int = 1

    @property
    def duration_s(self) -> float | None:
        if any(s.duration_s is None for s in self.stages):
            return None
        return sum(s.duration_s or 0.0 for s in self.stages)


class Search(PlanPart, frozen=True):
    """Step the load up from `start` by `step` to `max`, hold each step, judge it by `slo`."""

    kind: SearchKind
    start: float
    step: float
    max: float
    slo: tuple[str, ...]
    hold_s: float = 20.0
    warmup_s: float = 5.0  # not measured at the start of each step
    resolution: float = 1.0  # refine until the bracket is this narrow
    spawn_rate: float | None = None  # users: how fast to reach each step (None: at once)


class LoadPlan(PlanPart, frozen=True):
    """The load plan the test runs (a scenario's `load:` and its flags)."""

    mode: PlanMode
    stages: tuple[Stage, ...] = ()
    arrival: Arrival | None = None
    search: Search | None = None

    @property
    def duration_s(self) -> float | None:
        """How long the plan runs from its start; None when it has no end of its own (an
        open-ended arrival stage, a capacity search, whose steps depend on its verdicts)."""
        if self.mode == STAGES:
            return sum(s.duration_s for s in self.stages)
        if self.mode == ARRIVAL and self.arrival is not None:
            return self.arrival.duration_s
        return None


def planned_duration_s(plan: LoadPlan | None, run_time_s: float | None) -> float | None:
    """How long a test is planned to run: the run time or the plan's end, whichever is first;
    None when neither is known (the test ends when someone stops it)."""
    known = [d for d in (run_time_s or None, plan.duration_s if plan else None) if d is not None]
    return min(known) if known else None
