"""One unit per load strategy behind one small interface (`LoadStrategy`): what a scenario's
`load: stages`, `load: arrival` and `load: search` do at the start, at every tick of Locust's
shape, and what each adds to summary.json. `control.LoadControl` holds what they share (the
segments, the arrivals' epoch and messages, the end of the test; `PlanContext` is all a strategy
sees of it) and picks the strategy once from the plan. A tick returns a typed decision,
`RunUsers(users, spawn_rate)` or `EndTest(why)`, that the control applies. No locust import and
no import of the rest of locust_plugin: the imports point one way (control -> strategies).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from wxo_load.core.plan import ARRIVAL, SEARCH_USERS, STAGES, LoadPlan, Search
from wxo_load.core.summary_plan import PlanExtras, Segment, StepPhase
from wxo_load.gates.parse import parse_gate
from wxo_load.load.ending import cap_segments
from wxo_load.load.schedule import boundaries, stage_at, stage_segments
from wxo_load.load.search import CapacitySearch, capacity, judge, knee
from wxo_load.load.segments import SegmentBook, SegmentLoad, SegmentLog, segment_summary

log = logging.getLogger("wxo_load")

POOL_SPAWN_RATE = 1000.0  # the arrival model's pool of users is started at once
SETTLE_LOCAL_S = 1.5
SETTLE_DISTRIBUTED_S = 4.0


@dataclass(frozen=True, slots=True)
class RunUsers:
    """A tick's decision: run this many users, started at this rate per second."""

    users: int
    spawn_rate: float


@dataclass(frozen=True, slots=True)
class EndTest:
    """A tick's decision: the plan is over (the test ends), and why."""

    why: str


Decision = RunUsers | EndTest
PLAN_COMPLETE = EndTest("the load plan is complete")


class PlanContext(Protocol):
    """What a strategy sees of the control: the plan, the segments, the clocks, the messages to
    the load-generating processes."""

    plan: LoadPlan
    segments: SegmentLog
    t0: float | None  # the first tick
    epoch: float | None  # the arrivals' schedule start
    is_master: bool

    def arrival_lead_s(self) -> float: ...
    def send_begin(self, segments: list[list[Any]]) -> None: ...
    def send_rate(self, index: int, now: float, rate: float) -> None: ...
    def flush(self) -> None: ...


class LoadStrategy(Protocol):
    def begin(self, now: float, run_time_s: float | None) -> float | None:
        """Open the segments at the first tick; `run_time_s` when the run time ends the test.
        Returns when the run time ends (wall clock), or None."""

    def tick(self, now: float) -> Decision:
        """The users to run now, or the end of the plan."""

    def extras(self, plan: LoadPlan, segments: list[Segment]) -> PlanExtras:
        """The summary.json sections this strategy adds, from the plan and its segments'
        figures (the control adds the open model's arrivals)."""


class StagesLoad:
    """`load: stages`: a number of users per stage, in order."""

    def __init__(self, control: PlanContext) -> None:
        self.control, self.stages = control, control.plan.stages

    def begin(self, now: float, run_time_s: float | None) -> float | None:
        spans = boundaries([s.duration_s for s in self.stages])
        for i, (stage, (start, end)) in enumerate(zip(self.stages, spans, strict=True)):
            if run_time_s is not None and start >= run_time_s:
                break  # the run time ends the test before this stage
            load: SegmentLoad = {"users": stage.users, "spawn_rate": stage.spawn_rate}
            end_unix = None if end is None else now + end
            self.control.segments.open(
                SegmentBook(i, stage.name, "stage", load, now + start, end_unix)
            )
        return None if run_time_s is None else now + run_time_s

    def tick(self, now: float) -> Decision:
        assert self.control.t0 is not None
        index = stage_at(self.stages, now - self.control.t0)
        if index is None:
            return PLAN_COMPLETE
        stage = self.stages[index]
        return RunUsers(stage.users, stage.spawn_rate or float(max(stage.users, 1)))

    def extras(self, plan: LoadPlan, segments: list[Segment]) -> PlanExtras:
        return PlanExtras(plan=plan, stages=segments)


class ArrivalLoad:
    """`load: arrival`: conversations start on a schedule; a pool of users waits for them."""

    def __init__(self, control: PlanContext) -> None:
        assert control.plan.arrival is not None
        self.control, self.arrival = control, control.plan.arrival

    def begin(self, now: float, run_time_s: float | None) -> float | None:
        control = self.control
        control.epoch = epoch = now + control.arrival_lead_s()
        parts = cap_segments(stage_segments(self.arrival.stages), run_time_s)
        for (i, start, end, rate), stage in zip(parts, self.arrival.stages, strict=False):
            end_unix = None if end is None else epoch + end
            load: SegmentLoad = {"arrival_rate": rate}
            control.segments.open(
                SegmentBook(i, stage.name, "stage", load, epoch + start, end_unix)
            )
        control.send_begin([list(p) for p in parts])
        return None if run_time_s is None else epoch + run_time_s

    def tick(self, now: float) -> Decision:
        assert self.control.epoch is not None
        duration = self.arrival.duration_s
        if duration is not None and now >= self.control.epoch + duration:
            return PLAN_COMPLETE
        return RunUsers(self.arrival.max_concurrent, POOL_SPAWN_RATE)

    def extras(self, plan: LoadPlan, segments: list[Segment]) -> PlanExtras:
        return PlanExtras(plan=plan, stages=segments)


class SearchLoad:
    """`load: search`: the capacity search, one step (a load held `hold`) at a time, each judged
    against the SLO once `settle_s` more has passed at the same load."""

    def __init__(self, control: PlanContext, spec: Search) -> None:
        self.control, self.spec = control, spec
        self.slo = [parse_gate(t, where="load.search.slo") for t in spec.slo]
        self.search = CapacitySearch(spec)
        self.step: SegmentBook | None = None
        self.step_end: float | None = None

    def begin(self, now: float, run_time_s: float | None) -> float | None:
        return None if run_time_s is None else now + run_time_s

    def tick(self, now: float) -> Decision:
        if self.step is None:
            self._open_step(now, self.search.first_load())
        assert self.step is not None
        if self.step_end is None and now >= self.step.start_unix + self.spec.hold_s:
            self.step_end = self.step.end_unix = now
        if self.step_end is not None and now >= self.step_end + self._settle_s():
            following = self._judge_step(now)
            if following is None:
                return PLAN_COMPLETE
            self._open_step(now, following)
        return self._step_load()

    def extras(self, plan: LoadPlan, segments: list[Segment]) -> PlanExtras:
        steps = [s for s in segments if s.verdict is not None]
        return PlanExtras(plan=plan, search_steps=steps, capacity=capacity(steps, self.spec),
                          knee=knee(steps, self.spec.kind))  # fmt: skip

    def _settle_s(self) -> float:
        return SETTLE_DISTRIBUTED_S if self.control.is_master else SETTLE_LOCAL_S

    def _step_load(self) -> RunUsers:
        assert self.step is not None
        if self.spec.kind == SEARCH_USERS:
            users = int(self.step.load["users"] or 0)
            return RunUsers(users, self.spec.spawn_rate or float(max(users, 1)))
        assert self.control.plan.arrival is not None
        return RunUsers(self.control.plan.arrival.max_concurrent, POOL_SPAWN_RATE)

    def _open_step(self, now: float, load: float) -> None:
        spec, segments = self.spec, self.control.segments
        index = len(segments.segments)
        phase: StepPhase = "refine" if self.search.refining else "sweep"
        value: float | int = int(load) if spec.kind == SEARCH_USERS else load
        label = f"{value} users" if spec.kind == SEARCH_USERS else f"{value:g}/s"
        self.step = segments.open(
            SegmentBook(index, f"step {index + 1} ({label})", "step", {spec.kind: value}, now,
                        None, now + spec.warmup_s, phase=phase)
        )  # fmt: skip
        self.step_end = None
        if spec.kind != SEARCH_USERS:
            self._start_rate(index, now, load)

    def _judge_step(self, now: float) -> float | None:
        assert self.step is not None
        self.control.flush()  # local runner: the last second's records
        passed, verdicts = judge(self.slo, segment_summary(self.step, now))
        self.step.verdict, self.step.slo = ("pass" if passed else "fail"), verdicts
        log.info(
            "wxo-load: %s %s the SLO (%s)",
            self.step.name,
            "met" if passed else "broke",
            "; ".join(f"{v.gate}: {v.measured}" for v in verdicts),
        )
        return self.search.next_load(float(self.step.load[self.spec.kind] or 0.0), passed)

    def _start_rate(self, index: int, now: float, rate: float) -> None:
        control = self.control
        if control.epoch is not None:
            control.send_rate(index, now, rate)
            return
        control.epoch = now + control.arrival_lead_s()
        assert self.step is not None  # the first rate step starts when the schedule does
        self.step.start_unix = control.epoch
        self.step.measure_from_unix = control.epoch + self.spec.warmup_s
        control.send_begin([[index, 0.0, None, rate]])


def strategy_for(control: PlanContext) -> LoadStrategy:
    """The strategy the plan asks for, chosen once."""
    plan = control.plan
    if plan.mode == STAGES:
        return StagesLoad(control)
    if plan.mode == ARRIVAL:
        return ArrivalLoad(control)
    assert plan.search is not None
    return SearchLoad(control, plan.search)
