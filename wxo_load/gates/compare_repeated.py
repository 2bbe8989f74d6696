"""`wxo-load compare` when either side is a repeated run (`wxo-load repeat`'s aggregate): the
aggregate's side shows its mean of N runs, a repeated A shows its interval, and a change is
marked worse or better only when B falls outside A's interval *and* moved by the threshold.

Pure: the figures of the aggregate (gates.aggregate) and of a summary (gates.figures).
"""

from __future__ import annotations

from wxo_load.core import fmt
from wxo_load.core.aggregate_model import Aggregate
from wxo_load.core.errors import ConfigError
from wxo_load.core.summary_model import Summary
from wxo_load.gates.aggregate import aggregate_figures
from wxo_load.gates.compare import Difference, difference
from wxo_load.gates.figures import figure_kind, figure_value
from wxo_load.gates.noise import Baseline, interval_of


def _figures(side: Baseline) -> list[str]:
    return list(side.figures) if isinstance(side, Aggregate) else aggregate_figures([side])


def side_value(side: Baseline, figure: str) -> float | None:
    """A figure of one side: a summary's value, or an aggregate's mean."""
    if isinstance(side, Aggregate):
        stats = side.stats(figure)
        return None if stats is None else stats.mean
    return figure_value(side, figure)


def compare_repeated(
    a: Baseline, b: Baseline, *, threshold_pct: float = 5.0, interval: str = "pi"
) -> list[Difference]:
    """One row per figure either side has; with a repeated A, the `interval` ("pi" or "ci")
    of its figure, and marks only for values outside it."""
    figures = _figures(a)
    figures += [f for f in _figures(b) if f not in figures]
    rows = []
    for figure in figures:
        try:
            kind = figure_kind(figure)
        except ConfigError:
            continue
        va, vb = side_value(a, figure), side_value(b, figure)
        if va is None and vb is None:
            continue
        row = difference(figure, kind, va, vb, threshold_pct)
        if isinstance(a, Aggregate):
            row = _with_interval(row, a, figure, kind, vb, interval)
        rows.append(row)
    return rows


def _with_interval(
    row: Difference, a: Aggregate, figure: str, kind: str, vb: float | None, interval: str
) -> Difference:
    bounds = interval_of(a.stats(figure), interval)
    if bounds is None:
        return Difference(row.figure, row.a, row.b, row.delta, row.change, row.mark, "n/a")
    shown = f"{fmt.value(bounds.low, kind, '')}–{fmt.value(bounds.high, kind, '')}"
    mark = row.mark
    if vb is not None and bounds.low <= vb <= bounds.high:
        mark = ""  # inside the noise of A: never marked, whatever the threshold
    return Difference(row.figure, row.a, row.b, row.delta, row.change, mark, shown)


def describe_sides(a: Baseline, b: Baseline, interval: str) -> str:
    """A line saying what each side is, e.g. `A: mean of 5 runs, 95% prediction interval`."""
    parts = []
    for name, side in (("A", a), ("B", b)):
        if isinstance(side, Aggregate):
            text = f"{name}: the mean of {side.n} runs"
            if name == "A":
                label = "prediction" if interval == "pi" else "confidence"
                text += f", its {fmt.num(side.confidence * 100)}% {label} interval"
            parts.append(text)
        elif isinstance(side, Summary):
            parts.append(f"{name}: one run")
    return "; ".join(parts)


__all__ = ["compare_repeated", "describe_sides", "side_value"]
