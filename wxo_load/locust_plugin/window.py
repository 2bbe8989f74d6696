"""The test's measured window, set by the master (or local runner) at test start and sent to
the workers in Locust's spawn message (`wxo_window` option), so every process classifies its
records against the master's clock. Imports no locust and no harness.

- the load starts at the master's test start, or at the arrival schedule's epoch (open model:
  the schedule starts a moment after the first tick, when the pool of users exists);
- the planned end is the run time (-t, load.run_time) counted from the test start, or the
  plan's end (stages from the first tick, arrivals from the epoch), whichever is first; a
  capacity search or a test without a run time has none, so no cool-down applies.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from wxo_load.core.plan import ARRIVAL, STAGES
from wxo_load.core.window import MeasuredWindow
from wxo_load.core.wire import decode, encode

if TYPE_CHECKING:
    from wxo_load.locust_plugin.control import LoadControl

log = logging.getLogger("wxo_load")

OPTION = "wxo_window"  # the parsed option that carries the window to the workers


def begin(
    options: Any, started: float | None, window_s: tuple[float, float], load: LoadControl | None
) -> MeasuredWindow:
    """Master or local runner, at test start: the window from the test's start (unix s), the
    run time (Locust's `options`, which carry the window to the workers), the (warm-up,
    cool-down) seconds and the load plan under way."""
    assert started is not None  # TestState.started_at is set first
    warmup_s, cooldown_s = window_s
    epoch = load.epoch if load is not None else None
    ends = []
    if options.run_time:
        ends.append(started + float(options.run_time))
    plan_s = load.plan.duration_s if load is not None else None
    if load is not None and plan_s is not None:
        plan_start = epoch if load.plan.mode == ARRIVAL else load.t0
        if load.plan.mode in (STAGES, ARRIVAL) and plan_start is not None:
            ends.append(plan_start + plan_s)
    window = MeasuredWindow(
        epoch if epoch is not None else started, warmup_s, cooldown_s, min(ends) if ends else None
    )
    setattr(options, OPTION, encode(window))  # travels to the workers with the spawn message
    _log(window, started)
    return window


def from_master(options: Any) -> MeasuredWindow:
    """A worker, at test start: the window the master sent."""
    sent = getattr(options, OPTION, None)
    return MeasuredWindow() if not sent else decode(sent, MeasuredWindow, "the master's window")


def _log(window: MeasuredWindow, started: float) -> None:
    if window.warmup_s > 0:
        start = window.start_unix or started
        log.info("wxo-load: warm-up %g s: runs started before %+.1f s are not measured",
                 window.warmup_s, start - started)  # fmt: skip
    if window.cooldown_s > 0 and window.end_unix is None:
        log.warning(
            "wxo-load: cool-down %g s ignored: this test has no planned end (no -t / run time, "
            "no load plan end), so no run can be known to end in it. Set a run time to use it.",
            window.cooldown_s,
        )
    elif window.end_unix is not None:
        log.info("wxo-load: cool-down %g s: runs ending after %+.1f s are not measured",
                 window.cooldown_s, window.end_unix - started)  # fmt: skip


def phase_note(window: MeasuredWindow, now: float) -> str:
    """For the progress line: `; warm-up (not measured)` while in one, else ''."""
    start, end = window.start_unix, window.end_unix
    if window.warmup_s > 0 and start is not None and now < start:
        return f"; warm-up, measuring in {start - now:.0f} s"
    if end is not None and now > end:
        return "; cool-down (not measured)"
    return ""
