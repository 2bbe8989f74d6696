"""Read a scenario's `load:` extras (`stages`, `arrival`, `search`) into a `LoadPlan`.

Called by `wxo_load.config.scenario` while it validates a file; errors name the file and the key
and say what is allowed, like every other scenario error (exit code 2 before the test starts).
"""

from __future__ import annotations

import re
from typing import Any

from wxo_load.config.fields import Where, describe, duration_s, number, section
from wxo_load.core.plan import (
    ARRIVAL,
    CONSTANT,
    POISSON,
    SEARCH,
    SEARCH_RATE,
    SEARCH_USERS,
    STAGES,
    Arrival,
    ArrivalProcess,
    LoadPlan,
    RateStage,
    Search,
    SearchKind,
    Stage,
)
from wxo_load.gates.parse import parse_gate

_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_PER = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
RATE_HELP = "a rate with its unit, like 2/s, 90/m or 600/h"


def parse_rate(w: Where, key: str, value: Any) -> float:
    """Conversations per second from `2/s`, `90/m`, `600/h`; a bare number is an error."""
    match = _RATE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise w.error(key, f"expected {RATE_HELP} (the unit says per what); got {describe(value)}.")
    return float(match.group(1)) / _PER[match.group(2)]


def parse_plan(w: Where, raw: dict[str, object]) -> LoadPlan | None:
    """The load plan in `raw` (the `load:` mapping), or None for a plain -u/-r/-t test."""
    present = [k for k in (STAGES, ARRIVAL, SEARCH) if k in raw]
    if STAGES in present and len(present) > 1:
        raise w.error(
            "load.stages",
            "cannot be combined with `arrival` or `search`: for stages of arrival rates write "
            "`arrival: {stages: [...]}`.",
        )
    if SEARCH in present:
        arrival = _arrival(w, raw[ARRIVAL], in_search=True) if ARRIVAL in raw else None
        return LoadPlan(SEARCH, search=_search(w, raw[SEARCH], arrival), arrival=arrival)
    if ARRIVAL in present:
        return LoadPlan(ARRIVAL, arrival=_arrival(w, raw[ARRIVAL], in_search=False))
    if STAGES in present:
        return LoadPlan(STAGES, stages=_stages(w, raw[STAGES]))
    return None


def _list(w: Where, key: str, value: Any, example: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise w.error(
            key, f"expected a non-empty list of stages like {example}; got {describe(value)}."
        )
    return value


def _stages(w: Where, value: Any) -> tuple[Stage, ...]:
    items = _list(w, "load.stages", value, "[{duration: 2m, users: 50, spawn_rate: 5}]")
    stages = []
    for i, item in enumerate(items):
        key = f"load.stages[{i}]"
        raw = section(w, key, item, ("name", "duration", "users", "spawn_rate"))
        if not isinstance(item, dict):
            raise w.error(
                key, f"expected a mapping like {{duration: 2m, users: 50}}; got {describe(item)}."
            )
        for required in ("duration", "users"):
            if required not in raw:
                raise w.error(
                    f"{key}.{required}",
                    "missing: every stage needs `duration` (like 30s or 2m) and `users`, e.g. "
                    "{duration: 2m, users: 50, spawn_rate: 5}.",
                )
        stages.append(Stage(
            name=str(raw.get("name") or f"stage {i + 1}"),
            duration_s=_positive_duration(w, f"{key}.duration", raw["duration"]),
            users=int(number(w, f"{key}.users", raw["users"], minimum=0, integer=True)),
            spawn_rate=(
                number(w, f"{key}.spawn_rate", raw["spawn_rate"], minimum=0.001)
                if "spawn_rate" in raw
                else None
            ),
        ))  # fmt: skip
    return tuple(stages)


def _positive_duration(w: Where, key: str, value: Any) -> float:
    seconds = duration_s(w, key, value)
    if seconds <= 0:
        raise w.error(key, f"a duration must be more than 0 seconds; got {value!r}.")
    return seconds


_ARRIVAL_KEYS = ("rate", "stages", "process", "max_concurrent", "tolerance", "seed")


def _check_arrival_shape(w: Where, value: Any, raw: dict[str, object], *, in_search: bool) -> None:
    """ConfigError unless load.arrival is a mapping with the rate given the one right way."""
    if not isinstance(value, dict):
        raise w.error(
            "load.arrival",
            f"expected a mapping like {{rate: 2/s, process: poisson, max_concurrent: 50}}; got "
            f"{describe(value)}.",
        )
    if in_search and ("rate" in raw or "stages" in raw):
        raise w.error(
            "load.arrival",
            "with `load.search: {arrival_rate: ...}` the search sets the rate: keep only "
            "`process`, `max_concurrent`, `tolerance`, `seed` here.",
        )
    if not in_search and ("rate" in raw) == ("stages" in raw):
        raise w.error(
            "load.arrival",
            "give exactly one of `rate: 2/s` (a constant rate) or `stages: [{duration: 30s, rate: "
            "1/s}, ...]`.",
        )


def _arrival_process(w: Where, raw: dict[str, object]) -> ArrivalProcess:
    process = raw.get("process", POISSON)
    if process in (POISSON, CONSTANT):
        return POISSON if process == POISSON else CONSTANT
    raise w.error(
        "load.arrival.process",
        "expected `poisson` (random arrivals at the rate) or `constant` (evenly spaced); got "
        f"{process!r}.",
    )


def _arrival_stages(w: Where, raw: dict[str, object]) -> tuple[RateStage, ...]:
    """One stage for `rate`, the given `stages`, or none (the search sets the rate)."""
    if "rate" in raw:
        return (RateStage("rate", None, parse_rate(w, "load.arrival.rate", raw["rate"])),)
    if "stages" in raw:
        return _rate_stages(w, raw["stages"])
    return ()


def _arrival(w: Where, value: Any, *, in_search: bool) -> Arrival:
    raw = section(w, "load.arrival", value, _ARRIVAL_KEYS)
    _check_arrival_shape(w, value, raw, in_search=in_search)
    process = _arrival_process(w, raw)
    stages = _arrival_stages(w, raw)
    return Arrival(
        stages=stages,
        process=process,
        max_concurrent=int(
            number(
                w,
                "load.arrival.max_concurrent",
                raw.get("max_concurrent", 100),
                minimum=1,
                integer=True,
            )
        ),
        tolerance_s=duration_s(w, "load.arrival.tolerance", raw.get("tolerance", 1.0)),
        seed=int(number(w, "load.arrival.seed", raw.get("seed", 1), integer=True)),
    )


def _rate_stages(w: Where, value: Any) -> tuple[RateStage, ...]:
    items = _list(
        w, "load.arrival.stages", value, "[{duration: 30s, rate: 1/s}, {duration: 30s, rate: 4/s}]"
    )
    stages = []
    for i, item in enumerate(items):
        key = f"load.arrival.stages[{i}]"
        if not isinstance(item, dict):
            raise w.error(
                key, f"expected a mapping like {{duration: 30s, rate: 1/s}}; got {describe(item)}."
            )
        raw = section(w, key, item, ("name", "duration", "rate"))
        for required in ("duration", "rate"):
            if required not in raw:
                raise w.error(
                    f"{key}.{required}",
                    "missing: every arrival stage needs `duration` (like 30s) and `rate` (like "
                    "2/s).",
                )
        stages.append(
            RateStage(
                str(raw.get("name") or f"stage {i + 1}"),
                _positive_duration(w, f"{key}.duration", raw["duration"]),
                parse_rate(w, f"{key}.rate", raw["rate"]),
            )
        )
    return tuple(stages)


_SEARCH_KEYS = (SEARCH_USERS, SEARCH_RATE, "slo", "hold", "warmup", "resolution", "spawn_rate")


def _search(w: Where, value: Any, arrival: Arrival | None) -> Search:
    if not isinstance(value, dict):
        raise w.error(
            "load.search",
            "expected a mapping like "
            f'{{users: {{start: 5, step: 5, max: 60}}, hold: 20s, slo: ["first_text.p95 < 3s"]}}; '
            f"got {describe(value)}.",
        )
    raw = section(w, "load.search", value, _SEARCH_KEYS)
    if ("users" in raw) == (SEARCH_RATE in raw):
        raise w.error(
            "load.search",
            "give exactly one of `users: {start: 5, step: 5, max: 60}` (closed model) or "
            "`arrival_rate: {start: 1/s, step: 1/s, max: 10/s}` (open model).",
        )
    kind: SearchKind = SEARCH_USERS if "users" in raw else SEARCH_RATE
    if kind == SEARCH_RATE and arrival is None:
        arrival = Arrival(stages=())
    slo = _slo(w, raw.get("slo"))
    start, step, top = _sweep(w, f"load.search.{kind}", raw[kind], kind)
    hold = _positive_duration(w, "load.search.hold", raw.get("hold", 20))
    warmup = duration_s(w, "load.search.warmup", raw.get("warmup", hold / 4))
    if warmup >= hold:
        raise w.error(
            "load.search.warmup",
            f"must be shorter than `hold` ({hold:g} s): the rest of each step is measured.",
        )
    resolution = raw.get("resolution", 1 if kind == SEARCH_USERS else step / 4)
    resolution = (
        parse_rate(w, "load.search.resolution", resolution)
        if isinstance(resolution, str)
        else number(w, "load.search.resolution", resolution, minimum=0.001)
    )
    spawn = (
        number(w, "load.search.spawn_rate", raw["spawn_rate"], minimum=0.001)
        if "spawn_rate" in raw
        else None
    )
    return Search(kind, start, step, top, slo, hold, warmup, resolution, spawn)


def _slo(w: Where, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise w.error(
            "load.search.slo",
            "missing: a capacity search needs the objective each step must meet, as gates, e.g. "
            'slo: ["first_text.p95 < 3s", "error_rate < 1%"].',
        )
    for i, text in enumerate(value):
        if not isinstance(text, str):
            raise w.error(
                f"load.search.slo[{i}]",
                f'expected a gate expression like "first_text.p95 < 3s"; got {describe(text)}.',
            )
        parse_gate(text, where=f"{w.file}, key `load.search.slo[{i}]`")
    return tuple(value)


def _sweep(w: Where, key: str, value: Any, kind: str) -> tuple[float, float, float]:
    raw = section(w, key, value, ("start", "step", "max"))
    if not isinstance(value, dict) or any(k not in raw for k in ("start", "step", "max")):
        example = (
            "{start: 5, step: 5, max: 60}"
            if kind == SEARCH_USERS
            else "{start: 1/s, step: 1/s, max: 10/s}"
        )
        raise w.error(
            key, f"expected `start`, `step` and `max`, e.g. {example}; got {describe(value)}."
        )
    if kind == SEARCH_USERS:
        start, step, top = (
            number(w, f"{key}.{k}", raw[k], minimum=1, integer=True)
            for k in ("start", "step", "max")
        )
    else:
        start, step, top = (parse_rate(w, f"{key}.{k}", raw[k]) for k in ("start", "step", "max"))
    if top < start or step <= 0:
        raise w.error(key, f"`max` must be at least `start` and `step` more than 0; got {value}.")
    return start, step, top
