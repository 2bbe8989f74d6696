"""summary.json's load-plan parts as typed data: the plan, its stages or capacity-search steps,
the search's capacity and knee, the open model's arrivals (schema wxo-load/summary/v2)."""

from __future__ import annotations

from wxo_load.core.summary_sections import Answers, Goodput, Model, Outcomes, Stat, Throughput


class SegmentArrivals(Model, frozen=True, kw_only=True):
    """A stage's or search step's arrivals: scheduled, started, dropped (and why)."""

    scheduled: int
    started: int
    dropped: int
    dropped_by_reason: dict[str, int] = {}
    dropped_rate: float = 0.0


class SloVerdict(Model, frozen=True, kw_only=True):
    """One SLO of a capacity search step, judged."""

    gate: str
    passed: bool
    measured: str | None = None
    reason: str | None = None


class Segment(Model, frozen=True, kw_only=True):
    """A stage, or a step of the capacity search: its load and its own figures."""

    index: int
    name: str
    kind: str
    load: dict[str, int | float | None]  # users / spawn_rate, or arrival_rate
    started_at: str | None
    duration_s: float
    measured_s: float | None
    runs: Outcomes
    conversations: Outcomes
    throughput: Throughput
    metrics: dict[str, Stat]
    answers: Answers | None = None
    goodput: Goodput | None = None
    arrivals: SegmentArrivals | None = None
    phase: str | None = None  # search steps: probe | bisect | ...
    slo: list[SloVerdict] | None = None  # search steps
    verdict: str | None = None  # search steps: pass | fail


class Capacity(Model, frozen=True, kw_only=True):
    """The capacity search's answer: the highest load that met the SLO, with its figures."""

    step: int
    users: int | None = None
    arrival_rate: float | None = None
    broke_at: dict[str, float] | None = None
    limited_by: str
    runs_per_s: float
    conversations_per_s: float
    error_rate: float
    wrong_answer_rate: float | None = None
    goodput_runs_per_s: float | None = None
    metrics: dict[str, Stat | None] = {}
    slo: list[str] = []


class Knee(Model, frozen=True, kw_only=True):
    """The highest load up to which each added unit of load still added throughput."""

    users: int | None = None
    arrival_rate: float | None = None
    runs_per_s: float


class Arrivals(Model, frozen=True, kw_only=True):
    """The open model's arrivals over the whole test, and how late they started."""

    process: str
    max_concurrent: int | None = None
    tolerance_s: float | None = None
    scheduled: int
    started: int
    dropped: int
    dropped_by_reason: dict[str, int] = {}
    dropped_rate: float = 0.0
    dropped_per_s: float = 0.0
    arrival_lag: Stat | None = None


class PlanStage(Model, frozen=True, kw_only=True):
    name: str
    duration_s: float | None = None
    users: int | None = None
    spawn_rate: float | None = None
    rate_per_s: float | None = None


class PlanArrival(Model, frozen=True, kw_only=True):
    process: str
    stages: list[PlanStage]
    max_concurrent: int | None = None
    tolerance_s: float | None = None
    seed: int | None = None


class PlanSearch(Model, frozen=True, kw_only=True):
    kind: str
    start: float
    step: float
    max: float
    resolution: float | None = None
    hold_s: float | None = None
    warmup_s: float | None = None
    spawn_rate: float | None = None
    slo: list[str] = []


class Plan(Model, frozen=True, kw_only=True):
    """The load plan the test ran (scenario `load:` and its flags)."""

    mode: str
    stages: list[PlanStage] = []
    arrival: PlanArrival | None = None
    search: PlanSearch | None = None
