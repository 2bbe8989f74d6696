"""Gates judged against a `Summary`: one `Verdict` per gate, and the early stop.

A gate never passes for want of data: a gate on a figure with fewer samples than it needs
(at least 1, or the gate's `min_runs`) fails and says so. A regression gate whose figure is
missing from the baseline fails too ("no baseline figure").

Early stop (`abort: true`, see `abort_reason`): the live figures are checked during the run;
a gate aborts the test only when it has enough samples (its `min_runs`, default 20) and either
- it can provably no longer pass: an upper limit on `max`, on a count, or on `runs` that is
  already exceeded (these never come back down); or
- by policy, an upper limit on an error rate, a percentile or a mean is broken by all the runs
  so far. Such a figure could in principle recover, which is why the sample minimum exists:
  after `min_runs` samples, more than (100-p)% of them are already over a `pP` limit.
Lower limits (`runs_per_s >= 5`, `runs >= 100`) and regression gates never abort: they can
still be met later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wxo_load.core import fmt
from wxo_load.core.aggregate_model import Aggregate
from wxo_load.core.metrics import COUNT, PER_S, PERCENT, RATE, WORSE
from wxo_load.core.summary_model import Summary
from wxo_load.gates.figures import (
    CHANNELS,
    figure_kind,
    figure_value,
    persona_figure,
    sample_count,
    sample_noun,
)
from wxo_load.gates.noise import (
    Baseline,
    BaselineFigure,
    baseline_figure,
    judge_noise_aware,
    no_interval_note,
)
from wxo_load.gates.parse import AnyGate, Gate, RegressionGate

ABORT_MIN_RUNS = 20
"""Samples a gate needs before it may abort a test, unless it sets its own `min_runs`."""


@dataclass(frozen=True, slots=True)
class Verdict:
    gate_text: str
    figure: str
    limit: str  # as shown: "< 3000 ms", "<= 893 ms (baseline 812 ms +10%)"
    measured: str  # as shown: "812 ms", "n/a"
    passed: bool
    reason: str  # why, in words: "only 12 runs, gate needs >= 100", "+23.4% against ..."
    kind: str = "gate"  # "gate" | "regression"
    value: float | None = None  # the measured figure, normalised
    threshold: float | None = None  # the limit, normalised (for regressions: baseline + tolerance)
    baseline: float | None = None


def evaluate(
    gates: Iterable[AnyGate], summary: Baseline, baseline: Baseline | None = None
) -> list[Verdict]:
    """One verdict per gate, in order. Regression gates without a baseline fail. The baseline
    is one run's summary or a repeated run's aggregate (gates.noise); so is the run judged: a
    repeated one is judged by the mean of its runs."""
    verdicts: list[Verdict] = []
    for gate in gates:
        if isinstance(gate, RegressionGate):
            verdicts.append(_evaluate_regression(gate, summary, baseline))
        else:
            verdicts.append(_evaluate_gate(gate, summary))
    return verdicts


def _compare(value: float, op: str, limit: float) -> bool:
    if op == "<":
        return value < limit
    if op == "<=":
        return value <= limit
    if op == ">":
        return value > limit
    if op == "==":  # counts only (gates.parse)
        return value == limit
    return value >= limit


def _measured(summary: Baseline, figure: str) -> tuple[float | None, int | None, str]:
    """(value, samples, how to show it): a repeated run's value is its mean, and its samples
    are not counted again (each run had its own)."""
    if isinstance(summary, Aggregate):
        stats = summary.stats(figure)
        if stats is None or stats.mean is None:
            return None, None, ""
        return stats.mean, None, f" (mean of {stats.n} runs)"
    return figure_value(summary, figure), sample_count(summary, figure), ""


def _not_observed(summary: Baseline, figure: str) -> str | None:
    """Why a channel's figure has no value when its channel cannot observe that timing
    (`channels.chat.first_text.p95` with `stream: false`), else None."""
    group = persona_figure(figure)
    if isinstance(summary, Aggregate) or group is None or group[0] != CHANNELS:
        return None
    channel = (summary.channels or {}).get(group[1])
    metric = group[2].split(".")[0]
    if channel is None or metric not in channel.not_observable:
        return None
    return f"{metric} is not observable on channel {group[1]} (docs/channels.md)"


def _evaluate_gate(gate: Gate, summary: Baseline) -> Verdict:
    kind = figure_kind(gate.figure)
    limit_shown = f"{gate.op} {fmt.value(gate.limit, kind, gate.unit)}"
    value, samples, mean_of = _measured(summary, gate.figure)
    needed = max(1, gate.min_runs)

    def verdict(passed: bool, reason: str) -> Verdict:
        measured = "n/a" if value is None else fmt.value(value, kind, gate.unit) + mean_of
        return Verdict(
            gate.text,
            gate.figure,
            limit_shown,
            measured,
            passed,
            reason,
            value=value,
            threshold=gate.limit,
        )

    unseen = _not_observed(summary, gate.figure)
    if unseen is not None:
        return verdict(False, unseen)
    if samples is not None and samples < needed:
        what = sample_noun(gate.figure)
        return verdict(False, f"only {samples} {what}, gate needs >= {needed}")
    if value is None:
        return verdict(False, f"{gate.figure} is not in the summary")
    if _compare(value, gate.op, gate.limit):
        return verdict(True, "within limit")
    return verdict(False, f"{fmt.value(value, kind, gate.unit)} is not {limit_shown}")


def _evaluate_regression(
    gate: RegressionGate, summary: Baseline, baseline: Baseline | None
) -> Verdict:
    kind = figure_kind(gate.figure)
    value, samples, mean_of = _measured(summary, gate.figure)
    base_figure = baseline_figure(baseline, gate.figure) if baseline is not None else None
    base = base_figure.value if base_figure is not None else None
    tolerance_shown = _tolerance_text(gate, kind)
    measured = "n/a" if value is None else fmt.value(value, kind, "") + mean_of

    def verdict(passed: bool, reason: str, limit: str, threshold: float | None = None) -> Verdict:
        return Verdict(
            gate.text,
            gate.figure,
            limit,
            measured,
            passed,
            reason,
            kind="regression",
            value=value,
            threshold=threshold,
            baseline=base,
        )

    missing = _baseline_missing(gate, base_figure, tolerance_shown)
    if missing is not None:
        return verdict(False, *missing)
    assert base is not None and base_figure is not None and baseline is not None
    sign, threshold, limit, base_shown = _regression_limit(gate, base, kind, tolerance_shown)
    if (samples is not None and samples < 1) or value is None:
        return verdict(False, f"no samples of {gate.figure} in this run", limit, threshold)
    judged = judge_noise_aware(gate, value, base_figure, baseline, kind)
    if judged is not None:
        return verdict(judged.passed, judged.reason, judged.limit, judged.threshold)
    note = no_interval_note(gate, base_figure)
    if isinstance(baseline, Aggregate):
        base_shown = f"mean of {base_figure.samples} runs {base_shown}"
    passed, reason = _judge_change(gate, value, base, sign, kind)
    tail = f"; {note}, judged on {tolerance_shown} alone" if note else ""
    return verdict(
        passed,
        (reason or f"{_change_text(value, base, kind)} against baseline "
         f"{base_shown} (limit {tolerance_shown})") + tail,
        limit,
        threshold,
    )  # fmt: skip


def _baseline_missing(
    gate: RegressionGate, base: BaselineFigure | None, tolerance_shown: str
) -> tuple[str, str] | None:
    """(reason, limit) when there is no baseline or it lacks the figure, else None."""
    if base is None:
        return (
            "no baseline given (--baseline PATH/summary.json)",
            f"{tolerance_shown} vs baseline",
        )
    if base.value is None or (base.samples is not None and base.samples < 1):
        return (
            f"no baseline figure: the baseline has no {gate.figure}",
            f"{tolerance_shown} vs baseline (none)",
        )
    return None


def _regression_limit(
    gate: RegressionGate, base: float, kind: str, tolerance_shown: str
) -> tuple[float, float, str, str]:
    """(sign, threshold, limit text, baseline shown); sign +1 means higher is worse."""
    base_shown = fmt.value(base, kind, "")
    sign = -1.0 if WORSE[kind] < 0 else 1.0  # +1: higher is worse
    threshold = _threshold(gate, base, sign)
    op = "<=" if sign > 0 else ">="
    limit = f"{op} {fmt.value(threshold, kind, '')} (baseline {base_shown} {tolerance_shown})"
    return sign, threshold, limit, base_shown


def _threshold(gate: RegressionGate, base: float, sign: float) -> float:
    if gate.tolerance_kind == "percent":
        return base * (1 + sign * gate.tolerance / 100.0)
    return base + sign * gate.tolerance


def _judge_change(
    gate: RegressionGate, value: float, base: float, sign: float, kind: str
) -> tuple[bool, str]:
    """(passed, a reason of its own or "" for the usual change text)."""
    worse_by = sign * (value - base)
    if gate.tolerance_kind == "percent" and base == 0:
        if worse_by > 0:
            return False, (
                f"baseline {fmt.value(base, kind, '')} and now "
                f"{fmt.value(value, kind, '')}: any change is an infinite percentage; "
                'use an absolute tolerance (e.g. "+0.5pp" or "+50ms")'
            )
        return True, ""
    allowed = base * gate.tolerance / 100.0 if gate.tolerance_kind == "percent" else gate.tolerance
    # Compare with a hair of slack so "exactly +10%" passes despite float rounding.
    return worse_by <= allowed * (1 + 1e-9) + 1e-12, ""


def _tolerance_text(gate: RegressionGate, kind: str) -> str:
    if gate.tolerance_kind == "percent":
        amount = f"{fmt.num(gate.tolerance)}%"
    elif kind == RATE:
        amount = f"{fmt.num(gate.tolerance * 100)}pp"
    else:
        amount = fmt.value(gate.tolerance, kind, gate.unit)
    return f"-{amount}" if kind == PER_S else f"+{amount}"


def _change_text(value: float, base: float, kind: str) -> str:
    delta = value - base
    absolute = fmt.signed_delta(delta, kind)
    if base == 0:
        return absolute
    return f"{delta / base * 100:+.1f}% ({absolute})"


# --------------------------------------------------------------------------- early stop


def abort_reason(gates: Iterable[AnyGate], live_summary: Summary) -> Verdict | None:
    """The first `abort: true` gate that can no longer pass on the live figures, as a failing
    Verdict whose reason starts with "abort:", or None to keep going. Rules in the module
    docstring; `live_summary` has the shape of summary.json."""
    for gate in gates:
        if isinstance(gate, Gate) and gate.abort and gate.op not in (">", ">="):
            verdict = _abort_verdict(gate, live_summary)
            if verdict is not None:
                return verdict
    return None


def _abort_verdict(gate: Gate, live_summary: Summary) -> Verdict | None:
    value = figure_value(live_summary, gate.figure)
    if value is None or _compare(value, gate.op, gate.limit):
        return None
    kind = figure_kind(gate.figure)
    if kind == PER_S or gate.figure.endswith(".min") or (gate.op == "==" and value < gate.limit):
        return None  # throughput and minimums can still come down, a count below == can grow
    final = kind in (COUNT, PERCENT) or gate.figure.endswith(".max")
    samples = sample_count(live_summary, gate.figure)
    needed = max(1, gate.min_runs) if final else (gate.min_runs or ABORT_MIN_RUNS)
    if samples is not None and samples < needed:
        return None
    limit_shown = f"{gate.op} {fmt.value(gate.limit, kind, gate.unit)}"
    shown = fmt.value(value, kind, gate.unit)
    if final:
        why = f"abort: {shown} is not {limit_shown} and can only grow"
    else:
        why = f"abort: {shown} is not {limit_shown} after {samples} {sample_noun(gate.figure)}"
    return Verdict(
        gate.text, gate.figure, limit_shown, shown, False, why, value=value, threshold=gate.limit
    )


__all__ = ["ABORT_MIN_RUNS", "Verdict", "abort_reason", "evaluate"]
