"""summary.json (schema wxo-load/summary/v2, typed in `summary_model`) from a `MetricsBook`:
each section made as its Struct by the part that owns it (the book's timings, `answer_stats`,
`replay_stats`, `step_stats`, `window`; the test's description typed as `SummaryMeta`), never a
dict converted at the end. Pure: no clock, no I/O."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

import msgspec

from wxo_load import __version__
from wxo_load.core.channels import MILESTONES, not_observable
from wxo_load.core.metrics import ALL_METRICS, CLIENT_LAG, RUN_METRICS, SCHEDULE_LAG, TURN_CLASSES
from wxo_load.core.records import LEFT_OUTCOMES, OK, STOPPED
from wxo_load.core.step_stats import ended_without_done, steps_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_model import SCHEMA, Summary
from wxo_load.core.summary_plan import PlanExtras
from wxo_load.core.summary_sections import (
    ChannelSummary,
    LoadGenerator,
    Outcomes,
    Percentiles,
    PersonaSummary,
    Stat,
    Throughput,
    Tool,
    TurnSummary,
    Users,
    WorkerRuns,
    Workers,
)
from wxo_load.core.window import MeasuredWindow

if TYPE_CHECKING:
    from wxo_load.core.book import MetricsBook

PERCENTILES = Percentiles(
    method="nearest-rank",
    resolution="HDR histogram, 1 us to 1 h, 3 significant digits; min, max, mean exact",
    unit="ms",
)
NO_META = SummaryMeta()


def iso_utc(unix: float | None) -> str | None:
    """Unix seconds -> `2026-11-21T07:00:00.000Z`."""
    if unix is None:
        return None
    moment = datetime.fromtimestamp(unix, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _outcomes(by_outcome: dict[str, int]) -> Outcomes:
    total = sum(by_outcome.values())
    ok = by_outcome.get(OK, 0)
    stopped = by_outcome.get(STOPPED, 0)
    left = sum(by_outcome.get(o, 0) for o in LEFT_OUTCOMES)
    failed = total - ok - stopped - left
    ordered = {OK: ok}
    for name in sorted(by_outcome, key=lambda k: (-by_outcome[k], k)):
        if name != OK:
            ordered[name] = by_outcome[name]
    return Outcomes(
        total=total,
        ok=ok,
        failed=failed,
        stopped=stopped,
        left=left,
        error_rate=round(failed / total, 6) if total else 0.0,
        by_outcome=ordered,
    )


def _per_second(amount: float, duration_s: float | None) -> float:
    return round(amount / duration_s, 3) if duration_s else 0.0


def _load_generator(
    book: MetricsBook, extras: LoadGeneratorExtras, workers: Workers
) -> LoadGenerator:
    client_lag, schedule_lag = book.metric_summary(CLIENT_LAG), book.metric_summary(SCHEDULE_LAG)
    warnings = list(extras.warnings)
    lags = _lag_warnings(CLIENT_LAG, client_lag, extras.client_lag_p99_limit_ms)
    lags += _lag_warnings(SCHEDULE_LAG, schedule_lag, extras.schedule_lag_p99_limit_ms)
    for text in lags + _cpu_warnings(extras) + worker_warnings(workers):
        if text not in warnings:
            warnings.append(text)
    return LoadGenerator(
        client_lag=client_lag,
        schedule_lag=schedule_lag,
        cpu_percent_max=extras.cpu_percent_max,
        trustworthy=not warnings,
        warnings=warnings,
        workers={
            w: WorkerRuns(runs=c["runs"], failed=c["failed"])
            for w, c in sorted(book.runs_by_worker.items())
        },
        cpu_s=extras.cpu_s,
        cpu_ms_per_run=extras.cpu_ms_per_run,
        cpu_percent_limit=extras.cpu_percent_limit,
        client_lag_p99_limit_ms=extras.client_lag_p99_limit_ms,
        schedule_lag_p99_limit_ms=extras.schedule_lag_p99_limit_ms,
    )


def _lag_warnings(key: str, lag: Stat, limit: float | None) -> list[str]:
    """A warning when the lag's p99 is over its limit."""
    if limit is None or not lag.count or lag.p99 is None or lag.p99 <= limit:
        return []
    return [
        f"{key.replace('_', ' ')} p99 was {lag.p99:g} ms (limit {float(limit):g} "
        "ms): the load generator fell behind, so server timings may be overstated"
    ]


def _cpu_warnings(extras: LoadGeneratorExtras) -> list[str]:
    cpu, cpu_limit = extras.cpu_percent_max, extras.cpu_percent_limit
    if cpu is not None and cpu_limit is not None and float(cpu) > float(cpu_limit):
        return [
            f"load generator CPU peaked at {float(cpu):.0f} % (limit {float(cpu_limit):g} %): "
            "add --processes or workers, or lower the user count"
        ]
    return []


def worker_warnings(workers: Workers) -> list[str]:
    """The warning a lost worker gives (none when no worker was lost)."""
    if not workers.lost:
        return []
    return [
        f"{workers.lost} of {workers.seen} workers lost ({', '.join(workers.lost_ids)}): the "
        "runs they measured after their last report are missing from these results"
    ]


def _throughput(
    runs: Outcomes, conversations: Outcomes, answer_chars: int, duration_s: float | None
) -> Throughput:
    return Throughput(
        runs_per_s=_per_second(runs.total, duration_s),
        ok_runs_per_s=_per_second(runs.ok, duration_s),
        conversations_per_s=_per_second(conversations.total, duration_s),
        answer_chars_per_s=_per_second(answer_chars, duration_s),
    )


def _by_turn(book: MetricsBook) -> dict[str, TurnSummary]:
    by_turn: dict[str, TurnSummary] = {}
    for turn in TURN_CLASSES:
        counts = _outcomes(book.runs_by_turn.get(turn, {}))
        by_turn[turn] = TurnSummary(
            runs=counts.total,
            ok=counts.ok,
            failed=counts.failed,
            by_outcome=counts.by_outcome,
            metrics={m: book.metric_summary(f"{turn}/{m}") for m in RUN_METRICS},
        )
    return by_turn


def _group(sub: MetricsBook, duration_s: float | None) -> PersonaSummary:
    """A persona's or a channel's runs, conversations and exact percentiles, shaped as the top
    level (so a gate figure reads the same under `personas.NAME.` or `channels.NAME.`)."""
    runs = _outcomes(sub.runs_by_outcome)
    conversations = _outcomes(sub.conversations_by_outcome)
    return PersonaSummary(
        runs=runs,
        conversations=conversations,
        throughput=_throughput(runs, conversations, sub.answer_chars, duration_s),
        metrics={m: sub.metric_summary(m) for m in ALL_METRICS},
        by_turn=_by_turn(sub),
    )


def _personas(book: MetricsBook, duration_s: float | None) -> dict[str, PersonaSummary] | None:
    """`personas.<name>`: each persona's figures; None without personas."""
    out = {name: _group(sub, duration_s) for name, sub in sorted(book.personas.items())}
    return out or None


def _channels(book: MetricsBook, duration_s: float | None) -> dict[str, ChannelSummary] | None:
    """`channels.<name>`: each channel's figures and the milestones it could not observe."""
    out: dict[str, ChannelSummary] = {}
    for name, sub in sorted(book.channels.items()):
        group = _group(sub, duration_s)
        counts = {m: sub.timing(m).count for m in MILESTONES}
        out[name] = ChannelSummary(
            runs=group.runs,
            conversations=group.conversations,
            throughput=group.throughput,
            metrics=group.metrics,
            by_turn=group.by_turn,
            not_observable=not_observable(name, counts),
        )
    return out or None


class PlanSections(Protocol):
    """A load plan under way: the sections it adds to a summary (plan, stages, search_steps,
    capacity, knee, arrivals), from the book and the base summary as of `now`."""

    def summary_extras(self, book: MetricsBook, summary: Summary, now: float) -> PlanExtras: ...


def build_summary(
    book: MetricsBook, *, meta: SummaryMeta = NO_META, plan: PlanSections | None = None
) -> Summary:
    """summary.json as a `Summary`: `base_summary`, with the load plan's sections laid over it
    (as of `meta.ended_at`). The one way a whole summary is made: the final one, the live tab's
    and the early stop's, so all three see the same stages and steps."""
    base = base_summary(book, meta=meta)
    if plan is None:
        return base
    extras = plan.summary_extras(book, base, time_of(meta.ended_at))
    return msgspec.structs.replace(base, **msgspec.structs.asdict(extras))


def time_of(unix: float | None) -> float:
    """`meta.ended_at` as seconds (a load plan's sections are cut at it)."""
    if unix is None:
        raise ValueError("build_summary with a load plan needs meta.ended_at (unix seconds)")
    return float(unix)


def base_summary(book: MetricsBook, *, meta: SummaryMeta = NO_META) -> Summary:
    """summary.json without a load plan's sections (plan, stages, search_steps, capacity, knee,
    arrivals stay None); a stage's or search step's own figures are cut from one of these."""
    started = book.first_start_unix if meta.started_at is None else meta.started_at
    ended = book.last_end_unix if meta.ended_at is None else meta.ended_at
    duration_s = _seconds(ended - started) if started is not None and ended is not None else None
    window = (meta.window or MeasuredWindow()).summary(started, ended, book.excluded)
    runs = msgspec.structs.replace(
        _outcomes(book.runs_by_outcome), ended_without_done=ended_without_done(book)
    )
    conversations = _outcomes(book.conversations_by_outcome)
    ended_runs = runs.total - runs.stopped - runs.left
    answers, goodput = book.answers.summary(ended_runs, duration_s)
    steps = steps_summary(book)
    return Summary(
        schema=SCHEMA,
        tool=Tool(name="wxo-load", version=__version__),
        scenario=meta.scenario,
        options=meta.options,
        host=meta.host,
        started_at=iso_utc(started),
        ended_at=iso_utc(ended),
        duration_s=duration_s,
        users=Users(peak=meta.users_peak),
        percentiles=PERCENTILES,
        metrics={m: book.metric_summary(m) for m in ALL_METRICS},
        runs=runs,
        conversations=conversations,
        window=window,
        throughput=_throughput(runs, conversations, book.answer_chars, window.duration_s),
        answer_chars=book.answer_chars,
        by_turn=_by_turn(book),
        personas=_personas(book, duration_s),
        channels=_channels(book, duration_s),
        tools=steps.tools,
        phases=steps.phases,
        streaming=steps.streaming,
        answers=answers,
        goodput=goodput,
        replay=book.replay.summary(),
        workers=meta.workers,
        load_generator=_load_generator(book, meta.load_generator, meta.workers),
        timeline=list(meta.timeline),
    )


def _seconds(value: float) -> float:
    return float(round(value, 3))
