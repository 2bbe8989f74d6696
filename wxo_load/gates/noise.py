"""Regression gates that know the noise: a figure judged against a repeated baseline
(`wxo-load repeat`'s aggregate) fails only when it falls beyond the baseline's interval on the
worse side, and, when the gate also names a tolerance, beyond that minimum effect over the
baseline's mean as well.

    first_text.p95 outside pi         worse than the prediction interval's far end
    first_text.p95 +5% outside pi     ... and more than 5 % worse than the baseline's mean
    first_text.p95 outside ci         worse than the confidence interval of the mean
    first_text.p95 +10%               against an aggregate: the mean + 10 % (no interval)

`pi` (where one more run of an unchanged build falls, at the aggregate's level) is the interval
to hold one new run against; `ci` (where the baseline's true mean lies) is narrower and fits a
mean of several new runs. A single baseline run has no interval: a noise-aware gate then judges
by its tolerance alone, and says so; without a tolerance it fails and says why.
Pure: figures in, a judgement out; `gates.evaluate` makes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from wxo_load.core import fmt
from wxo_load.core.aggregate_model import Aggregate, FigureStats, Interval
from wxo_load.core.metrics import WORSE
from wxo_load.core.summary_model import Summary
from wxo_load.gates.figures import figure_value, sample_count
from wxo_load.gates.parse import INTERVALS, RegressionGate

Baseline = Summary | Aggregate
"""What a regression gate compares with: one run's summary, or a repeated run's aggregate."""


@dataclass(frozen=True, slots=True)
class BaselineFigure:
    """A figure of the baseline: its value (a single run's, or the mean of N), how many samples
    or runs it rests on, and the statistics when the baseline is an aggregate."""

    value: float | None
    samples: int | None
    stats: FigureStats | None = None


def baseline_figure(baseline: Baseline, figure: str) -> BaselineFigure:
    if isinstance(baseline, Aggregate):
        stats = baseline.stats(figure)
        if stats is None:
            return BaselineFigure(None, 0)
        return BaselineFigure(stats.mean, stats.n, stats)
    return BaselineFigure(figure_value(baseline, figure), sample_count(baseline, figure))


@dataclass(frozen=True, slots=True)
class Judgement:
    passed: bool
    threshold: float | None
    limit: str
    reason: str


def interval_of(stats: FigureStats | None, name: str | None) -> Interval | None:
    if stats is None or name is None:
        return None
    return stats.pi if name == "pi" else stats.ci


def describe_interval(name: str, stats: FigureStats, level: float, kind: str) -> str:
    """`95% prediction interval 760–880 ms of 5 runs`."""
    interval = interval_of(stats, name)
    assert interval is not None
    return (
        f"{fmt.num(level * 100)}% {INTERVALS[name]} {fmt.value(interval.low, kind, '')}–"
        f"{fmt.value(interval.high, kind, '')} of {stats.n} runs"
    )


def judge_outside(
    gate: RegressionGate, value: float, stats: FigureStats, level: float, kind: str, allowed: float
) -> Judgement:
    """A noise-aware gate against an aggregate whose figure has an interval. `allowed` is the
    minimum effect in the figure's unit (0 without a tolerance)."""
    assert gate.interval is not None and stats.mean is not None
    interval = interval_of(stats, gate.interval)
    assert interval is not None
    sign = -1.0 if WORSE[kind] < 0 else 1.0  # +1: higher is worse
    edge = interval.high if sign > 0 else interval.low
    effect = stats.mean + sign * allowed
    threshold = max(edge, effect) if sign > 0 else min(edge, effect)
    named = describe_interval(gate.interval, stats, level, kind)
    shown = fmt.value(value, kind, "")
    mean = fmt.value(stats.mean, kind, "")
    minimum = f", minimum effect {_tolerance(gate, kind)}" if gate.tolerance_given else ""
    limit = f"{'<=' if sign > 0 else '>='} {fmt.value(threshold, kind, '')} ({named}{minimum})"
    change = _change(value, stats.mean, kind)
    passed = sign * (value - threshold) <= abs(threshold) * 1e-9 + 1e-12
    if passed:
        where = "inside" if interval.low <= value <= interval.high else "on the better side of"
        if sign * (value - edge) > 0:
            where = "outside, but within the minimum effect of"
        reason = f"{shown} {where} the {named} (mean {mean}, {change})"
        return Judgement(True, threshold, limit, reason)
    side = "above" if sign > 0 else "below"
    reason = f"{shown} is {side} the {named} (mean {mean}, {change}{minimum})"
    return Judgement(False, threshold, limit, reason)


def judge_noise_aware(
    gate: RegressionGate, value: float, base: BaselineFigure, baseline: Baseline, kind: str
) -> Judgement | None:
    """The judgement of a noise-aware gate with an interval to judge by, or the failure of one
    that has neither an interval nor a minimum effect; None when the plain comparison with the
    baseline's value decides (a plain gate, or a minimum effect without an interval)."""
    if gate.interval is None:
        return None
    note = no_interval_note(gate, base)
    if note is None:
        assert isinstance(baseline, Aggregate) and base.stats is not None
        assert base.value is not None
        allowed = gate.tolerance
        if gate.tolerance_kind == "percent":
            allowed = abs(base.value) * gate.tolerance / 100.0
        return judge_outside(gate, value, base.stats, baseline.confidence, kind, allowed)
    if gate.tolerance_given:
        return None
    return Judgement(
        False,
        None,
        f"outside {gate.interval} (none)",
        f"{note} to be outside of; record the baseline with `wxo-load repeat N` (N >= 2) "
        f'or add a minimum effect, e.g. "{gate.figure} +10% outside {gate.interval}"',
    )


def no_interval_note(gate: RegressionGate, base: BaselineFigure) -> str | None:
    """Why a noise-aware gate has no interval to judge by, or None when it has one."""
    if gate.interval is None:
        return None
    if base.stats is None:
        return "the baseline is a single run: no interval"
    if interval_of(base.stats, gate.interval) is None:
        return f"the baseline has {base.stats.n} run(s) with {gate.figure}: no interval"
    return None


def _tolerance(gate: RegressionGate, kind: str) -> str:
    if gate.tolerance_kind == "percent":
        return f"+{fmt.num(gate.tolerance)}%"
    return f"+{fmt.value(gate.tolerance, kind, gate.unit)}"


def _change(value: float, base: float, kind: str) -> str:
    delta = value - base
    if base == 0:
        return fmt.signed_delta(delta, kind)
    return f"{delta / base * 100:+.1f}%"


__all__ = [
    "Baseline",
    "BaselineFigure",
    "Judgement",
    "baseline_figure",
    "describe_interval",
    "interval_of",
    "judge_noise_aware",
    "judge_outside",
    "no_interval_note",
]
