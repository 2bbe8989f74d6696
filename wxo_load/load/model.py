"""The load plan of a scenario: closed stages, an open arrival model, or a capacity search.

Frozen data, validated once by `wxo_load.config.load`, carried to workers with `to_wire()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

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


@dataclass(frozen=True, slots=True)
class Stage:
    """A closed-model stage: hold `users` for `duration_s`, reaching them at `spawn_rate`/s."""

    name: str
    duration_s: float
    users: int
    spawn_rate: float | None = None  # None: all at once


@dataclass(frozen=True, slots=True)
class RateStage:
    """An open-model stage: start `rate_per_s` conversations a second for `duration_s`."""

    name: str
    duration_s: float | None  # None: until the test ends (only the last stage)
    rate_per_s: float


@dataclass(frozen=True, slots=True)
class Arrival:
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


@dataclass(frozen=True, slots=True)
class Search:
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


@dataclass(frozen=True, slots=True)
class LoadPlan:
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

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = _plain(asdict(self))
        return wire

    @classmethod
    def from_wire(cls, d: dict[str, Any] | None) -> LoadPlan | None:
        if not d:
            return None
        arrival = d.get("arrival")
        search = d.get("search")
        return cls(
            mode=d["mode"],
            stages=tuple(Stage(**s) for s in d.get("stages") or ()),
            arrival=Arrival(
                **{**arrival, "stages": tuple(RateStage(**s) for s in arrival["stages"])}
            )
            if arrival
            else None,
            search=Search(**{**search, "slo": tuple(search["slo"])}) if search else None,
        )


def planned_duration_s(plan: LoadPlan | None, run_time_s: float | None) -> float | None:
    """How long a test is planned to run: the run time or the plan's end, whichever is first;
    None when neither is known (the test ends when someone stops it)."""
    known = [d for d in (run_time_s or None, plan.duration_s if plan else None) if d is not None]
    return min(known) if known else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
