"""The report's timing sections: the metrics table, percentiles over time, distributions, turns."""

from __future__ import annotations

import json
import math

from wxo_load.core.hdr import nearest_rank
from wxo_load.core.metrics import ALL_METRICS, METRIC_TITLES, RUN_METRICS
from wxo_load.core.summary_codec import summary_to_dict
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.charts import grouped_bars, line_chart, log_histogram
from wxo_load.output.report.collect import Collected, Timebase
from wxo_load.output.report.page import card, legend, safe_text, section, table
from wxo_load.output.report.svg import Point, Series, empty_chart
from wxo_load.output.views import stat, turn

P_COLORS = {"p50": "#1f77b4", "p95": "#ff7f0e", "p99": "#d62728"}
FIRST_COLORS = ("#4a90d9", "#1c5a99")
FOLLOW_COLORS = ("#f5a04a", "#c0620b")


def _sample_percentiles(values: list[float]) -> tuple[float, float, float]:
    values.sort()
    n = len(values)
    picked = tuple(values[nearest_rank(n, p) - 1] for p in (50.0, 95.0, 99.0))
    return picked  # type: ignore[return-value]


def _metrics_table(summary: Summary) -> str:
    keys = ("count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max")
    rows = [[m, *(stat(summary.metrics, m, k) for k in keys)] for m in ALL_METRICS]
    header = ["metric (ms)", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"]
    return table(header, rows, "wide")


def _config_details(summary: Summary) -> str:
    config = summary_to_dict(summary)
    config = {key: config[key] for key in ("scenario", "options", "tool")}
    text = json.dumps(config, indent=2, sort_keys=True, default=str)
    return f"<details><summary>Scenario and options</summary><pre>{safe_text(text)}</pre></details>"


def _percentile_chart(metric: str, collected: Collected, tb: Timebase) -> str:
    tb = tb.coarser(len(collected.values[metric]))
    per_bin: dict[int, list[float]] = {}
    for t, v in zip(collected.times[metric], collected.values[metric], strict=True):
        per_bin.setdefault(tb.index(t), []).append(v)
    lines: dict[str, list[Point]] = {"p50": [], "p95": [], "p99": []}
    for index in sorted(per_bin):
        x = (index + 0.5) * tb.width
        p50, p95, p99 = _sample_percentiles(per_bin[index])
        lines["p50"].append((x, p50))
        lines["p95"].append((x, p95))
        lines["p99"].append((x, p99))
    series = [Series(name, P_COLORS[name], pts) for name, pts in lines.items()]
    return line_chart(
        series,
        x_range=tb.x_range,
        x_label=tb.x_label,
        y_label="milliseconds",
        x_fmt=tb.fmt,
        y_unit="ms",
        empty="no samples",
        shade=tb.excluded,
    )


def _distribution_chart(metric: str, collected: Collected, summary: Summary) -> str:
    values = collected.values[metric]
    positive = [v for v in values if v > 0]
    if not positive:
        return empty_chart("no samples")
    low, high = min(positive), max(positive)
    if high <= low * 1.001:
        low, high = low * 0.95, high * 1.05
    bins = 48
    ratio = math.log(high / low)
    edges = [low * math.exp(ratio * i / bins) for i in range(bins + 1)]
    counts = [0] * bins
    for v in positive:
        counts[min(int(math.log(v / low) / ratio * bins), bins - 1)] += 1
    found = [(name, stat(summary.metrics, metric, name)) for name in ("p50", "p95", "p99")]
    markers = [(name, float(value), P_COLORS[name]) for name, value in found if value]
    return log_histogram(
        edges, counts, markers, x_label="milliseconds (log scale)", color="#5b7fa6"
    )


def _turn_table(summary: Summary) -> str:
    rows = []
    turns = (("first", "first turn"), ("follow_up", "follow-ups"))
    for metric in RUN_METRICS:
        for name, label in turns:
            entry = turn(summary, name)
            metrics = entry.metrics if entry is not None else None
            stats = [stat(metrics, metric, k) for k in ("count", "p50", "p95", "p99", "max")]
            rows.append([metric, label, *stats])
    runs_row = " · ".join(
        f"{label}: {_turn_count(summary, name, 'runs'):,} runs, "
        f"{_turn_count(summary, name, 'failed'):,} failed"
        for name, label in turns
    )
    return f'<p class="note">{safe_text(runs_row)}</p>' + table(
        ["metric (ms)", "turn", "count", "p50", "p95", "p99", "max"], rows
    )


def _turn_count(summary: Summary, name: str, what: str) -> int:
    entry = turn(summary, name)
    return int(getattr(entry, what)) if entry is not None else 0


def _turn_chart(summary: Summary) -> str:
    def values(name: str, p: str) -> list[float | None]:
        entry = turn(summary, name)
        metrics = entry.metrics if entry is not None else None
        return [stat(metrics, m, p) for m in RUN_METRICS]

    groups = [
        ("first turn p50", FIRST_COLORS[0], values("first", "p50")),
        ("first turn p95", FIRST_COLORS[1], values("first", "p95")),
        ("follow-ups p50", FOLLOW_COLORS[0], values("follow_up", "p50")),
        ("follow-ups p95", FOLLOW_COLORS[1], values("follow_up", "p95")),
    ]
    return grouped_bars(list(RUN_METRICS), groups, y_label="milliseconds", y_unit="ms")


def timings_section(summary: Summary) -> str:
    """The table of every timing, with the scenario and options folded below it."""
    return section(
        "timings",
        "Timings",
        _metrics_table(summary) + _config_details(summary),
        "Milliseconds from just before the request was written. Percentiles are nearest-rank over "
        "HDR histograms merged from every load-generator process (3 significant digits); min, mean "
        "and max are exact.",
    )


def over_time_section(collected: Collected, tb: Timebase) -> str:
    """p50, p95 and p99 of each timing per time bin, one chart per metric."""
    p_legend = legend((name, color) for name, color in P_COLORS.items())
    over_time = "".join(
        card(METRIC_TITLES[m], _percentile_chart(m, collected, tb)) for m in ALL_METRICS
    )
    return section(
        "over-time",
        "Percentiles over time",
        p_legend + f'<div class="grid">{over_time}</div>',
        "p50, p95 and p99 of each timing per time bin, placed at the moment the event arrived.",
    )


def distributions_section(collected: Collected, summary: Summary) -> str:
    """A log-scale histogram per metric, the overall percentiles marked."""
    distributions = "".join(
        card(METRIC_TITLES[m], _distribution_chart(m, collected, summary)) for m in ALL_METRICS
    )
    return section(
        "distributions",
        "Distributions",
        f'<div class="grid">{distributions}</div>',
        "How many samples fell in each latency band (log scale); dashed lines mark the run's "
        "overall p50, p95 and p99.",
    )


def turns_section(summary: Summary) -> str:
    """First turn against follow-ups: a bar chart and a table."""
    turn_legend = legend(
        [
            ("first turn p50", FIRST_COLORS[0]),
            ("first turn p95", FIRST_COLORS[1]),
            ("follow-ups p50", FOLLOW_COLORS[0]),
            ("follow-ups p95", FOLLOW_COLORS[1]),
        ]
    )
    body = (
        turn_legend
        + '<div class="grid">'
        + card("p50 and p95 by turn (ms)", _turn_chart(summary))
        + card("By turn", _turn_table(summary))
        + "</div>"
    )
    return section(
        "turns",
        "First turn vs follow-ups",
        body,
        "A conversation's first message often costs more (cold thread, agent routing) than the "
        "follow-ups.",
    )
