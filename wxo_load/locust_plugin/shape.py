"""Stages, the arrival model's pool and the capacity search, run by one Locust LoadTestShape.

`LoadTestShape.tick()` runs on the master (or the local runner) only, once a second, so the
same shape drives a headless test, the web UI and a distributed test. `LoadControl` holds the
plan and the master's view of it: the segments (stages or steps) whose figures are kept apart,
the search's decisions, the dropped arrivals the workers report. The shape is installed in
Locust's `init` when the scenario has `load: stages | arrival | search` (a locustfile cannot
know the scenario before), so a plain scenario keeps Locust's own -u / -r / -t.

Timing: every boundary is wall-clock (`time.time()`) on the master. A stage's segment spans its
planned times from the first tick; a search step is [start + warmup, end) and is judged once
`settle_s` more has passed at the same load, so that runs started near its end have finished
and reached the master (workers report every 3 s) before the verdict.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from locust import LoadTestShape

from wxo_load.core.window import measured
from wxo_load.gates.parse import parse_gate
from wxo_load.load.ending import RUN_TIME, cap_segments, decide_end
from wxo_load.load.model import ARRIVAL, SEARCH, SEARCH_USERS, STAGES, LoadPlan
from wxo_load.load.schedule import boundaries, stage_at, stage_segments
from wxo_load.load.search import CapacitySearch, capacity, judge, knee
from wxo_load.load.segments import Segment, SegmentLog, segment_summary

if TYPE_CHECKING:
    from wxo_load.locust_plugin.harness import Harness

log = logging.getLogger("wxo_load")

POOL_SPAWN_RATE = 1000.0  # the arrival model's pool of users is started at once
ARRIVAL_LEAD_S = 1.0  # the schedule starts this long after the first tick (the pool exists)
ARRIVAL_LEAD_DISTRIBUTED_S = 2.5
SETTLE_LOCAL_S = 1.5
SETTLE_DISTRIBUTED_S = 4.0
MESSAGE_BEGIN = "wxo_arrivals"
MESSAGE_RATE = "wxo_rate"


class WxoShape(LoadTestShape):
    """Locust's shape hook; everything it decides comes from `LoadControl.tick()`, whose clock
    starts at its first tick (Locust calls `reset_time()` again inside that tick's `start()` on a
    master, so the control is reset when a test stops instead)."""

    # Locust starts no -t timer for a shape test (it waits for the shape to end), so the run
    # time is applied by LoadControl; this only keeps Locust from warning that -t is ignored.
    use_common_options = True

    def __init__(self, control: LoadControl) -> None:
        super().__init__()
        self.control = control

    def tick(self) -> tuple[int, float] | None:
        return self.control.tick(time.time())


class LoadControl:
    def __init__(self, harness: Harness, plan: LoadPlan) -> None:
        self.harness = harness
        self.plan = plan
        self.slo = (
            [parse_gate(t, where="load.search.slo") for t in plan.search.slo] if plan.search else []
        )
        self.reset()

    def reset(self) -> None:
        self.segments = SegmentLog()
        self.t0: float | None = None
        self.epoch: float | None = None
        self.dropped: dict[str, int] = {}
        self.scheduled = 0  # arrivals the processes reached so far (started or dropped)
        self.search = CapacitySearch(self.plan.search) if self.plan.search else None
        self.step: Segment | None = None
        self.step_end: float | None = None
        self.end_at: float | None = None  # the run time's end (wall clock), when it ends the test
        self.done = False

    def install(self) -> None:
        env = self.harness.env
        shape = WxoShape(self)
        shape.runner = env.runner
        env.shape_class = shape

    @property
    def pool(self) -> int:
        assert self.plan.arrival is not None
        return self.plan.arrival.max_concurrent

    # -- ticks -----------------------------------------------------------------------------

    def tick(self, now: float) -> tuple[int, float] | None:
        if self.done:
            return None
        if self.t0 is None:
            self.t0 = now
            self._begin(now)
        if self.end_at is not None and now >= self.end_at:
            return self._end("the run time is over")
        if self.plan.mode == STAGES:
            return self._stages_tick(now)
        if self.plan.mode == ARRIVAL:
            duration = self.plan.arrival.duration_s if self.plan.arrival else None
            assert self.epoch is not None
            if duration is not None and now >= self.epoch + duration:
                return self._end("the load plan is complete")
            return self.pool, POOL_SPAWN_RATE
        return self._search_tick(now)

    def _begin(self, now: float) -> None:
        run_time_s, run_time_from = self.harness.session.run_time()
        ending = decide_end(self.plan, run_time_s, run_time_from)
        if ending.message:
            (log.warning if ending.warning else log.info)("wxo-load: %s", ending.message)
        self._begin_plan(now, ending.after_s if ending.by == RUN_TIME else None)

    def _begin_plan(self, now: float, run_time_s: float | None) -> None:
        """Open the segments; `run_time_s` is set when the run time ends the test (counted from
        the first tick, or for an arrival model from its schedule's start)."""
        if self.plan.mode == STAGES:
            if run_time_s is not None:
                self.end_at = now + run_time_s
            self._open_stages(now, run_time_s)
        elif self.plan.mode == ARRIVAL:
            self._open_arrival(now, run_time_s)
        elif run_time_s is not None:
            self.end_at = now + run_time_s

    def _open_stages(self, now: float, run_time_s: float | None) -> None:
        spans = boundaries([s.duration_s for s in self.plan.stages])
        for i, (stage, (start, end)) in enumerate(zip(self.plan.stages, spans, strict=True)):
            if run_time_s is not None and start >= run_time_s:
                break  # the run time ends the test before this stage
            load = {"users": stage.users, "spawn_rate": stage.spawn_rate}
            self.segments.open(
                Segment(
                    i, stage.name, "stage", load, now + start, None if end is None else now + end
                )
            )

    def _open_arrival(self, now: float, run_time_s: float | None) -> None:
        assert self.plan.arrival is not None
        lead = ARRIVAL_LEAD_DISTRIBUTED_S if self.harness.is_master else ARRIVAL_LEAD_S
        self.epoch = epoch = now + lead
        if run_time_s is not None:
            self.end_at = epoch + run_time_s
        parts = cap_segments(stage_segments(self.plan.arrival.stages), run_time_s)
        for (i, start, end, rate), rate_stage in zip(parts, self.plan.arrival.stages, strict=False):
            self.segments.open(
                Segment(
                    i,
                    rate_stage.name,
                    "stage",
                    {"arrival_rate": rate},
                    epoch + start,
                    None if end is None else epoch + end,
                )
            )
        self._send_begin([list(p) for p in parts])

    def _stages_tick(self, now: float) -> tuple[int, float] | None:
        assert self.t0 is not None
        index = stage_at(self.plan.stages, now - self.t0)
        if index is None:
            return self._end("the load plan is complete")
        stage = self.plan.stages[index]
        return stage.users, stage.spawn_rate or float(max(stage.users, 1))

    def _end(self, why: str) -> tuple[int, float] | None:
        self.done = True
        if self.plan.mode != SEARCH and self.segments.segments:
            self.segments.segments[
                -1
            ].end_unix = None  # what starts while the users stop counts here
        log.info("wxo-load: %s; stopping the test", why)
        return None

    # -- the capacity search ---------------------------------------------------------------

    def _search_tick(self, now: float) -> tuple[int, float] | None:
        assert self.search is not None
        spec = self.search.spec
        if self.step is None:
            self._open_step(now, self.search.first_load())
        assert self.step is not None
        if self.step_end is None and now >= self.step.start_unix + spec.hold_s:
            self.step_end = now
            self.step.end_unix = now
        if self.step_end is not None and now >= self.step_end + self._settle_s():
            following = self._judge_step(now)
            if following is None:
                return self._end("the load plan is complete")
            self._open_step(now, following)
        return self._step_load()

    def _settle_s(self) -> float:
        return SETTLE_DISTRIBUTED_S if self.harness.is_master else SETTLE_LOCAL_S

    def _step_load(self) -> tuple[int, float]:
        assert self.search is not None and self.step is not None
        if self.search.spec.kind == SEARCH_USERS:
            users = int(self.step.load["users"])
            return users, self.search.spec.spawn_rate or float(max(users, 1))
        return self.pool, POOL_SPAWN_RATE

    def _open_step(self, now: float, load: float) -> None:
        assert self.search is not None
        spec = self.search.spec
        index = len(self.segments.segments)
        phase = "refine" if self.search.refining else "sweep"
        value: float | int = int(load) if spec.kind == SEARCH_USERS else load
        label = f"{value} users" if spec.kind == SEARCH_USERS else f"{value:g}/s"
        self.step = self.segments.open(
            Segment(
                index,
                f"step {index + 1} ({label})",
                "step",
                {spec.kind: value},
                now,
                None,
                now + spec.warmup_s,
                extra={"phase": phase},
            )
        )
        self.step_end = None
        if spec.kind != SEARCH_USERS:
            self._start_rate(index, now, load)

    def _judge_step(self, now: float) -> float | None:
        assert self.search is not None and self.step is not None
        self.harness.flush()  # local runner: the last second's records
        passed, verdicts = judge(self.slo, segment_summary(self.step, now))
        self.step.extra.update(verdict="pass" if passed else "fail", slo=verdicts)
        load = float(self.step.load[self.search.spec.kind])
        log.info(
            "wxo-load: %s %s the SLO (%s)",
            self.step.name,
            "met" if passed else "broke",
            "; ".join(f"{v['gate']}: {v['measured']}" for v in verdicts),
        )
        return self.search.next_load(load, passed)

    # -- arrivals: messages to the load-generating processes -------------------------------

    def _start_rate(self, index: int, now: float, rate: float) -> None:
        if self.epoch is None:
            self.epoch = now + (
                ARRIVAL_LEAD_DISTRIBUTED_S if self.harness.is_master else ARRIVAL_LEAD_S
            )
            self._shift_first_step(self.epoch)
            self._send_begin([[index, 0.0, None, rate]])
            return
        self.harness.runner.send_message(
            MESSAGE_RATE, {"segment": index, "start_s": now - self.epoch, "rate": rate}
        )

    def _shift_first_step(self, epoch: float) -> None:
        """The first rate step starts when the schedule does."""
        assert self.step is not None and self.search is not None
        self.step.start_unix = epoch
        self.step.measure_from_unix = epoch + self.search.spec.warmup_s

    def _send_begin(self, segments: list[list[Any]]) -> None:
        runner = self.harness.runner
        data = {"epoch": self.epoch, "segments": segments}
        if not self.harness.is_master:
            runner.send_message(MESSAGE_BEGIN, {**data, "slot": 0, "processes": 1})
            return
        clients = sorted(c.id for c in runner.clients.all)
        for slot, client_id in enumerate(clients):
            runner.send_message(
                MESSAGE_BEGIN, {**data, "slot": slot, "processes": len(clients)}, client_id
            )

    def observe(
        self,
        runs: list[dict[str, Any]],
        conversations: list[dict[str, Any]],
        dropped: list[list[Any]],
        scheduled: int = 0,
    ) -> None:
        self.scheduled += scheduled
        if self.plan.mode != SEARCH:  # a stage counts the test's measured window, a step its own
            runs, conversations = measured(runs), measured(conversations)
        self.segments.add_runs(runs)
        self.segments.add_conversations(conversations)
        self.segments.add_dropped(dropped)
        for _unix, reason in dropped:
            self.dropped[reason] = self.dropped.get(reason, 0) + 1

    # -- reporting -------------------------------------------------------------------------

    def progress(self, now: float) -> str:
        segment = self.segments.find(now) or (
            self.segments.segments[-1] if self.segments.segments else None
        )
        text = f"; {segment.name}" if segment is not None else ""
        if self.plan.arrival is not None:
            total = sum(self.dropped.values())
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()))
            text += f"; arrivals {self.scheduled - total} started, dropped {total}" + (
                f" ({reasons})" if reasons else ""
            )
        return text

    def summary_extras(self, summary: dict[str, Any], now: float) -> dict[str, Any]:
        segments = self.segments.summaries(now)
        extras: dict[str, Any] = {"plan": self.plan.to_wire()}
        if self.plan.mode == SEARCH:
            assert self.search is not None
            steps = [s for s in segments if "verdict" in s]
            extras["search_steps"] = steps
            extras["capacity"] = capacity(steps, self.search.spec)
            extras["knee"] = knee(steps, self.search.spec.kind)
        else:
            extras["stages"] = segments
        if self.plan.arrival is not None:
            extras["arrivals"] = self._arrival_totals(summary)
        return extras

    def _arrival_totals(self, summary: dict[str, Any]) -> dict[str, Any]:
        assert self.plan.arrival is not None
        excluded = summary["window"]["excluded"]["conversations"]
        started = int(summary["conversations"]["total"]) + sum(excluded.values())
        dropped = sum(self.dropped.values())
        duration = summary.get("duration_s") or 0.0
        return {
            "process": self.plan.arrival.process,
            "max_concurrent": self.plan.arrival.max_concurrent,
            "tolerance_s": self.plan.arrival.tolerance_s,
            "scheduled": started + dropped,
            "started": started,
            "dropped": dropped,
            "dropped_by_reason": dict(sorted(self.dropped.items())),
            "dropped_rate": round(dropped / (started + dropped), 6) if started + dropped else 0.0,
            "dropped_per_s": round(dropped / duration, 3) if duration else 0.0,
            "arrival_lag": self.harness.test.total.metric_summary("arrival_lag"),
        }
