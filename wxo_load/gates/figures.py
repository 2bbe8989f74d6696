"""Gate figures: what a gate or compare can measure in a `Summary`, and of what kind.

    METRIC.STAT                    METRIC a row of wxo_load.core.metrics (thread_create,
                                   first_text, done, conversation, client_lag...); STAT in p50
                                   p90 p95 p99 p999 min max mean count (count is a number of
                                   samples)
    by_turn.TURN.METRIC.STAT       TURN in first follow_up; METRIC a run metric
    by_turn.TURN.runs              runs that were the first / a follow-up message
    by_turn.TURN.error_rate        failed runs / runs of that turn
    error_rate.CLASS               runs of one error class / all runs (timeout, http_503, ...)
    tools.NAME.STAT, phases.PHASE.STAT, streaming.X.STAT    where the time goes (gates/steps.py)
    SCALARS                        one number each: error_rate, runs, runs_per_s, cpu_percent_max,
                                   answers.wrong_rate, answers.by_check.CHECK, goodput.share,
                                   workers.lost...

Figure kinds (TIME, RATE, COUNT, PER_S, PERCENT) are declared in wxo_load.core.metrics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from wxo_load.core.checks import CHECK_NAMES
from wxo_load.core.errors import ConfigError
from wxo_load.core.metrics import (
    ALL_METRICS,
    BY_KEY,
    COUNT,
    LOAD_GENERATOR_METRICS,
    PER_S,
    PERCENT,
    RATE,
    RUN_METRICS,
    STATS,
    TURN_CLASSES,
)
from wxo_load.core.records import FIXED_ERROR_CLASSES
from wxo_load.core.step_stats import FIGURE_ROOTS as STEP_FIGURE_ROOTS
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import PersonaSummary
from wxo_load.gates.steps import step_figure_kind, step_figure_path, step_sample_count

TURNS = TURN_CLASSES


@dataclass(frozen=True, slots=True)
class Scalar:
    """A figure that is one number of summary.json: its kind, where it is (`path`; None when
    computed from counts) and the count it rests on (`samples`, a summary.json path; None when
    "how many samples" is not a meaningful question)."""

    name: str
    kind: str
    path: tuple[str, ...] | None
    samples: tuple[str, ...] | None = None


_RUNS = ("runs", "total")
_CONVERSATIONS = ("conversations", "total")
_CHECKED = ("answers", "checked")
SCALARS: dict[str, Scalar] = {s.name: s for s in (
    Scalar("error_rate", RATE, None, _RUNS),
    Scalar("conversation_error_rate", RATE, None, _CONVERSATIONS),
    Scalar("runs", COUNT, _RUNS),
    Scalar("runs.ok", COUNT, ("runs", "ok")),
    Scalar("runs.failed", COUNT, ("runs", "failed")),
    Scalar("runs.stopped", COUNT, ("runs", "stopped")),
    Scalar("runs.left", COUNT, ("runs", "left")),
    Scalar("conversations", COUNT, _CONVERSATIONS),
    Scalar("conversations.ok", COUNT, ("conversations", "ok")),
    Scalar("conversations.failed", COUNT, ("conversations", "failed")),
    Scalar("runs_per_s", PER_S, ("throughput", "runs_per_s"), _RUNS),
    Scalar("ok_runs_per_s", PER_S, ("throughput", "ok_runs_per_s"), _RUNS),
    Scalar("conversations_per_s", PER_S, ("throughput", "conversations_per_s"), _CONVERSATIONS),
    Scalar("answer_chars_per_s", PER_S, ("throughput", "answer_chars_per_s"), _RUNS),
    Scalar("cpu_percent_max", PERCENT, ("load_generator", "cpu_percent_max")),
    # a capacity search (load.search) and the open arrival model (locust_plugin.arrival)
    Scalar("capacity.users", COUNT, ("capacity", "users")),
    Scalar("capacity.arrival_rate", PER_S, ("capacity", "arrival_rate")),
    Scalar("capacity.runs_per_s", PER_S, ("capacity", "runs_per_s")),
    Scalar("arrivals.dropped", COUNT, ("arrivals", "dropped")),
    Scalar("arrivals.dropped_rate", RATE, ("arrivals", "dropped_rate")),
    # answers that are still right (core.answer_stats): checks, cross-talk, goodput
    Scalar("answers.checked", COUNT, ("answers", "checked")),
    Scalar("answers.wrong", COUNT, ("answers", "wrong")),
    Scalar("answers.wrong_rate", RATE, ("answers", "wrong_rate"), _CHECKED),
    Scalar("answers.cross_talk", COUNT, ("answers", "cross_talk")),
    Scalar("answers.cross_talk_rate", RATE, ("answers", "cross_talk_rate"), _CHECKED),
    *(Scalar(f"answers.by_check.{c}", COUNT, ("answers", "by_check", c)) for c in CHECK_NAMES),
    Scalar("goodput.runs", COUNT, ("goodput", "runs")),
    Scalar("goodput.runs_per_s", PER_S, ("goodput", "runs_per_s"), _RUNS),
    Scalar("goodput.share", RATE, ("goodput", "share"), _RUNS),
    # load-generator processes that stopped reporting (locust_plugin.handoff)
    Scalar("workers.lost", COUNT, ("workers", "lost")),
)}  # fmt: skip
"""Every one-number figure, by name, in the order the grammar's help lists them."""

_ERROR_CLASS = re.compile(r"^(?:http_[1-9]\d\d|" + "|".join(FIXED_ERROR_CLASSES) + r")$")


PERSONAS = "personas"
"""`personas.NAME.FIGURE`: FIGURE (any figure of a persona's summary) for one persona."""
CHANNELS = "channels"
"""`channels.NAME.FIGURE`: the same for one channel (wxo_load.core.channels)."""
_GROUPS = (PERSONAS, CHANNELS)


def persona_figure(figure: str) -> tuple[str, str, str] | None:
    """(section, name, the figure within it) for `personas.NAME.FIGURE` or
    `channels.NAME.FIGURE`, else None."""
    parts = figure.split(".", 2)
    if len(parts) == 3 and parts[0] in _GROUPS and parts[1]:
        return parts[0], parts[1], parts[2]
    return None


def figure_kind(figure: str, *, where: str = "gate", text: str | None = None) -> str:
    """The kind of a figure (TIME, RATE, COUNT, PER_S, PERCENT); ConfigError if unknown."""
    shown = text if text is not None else figure
    persona = persona_figure(figure)
    if persona is not None:
        return figure_kind(persona[2], where=where, text=shown)
    if figure.split(".")[0] in _GROUPS:
        raise ConfigError(
            f"{where} \"{shown}\": a persona's figure is personas.NAME.FIGURE, a channel's "
            'channels.NAME.FIGURE, for example "personas.hr.first_text.p95" or '
            '"channels.chat.first_text.p95".'
        )
    if figure in SCALARS:
        return SCALARS[figure].kind
    parts = figure.split(".")
    if parts[0] in STEP_FIGURE_ROOTS:  # tools.NAME.STAT, steps.PHASE.STAT, streaming.X.STAT
        return step_figure_kind(figure, where, shown)
    if parts[0] == "error_rate" and len(parts) == 2:
        if _ERROR_CLASS.match(parts[1]):
            return RATE
        raise ConfigError(
            f'{where} "{shown}": unknown error class "{parts[1]}". Error classes are '
            f"{', '.join(FIXED_ERROR_CLASSES)} and http_<status> (http_429, http_503, ...); "
            'write for example "error_rate.timeout < 1%".'
        )
    if parts[0] == "by_turn":
        return _by_turn_kind(parts, where, shown)
    if parts[0] in BY_KEY:
        if len(parts) == 2:
            return _stat_kind(parts[0], parts[1], where, shown)
        if len(parts) == 1:
            raise ConfigError(
                f'{where} "{shown}": say which statistic of {parts[0]} to gate, one of '
                f'{" ".join(STATS)}; for example "{parts[0]}.p95".'
            )
    raise ConfigError(f'{where} "{shown}": unknown figure "{figure}". {_figures_help()}')


def _stat_kind(metric: str, stat: str, where: str, shown: str) -> str:
    if stat not in STATS:
        raise ConfigError(
            f'{where} "{shown}": unknown statistic "{stat}"; use one of {" ".join(STATS)} '
            "(p999 is the 99.9th percentile)."
        )
    return COUNT if stat == "count" else BY_KEY[metric].kind


def _by_turn_kind(parts: list[str], where: str, shown: str) -> str:
    if len(parts) >= 2 and parts[1] not in TURNS:
        raise ConfigError(
            f'{where} "{shown}": unknown turn "{parts[1]}"; use by_turn.first.METRIC.STAT or '
            "by_turn.follow_up.METRIC.STAT (or by_turn.TURN.runs, by_turn.TURN.error_rate)."
        )
    if len(parts) == 3 and parts[2] == "runs":
        return COUNT
    if len(parts) == 3 and parts[2] == "error_rate":
        return RATE
    if len(parts) == 4:
        if parts[2] not in RUN_METRICS:
            raise ConfigError(
                f'{where} "{shown}": by_turn figures are per run; METRIC is one of '
                f"{' '.join(RUN_METRICS)}."
            )
        return _stat_kind(parts[2], parts[3], where, shown)
    raise ConfigError(
        f'{where} "{shown}": a per-turn figure is by_turn.TURN.METRIC.STAT, for example '
        '"by_turn.follow_up.first_text.p95", or by_turn.TURN.runs.'
    )


def _figures_help() -> str:
    rates = ("error_rate", "conversation_error_rate")
    return (
        f"Figures are METRIC.STAT with METRIC one of {' '.join(ALL_METRICS)} "
        f"(or {' '.join(LOAD_GENERATOR_METRICS)}) and STAT one of {' '.join(STATS)}; "
        "by_turn.first|follow_up.METRIC.STAT; error_rate, error_rate.CLASS "
        "(error_rate.timeout, error_rate.http_503, ...), conversation_error_rate; "
        "personas.NAME.FIGURE and channels.NAME.FIGURE (any of these, for one persona or "
        "channel); "
        "tools.NAME.STAT (and .calls, .failures), phases.thinking|intermediate|handoff.STAT, "
        "streaming.inter_delta.STAT, streaming.chars_per_s.STAT; "
        f"{', '.join(k for k in SCALARS if k not in rates)}."
    )


def _get(data: object, *keys: str) -> object:
    """The value at a figure's path: a field of a section, or a key of a by-name table."""
    for key in keys:
        if isinstance(data, msgspec.Struct):
            data = getattr(data, key, None)
        elif isinstance(data, Mapping):
            data = data.get(key)
        else:
            return None
    return data


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(summary: object, *path: str) -> int:
    return int(_num(_get(summary, *path)) or 0)


def _ratio(total: float | None, failed: float | None) -> float | None:
    """failed / total; 0 when there were none; None when the summary lacks the counts."""
    return failed / total if total and failed is not None else (0.0 if total == 0 else None)


def figure_value(summary: Summary | PersonaSummary, figure: str) -> float | None:
    """The figure's value in a summary (ms for times, a fraction for rates), or
    None when the summary does not have it (no samples, older schema, unknown figure)."""
    try:
        figure_kind(figure)
    except ConfigError:
        return None
    persona = persona_figure(figure)
    if persona is not None:
        sub = _persona(summary, persona)
        return figure_value(sub, persona[2]) if sub is not None else None
    runs_total = _num(_get(summary, "runs", "total"))
    if figure == "error_rate":
        failed = _num(_get(summary, "runs", "failed"))
        if runs_total and failed is not None:
            return failed / runs_total
        return _num(_get(summary, "runs", "error_rate"))
    if figure == "conversation_error_rate":
        return _ratio(
            _num(_get(summary, *_CONVERSATIONS)), _num(_get(summary, "conversations", "failed"))
        )
    if figure.startswith("by_turn.") and figure.endswith(".error_rate"):
        turn = figure.split(".")[1]
        return _ratio(
            _num(_get(summary, "by_turn", turn, "runs")),
            _num(_get(summary, "by_turn", turn, "failed")),
        )
    if figure.startswith("error_rate."):
        if runs_total is None:
            return None
        count = _num(_get(summary, "runs", "by_outcome", figure.split(".", 1)[1])) or 0.0
        return count / runs_total if runs_total else 0.0
    path = _figure_path(figure)
    return _num(_get(summary, *path)) if path else None


def _figure_path(figure: str) -> tuple[str, ...] | None:
    if figure in SCALARS:
        return SCALARS[figure].path
    parts = tuple(figure.split("."))
    if parts[0] in STEP_FIGURE_ROOTS:
        return step_figure_path(figure)
    if parts[0] == "by_turn":
        if len(parts) == 3:
            return ("by_turn", parts[1], "runs")
        return ("by_turn", parts[1], "metrics", parts[2], parts[3])
    if parts[0] in BY_KEY:
        return (BY_KEY[parts[0]].section, *parts)
    return None


def _persona(
    summary: Summary | PersonaSummary, group: tuple[str, str, str]
) -> PersonaSummary | None:
    """The persona's or channel's own summary that `group` (persona_figure's answer) names."""
    section = getattr(summary, group[0], None) or {}
    return section.get(group[1])


def sample_count(summary: Summary | PersonaSummary, figure: str) -> int | None:
    """How many samples the figure rests on, or None when that is not a meaningful question
    (counts, cpu): runs for rates and throughput, the metric's count for times."""
    kind = figure_kind(figure)
    persona = persona_figure(figure)
    if persona is not None:
        sub = _persona(summary, persona)
        return sample_count(sub, persona[2]) if sub is not None else 0
    scalar = SCALARS.get(figure)
    if scalar is not None:
        return None if scalar.samples is None else _count(summary, *scalar.samples)
    if kind in (COUNT, PERCENT):
        return None
    parts = figure.split(".")
    if parts[0] in STEP_FIGURE_ROOTS:
        return step_sample_count(summary, figure)
    if parts[0] == "by_turn":
        if kind == RATE:
            return _count(summary, "by_turn", parts[1], "runs")
        return _count(summary, "by_turn", parts[1], "metrics", parts[2], "count")
    if kind == RATE:  # error_rate.CLASS
        return _count(summary, *_RUNS)
    return _count(summary, BY_KEY[parts[0]].section, parts[0], "count")


def sample_noun(figure: str) -> str:
    """What a figure's samples are called in a verdict: runs, conversations, `first_text
    samples`."""
    persona = persona_figure(figure)
    if persona is not None:
        return sample_noun(persona[2])
    scalar = SCALARS.get(figure)
    if scalar is not None and scalar.samples == _CONVERSATIONS:
        return "conversations"
    if scalar is not None and scalar.samples == _CHECKED:
        return "checked runs"
    if figure_kind(figure) in (RATE, PER_S):
        return "runs"
    return f"{figure.rsplit('.', 1)[0]} samples"


__all__ = [
    "SCALARS",
    "TURNS",
    "Scalar",
    "figure_kind",
    "figure_value",
    "sample_count",
    "sample_noun",
]
