"""Two summary.json dicts side by side (`wxo-load compare`): which figures, and how each moved.

Pure: the figures are gate figures (wxo_load.gates.figures), shown with wxo_load.core.fmt;
a change is marked worse or better by the direction of its kind (core.metrics.WORSE).
"""

from __future__ import annotations

from dataclasses import dataclass

from wxo_load.core import fmt
from wxo_load.core.errors import ConfigError
from wxo_load.core.metrics import ALL_METRICS, LOAD_GENERATOR_METRICS, TURN_CLASSES, WORSE
from wxo_load.core.records import OK
from wxo_load.core.summary_model import Summary
from wxo_load.gates.figures import figure_kind, figure_value
from wxo_load.gates.steps import step_compare_figures

COMPARE_STATS = ("p50", "p95", "p99", "max")
BY_TURN_METRIC = "first_text"
"""The run metric compared per turn class (first message against follow-ups)."""


@dataclass(frozen=True, slots=True)
class Difference:
    figure: str
    a: str
    b: str
    delta: str
    change: str  # "+12.3%", "new", ""
    mark: str  # "worse", "better", ""
    interval: str = ""  # a repeated A's interval of the figure (gates.compare_repeated)


def compare_figures(a: Summary, b: Summary) -> list[str]:
    """Every figure worth comparing that either summary has."""
    figures: list[str] = []
    for metric in ALL_METRICS:
        if _has_samples(a, metric) or _has_samples(b, metric):
            figures += [f"{metric}.{stat}" for stat in COMPARE_STATS]
    for turn in TURN_CLASSES:
        prefix = f"by_turn.{turn}.{BY_TURN_METRIC}"
        if figure_value(a, f"{prefix}.count") or figure_value(b, f"{prefix}.count"):
            figures += [f"{prefix}.p50", f"{prefix}.p95", f"{prefix}.p99"]
    figures += step_compare_figures(a, b)
    for name in sorted({*(a.personas or {}), *(b.personas or {})}):  # each persona's own
        prefix = f"personas.{name}"
        figures += [f"{prefix}.{BY_TURN_METRIC}.{stat}" for stat in ("p50", "p95", "p99")]
        figures += [f"{prefix}.error_rate"]
    figures += ["error_rate"]
    classes = sorted({*_classes(a), *_classes(b)})
    figures += [f"error_rate.{c}" for c in classes]
    figures += [
        "conversation_error_rate",
        "runs",
        "conversations",
        "runs_per_s",
        "conversations_per_s",
        *(f"{m}.p99" for m in LOAD_GENERATOR_METRICS),
    ]
    return figures


def _has_samples(summary: Summary, metric: str) -> bool:
    return bool(figure_value(summary, f"{metric}.count"))


def _classes(summary: Summary) -> list[str]:
    return [k for k, v in summary.runs.by_outcome.items() if k != OK and v]


def compare_summaries(a: Summary, b: Summary, *, threshold_pct: float = 5.0) -> list[Difference]:
    """One row per figure either summary has; changes of `threshold_pct` % or more marked."""
    rows: list[Difference] = []
    for figure in compare_figures(a, b):
        try:
            kind = figure_kind(figure)
        except ConfigError:  # an error class name the gate grammar does not know
            continue
        va, vb = figure_value(a, figure), figure_value(b, figure)
        if va is None and vb is None:
            continue
        rows.append(difference(figure, kind, va, vb, threshold_pct))
    return rows


def difference(
    figure: str, kind: str, va: float | None, vb: float | None, threshold_pct: float
) -> Difference:
    shown_a = "n/a" if va is None else fmt.value(va, kind)
    shown_b = "n/a" if vb is None else fmt.value(vb, kind)
    if va is None or vb is None:
        return Difference(figure, shown_a, shown_b, "", "", "")
    delta = vb - va
    delta_shown = fmt.signed_delta(delta, kind)
    if va == 0:
        change = "" if vb == 0 else "new"
        pct = 0.0 if vb == 0 else float("inf")
    else:
        pct = delta / abs(va) * 100
        change = f"{pct:+.1f}%"
    mark = ""
    if WORSE[kind] and abs(pct) >= threshold_pct and delta != 0:
        mark = "worse" if WORSE[kind] * delta > 0 else "better"
    return Difference(figure, shown_a, shown_b, delta_shown, change, mark)


__all__ = ["COMPARE_STATS", "Difference", "compare_figures", "compare_summaries", "difference"]
