"""The report's runs and errors sections: rates by outcome, users, outcomes, error details."""

from __future__ import annotations

from collections.abc import Iterable

from wxo_load.core.records import NOT_FAILED, OK, STOPPED
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.charts import line_chart, stacked_bars
from wxo_load.output.report.collect import DETAIL_CHARS, Collected, Timebase
from wxo_load.output.report.page import card, legend, safe_text, section, table
from wxo_load.output.report.svg import Series, empty_chart

OK_COLOR = "#2e9d4b"
STOPPED_COLOR = "#9e9e9e"
LEFT_COLORS = {"abandoned": "#b0bec5", "cancelled": "#90a4ae", "interrupted": "#78909c"}
"""People who left mid-answer (core.records.LEFT_OUTCOMES): greys, never an error's colour."""
ERROR_COLORS = (
    "#d62728",
    "#8c3fbf",
    "#e6850e",
    "#c2185b",
    "#6d4c41",
    "#0097a7",
    "#b0a300",
    "#455a64",
)


def _outcome_colors(outcomes: Iterable[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    errors = sorted(o for o in outcomes if o not in NOT_FAILED)
    for i, outcome in enumerate(errors):
        colors[outcome] = ERROR_COLORS[i % len(ERROR_COLORS)]
    return colors


def _per_second(ends: Iterable[float], tb: Timebase) -> list[float]:
    counts = [0.0] * tb.count
    for end in ends:
        counts[tb.index(end)] += 1
    return [c / tb.width for c in counts]


def _bars(
    collected: Collected, tb: Timebase, outcomes: list[str], colors: dict[str, str], noun: str
) -> str:
    """Stacked bars of `noun` per second, one series per outcome."""
    return stacked_bars(
        [i * tb.width for i in range(tb.count)],
        tb.width,
        [(o, colors[o], _per_second(collected.ends[o], tb)) for o in outcomes],
        x_range=tb.x_range,
        x_label=tb.x_label,
        y_label=f"{noun} per second",
        x_fmt=tb.fmt,
        y_unit=f"{noun}/s",
        shade=tb.excluded,
    )


def _rate_charts(collected: Collected, tb: Timebase) -> tuple[str, str, dict[str, str]]:
    """Runs per second by outcome (up to 60 bars) and errors per second by class (up to 40)."""
    colors = _outcome_colors(collected.ends)
    colors[OK] = OK_COLOR
    colors[STOPPED] = STOPPED_COLOR
    colors.update(LEFT_COLORS)
    errors = sorted(k for k in collected.ends if k not in NOT_FAILED)
    order = [o for o in (OK, *errors, *LEFT_COLORS, STOPPED) if o in collected.ends]
    runs_chart = _bars(collected, tb.coarser(0, per_bin=0, max_bins=60), order, colors, "runs")
    if not errors:
        return runs_chart, empty_chart("no errors"), {o: colors[o] for o in order}
    err_tb = tb.coarser(sum(len(collected.ends[o]) for o in errors), per_bin=6, max_bins=40)
    errors_chart = _bars(collected, err_tb, errors, colors, "errors")
    return runs_chart, errors_chart, {o: colors[o] for o in order}


def _users_chart(summary: Summary, tb: Timebase) -> str:
    points = [(p.t_s, float(p.users)) for p in summary.timeline]
    if not points:
        return empty_chart("no timeline recorded")
    x_high = max(tb.x_range[1], points[-1][0])
    return line_chart(
        [Series("users", "#3f51b5", points)],
        x_range=(0.0, x_high),
        x_label=tb.x_label,
        y_label="users",
        x_fmt=tb.fmt,
        y_unit="users",
        step=True,
        shade=tb.excluded,
    )


def _outcomes_table(summary: Summary, colors: dict[str, str]) -> str:
    runs = summary.runs.by_outcome
    convs = summary.conversations.by_outcome
    total = sum(runs.values()) or 1
    names = list(runs) + [n for n in convs if n not in runs]
    rows = []
    for name in names:
        color = colors.get(name, OK_COLOR if name == OK else STOPPED_COLOR)
        swatch = f'<i class="sw" style="background:{color}"></i>'
        rows.append(
            f"<tr><td>{swatch}{safe_text(name)}</td><td class='num'>{runs.get(name, 0):,}</td>"
            f"<td class='num'>{100 * runs.get(name, 0) / total:.2f} %</td>"
            f"<td class='num'>{convs.get(name, 0):,}</td></tr>"
        )
    return (
        "<table><thead><tr><th>outcome</th><th>runs</th><th>share of runs</th>"
        "<th>conversations</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _details_table(collected: Collected) -> str:
    if not collected.details:
        return '<p class="note">No failed runs.</p>'
    rows = [
        [outcome, collected.examples.get((outcome, shape), shape) or "(no detail)", count]
        for (outcome, shape), count in collected.details.most_common(15)
    ]
    header = ["error class", f"example detail (first {DETAIL_CHARS} characters)", "runs"]
    return table(header, rows)


def throughput_section(summary: Summary, collected: Collected, tb: Timebase) -> str:
    """Runs and errors per second by outcome, users over time and the outcome counts."""
    runs_chart, errors_chart, colors = _rate_charts(collected, tb)
    body = (
        legend(colors.items())
        + '<div class="grid">'
        + card("Runs completed per second, by outcome", runs_chart)
        + card("Errors per second, by class", errors_chart)
        + card("Users over time", _users_chart(summary, tb))
        + card("Outcomes", _outcomes_table(summary, colors))
        + "</div>"
    )
    return section("throughput", "Runs, errors and users over time", body)


def errors_section(collected: Collected) -> str:
    """The most frequent error details, alike ones grouped."""
    return section(
        "errors",
        "Error details",
        _details_table(collected),
        "The most frequent error details (server messages, redacted), grouped with ids and numbers "
        "ignored; one example of each.",
    )
