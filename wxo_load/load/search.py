"""The capacity search's decisions: which load to try next, and what the answer is.

Pure: the caller holds each step, builds its summary, and reports whether it met the SLO.
The search steps up from `start` by `step`; at the first step that breaks the SLO it stops
stepping up (the early stop), then bisects between the highest load that met the SLO and the
lowest that broke it until they are `resolution` apart. The capacity is the highest load that
met the SLO; the knee is the highest load where throughput still grew in step with the load.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wxo_load.core.plan import SEARCH_USERS, Search, SearchKind
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_plan import Capacity, Knee, Segment, SloVerdict
from wxo_load.gates.evaluate import evaluate
from wxo_load.gates.parse import AnyGate

KNEE_MARGINAL = 0.5
"""Past the knee, one more unit of load buys less than this share of the throughput a unit
bought at the lightest loads (closed model: throughput grows with users until the server is
saturated, then stays flat; the knee is the last load before it flattens)."""


class CapacitySearch:
    def __init__(self, spec: Search) -> None:
        self.spec = spec
        self.best_pass: float | None = None
        self.worst_fail: float | None = None
        self.refining = False

    def first_load(self) -> float:
        return self.spec.start

    def next_load(self, load: float, passed: bool) -> float | None:
        """The load to try after `load` was judged; None when the search is over."""
        if passed:
            self.best_pass = load if self.best_pass is None else max(self.best_pass, load)
        else:
            self.worst_fail = load if self.worst_fail is None else min(self.worst_fail, load)
            self.refining = True
        if not self.refining:
            return None if load >= self.spec.max else min(load + self.spec.step, self.spec.max)
        return self._bisect()

    def _bisect(self) -> float | None:
        low = self.best_pass if self.best_pass is not None else 0.0
        high = self.worst_fail
        assert high is not None
        if high - low <= self.spec.resolution + 1e-9:
            return None
        mid = self._round((low + high) / 2)
        if mid <= low or mid >= high or (self.best_pass is None and mid < self._minimum()):
            return None
        return mid

    def _minimum(self) -> float:
        return 1.0 if self.spec.kind == SEARCH_USERS else self.spec.resolution

    def _round(self, value: float) -> float:
        if self.spec.kind == SEARCH_USERS:
            return float(math.floor(value))
        steps = math.floor(value / self.spec.resolution)
        return round(steps * self.spec.resolution, 6)


def judge(slo: Sequence[AnyGate], step_summary: Summary) -> tuple[bool, list[SloVerdict]]:
    """Whether one step met every SLO gate, and each gate's verdict."""
    verdicts = evaluate(list(slo), step_summary, None)
    judged = [
        SloVerdict(gate=v.gate_text, passed=v.passed, measured=v.measured, reason=v.reason)
        for v in verdicts
    ]
    return all(v.passed for v in verdicts), judged


def load_value(step: Segment, kind: SearchKind) -> float:
    return float(step.load[kind] or 0.0)


def _shown(value: float, kind: SearchKind) -> float | int:
    return int(value) if kind == SEARCH_USERS else value


def knee(steps: Sequence[Segment], kind: SearchKind) -> Knee | None:
    """The highest load up to which each added unit of load still added throughput."""
    points = sorted(
        (load_value(s, kind), s.throughput.runs_per_s) for s in steps if load_value(s, kind) > 0
    )
    if not points:
        return None
    unit = points[0][1] / points[0][0]  # throughput per unit of load at the lightest load
    found = points[0]
    for (low, low_tput), (high, high_tput) in zip(points, points[1:], strict=False):
        if high > low and (high_tput - low_tput) / (high - low) < KNEE_MARGINAL * unit:
            break
        found = (high, high_tput)
    if kind == SEARCH_USERS:
        return Knee(users=int(found[0]), runs_per_s=found[1])
    return Knee(arrival_rate=found[0], runs_per_s=found[1])


def capacity(steps: Sequence[Segment], spec: Search) -> Capacity | None:
    """The highest load that met the SLO, with its figures; None when no step met it."""
    kind = spec.kind
    passed = [s for s in steps if s.verdict == "pass"]
    if not passed:
        return None
    best = max(passed, key=lambda s: load_value(s, kind))
    failed = [
        load_value(s, kind)
        for s in steps
        if s.verdict == "fail" and load_value(s, kind) > load_value(best, kind)
    ]
    value = load_value(best, kind)
    return Capacity(
        step=best.index,
        users=int(value) if kind == SEARCH_USERS else None,
        arrival_rate=None if kind == SEARCH_USERS else value,
        broke_at={kind: _shown(min(failed), kind)} if failed else None,
        limited_by="slo" if failed else "max",
        runs_per_s=best.throughput.runs_per_s,
        conversations_per_s=best.throughput.conversations_per_s,
        error_rate=best.runs.error_rate,
        wrong_answer_rate=best.answers.wrong_rate if best.answers is not None else None,
        goodput_runs_per_s=best.goodput.runs_per_s if best.goodput is not None else None,
        metrics={m: best.metrics.get(m) for m in ("run_started", "first_text", "done")},
        slo=list(spec.slo),
    )
