"""Gate expressions: `first_text.p95 < 3000ms` (a limit) and `first_text.p95 +10%` (a
regression against a baseline), from the command line or a scenario's `gates:` list.

Limits carry units: times take ms, s or m (minutes) and are kept in milliseconds; rates take
`%` or a plain fraction (`1%` == `0.01`); counts and throughputs are plain numbers
(throughputs may add `/s`). Operators: < <= > >=, and == for counts (`workers.lost == 0`,
`answers.by_check.tool_called == 0`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wxo_load.core.errors import ConfigError
from wxo_load.core.metrics import COUNT, PER_S, PERCENT, RATE, TIME
from wxo_load.gates.figures import PERSONAS, figure_kind, persona_figure

OPS = ("<", "<=", ">", ">=", "==")  # == compares counts only
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_FIGURE = r"[A-Za-z_][\w.]*(?:-[A-Za-z_][\w.]*)*"  # a hyphen only inside a name: chat-v2
_GATE_RE = re.compile(
    rf"^\s*(?P<figure>{_FIGURE})\s*(?P<op><=|>=|<|>|==|=|!=)\s*"
    rf"(?P<num>-?{_NUMBER})\s*(?P<unit>[A-Za-z%/]+)?\s*$"
)
_REGRESSION_RE = re.compile(
    rf"^\s*(?P<figure>{_FIGURE})(?:\s*(?P<sign>[+-])\s*|\s+)(?P<num>{_NUMBER})\s*"
    rf"(?P<unit>[A-Za-z%/]+)?\s*$"
)
_OUTSIDE_RE = re.compile(r"^(?P<rest>.*?)\s+outside\s+(?P<interval>\S+)\s*$", re.IGNORECASE)
_TIME_UNITS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0}
INTERVALS = {"pi": "prediction interval", "ci": "confidence interval"}
"""The intervals of a repeated baseline a noise-aware regression gate can name."""

GATE_GRAMMAR = (
    "A gate is FIGURE OP LIMIT, for example "
    '"first_text.p95 < 3000ms", "done.p99 < 10s", "conversation.p50 < 1m", '
    '"error_rate < 1%", "error_rate.timeout <= 0.5%", "runs_per_s >= 5", "runs >= 100". '
    'OP is one of < <= > >=, or == for a count ("workers.lost == 0"). Times take ms, s or m; '
    "rates take % or a fraction (0.01); "
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
    interval: str | None = None  # "pi" | "ci": noise-aware, against a repeated baseline
    tolerance_given: bool = True  # False for "FIGURE outside pi" (no minimum effect written)


AnyGate = Gate | RegressionGate


def check_persona_names(gates: Iterable[AnyGate], personas: Iterable[str], where: str) -> None:
    """ConfigError for a gate on `personas.NAME.` whose NAME is not a persona of the scenario
    (it would never be judged on anything)."""
    names = sorted(personas)
    for gate in gates:
        found = persona_figure(gate.figure)
        if found is not None and found[0] == PERSONAS and found[1] not in names:
            have = f"its personas are {', '.join(names)}" if names else "it has no personas"
            raise ConfigError(
                f'{where} "{gate.text}": the scenario has no persona `{found[1]}` ({have}). '
                "Fix the name in the gate, or add the persona."
            )


def parse_gate(text: str, *, abort: bool = False, min_runs: int = 0, where: str = "--gate") -> Gate:
    """`"first_text.p95 < 3000ms"` -> Gate. ConfigError naming `where`, the text and the
    grammar when it cannot be used."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: empty gate expression. {GATE_GRAMMAR}")
    match = _GATE_RE.match(text)
    if not match:
        if _is_regression(text):
            raise ConfigError(
                f'{where} "{text.strip()}" is a regression gate (FIGURE +TOLERANCE); give it with '
                "--regression (or --gate on the wxo-load gate command), together with --baseline."
            )
        raise ConfigError(f'{where} "{text.strip()}": not a gate expression. {GATE_GRAMMAR}')
    figure, op, unit = match["figure"], match["op"], match["unit"] or ""
    shown = text.strip()
    kind = figure_kind(figure, where=where, text=shown) if op in (*OPS, "==") else None
    if op == "==" and kind != COUNT:
        raise ConfigError(
            f'{where} "{shown}": operator "==" compares counts only (runs, workers.lost, '
            f"answers.by_check.CHECK, ...); for {figure} use one of < <= > >=."
        )
    if op not in (*OPS, "=="):
        raise ConfigError(
            f'{where} "{shown}": operator "{op}" is not supported; use one of {" ".join(OPS)} '
            '(or == for a count, e.g. "workers.lost == 0").'
        )
    assert kind is not None
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
    fraction (`+0.005`); `%` is always relative. A trailing `outside pi` / `outside ci` makes
    it noise-aware (gates.noise): the tolerance becomes a minimum effect, and may be left out."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: empty regression expression. {GATE_GRAMMAR}")
    shown = text.strip()
    outside = _OUTSIDE_RE.match(shown)
    if outside is not None:
        return _noise_aware(shown, outside["rest"], outside["interval"].lower(), where)
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
    return RegressionGate(
        shown, figure, _tolerance_value(number, unit, kind, where, shown), "absolute", unit
    )


def _is_regression(text: str) -> bool:
    return bool(_REGRESSION_RE.match(text) or _OUTSIDE_RE.match(text.strip()))


def _noise_aware(shown: str, rest: str, interval: str, where: str) -> RegressionGate:
    """`FIGURE [+TOLERANCE] outside pi|ci` -> a RegressionGate naming its interval."""
    if interval not in INTERVALS:
        raise ConfigError(
            f'{where} "{shown}": "outside {interval}": name the interval, "outside pi" (the '
            'prediction interval of one more run: compare one run) or "outside ci" (the '
            "confidence interval of the baseline's mean)."
        )
    rest = rest.strip()
    if re.fullmatch(r"[A-Za-z_][\w.]*", rest):
        if figure_kind(rest, where=where, text=shown) == COUNT:
            raise ConfigError(
                f'{where} "{shown}": {rest} is a count, which depends on how long the test '
                'ran; gate it with a limit instead, for example "runs >= 100".'
            )
        return RegressionGate(shown, rest, 0.0, "percent", "%", interval, tolerance_given=False)
    gate = parse_regression(rest, where=where)
    return RegressionGate(
        shown, gate.figure, gate.tolerance, gate.tolerance_kind, gate.unit, interval
    )


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
        if _GATE_RE.match(item) or not _is_regression(item):
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
        raise ConfigError(
            f"{where}, key `min_runs`: expected a whole number >= 0, got {min_runs!r}."
        )
    if "regression" in item:
        if abort or min_runs:
            raise ConfigError(f"{where}: `abort` and `min_runs` apply to limits, not regressions.")
        return parse_regression(_str(item["regression"], where), where=where)
    text = _str(item["gate"], where)
    if _is_regression(text) and not _GATE_RE.match(text):
        raise ConfigError(
            f'{where}: "{text}" is a regression; write it as '
            f"{{regression: {text!r}}} (abort and min_runs apply to limits)."
        )
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
        raise ConfigError(
            f"{where}: expected a list of gate expressions, got {type(items).__name__}."
        )
    return [parse_gate_spec(item, where=f"{where}[{i}]") for i, item in enumerate(items)]
