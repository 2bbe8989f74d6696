"""summary.json (schema wxo-load/summary/v2, typed in `summary_model`) from a `MetricsBook`.
Pure: no clock, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from wxo_load import __version__
from wxo_load.core.channels import MILESTONES, not_observable
from wxo_load.core.metrics import ALL_METRICS, LOAD_GENERATOR_METRICS, RUN_METRICS, TURN_CLASSES
from wxo_load.core.records import LEFT_OUTCOMES, OK, STOPPED
from wxo_load.core.step_stats import ended_without_done, steps_summary
from wxo_load.core.summary_codec import summary_from_dict
from wxo_load.core.summary_model import SCHEMA, Summary
from wxo_load.core.summary_plan import PlanExtras
from wxo_load.core.summary_sections import Workers
from wxo_load.core.window import MeasuredWindow

if TYPE_CHECKING:
    from wxo_load.core.book import MetricsBook


def iso_utc(unix: float | None) -> str | None:
    """Unix seconds -> `2026-11-21T07:00:00.000Z`."""
    if unix is None:
        return None
    moment = datetime.fromtimestamp(unix, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _outcomes(by_outcome: dict[str, int]) -> dict[str, Any]:
    total = sum(by_outcome.values())
    ok = by_outcome.get(OK, 0)
    stopped = by_outcome.get(STOPPED, 0)
    left = sum(by_outcome.get(o, 0) for o in LEFT_OUTCOMES)
    failed = total - ok - stopped - left
    ordered = {OK: ok}
    for name in sorted(by_outcome, key=lambda k: (-by_outcome[k], k)):
        if name != OK:
            ordered[name] = by_outcome[name]
    return {
        "total": total,
        "ok": ok,
        "failed": failed,
        "stopped": stopped,
        "left": left,
        "error_rate": round(failed / total, 6) if total else 0.0,
        "by_outcome": ordered,
    }


def _per_second(amount: float, duration_s: float | None) -> float:
    return round(amount / duration_s, 3) if duration_s else 0.0


def _load_generator(
    book: MetricsBook, extras: dict[str, Any], workers: Mapping[str, Any]
) -> dict[str, Any]:
    lags = {key: book.metric_summary(key) for key in LOAD_GENERATOR_METRICS}
    warnings = [str(w) for w in extras.get("warnings") or []]
    lost = worker_warnings(Workers(**workers))
    for text in _lag_warnings(lags, extras) + _cpu_warnings(extras) + lost:
        if text not in warnings:
            warnings.append(text)
    result: dict[str, Any] = {
        **lags,
        "cpu_percent_max": extras.get("cpu_percent_max"),
        "trustworthy": not warnings,
        "warnings": warnings,
        "workers": {w: dict(c) for w, c in sorted(book.runs_by_worker.items())},
    }
    for key, value in extras.items():
        result.setdefault(key, value)
    return result


def _lag_warnings(lags: dict[str, dict[str, Any]], extras: dict[str, Any]) -> list[str]:
    """A warning per lag whose p99 is over its limit (`extras["<key>_p99_limit_ms"]`)."""
    warnings = []
    for key, summary in lags.items():
        limit = extras.get(f"{key}_p99_limit_ms")
        if limit is not None and summary["count"] and summary["p99"] > float(limit):
            warnings.append(
                f"{key.replace('_', ' ')} p99 was {summary['p99']:g} ms (limit {float(limit):g} "
                "ms): the load generator fell behind, so server timings may be overstated"
            )
    return warnings


def _cpu_warnings(extras: dict[str, Any]) -> list[str]:
    cpu = extras.get("cpu_percent_max")
    cpu_limit = extras.get("cpu_percent_limit")
    if cpu is not None and cpu_limit is not None and float(cpu) > float(cpu_limit):
        return [
            f"load generator CPU peaked at {float(cpu):.0f} % (limit {float(cpu_limit):g} %): "
            "add --processes or workers, or lower the user count"
        ]
    return []


def _workers(meta: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json's `workers`: load-generating processes seen and lost (default: one, kept)."""
    given = meta.get("workers") or {}
    lost_ids = [str(w) for w in given.get("lost_ids") or []]
    return {"seen": int(given.get("seen", 1)), "lost": len(lost_ids), "lost_ids": lost_ids}


def worker_warnings(workers: Workers) -> list[str]:
    """The warning a lost worker gives (none when no worker was lost)."""
    if not workers.lost:
        return []
    return [
        f"{workers.lost} of {workers.seen} workers lost ({', '.join(workers.lost_ids)}): the "
        "runs they measured after their last report are missing from these results"
    ]


def _throughput(
    runs: dict[str, Any], conversations: dict[str, Any], answer_chars: int, duration_s: float | None
) -> dict[str, float]:
    return {
        "runs_per_s": _per_second(runs["total"], duration_s),
        "ok_runs_per_s": _per_second(runs["ok"], duration_s),
        "conversations_per_s": _per_second(conversations["total"], duration_s),
        "answer_chars_per_s": _per_second(answer_chars, duration_s),
    }


def _by_turn(book: MetricsBook) -> dict[str, Any]:
    by_turn: dict[str, Any] = {}
    for turn in TURN_CLASSES:
        counts = _outcomes(book.runs_by_turn.get(turn, {}))
        by_turn[turn] = {
            "runs": counts["total"],
            "ok": counts["ok"],
            "failed": counts["failed"],
            "by_outcome": counts["by_outcome"],
            "metrics": {m: book.metric_summary(f"{turn}/{m}") for m in RUN_METRICS},
        }
    return by_turn


def _group(sub: MetricsBook, duration_s: float | None) -> dict[str, Any]:
    """A persona's or a channel's runs, conversations and exact percentiles, shaped as the top
    level (so a gate figure reads the same under `personas.NAME.` or `channels.NAME.`)."""
    runs = _outcomes(sub.runs_by_outcome)
    conversations = _outcomes(sub.conversations_by_outcome)
    return {
        "runs": runs,
        "conversations": conversations,
        "throughput": _throughput(runs, conversations, sub.answer_chars, duration_s),
        "metrics": {m: sub.metric_summary(m) for m in ALL_METRICS},
        "by_turn": _by_turn(sub),
    }


def _personas(book: MetricsBook, duration_s: float | None) -> dict[str, Any]:
    """`personas.<name>`: each persona's figures; absent without personas."""
    out = {name: _group(sub, duration_s) for name, sub in sorted(book.personas.items())}
    return {"personas": out} if out else {}


def _channels(book: MetricsBook, duration_s: float | None) -> dict[str, Any]:
    """`channels.<name>`: each channel's figures and the milestones it could not observe."""
    out: dict[str, Any] = {}
    for name, sub in sorted(book.channels.items()):
        counts = {m: sub.timing(m).count for m in MILESTONES}
        out[name] = {**_group(sub, duration_s), "not_observable": not_observable(name, counts)}
    return {"channels": out} if out else {}


class PlanSections(Protocol):
    """A load plan under way: the sections it adds to a summary (plan, stages, search_steps,
    capacity, knee, arrivals), from the book and the base summary as of `now`."""

    def summary_extras(self, book: MetricsBook, summary: Summary, now: float) -> PlanExtras: ...


def build_summary(
    book: MetricsBook, *, meta: dict[str, Any], plan: PlanSections | None = None
) -> Summary:
    """summary.json as a `Summary`: `summary_sections` typed, with the load plan's sections
    laid over them (as of `meta["ended_at"]`). The one way a whole summary is made: the final
    one, the live tab's and the early stop's, so all three see the same stages and steps."""
    summary = summary_from_dict(summary_sections(book, meta=meta))
    if plan is None:
        return summary
    extras = plan.summary_extras(book, summary, time_of(meta.get("ended_at")))
    return msgspec.structs.replace(summary, **msgspec.structs.asdict(extras))


def time_of(unix: object) -> float:
    """`meta["ended_at"]` as seconds (a load plan's sections are cut at it)."""
    if not isinstance(unix, (int, float)):
        raise ValueError("build_summary with a load plan needs meta['ended_at'] (unix seconds)")
    return float(unix)


def summary_sections(book: MetricsBook, *, meta: dict[str, Any]) -> dict[str, Any]:
    """summary.json's sections as plain data, before they are typed (a stage's or search step's
    own figures are cut from these).

    `meta`: scenario (dict, already free of secrets), options, host, started_at / ended_at
    (unix seconds), users_peak, timeline (list of {"t_s","users","runs","errors"}), workers
    ({"seen", "lost_ids"}: load-generating processes and those lost), and load_generator
    extras: cpu_percent_max, warnings, and optional limits client_lag_p99_limit_ms,
    schedule_lag_p99_limit_ms, cpu_percent_limit; `window`, the `MeasuredWindow` the book's
    records were classified by (throughput is per second of it).
    """
    started = meta.get("started_at")
    ended = meta.get("ended_at")
    started = book.first_start_unix if started is None else started
    ended = book.last_end_unix if ended is None else ended
    duration_s = round(ended - started, 3) if started is not None and ended is not None else None
    window = _window(meta.get("window"), started, ended, book)
    measured_s = window["duration_s"]
    runs = _outcomes(book.runs_by_outcome)
    runs["ended_without_done"] = ended_without_done(book)
    conversations = _outcomes(book.conversations_by_outcome)
    workers = _workers(meta)
    return {
        "schema": SCHEMA,
        "tool": {"name": "wxo-load", "version": __version__},
        "scenario": meta.get("scenario", {}),
        "options": meta.get("options", {}),
        "host": meta.get("host"),
        "started_at": iso_utc(started),
        "ended_at": iso_utc(ended),
        "duration_s": duration_s,
        "users": {"peak": meta.get("users_peak")},
        "percentiles": {
            "method": "nearest-rank",
            "resolution": "HDR histogram, 1 us to 1 h, 3 significant digits; min, max, mean exact",
            "unit": "ms",
        },
        "metrics": {m: book.metric_summary(m) for m in ALL_METRICS},
        "runs": runs,
        "conversations": conversations,
        "window": window,
        "throughput": _throughput(runs, conversations, book.answer_chars, measured_s),
        "answer_chars": book.answer_chars,
        "by_turn": _by_turn(book),
        **_personas(book, duration_s),
        **_channels(book, duration_s),
        **steps_summary(book),
        **book.answers.summary(runs["total"] - runs["stopped"] - runs["left"], duration_s),
        **book.replay.summary(),
        "workers": workers,
        "load_generator": _load_generator(book, dict(meta.get("load_generator") or {}), workers),
        "timeline": list(meta.get("timeline") or []),
    }


def _window(
    window: MeasuredWindow | None, started: float | None, ended: float | None, book: MetricsBook
) -> dict[str, Any]:
    """The measured window: the whole test when none was set."""
    return (window or MeasuredWindow()).summary(started, ended, book.excluded)
