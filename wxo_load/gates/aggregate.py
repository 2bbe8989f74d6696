"""Repeated runs made one `Aggregate`: each gate figure's values over the runs, their mean,
standard deviation, coefficient of variation and t-based intervals (overall and per persona).

Pure: summaries in, the typed aggregate out (wxo_load.core.aggregate_model). The figures are
the ones `wxo-load compare` shows (gates.compare), plus p90 and mean of each timing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wxo_load.core.aggregate_model import Aggregate, FigureStats, Interval, RepeatedRun
from wxo_load.core.metrics import ALL_METRICS, RATE
from wxo_load.core.student_t import two_sided_t
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import Tool
from wxo_load.gates.compare import COMPARE_STATS, compare_figures
from wxo_load.gates.figures import figure_kind, figure_value

EXTRA_STATS = ("p90", "mean")
"""Statistics of each timing kept beside COMPARE_STATS, so a regression gate on them finds its
baseline too."""
PERSONA_STATS = ("p50", "p95", "p99", "max")
PERSONA_SCALARS = ("error_rate", "runs_per_s")


def figure_stats(values: Sequence[float | None], kind: str, confidence: float) -> FigureStats:
    """One figure's statistics from its value in each run (None where a run lacks it)."""
    numbers = [v for v in values if v is not None]
    n = len(numbers)
    if n == 0:
        return FigureStats(kind=kind, values=list(values), n=0)
    mean = math.fsum(numbers) / n
    if n < 2:
        return FigureStats(kind=kind, values=list(values), n=n, mean=mean)
    stdev = math.sqrt(math.fsum((v - mean) ** 2 for v in numbers) / (n - 1))
    t = two_sided_t(confidence, n - 1)
    ci_half = t * stdev / math.sqrt(n)
    pi_half = t * stdev * math.sqrt(1.0 + 1.0 / n)
    return FigureStats(
        kind=kind,
        values=list(values),
        n=n,
        mean=mean,
        stdev=stdev,
        cv=stdev / abs(mean) if mean else None,
        ci=_interval(mean, ci_half, kind),
        pi=_interval(mean, pi_half, kind),
    )


def _interval(mean: float, half: float, kind: str) -> Interval:
    """mean ± half, clamped to what the figure can be: every kind is >= 0 (a time, a count, a
    throughput, a percentage), and a rate (a fraction) <= 1 as well. A noisy short time's
    interval would otherwise reach below 0 ms."""
    high = mean + half
    return Interval(low=max(0.0, mean - half), high=min(1.0, high) if kind == RATE else high)


def aggregate_figures(summaries: Sequence[Summary]) -> list[str]:
    """Every figure any of the runs has, in `compare`'s order (timings gain p90 and mean)."""
    figures: list[str] = []
    for summary in summaries:
        for figure in compare_figures(summary, summary):
            extra = []
            metric, _, stat = figure.partition(".")
            if metric in ALL_METRICS and stat == COMPARE_STATS[-1]:
                extra = [f"{metric}.{s}" for s in EXTRA_STATS]
            for name in (figure, *extra):
                if name not in figures:
                    figures.append(name)
    return figures


def _persona_figures(summaries: Sequence[Summary], persona: str) -> list[str]:
    figures: list[str] = []
    for summary in summaries:
        for metric in ALL_METRICS:
            count = figure_value(summary, f"personas.{persona}.{metric}.count")
            if count and f"{metric}.p50" not in figures:
                figures += [f"{metric}.{stat}" for stat in PERSONA_STATS]
    return figures + list(PERSONA_SCALARS)


def build_aggregate(
    runs: Sequence[RepeatedRun],
    summaries: Sequence[Summary | None],
    *,
    confidence: float,
    tool: Tool,
) -> Aggregate:
    """The aggregate of `runs` (one summary or None per run, in the same order)."""
    present = [s for s in summaries if s is not None]
    figures = {}
    for figure in aggregate_figures(present):
        values = [None if s is None else figure_value(s, figure) for s in summaries]
        figures[figure] = figure_stats(values, figure_kind(figure), confidence)
    names = sorted({name for s in present for name in (s.personas or {})})
    personas: dict[str, dict[str, FigureStats]] | None = None
    if names:
        personas = {}
        for name in names:
            table = {}
            for figure in _persona_figures(present, name):
                full = f"personas.{name}.{figure}"
                values = [None if s is None else figure_value(s, full) for s in summaries]
                table[figure] = figure_stats(values, figure_kind(figure), confidence)
            personas[name] = table
    first = present[0] if present else None
    return Aggregate(
        tool=tool,
        scenario=first.scenario.name if first else None,
        host=first.host if first else None,
        confidence=confidence,
        runs=list(runs),
        n=len(present),
        figures=figures,
        personas=personas,
    )


__all__ = ["aggregate_figures", "build_aggregate", "figure_stats"]
