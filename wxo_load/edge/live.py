"""The live view of a test: tables of wxo-load's own figures, for Locust's web UI tab.

Pure: no locust, no clock of its own. Everything is read from a `summary.json`-shaped dict
(the live one `build_summary` makes from the master's merged `MetricsBook`, or the final one)
and the gates' verdicts on it, so the tab shows exactly what the results files will say.

Locust's extended tabs render one table per tab from a list of row dicts; keys are single
lower-case words because Locust's UI camel-cases keys that contain underscores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wxo_load.core import fmt
from wxo_load.core.book import MetricsBook
from wxo_load.core.hdr import Timing
from wxo_load.core.metrics import (
    ALL_METRICS,
    FIRST,
    FOLLOW_UP,
    LOAD_GENERATOR_METRICS,
    RUN_METRICS,
)
from wxo_load.core.records import RunRecord
from wxo_load.core.summary import worker_warnings
from wxo_load.gates import Verdict

OVERVIEW = "wxo-load"
TIMINGS = "wxo-load-timings"
OVER_TIME = "wxo-load-over-time"

TABS: list[dict[str, str]] = [
    {"key": OVERVIEW, "title": "wxo-load"},
    {"key": TIMINGS, "title": "wxo-load timings"},
    {"key": OVER_TIME, "title": "wxo-load over time"},
]
TABLES: list[dict[str, Any]] = [
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

INTERVAL_METRICS = ("first_text", "done")
INTERVAL_PERCENTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))


class IntervalTimings:
    """First text and done of the runs measured since the last timeline point."""

    def __init__(self) -> None:
        self.timings = {metric: Timing() for metric in INTERVAL_METRICS}

    def record_run(self, run: RunRecord) -> None:
        for metric in INTERVAL_METRICS:
            value = getattr(run, RUN_METRICS[metric])
            if value is not None:
                self.timings[metric].record(value)

    def merge_book(self, book: MetricsBook) -> None:
        for metric in INTERVAL_METRICS:
            self.timings[metric].merge(book.timing(metric))

    def take_figures(self) -> dict[str, float | None]:
        """{"first_text_p50": ..., "done_p99": ...} of the interval, then start a new one."""
        figures: dict[str, float | None] = {}
        for metric, timing in self.timings.items():
            values = timing.percentiles_ms([p for _, p in INTERVAL_PERCENTILES])
            for (name, _), value in zip(INTERVAL_PERCENTILES, values, strict=True):
                figures[f"{metric}_{name}"] = None if value is None else round(value, 3)
        self.timings = {metric: Timing() for metric in INTERVAL_METRICS}
        return figures


fmt_ms = fmt.ms


def _num(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(float(value), digits)


def _row(figure: str, value: str, detail: str = "") -> dict[str, str]:
    return {"figure": figure, "value": value, "detail": detail}


def overview_rows(
    summary: Mapping[str, Any],
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
            f"{summary.get('duration_s') or 0:.0f} s, peak "
            f"{(summary.get('users') or {}).get('peak') or 0} users",
        )
    ]
    rows += _throughput_rows(summary)
    rows += turn_rows(summary)
    rows += _trust_rows(summary)
    rows += gate_rows(verdicts, aborted_by=aborted_by, abort_gates=abort_gates)
    rows += stage_rows(summary)
    return rows


def _recent_rate_rows(timeline: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
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
    by_outcome: Mapping[str, Any], total: int, duration: float
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


def _throughput_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    runs, duration = summary.get("runs") or {}, summary.get("duration_s") or 0
    total = int(runs.get("total") or 0)
    ended = total - int(runs.get("stopped") or 0)
    rows = [
        _row(
            "Runs per second",
            f"{ended / duration if duration else 0.0:.2f}/s",
            f"{ended} runs ended ok or failed in {duration:.0f} s: what Locust's RPS counts (one "
            "request per run)",
        )
    ]
    rows += _recent_rate_rows(summary.get("timeline") or [])
    rows += _outcome_rate_rows(runs.get("by_outcome") or {}, total, duration)
    rows.append(
        _row(
            "Error rate",
            f"{100.0 * float(runs.get('error_rate') or 0):.2f} %",
            f"{runs.get('failed', 0)} failed runs",
        )
    )
    convs = summary.get("conversations") or {}
    rows.append(
        _row(
            "Conversations",
            str(convs.get("total", 0)),
            f"{convs.get('ok', 0)} ok, {convs.get('failed', 0)} failed",
        )
    )
    return rows


def turn_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """First messages against follow-ups: a slow first turn points at cold starts or thread
    setup."""
    rows = []
    for turn, label in ((FIRST, "First turns"), (FOLLOW_UP, "Follow-up turns")):
        part = (summary.get("by_turn") or {}).get(turn) or {}
        metrics = part.get("metrics") or {}
        first_text, done = metrics.get("first_text") or {}, metrics.get("done") or {}
        rows.append(
            _row(
                label,
                f"first text p95 {fmt_ms(first_text.get('p95'))}",
                f"done p95 {fmt_ms(done.get('p95'))}; {part.get('runs', 0)} runs, "
                f"{part.get('failed', 0)} failed",
            )
        )
    return rows


RECENT_S = 10.0


def recent_runs_per_s(timeline: Sequence[Mapping[str, Any]]) -> float | None:
    """Runs per second over the last RECENT_S seconds of the timeline (None if too short)."""
    if len(timeline) < 2:
        return None
    last = timeline[-1]
    start = next(
        (p for p in timeline if float(last["t_s"]) - float(p["t_s"]) <= RECENT_S), timeline[0]
    )
    span = float(last["t_s"]) - float(start["t_s"])
    if span <= 0:
        return None
    return (int(last["runs"]) - int(start["runs"])) / span


def _trust_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    lg = summary.get("load_generator") or {}
    lag = lg.get("client_lag") or {}
    limit = lg.get("client_lag_p99_limit_ms")
    rows = [
        _row(
            "Client lag p99",
            fmt_ms(lag.get("p99")),
            f"limit {fmt_ms(limit)}; max {fmt_ms(lag.get('max'))}",
        )
    ]
    cpu = lg.get("cpu_percent_max")
    rows.append(
        _row(
            "Load generator CPU peak",
            "-" if cpu is None else f"{cpu:.0f} %",
            f"limit {lg.get('cpu_percent_limit', '-')} %",
        )
    )
    if lg.get("trustworthy", True):
        rows.append(
            _row("Load generator kept up", "yes", "timings measure the server, not the client")
        )
    else:
        lost = worker_warnings(summary.get("workers") or {})
        rows += [_row("WARNING: workers lost", "results incomplete", text) for text in lost]
        for warning in [w for w in lg.get("warnings") or [] if w not in lost]:
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


def stage_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """Load stages or capacity-search steps, when the summary has them (any shape of dict)."""
    rows = []
    for key in ("stages", "steps"):
        for index, item in enumerate(summary.get(key) or [], start=1):
            if isinstance(item, Mapping):
                name = str(item.get("name") or item.get("stage") or index)
                text = ", ".join(
                    f"{k} {_short(v)}"
                    for k, v in item.items()
                    if k not in ("name", "stage") and not isinstance(v, (Mapping, list))
                )
                rows.append(
                    _row(
                        f"{key[:-1].capitalize()} {name}",
                        str(item.get("verdict") or item.get("status") or ""),
                        text,
                    )
                )
    return rows


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def timing_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Exact merged percentiles of every timing; run timings also for first turns and follow-ups,
    every timing also per persona."""
    rows = []
    metrics = summary.get("metrics") or {}
    by_turn = summary.get("by_turn") or {}
    for metric in ALL_METRICS:
        rows.append(_timing_row(metric, "all", metrics.get(metric) or {}))
        if metric in RUN_METRICS:
            for turn in (FIRST, FOLLOW_UP):
                figures = ((by_turn.get(turn) or {}).get("metrics") or {}).get(metric) or {}
                rows.append(_timing_row(metric, turn.replace("_", "-"), figures))
    for name, persona in (summary.get("personas") or {}).items():  # each persona's own
        for metric in ALL_METRICS:
            figures = (persona.get("metrics") or {}).get(metric) or {}
            rows.append(_timing_row(metric, f"persona {name}", figures))
    lg = summary.get("load_generator") or {}
    for metric in LOAD_GENERATOR_METRICS:
        rows.append(_timing_row(metric, "load generator", lg.get(metric) or {}))
    return rows


def _timing_row(metric: str, turn: str, figures: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"metric": metric, "turn": turn, "count": figures.get("count") or 0}
    for name in ("p50", "p90", "p95", "p99", "max"):
        row[name] = _num(figures.get(name))
    return row


def timeline_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per timeline interval: users, runs and failures per second, first text and done
    percentiles."""
    rows, last_t, last_runs, last_errors = [], 0.0, 0, 0
    for point in summary.get("timeline") or []:
        t = float(point.get("t_s") or 0)
        span = t - last_t
        runs, errors = int(point.get("runs") or 0), int(point.get("errors") or 0)
        rows.append({
            "time": round(t, 1), "users": point.get("users", ""),
            "rps": round((runs - last_runs) / span, 2) if span > 0 else "",
            "eps": round((errors - last_errors) / span, 2) if span > 0 else "",
            "ftfifty": _num(point.get("first_text_p50")),
            "ftninetyfive": _num(point.get("first_text_p95")),
            "doneninetyfive": _num(point.get("done_p95")),
        })  # fmt: skip
        last_t, last_runs, last_errors = t, runs, errors
    return rows[::-1]  # newest first: the table shows the present at the top


def extended_stats(
    summary: Mapping[str, Any],
    verdicts: Sequence[Verdict],
    *,
    state: str,
    aborted_by: str | None = None,
    abort_gates: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Locust's `extended_stats`: the rows of every wxo-load tab."""
    return [
        {
            "key": OVERVIEW,
            "data": overview_rows(
                summary, verdicts, state=state, aborted_by=aborted_by, abort_gates=abort_gates
            ),
        },
        {"key": TIMINGS, "data": timing_rows(summary)},
        {"key": OVER_TIME, "data": timeline_rows(summary)},
    ]


__all__ = [
    "TABLES",
    "TABS",
    "IntervalTimings",
    "extended_stats",
    "overview_rows",
    "timeline_rows",
    "timing_rows",
]
