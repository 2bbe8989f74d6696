"""Which one ends a test: its load plan's own end or its run time (-t / load.run_time).

Pure: seconds in, a decision out. A load plan's clock starts at the shape's first tick, an
arrival model's at its schedule's start (the epoch, a second or two later), so that a run time
of 30 s at 5/s schedules 150 arrivals. Locust's own -t timer is never started for a test run
by a load shape (it waits for the shape to end), so the shape applies the run time itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from wxo_load.core.plan import SEARCH, STAGES, LoadPlan

RUN_TIME = "run_time"
PLAN = "plan"
NEITHER = "neither"


@dataclass(frozen=True, slots=True)
class Ending:
    """When the test ends (seconds from the plan's clock start; None: when stopped), why, and
    the one log line that says so (empty when there is nothing to say)."""

    after_s: float | None
    by: str  # run_time | plan | neither
    message: str
    warning: bool = False


def _describe(plan: LoadPlan, length_s: float | None) -> str:
    if plan.mode == SEARCH:
        return "the capacity search"
    what = "stages" if plan.mode == STAGES else "arrival stages"
    return f"the load plan ({_seconds(length_s)} of {what})"


def _seconds(value: float | None) -> str:
    return f"{value:g}s" if value is not None else "no end"


def decide_end(plan: LoadPlan, run_time_s: float | None, run_time_from: str) -> Ending:
    """Decide what ends a test run by `plan`; `run_time_from` names where the run time was set
    (`-t`, `load.run_time`)."""
    length_s = plan.duration_s  # None: no end of its own (a constant rate, a search)
    plan_text = _describe(plan, length_s)
    if run_time_s is None or run_time_s <= 0:
        if length_s is not None or plan.mode == SEARCH:
            return Ending(length_s, PLAN, "")
        return Ending(
            None,
            NEITHER,
            "the arrival rate has no end and no run time was given: the test runs until it "
            "is stopped. Set `load.run_time` in the scenario or -t on the command line.",
            warning=True,
        )
    run_text = f"the run time ({run_time_from} {_seconds(run_time_s)})"
    if plan.mode == SEARCH:
        return Ending(
            run_time_s,
            RUN_TIME,
            f"{plan_text} ends the test when it has found the capacity, or {run_text} does first",
        )
    if length_s is None:
        return Ending(
            run_time_s, RUN_TIME, f"{run_text} ends the test: the arrival rate has no end"
        )
    if run_time_s < length_s:
        return Ending(run_time_s, RUN_TIME, f"{run_text} ends the test before {plan_text} does")
    return Ending(length_s, PLAN, f"{plan_text} ends the test before {run_text} does")


def cap_segments(
    parts: list[tuple[int, float, float | None, float]], end_s: float | None
) -> list[tuple[int, float, float | None, float]]:
    """Arrival segments (segment, start_s, end_s, rate) cut at the test's end: none starts at or
    after it, none runs past it, so no arrival is scheduled once the test is over."""
    if end_s is None:
        return list(parts)
    return [
        (segment, start, end_s if end is None or end > end_s else end, rate)
        for segment, start, end, rate in parts
        if start < end_s
    ]
