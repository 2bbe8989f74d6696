"""summary.json's load-plan parts as typed data: its stages or capacity-search steps, the
search's capacity and knee, the open model's arrivals (schema wxo-load/summary/v2). The plan
itself is `core.plan.LoadPlan`, the one model `load/`, the workers and the summary share."""

from __future__ import annotations

from typing import Literal

from wxo_load.core.plan import LoadPlan
from wxo_load.core.summary_sections import Answers, Goodput, Model, Outcomes, Stat, Throughput

SegmentKind = Literal["stage", "step"]
StepPhase = Literal["sweep", "refine"]
"""A search step's phase: stepping up from the start, or bisecting once a step broke the SLO."""
Verdict = Literal["pass", "fail"]


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
    kind: SegmentKind
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
    phase: StepPhase | None = None  # search steps
    slo: list[SloVerdict] | None = None  # search steps
    verdict: Verdict | None = None  # search steps


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


class PlanExtras(Model, frozen=True, kw_only=True):
    """The sections a load plan lays over a summary (`PlanSections.summary_extras`): each is
    the `Summary` field of the same name; the ones a plan does not have stay None."""

    plan: LoadPlan | None = None
    stages: list[Segment] | None = None
    search_steps: list[Segment] | None = None
    capacity: Capacity | None = None
    knee: Knee | None = None
    arrivals: Arrivals | None = None
