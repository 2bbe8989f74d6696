"""Performance gates: expressions, evaluation against a summary dict, baselines, early stop.

Pure core: no files, no clock, no exit codes. Callers (the Locust integration at quit, and
`wxo-load gate` offline) read `summary.json`-shaped dicts and turn verdicts into outputs and
exit codes (`wxo_load.edge.gate_output`).

Two kinds of gate:

    first_text.p95 < 3000ms        a limit:      FIGURE OP LIMIT
    first_text.p95 +10%            a regression: FIGURE TOLERANCE, against a baseline summary

Figures (what a gate measures):

    METRIC.STAT                    METRIC in thread_create run_started first_delta first_text
                                   message_created done conversation; STAT in p50 p90 p95 p99
                                   p999 min max mean count (count is a number of samples)
    by_turn.TURN.METRIC.STAT       TURN in first follow_up; METRIC a run metric
    by_turn.TURN.runs              runs that were the first / a follow-up message
    tools.NAME.STAT                one tool's answered calls (NAME as in summary.json `tools`);
                                   tools.NAME.calls, tools.NAME.failures are counts
    steps.PHASE.STAT               PHASE in thinking intermediate handoff (per run)
    streaming.inter_delta.STAT     gaps between consecutive text deltas, every run's
    streaming.chars_per_s.STAT     characters per second while streaming (lower is worse)
    by_turn.TURN.error_rate        failed runs / runs of that turn
    client_lag.STAT, schedule_lag.STAT      the load generator's own lateness
    error_rate                     failed runs / all runs
    error_rate.CLASS               runs of one error class / all runs (timeout, http_503, ...)
    conversation_error_rate        failed conversations / all conversations
    runs, runs.ok, runs.failed, runs.stopped, conversations, conversations.ok, conversations.failed
    runs_per_s, ok_runs_per_s, conversations_per_s, answer_chars_per_s
    cpu_percent_max                the busiest load-generator process, in percent
    capacity.users, capacity.arrival_rate, capacity.runs_per_s   what a capacity search found
    arrivals.dropped, arrivals.dropped_rate   open-model arrivals that could not start on time

Limits carry units: times take ms, s or m (minutes) and are kept in milliseconds; rates take
`%` or a plain fraction (`1%` == `0.01`); counts and throughputs are plain numbers
(throughputs may add `/s`). Operators: < <= > >=.

A gate never passes for want of data: a gate on a figure with fewer samples than it needs
(at least 1, or the gate's `min_runs`) fails and says so. A regression gate whose figure is
missing from the baseline fails too ("no baseline figure").

Early stop (`abort: true`, see `abort_reason`): the live figures are checked during the run;
a gate aborts the test only when it has enough samples (its `min_runs`, default 20) and either
- it can provably no longer pass: an upper limit on `max`, on a count, or on `runs` that is
  already exceeded (these never come back down); or
- by policy, an upper limit on an error rate, a percentile or a mean is broken by all the runs
  so far. Such a figure could in principle recover, which is why the sample minimum exists:
  after `min_runs` samples, more than (100-p)% of them are already over a `pP` limit.
Lower limits (`runs_per_s >= 5`, `runs >= 100`) and regression gates never abort: they can
still be met later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wxo_load.core.errors import ConfigError
from wxo_load.core.records import (
    ALL_METRICS,
    FIXED_ERROR_CLASSES,
    LOAD_GENERATOR_METRICS,
    RUN_METRICS,
)
from wxo_load.core.step_stats import FIGURE_ROOTS as STEP_FIGURE_ROOTS

STATS = ("p50", "p90", "p95", "p99", "p999", "min", "max", "mean", "count")
TURNS = ("first", "follow_up")
OPS = ("<", "<=", ">", ">=")
ABORT_MIN_RUNS = 20
"""Samples a gate needs before it may abort a test, unless it sets its own `min_runs`."""

# Figure kinds: what the limit's unit means and which direction is worse.
TIME = "time"  # milliseconds; higher is worse
RATE = "rate"  # fraction 0..1; higher is worse
COUNT = "count"  # plain number of things; no direction
PER_S = "per_s"  # throughput; lower is worse
PERCENT = "percent"  # percent points (cpu); higher is worse

_SCALAR_FIGURES: dict[str, str] = {
    "error_rate": RATE,
    "conversation_error_rate": RATE,
    "runs": COUNT,
    "runs.ok": COUNT,
    "runs.failed": COUNT,
    "runs.stopped": COUNT,
    "conversations": COUNT,
    "conversations.ok": COUNT,
    "conversations.failed": COUNT,
    "runs_per_s": PER_S,
    "ok_runs_per_s": PER_S,
    "conversations_per_s": PER_S,
    "answer_chars_per_s": PER_S,
    "cpu_percent_max": PERCENT,
    # a capacity search (load.search) and the open arrival model (load.arrival)
    "capacity.users": COUNT,
    "capacity.arrival_rate": PER_S,
    "capacity.runs_per_s": PER_S,
    "arrivals.dropped": COUNT,
    "arrivals.dropped_rate": RATE,
}
_NOT_SAMPLED = frozenset({"capacity.users", "capacity.arrival_rate", "capacity.runs_per_s", "arrivals.dropped_rate"})
_ERROR_CLASS = re.compile(r"^(?:http_[1-9]\d\d|" + "|".join(FIXED_ERROR_CLASSES) + r")$")
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_GATE_RE = re.compile(
    rf"^\s*(?P<figure>[A-Za-z_][\w.]*)\s*(?P<op><=|>=|<|>|==|=|!=)\s*"
    rf"(?P<num>-?{_NUMBER})\s*(?P<unit>[A-Za-z%/]+)?\s*$"
)
_REGRESSION_RE = re.compile(
    rf"^\s*(?P<figure>[A-Za-z_][\w.]*)(?:\s*(?P<sign>[+-])\s*|\s+)(?P<num>{_NUMBER})\s*"
    rf"(?P<unit>[A-Za-z%/]+)?\s*$"
)
_TIME_UNITS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0}

GATE_GRAMMAR = (
    "A gate is FIGURE OP LIMIT, for example "
    '"first_text.p95 < 3000ms", "done.p99 < 10s", "conversation.p50 < 1m", '
    '"error_rate < 1%", "error_rate.timeout <= 0.5%", "runs_per_s >= 5", "runs >= 100". '
    "OP is one of < <= > >=. Times take ms, s or m; rates take % or a fraction (0.01); "
    "counts and runs_per_s are plain numbers. "
    'A regression gate is FIGURE TOLERANCE, for example "first_text.p95 +10%" or '
    '"done.p99 +50ms", checked against --baseline.'
)


@dataclass(frozen=True, slots=True)
class Gate:
    """`FIGURE OP LIMIT`. `limit` is normalised (ms for times, a fraction for rates);
    `unit` is the unit the limit was written in ("ms", "s", "m", "%", "/s" or "")."""

    text: str
    figure: str
    op: str
    limit: float
    unit: str
    abort: bool = False
    min_runs: int = 0  # 0: at least 1 sample to be judged, ABORT_MIN_RUNS before aborting


@dataclass(frozen=True, slots=True)
class RegressionGate:
    """`FIGURE +TOLERANCE` against a baseline: fails when the figure got worse by more than
    the tolerance. Worse is higher for times and rates, lower for throughputs. `tolerance` is
    percent for "percent", and in the figure's normalised unit (ms, fraction, /s) for
    "absolute"; `unit` is how it was written."""

    text: str
    figure: str
    tolerance: float
    tolerance_kind: str  # "percent" | "absolute"
    unit: str = "%"


@dataclass(frozen=True, slots=True)
class Verdict:
    gate_text: str
    figure: str
    limit: str  # as shown: "< 3000 ms", "<= 893 ms (baseline 812 ms +10%)"
    measured: str  # as shown: "812 ms", "n/a"
    passed: bool
    reason: str  # why, in words: "only 12 runs, gate needs >= 100", "+23.4% against ..."
    kind: str = "gate"  # "gate" | "regression"
    value: float | None = None  # the measured figure, normalised
    threshold: float | None = None  # the limit, normalised (for regressions: baseline + tolerance)
    baseline: float | None = None


AnyGate = Gate | RegressionGate


# --------------------------------------------------------------------------- figures


def figure_kind(figure: str, *, where: str = "gate", text: str | None = None) -> str:
    """The kind of a figure (TIME, RATE, COUNT, PER_S, PERCENT); ConfigError if unknown."""
    shown = text if text is not None else figure
    if figure in _SCALAR_FIGURES:
        return _SCALAR_FIGURES[figure]
    parts = figure.split(".")
    if parts[0] in STEP_FIGURE_ROOTS:  # tools.NAME.STAT, steps.PHASE.STAT, streaming.X.STAT
        from wxo_load.gates.steps import step_figure_kind

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
    if parts[0] in ALL_METRICS or parts[0] in LOAD_GENERATOR_METRICS:
        if len(parts) == 2:
            return _stat_kind(parts[1], where, shown)
        if len(parts) == 1:
            raise ConfigError(
                f'{where} "{shown}": say which statistic of {parts[0]} to gate, one of '
                f'{" ".join(STATS)}; for example "{parts[0]}.p95".'
            )
    raise ConfigError(f'{where} "{shown}": unknown figure "{figure}". {_figures_help()}')


def _stat_kind(stat: str, where: str, shown: str) -> str:
    if stat not in STATS:
        raise ConfigError(
            f'{where} "{shown}": unknown statistic "{stat}"; use one of {" ".join(STATS)} '
            "(p999 is the 99.9th percentile)."
        )
    return COUNT if stat == "count" else TIME


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
        return _stat_kind(parts[3], where, shown)
    raise ConfigError(
        f'{where} "{shown}": a per-turn figure is by_turn.TURN.METRIC.STAT, for example '
        '"by_turn.follow_up.first_text.p95", or by_turn.TURN.runs.'
    )


def _figures_help() -> str:
    return (
        f"Figures are METRIC.STAT with METRIC one of {' '.join(ALL_METRICS)} "
        f"(or {' '.join(LOAD_GENERATOR_METRICS)}) and STAT one of {' '.join(STATS)}; "
        "by_turn.first|follow_up.METRIC.STAT; error_rate, error_rate.CLASS "
        "(error_rate.timeout, error_rate.http_503, ...), conversation_error_rate; "
        "tools.NAME.STAT (and .calls, .failures), phases.thinking|intermediate|handoff.STAT, "
        "streaming.inter_delta.STAT, streaming.chars_per_s.STAT; "
        f"{', '.join(k for k in _SCALAR_FIGURES if k not in ('error_rate', 'conversation_error_rate'))}."
    )


def _get(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def figure_value(summary: Mapping, figure: str) -> float | None:
    """The figure's value in a summary.json dict (ms for times, a fraction for rates), or
    None when the summary does not have it (no samples, older schema, unknown figure)."""
    try:
        figure_kind(figure)
    except ConfigError:
        return None
    runs_total = _num(_get(summary, "runs", "total"))
    if figure == "error_rate":
        failed = _num(_get(summary, "runs", "failed"))
        if runs_total and failed is not None:
            return failed / runs_total
        return _num(_get(summary, "runs", "error_rate"))
    if figure == "conversation_error_rate":
        total = _num(_get(summary, "conversations", "total"))
        failed = _num(_get(summary, "conversations", "failed"))
        return failed / total if total and failed is not None else (0.0 if total == 0 else None)
    if figure.startswith("by_turn.") and figure.endswith(".error_rate"):
        turn = figure.split(".")[1]
        total = _num(_get(summary, "by_turn", turn, "runs"))
        failed = _num(_get(summary, "by_turn", turn, "failed"))
        return failed / total if total and failed is not None else (0.0 if total == 0 else None)
    if figure.startswith("error_rate."):
        if runs_total is None:
            return None
        count = _num(_get(summary, "runs", "by_outcome", figure.split(".", 1)[1])) or 0.0
        return count / runs_total if runs_total else 0.0
    path = _figure_path(figure)
    return _num(_get(summary, *path)) if path else None


def _figure_path(figure: str) -> tuple[str, ...] | None:
    simple = {
        "runs": ("runs", "total"),
        "conversations": ("conversations", "total"),
        "runs_per_s": ("throughput", "runs_per_s"),
        "ok_runs_per_s": ("throughput", "ok_runs_per_s"),
        "conversations_per_s": ("throughput", "conversations_per_s"),
        "answer_chars_per_s": ("throughput", "answer_chars_per_s"),
        "cpu_percent_max": ("load_generator", "cpu_percent_max"),
        "capacity.users": ("capacity", "users"),
        "capacity.arrival_rate": ("capacity", "arrival_rate"),
        "capacity.runs_per_s": ("capacity", "runs_per_s"),
        "arrivals.dropped": ("arrivals", "dropped"),
        "arrivals.dropped_rate": ("arrivals", "dropped_rate"),
    }
    if figure in simple:
        return simple[figure]
    parts = tuple(figure.split("."))
    if parts[0] in STEP_FIGURE_ROOTS:
        from wxo_load.gates.steps import step_figure_path

        return step_figure_path(figure)
    if parts[0] in ("runs", "conversations") and len(parts) == 2:
        return parts
    if parts[0] == "by_turn":
        return ("by_turn", parts[1], "runs") if len(parts) == 3 else (
            "by_turn", parts[1], "metrics", parts[2], parts[3]
        )
    if parts[0] in LOAD_GENERATOR_METRICS:
        return ("load_generator", *parts)
    if parts[0] in ALL_METRICS:
        return ("metrics", *parts)
    return None


def sample_count(summary: Mapping, figure: str) -> int | None:
    """How many samples the figure rests on, or None when that is not a meaningful question
    (counts, cpu): runs for rates and throughput, the metric's count for times."""
    kind = figure_kind(figure)
    if kind in (COUNT, PERCENT) or figure in _NOT_SAMPLED:
        return None
    parts = figure.split(".")
    if parts[0] in STEP_FIGURE_ROOTS:
        from wxo_load.gates.steps import step_sample_count

        return step_sample_count(summary, figure)
    if parts[0] == "by_turn" and kind == RATE:
        return int(_num(_get(summary, "by_turn", parts[1], "runs")) or 0)
    if kind == RATE or figure in ("runs_per_s", "ok_runs_per_s", "answer_chars_per_s"):
        key = "conversations" if figure == "conversation_error_rate" else "runs"
        return int(_num(_get(summary, key, "total")) or 0)
    if figure == "conversations_per_s":
        return int(_num(_get(summary, "conversations", "total")) or 0)
    if parts[0] == "by_turn":
        return int(_num(_get(summary, "by_turn", parts[1], "metrics", parts[2], "count")) or 0)
    if parts[0] in LOAD_GENERATOR_METRICS:
        return int(_num(_get(summary, "load_generator", parts[0], "count")) or 0)
    return int(_num(_get(summary, "metrics", parts[0], "count")) or 0)


# --------------------------------------------------------------------------- parsing


def parse_gate(
    text: str, *, abort: bool = False, min_runs: int = 0, where: str = "--gate"
) -> Gate:
    """`"first_text.p95 < 3000ms"` -> Gate. ConfigError naming `where`, the text and the
    grammar when it cannot be used."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: empty gate expression. {GATE_GRAMMAR}")
    match = _GATE_RE.match(text)
    if not match:
        if _REGRESSION_RE.match(text):
            raise ConfigError(
                f'{where} "{text.strip()}" is a regression gate (FIGURE +TOLERANCE); give it with '
                "--regression (or --gate on the wxo-load gate command), together with --baseline."
            )
        raise ConfigError(f'{where} "{text.strip()}": not a gate expression. {GATE_GRAMMAR}')
    figure, op, unit = match["figure"], match["op"], match["unit"] or ""
    shown = text.strip()
    if op not in OPS:
        raise ConfigError(f'{where} "{shown}": operator "{op}" is not supported; use one of '
                          f"{' '.join(OPS)}.")
    kind = figure_kind(figure, where=where, text=shown)
    limit = _limit_value(float(match["num"]), unit, kind, where, shown)
    if min_runs < 0:
        raise ConfigError(f'{where} "{shown}": min_runs must be 0 or more, got {min_runs}.')
    return Gate(shown, figure, op, limit, unit, abort=abort, min_runs=min_runs)


def _limit_value(number: float, unit: str, kind: str, where: str, shown: str) -> float:
    if number < 0:
        raise ConfigError(f'{where} "{shown}": a limit cannot be negative.')
    if kind == TIME:
        if unit not in _TIME_UNITS:
            hint = "add a unit" if not unit else f'"{unit}" is not a time unit'
            raise ConfigError(
                f'{where} "{shown}": {hint}; times take ms, s or m (minutes), '
                'for example "first_text.p95 < 3000ms" or "done.p99 < 10s".'
            )
        return number * _TIME_UNITS[unit]
    if kind == RATE:
        if unit == "%":
            if number > 100:
                raise ConfigError(f'{where} "{shown}": a rate cannot be over 100%.')
            return number / 100.0
        if unit == "" and number <= 1:
            return number
        raise ConfigError(
            f'{where} "{shown}": rates take a percentage or a fraction from 0 to 1, '
            'for example "error_rate < 1%" or "error_rate < 0.01".'
        )
    if kind == PERCENT and unit in ("", "%"):
        return number
    if kind == PER_S and unit in ("", "/s"):
        return number
    if kind == COUNT and unit == "":
        return number
    raise ConfigError(
        f'{where} "{shown}": "{unit}" does not fit this figure; counts and runs_per_s are '
        'plain numbers, for example "runs >= 100" or "runs_per_s >= 5".'
    )


def parse_regression(text: str, *, where: str = "--regression") -> RegressionGate:
    """`"first_text.p95 +10%"` (relative) or `"done.p99 +50ms"` (absolute) -> RegressionGate.
    For rates an absolute tolerance is written in percentage points (`+0.5pp`) or as a
    fraction (`+0.005`); `%` is always relative."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: empty regression expression. {GATE_GRAMMAR}")
    shown = text.strip()
    match = _REGRESSION_RE.match(text)
    if not match:
        if _GATE_RE.match(text):
            raise ConfigError(
                f'{where} "{shown}" is a limit (FIGURE OP LIMIT), not a regression; give it with '
                '--gate. A regression is FIGURE +TOLERANCE, for example "first_text.p95 +10%".'
            )
        raise ConfigError(f'{where} "{shown}": not a regression expression. {GATE_GRAMMAR}')
    figure, unit = match["figure"], match["unit"] or ""
    if match["sign"] == "-":
        raise ConfigError(
            f'{where} "{shown}": a tolerance is how much worse the figure may get, written '
            'with + ("runs_per_s +10%" allows throughput to drop by 10%).'
        )
    kind = figure_kind(figure, where=where, text=shown)
    if kind == COUNT:
        raise ConfigError(
            f'{where} "{shown}": regression gates compare times, rates and throughputs; '
            f"{figure} is a count, which depends on how long the test ran. Gate it with a "
            'limit instead, for example "runs >= 100".'
        )
    number = float(match["num"])
    if unit == "%":
        return RegressionGate(shown, figure, number, "percent", unit)
    return RegressionGate(shown, figure, _tolerance_value(number, unit, kind, where, shown),
                          "absolute", unit)


def _tolerance_value(number: float, unit: str, kind: str, where: str, shown: str) -> float:
    if kind == TIME and unit in _TIME_UNITS:
        return number * _TIME_UNITS[unit]
    if kind == RATE and unit == "pp":
        return number / 100.0
    if kind == RATE and unit == "" and number <= 1:
        return number
    if kind == PER_S and unit in ("", "/s"):
        return number
    if kind == PERCENT and unit in ("", "pp"):
        return number
    hints = {
        TIME: 'times take % (relative) or ms, s, m (absolute): "first_text.p95 +10%", '
        '"done.p99 +50ms"',
        RATE: 'rates take % (relative) or pp (percentage points): "error_rate +0.5pp"',
        PER_S: 'throughputs take % or a plain number: "runs_per_s +10%"',
        PERCENT: 'cpu takes % (relative) or pp: "cpu_percent_max +10pp"',
    }
    raise ConfigError(f'{where} "{shown}": tolerance unit "{unit}" does not fit; {hints[kind]}.')


_SPEC_KEYS = ("gate", "regression", "abort", "min_runs")


def parse_gate_spec(item: object, *, where: str) -> Gate | RegressionGate:
    """One item of a scenario's `gates:` list: a string (a limit or a regression) or a
    mapping `{gate: "...", abort: true, min_runs: 50}` / `{regression: "first_text.p95 +10%"}`."""
    if isinstance(item, str):
        if _GATE_RE.match(item) or not _REGRESSION_RE.match(item):
            return parse_gate(item, where=where)
        return parse_regression(item, where=where)
    if not isinstance(item, Mapping):
        raise ConfigError(
            f"{where}: expected a gate expression (a string) or a mapping with a `gate` key, "
            f'got {type(item).__name__}. Example: - "first_text.p95 < 3000ms" or '
            '- {gate: "error_rate < 5%", abort: true, min_runs: 50}.'
        )
    unknown = [str(k) for k in item if k not in _SPEC_KEYS]
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a gate mapping takes "
            f"{', '.join(_SPEC_KEYS)}."
        )
    if ("gate" in item) == ("regression" in item):
        raise ConfigError(f"{where}: give exactly one of `gate` (a limit) or `regression`.")
    abort = item.get("abort", False)
    min_runs = item.get("min_runs", 0)
    if not isinstance(abort, bool):
        raise ConfigError(f"{where}, key `abort`: expected true or false, got {abort!r}.")
    if isinstance(min_runs, bool) or not isinstance(min_runs, int) or min_runs < 0:
        raise ConfigError(f"{where}, key `min_runs`: expected a whole number >= 0, got "
                          f"{min_runs!r}.")
    if "regression" in item:
        if abort or min_runs:
            raise ConfigError(f"{where}: `abort` and `min_runs` apply to limits, not regressions.")
        return parse_regression(_str(item["regression"], where), where=where)
    text = _str(item["gate"], where)
    if _REGRESSION_RE.match(text) and not _GATE_RE.match(text):
        raise ConfigError(f'{where}: "{text}" is a regression; write it as '
                          f"{{regression: {text!r}}} (abort and min_runs apply to limits).")
    return parse_gate(text, abort=abort, min_runs=min_runs, where=where)


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: the expression must be a string, got {value!r}.")
    return value


def parse_gate_list(items: object, *, where: str) -> list[Gate | RegressionGate]:
    """A scenario's `gates:` (or `regressions:`) value: a list of specs; `where` names the key,
    e.g. `scenarios/ci.yaml, key gates`."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list of gate expressions, got "
                          f"{type(items).__name__}.")
    return [parse_gate_spec(item, where=f"{where}[{i}]") for i, item in enumerate(items)]


# --------------------------------------------------------------------------- evaluation


def evaluate(
    gates: Iterable[AnyGate], summary: Mapping, baseline: Mapping | None = None
) -> list[Verdict]:
    """One verdict per gate, in order. Regression gates without a baseline fail."""
    verdicts: list[Verdict] = []
    for gate in gates:
        if isinstance(gate, RegressionGate):
            verdicts.append(_evaluate_regression(gate, summary, baseline))
        else:
            verdicts.append(_evaluate_gate(gate, summary))
    return verdicts


def _compare(value: float, op: str, limit: float) -> bool:
    if op == "<":
        return value < limit
    if op == "<=":
        return value <= limit
    if op == ">":
        return value > limit
    return value >= limit


def _evaluate_gate(gate: Gate, summary: Mapping) -> Verdict:
    kind = figure_kind(gate.figure)
    limit_shown = f"{gate.op} {format_value(gate.limit, kind, gate.unit)}"
    value = figure_value(summary, gate.figure)
    samples = sample_count(summary, gate.figure)
    needed = max(1, gate.min_runs)

    def verdict(passed: bool, reason: str) -> Verdict:
        measured = "n/a" if value is None else format_value(value, kind, gate.unit)
        return Verdict(gate.text, gate.figure, limit_shown, measured, passed, reason,
                       value=value, threshold=gate.limit)

    if samples is not None and samples < needed:
        what = _sample_noun(gate.figure)
        return verdict(False, f"only {samples} {what}, gate needs >= {needed}")
    if value is None:
        return verdict(False, f"{gate.figure} is not in the summary")
    if _compare(value, gate.op, gate.limit):
        return verdict(True, "within limit")
    return verdict(False, f"{format_value(value, kind, gate.unit)} is not {limit_shown}")


def _sample_noun(figure: str) -> str:
    if figure == "conversation_error_rate" or figure == "conversations_per_s":
        return "conversations"
    if figure_kind(figure) in (RATE, PER_S):
        return "runs"
    return f"{figure.rsplit('.', 1)[0]} samples"


def _evaluate_regression(
    gate: RegressionGate, summary: Mapping, baseline: Mapping | None
) -> Verdict:
    kind = figure_kind(gate.figure)
    value = figure_value(summary, gate.figure)
    samples = sample_count(summary, gate.figure)
    base = figure_value(baseline, gate.figure) if baseline is not None else None
    base_samples = sample_count(baseline, gate.figure) if baseline is not None else None
    tolerance_shown = _tolerance_text(gate, kind)
    measured = "n/a" if value is None else format_value(value, kind, "")

    def verdict(passed: bool, reason: str, limit: str, threshold: float | None = None) -> Verdict:
        return Verdict(gate.text, gate.figure, limit, measured, passed, reason,
                       kind="regression", value=value, threshold=threshold, baseline=base)

    if baseline is None:
        return verdict(False, "no baseline given (--baseline PATH/summary.json)",
                       f"{tolerance_shown} vs baseline")
    if base is None or (base_samples is not None and base_samples < 1):
        return verdict(False, f"no baseline figure: the baseline has no {gate.figure}",
                       f"{tolerance_shown} vs baseline (none)")
    base_shown = format_value(base, kind, "")
    higher_is_worse = kind != PER_S
    sign = 1.0 if higher_is_worse else -1.0
    if gate.tolerance_kind == "percent":
        threshold = base * (1 + sign * gate.tolerance / 100.0)
    else:
        threshold = base + sign * gate.tolerance
    op = "<=" if higher_is_worse else ">="
    limit = f"{op} {format_value(threshold, kind, '')} (baseline {base_shown} {tolerance_shown})"
    if (samples is not None and samples < 1) or value is None:
        return verdict(False, f"no samples of {gate.figure} in this run", limit, threshold)
    worse_by = sign * (value - base)
    change = _change_text(value, base, kind)
    reason = f"{change} against baseline {base_shown} (limit {tolerance_shown})"
    if gate.tolerance_kind == "percent" and base == 0:
        if worse_by > 0:
            return verdict(False, f"baseline {base_shown} and now {measured}: any change is an "
                                  "infinite percentage; use an absolute tolerance "
                                  '(e.g. "+0.5pp" or "+50ms")', limit, threshold)
        return verdict(True, reason, limit, threshold)
    allowed = base * gate.tolerance / 100.0 if gate.tolerance_kind == "percent" else gate.tolerance
    # Compare with a hair of slack so "exactly +10%" passes despite float rounding.
    return verdict(worse_by <= allowed * (1 + 1e-9) + 1e-12, reason, limit, threshold)


def _tolerance_text(gate: RegressionGate, kind: str) -> str:
    if gate.tolerance_kind == "percent":
        amount = f"{_fmt(gate.tolerance)}%"
    elif kind == RATE:
        amount = f"{_fmt(gate.tolerance * 100)}pp"
    else:
        amount = format_value(gate.tolerance, kind, gate.unit)
    return f"-{amount}" if kind == PER_S else f"+{amount}"


def signed_delta(delta: float, kind: str) -> str:
    """`+12 ms`, `-3.5%`-style difference; rates in percentage points (`+0.5pp`)."""
    sign = "+" if delta >= 0 else "-"
    if kind == RATE:
        return f"{sign}{_fmt(abs(delta) * 100)}pp"
    return f"{sign}{format_value(abs(delta), kind, '')}"


def _change_text(value: float, base: float, kind: str) -> str:
    delta = value - base
    absolute = signed_delta(delta, kind)
    if base == 0:
        return absolute
    return f"{delta / base * 100:+.1f}% ({absolute})"


# --------------------------------------------------------------------------- early stop


def abort_reason(gates: Iterable[AnyGate], live_summary: Mapping) -> Verdict | None:
    """The first `abort: true` gate that can no longer pass on the live figures, as a failing
    Verdict whose reason starts with "abort:", or None to keep going. Rules in the module
    docstring; `live_summary` has the shape of summary.json."""
    for gate in gates:
        if not isinstance(gate, Gate) or not gate.abort or gate.op in (">", ">="):
            continue
        value = figure_value(live_summary, gate.figure)
        if value is None or _compare(value, gate.op, gate.limit):
            continue
        kind = figure_kind(gate.figure)
        if kind == PER_S or gate.figure.endswith(".min"):
            continue  # throughput and minimums can still come down to the limit
        final = kind in (COUNT, PERCENT) or gate.figure.endswith(".max")
        samples = sample_count(live_summary, gate.figure)
        needed = max(1, gate.min_runs) if final else (gate.min_runs or ABORT_MIN_RUNS)
        if samples is not None and samples < needed:
            continue
        limit_shown = f"{gate.op} {format_value(gate.limit, kind, gate.unit)}"
        shown = format_value(value, kind, gate.unit)
        if final:
            why = f"abort: {shown} is not {limit_shown} and can only grow"
        else:
            why = f"abort: {shown} is not {limit_shown} after {samples} {_sample_noun(gate.figure)}"
        return Verdict(gate.text, gate.figure, limit_shown, shown, False, why,
                       value=value, threshold=gate.limit)
    return None


# --------------------------------------------------------------------------- formatting


def _fmt(number: float) -> str:
    """Up to 3 significant digits, no exponent, no trailing zeros: 3000, 812, 12.5, 0.512."""
    magnitude = abs(number)
    if magnitude >= 100 or number == 0:
        text = f"{number:.0f}"
    elif magnitude >= 10:
        text = f"{number:.1f}"
    elif magnitude >= 1:
        text = f"{number:.2f}"
    else:
        text = f"{number:.3g}"
        if "e" in text:
            text = f"{number:.6f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_value(value: float, kind: str, unit: str = "") -> str:
    """A normalised figure for people: times in the unit the gate was written in (ms by
    default), rates as percentages, throughputs per second."""
    if kind == TIME:
        if unit == "s":
            return f"{_fmt(value / 1000.0)} s"
        if unit == "m":
            return f"{_fmt(value / 60_000.0)} min"
        return f"{_fmt(value)} ms"
    if kind == RATE:
        return f"{_fmt(value * 100.0)}%"
    if kind == PER_S:
        return f"{_fmt(value)}/s"
    if kind == PERCENT:
        return f"{_fmt(value)}%"
    return f"{value:.0f}" if float(value).is_integer() else _fmt(value)



__all__ = [
    "ABORT_MIN_RUNS",
    "GATE_GRAMMAR",
    "OPS",
    "STATS",
    "AnyGate",
    "Gate",
    "RegressionGate",
    "Verdict",
    "abort_reason",
    "evaluate",
    "figure_kind",
    "figure_value",
    "format_value",
    "parse_gate",
    "parse_gate_list",
    "parse_gate_spec",
    "parse_regression",
    "sample_count",
]
