"""The master's view of a load plan (`LoadControl`): the segments (stages or search steps)
whose figures are kept apart, the arrivals' epoch and messages, the dropped arrivals the workers
report, and the end of the test. What a tick decides is the plan's strategy's (`strategies.py`);
the control applies it. Imports no locust: Locust's shape hook is `shape.WxoShape`, and the
control takes the few things it needs from the process (its role, how to message the other
processes, the run time, a flush) as arguments, so it is unit-tested without Locust.

Timing: every boundary is wall-clock (`time.time()`) on the master. A stage's segment spans its
planned times from the first tick; a search step is [start + warmup, end) and is judged once
`settle_s` more has passed at the same load, so that runs started near its end have finished
and reached the master (workers report every 3 s) before the verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec

from wxo_load.core.book import MetricsBook
from wxo_load.core.plan import SEARCH, LoadPlan
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_plan import Arrivals, PlanExtras
from wxo_load.core.summary_sections import Stat
from wxo_load.core.window import measured
from wxo_load.load.ending import RUN_TIME, decide_end
from wxo_load.load.segments import SegmentLog
from wxo_load.locust_plugin.strategies import EndTest, LoadStrategy, strategy_for

log = logging.getLogger("wxo_load")

ARRIVAL_LEAD_S = 1.0  # the schedule starts this long after the first tick (the pool exists)
ARRIVAL_LEAD_DISTRIBUTED_S = 2.5
MESSAGE_BEGIN = "wxo_arrivals"
MESSAGE_RATE = "wxo_rate"

Send = Callable[[str, dict[str, Any], "str | None"], None]
"""Sends a custom message (kind, data, to one client id or, with None, as the runner does)."""


class LoadControl:
    """The master's view of a load plan: its segments (stages or search steps, whose figures
    are kept apart), the arrivals' epoch and messages, the dropped arrivals the workers report,
    and the end of the test. What a tick does is the plan's strategy's."""

    def __init__(
        self,
        plan: LoadPlan,
        *,
        is_master: bool,
        send: Send,
        clients: Callable[[], list[str]],
        run_time: Callable[[], tuple[float | None, str]],
        flush: Callable[[], None],
    ) -> None:
        """`is_master`: a distributed test (else a local runner); `send` a custom message and
        `clients` the workers' ids (sorted) reach the load-generating processes; `run_time` is
        (-t or load.run_time in seconds or None, where it was set); `flush` brings a local
        runner's last records in before a search step is judged."""
        self.plan = plan
        self.is_master = is_master
        self._send, self._clients, self._run_time, self.flush = send, clients, run_time, flush
        self.reset()

    def reset(self) -> None:
        self.segments = SegmentLog()
        self.t0: float | None = None
        self.epoch: float | None = None
        self.dropped: dict[str, int] = {}
        self.scheduled = 0  # arrivals the processes reached so far (started or dropped)
        self.end_at: float | None = None  # the run time's end (wall clock), when it ends the test
        self.done = False
        self.strategy: LoadStrategy = strategy_for(self)

    def tick(self, now: float) -> tuple[int, float] | None:
        """What Locust runs now: (users, spawn rate), or None when the test is to end."""
        if self.done:
            return None
        if self.t0 is None:
            self.t0 = now
            self.end_at = self._begin(now)
        if self.end_at is not None and now >= self.end_at:
            self._end("the run time is over")
            return None
        decided = self.strategy.tick(now)
        if isinstance(decided, EndTest):
            self._end(decided.why)
            return None
        return decided.users, decided.spawn_rate

    def _begin(self, now: float) -> float | None:
        run_time_s, run_time_from = self._run_time()
        ending = decide_end(self.plan, run_time_s, run_time_from)
        if ending.message:
            (log.warning if ending.warning else log.info)("wxo-load: %s", ending.message)
        return self.strategy.begin(now, ending.after_s if ending.by == RUN_TIME else None)

    def _end(self, why: str) -> None:
        self.done = True
        if self.plan.mode != SEARCH and self.segments.segments:
            self.segments.segments[-1].end_unix = None  # what starts while users stop counts here
        log.info("wxo-load: %s; stopping the test", why)

    # -- arrivals: messages to the load-generating processes -------------------------------

    def arrival_lead_s(self) -> float:
        """How long after now the arrivals' schedule starts (the pool of users exists by then)."""
        return ARRIVAL_LEAD_DISTRIBUTED_S if self.is_master else ARRIVAL_LEAD_S

    def send_rate(self, index: int, now: float, rate: float) -> None:
        assert self.epoch is not None
        self._send(
            MESSAGE_RATE, {"segment": index, "start_s": now - self.epoch, "rate": rate}, None
        )

    def send_begin(self, segments: list[list[Any]]) -> None:
        data = {"epoch": self.epoch, "segments": segments}
        if not self.is_master:
            self._send(MESSAGE_BEGIN, {**data, "slot": 0, "processes": 1}, None)
            return
        clients = self._clients()
        for slot, client_id in enumerate(clients):
            self._send(MESSAGE_BEGIN, {**data, "slot": slot, "processes": len(clients)}, client_id)

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

    def summary_extras(self, book: MetricsBook, summary: Summary, now: float) -> PlanExtras:
        extras = self.strategy.extras(self.plan, self.segments.summaries(now))
        if self.plan.arrival is None:
            return extras
        return msgspec.structs.replace(extras, arrivals=self._arrival_totals(book, summary))

    def _arrival_totals(self, book: MetricsBook, summary: Summary) -> Arrivals:
        assert self.plan.arrival is not None
        window = summary.window
        excluded = window.excluded.get("conversations") if window is not None else None
        started = summary.conversations.total + (
            excluded.warmup + excluded.cooldown if excluded is not None else 0
        )
        dropped = sum(self.dropped.values())
        duration = summary.duration_s or 0.0
        return Arrivals(
            process=self.plan.arrival.process,
            max_concurrent=self.plan.arrival.max_concurrent,
            tolerance_s=self.plan.arrival.tolerance_s,
            scheduled=started + dropped,
            started=started,
            dropped=dropped,
            dropped_by_reason=dict(sorted(self.dropped.items())),
            dropped_rate=round(dropped / (started + dropped), 6) if started + dropped else 0.0,
            dropped_per_s=round(dropped / duration, 3) if duration else 0.0,
            arrival_lag=msgspec.convert(book.metric_summary("arrival_lag"), Stat),
        )
