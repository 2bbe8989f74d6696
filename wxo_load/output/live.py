"""The live view of a test: tables of wxo-load's own figures, for Locust's web UI tab.

Pure: no locust, no clock of its own. Everything is read from a `Summary` (the live one
`build_summary` makes from the master's merged `MetricsBook`, or the final one) and the gates'
verdicts on it, so the tab shows exactly what the results files will say.

Locust's extended tabs render one table per tab from a list of row dicts; keys are single
lower-case words because Locust's UI camel-cases keys that contain underscores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from wxo_load.core import fmt
from wxo_load.core.json_value import Json
from wxo_load.core.metrics import (
    ALL_METRICS,
    FIRST,
    FOLLOW_UP,
    LOAD_GENERATOR_METRICS,
    RUN_METRICS,
)
from wxo_load.core.summary import worker_warnings
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import Stat, TimelinePoint
from wxo_load.gates.evaluate import Verdict
from wxo_load.output.live_rows import Table, TabRows, TimelineRow, TimingRow
from wxo_load.output.views import NOT_OBSERVABLE, answer_rows, shows_channels, stat, turn

OVERVIEW = "wxo-load"
TIMINGS = "wxo-load-timings"
OVER_TIME = "wxo-load-over-time"

TABS: list[dict[str, str]] = [
    {"key": OVERVIEW, "title": "wxo-load"},
    {"key": TIMINGS, "title": "wxo-load timings"},
    {"key": OVER_TIME, "title": "wxo-load over time"},
]
TABLES: list[Table] = [
    {"key": OVERVIEW, "structure": [
        {"key": "figure", "title": "Figure"}, {"key": "value", "title": "Value"},
        {"key": "detail", "title": "Detail"},
    ]},
    {"key": TIMINGS, "structure": [
        {"key": "metric", "title": "Timing (ms)"}, {"key": "turn", "title": "Turns"},
        {"key": "count", "title": "Count"},
        {"key": "p50", "title": "p50"}, {"key": "p90", "title": "p90"},
        {"key": "p95", "title": "p95"},
        {"key": "p99", "title": "p99"}, {"key": "max", "title": "Max"},
    ]},
    {"key": OVER_TIME, "structure": [
        {"key": "time", "title": "Time (s)"}, {"key": "users", "title": "Users"},
        {"key": "rps", "title": "Runs/s"},
        {"key": "eps", "title": "Failed runs/s"},
        {"key": "ftfifty", "title": "First text p50 (ms)"},
        {"key": "ftninetyfive", "title": "First text p95 (ms)"},
        {"key": "doneninetyfive", "title": "Done p95 (ms)"},
    ]},
]  # fmt: skip


def _num(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(float(value), digits)


def _row(figure: str, value: str, detail: str = "") -> dict[str, str]:
    return {"figure": figure, "value": value, "detail": detail}


def overview_rows(
    summary: Summary,
    verdicts: Sequence[Verdict],
    *,
    state: str,
    aborted_by: str | None = None,
    abort_gates: Sequence[str] = (),
) -> list[dict[str, str]]:
    """The tab's headline: runs per second by outcome, trust, gates, stages, results."""
    rows = [
        _row(
            "Test",
            state,
            f"{summary.duration_s or 0:.0f} s, peak {summary.users.peak or 0} users",
        )
    ]
    rows += _throughput_rows(summary)
    rows += turn_rows(summary)
    rows += _trust_rows(summary)
    rows += [_row(figure, value, detail) for figure, value, detail in answer_rows(summary)]
    rows += gate_rows(verdicts, aborted_by=aborted_by, abort_gates=abort_gates)
    rows += stage_rows(summary)
    return rows


def _recent_rate_rows(timeline: Sequence[TimelinePoint]) -> list[dict[str, str]]:
    """The run rate over the last RECENT_S seconds, when the timeline gives one."""
    recent = recent_runs_per_s(timeline)
    if recent is None:
        return []
    return [
        _row(
            f"Runs per second, last {RECENT_S:.0f} s",
            f"{recent:.2f}/s",
            "every outcome, from the timeline",
        )
    ]


def _outcome_rate_rows(
    by_outcome: Mapping[str, int], total: int, duration: float
) -> list[dict[str, str]]:
    """One run-rate row per outcome, with its share of all runs."""
    rows: list[dict[str, str]] = []
    for outcome, count in by_outcome.items():
        rate = count / duration if duration else 0.0
        share = 100.0 * count / total if total else 0.0
        rows.append(
            _row(f"Runs per second: {outcome}", f"{rate:.2f}/s", f"{count} runs, {share:.1f} %")
        )
    return rows


def _throughput_rows(summary: Summary) -> list[dict[str, str]]:
    runs, duration = summary.runs, summary.duration_s or 0
    total = runs.total
    ended = total - runs.stopped - runs.left  # Locust gets no row for either
    rows = [
        _row(
            "Runs per second",
            f"{ended / duration if duration else 0.0:.2f}/s",
            f"{ended} runs ended ok or failed in {duration:.0f} s: what Locust's RPS counts (one "
            "request per run)",
        )
    ]
    rows += _recent_rate_rows(summary.timeline)
    rows += _outcome_rate_rows(runs.by_outcome, total, duration)
    rows.append(
        _row("Error rate", f"{100.0 * runs.error_rate:.2f} %", f"{runs.failed} failed runs")
    )
    convs = summary.conversations
    rows.append(_row("Conversations", str(convs.total), f"{convs.ok} ok, {convs.failed} failed"))
    return rows


def turn_rows(summary: Summary) -> list[dict[str, str]]:
    """First messages against follow-ups: a slow first turn points at cold starts or thread
    setup."""
    rows = []
    for name, label in ((FIRST, "First turns"), (FOLLOW_UP, "Follow-up turns")):
        part = turn(summary, name)
        metrics = part.metrics if part is not None else None
        runs, failed = (part.runs, part.failed) if part is not None else (0, 0)
        rows.append(
            _row(
                label,
                f"first text p95 {fmt.ms(stat(metrics, 'first_text', 'p95'))}",
                f"done p95 {fmt.ms(stat(metrics, 'done', 'p95'))}; {runs} runs, {failed} failed",
            )
        )
    return rows


RECENT_S = 10.0


def recent_runs_per_s(timeline: Sequence[TimelinePoint]) -> float | None:
    """Runs per second over the last RECENT_S seconds of the timeline (None if too short)."""
    if len(timeline) < 2:
        return None
    last = timeline[-1]
    start = next((p for p in timeline if last.t_s - p.t_s <= RECENT_S), timeline[0])
    span = last.t_s - start.t_s
    if span <= 0:
        return None
    return (last.runs - start.runs) / span


def _trust_rows(summary: Summary) -> list[dict[str, str]]:
    lg = summary.load_generator
    lag, limit = lg.client_lag, lg.client_lag_p99_limit_ms
    rows = [
        _row("Client lag p99", fmt.ms(lag.p99), f"limit {fmt.ms(limit)}; max {fmt.ms(lag.max)}")
    ]
    cpu, cpu_limit = lg.cpu_percent_max, lg.cpu_percent_limit
    rows.append(
        _row(
            "Load generator CPU peak",
            "-" if cpu is None else f"{cpu:.0f} %",
            f"limit {'-' if cpu_limit is None else cpu_limit} %",
        )
    )
    if lg.trustworthy:
        rows.append(
            _row("Load generator kept up", "yes", "timings measure the server, not the client")
        )
    else:
        lost = worker_warnings(summary.workers)
        rows += [_row("WARNING: workers lost", "results incomplete", text) for text in lost]
        for warning in [w for w in lg.warnings if w not in lost]:
            rows.append(
                _row(
                    "WARNING: results limited by the load generator",
                    "add workers (--processes N)",
                    str(warning),
                )
            )
    return rows


def gate_rows(
    verdicts: Sequence[Verdict], *, aborted_by: str | None = None, abort_gates: Sequence[str] = ()
) -> list[dict[str, str]]:
    rows = []
    for verdict in verdicts:
        status = "PASS" if verdict.passed else "FAIL"
        detail = f"measured {verdict.measured}, limit {verdict.limit}: {verdict.reason}"
        if verdict.gate_text == aborted_by:
            detail = f"STOPPED THE TEST. {detail}"
        elif verdict.gate_text in abort_gates:
            detail = f"abort gate, armed. {detail}"
        rows.append(_row(f"Gate: {verdict.gate_text}", status, detail))
    return rows


def stage_rows(summary: Summary) -> list[dict[str, str]]:
    """Load stages or capacity-search steps, when the summary has them: their scalar figures."""
    rows = []
    for label, segments in (("Stage", summary.stages), ("Step", summary.search_steps)):
        for index, segment in enumerate(segments or [], start=1):
            item: dict[str, Json] = msgspec.to_builtins(segment)
            text = ", ".join(
                f"{k} {_short(v)}"
                for k, v in item.items()
                if k != "name" and v is not None and not isinstance(v, (Mapping, list))
            )
            rows.append(_row(f"{label} {segment.name or index}", segment.verdict or "", text))
    return rows


def _short(value: Json) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def timing_rows(summary: Summary) -> list[TimingRow]:
    """Exact merged percentiles of every timing; run timings also for first turns and follow-ups,
    every timing also per persona and per channel (a timing a channel cannot observe says so)."""
    rows = []
    for metric in ALL_METRICS:
        rows.append(_timing_row(metric, "all", summary.metrics.get(metric)))
        if metric in RUN_METRICS:
            for name in (FIRST, FOLLOW_UP):
                part = turn(summary, name)
                figures = part.metrics.get(metric) if part is not None else None
                rows.append(_timing_row(metric, name.replace("_", "-"), figures))
    for name, persona in (summary.personas or {}).items():  # each persona's own
        for metric in ALL_METRICS:
            rows.append(_timing_row(metric, f"persona {name}", persona.metrics.get(metric)))
    for name, channel in (summary.channels or {}).items() if shows_channels(summary) else ():
        for metric in ALL_METRICS:
            label = f"channel {name}"
            if metric in channel.not_observable:
                label += f" ({NOT_OBSERVABLE})"
            rows.append(_timing_row(metric, label, channel.metrics.get(metric)))
    lg = summary.load_generator
    for metric in LOAD_GENERATOR_METRICS:
        rows.append(_timing_row(metric, "load generator", getattr(lg, metric)))
    return rows


def _timing_row(metric: str, turn: str, figures: Stat | None) -> TimingRow:
    stat = figures if figures is not None else Stat(count=0)
    return TimingRow(
        metric=metric, turn=turn, count=stat.count, p50=_num(stat.p50), p90=_num(stat.p90),
        p95=_num(stat.p95), p99=_num(stat.p99), max=_num(stat.max),
    )  # fmt: skip


def timeline_rows(summary: Summary) -> list[TimelineRow]:
    """Per timeline interval: users, runs and failures per second, first text and done
    percentiles."""
    rows: list[TimelineRow] = []
    last_t, last_runs, last_errors = 0.0, 0, 0
    for point in summary.timeline:
        t, runs, errors = point.t_s, point.runs, point.errors
        span = t - last_t
        rows.append(TimelineRow(
            time=round(t, 1), users=point.users,
            rps=round((runs - last_runs) / span, 2) if span > 0 else "",
            eps=round((errors - last_errors) / span, 2) if span > 0 else "",
            ftfifty=_num(point.first_text_p50),
            ftninetyfive=_num(point.first_text_p95),
            doneninetyfive=_num(point.done_p95),
        ))  # fmt: skip
        last_t, last_runs, last_errors = t, runs, errors
    return rows[::-1]  # newest first: the table shows the present at the top


def extended_stats(
    summary: Summary,
    verdicts: Sequence[Verdict],
    *,
    state: str,
    aborted_by: str | None = None,
    abort_gates: Sequence[str] = (),
    more_overview: Sequence[dict[str, str]] = (),
) -> list[TabRows]:
    """Locust's `extended_stats`: the rows of every wxo-load tab (`more_overview` ends the
    overview: the web tab's download links)."""
    overview = overview_rows(
        summary, verdicts, state=state, aborted_by=aborted_by, abort_gates=abort_gates
    )
    overview += more_overview
    return [
        TabRows(key=OVERVIEW, data=overview),
        TabRows(key=TIMINGS, data=timing_rows(summary)),
        TabRows(key=OVER_TIME, data=timeline_rows(summary)),
    ]


__all__ = [
    "TABLES",
    "TABS",
    "extended_stats",
    "overview_rows",
    "timeline_rows",
    "timing_rows",
]
