"""Behaviour profiles of the simulator: YAML in, frozen typed config out, strictly validated.

A profile says how long each part of a run takes (latency distributions in milliseconds), how
long answers are and how they are split across `message.delta` events, which faults to inject
at which rate, and optionally a recorded script to replay. Every key is optional; a missing key
takes the `default` profile's value. Unknown keys and wrong types are errors
that name the file and the key.

A distribution is written as a number (fixed), or a mapping with exactly one of
`fixed: X`, `uniform: [A, B]`, `lognormal: {median: M, p99: Q}`, `exponential: {mean: M}`,
plus optional `min:` / `max:` clamps.

A profile file states only what differs from the shipped `default` profile: its `timing`,
`answer` and `faults` sections are merged key by key over default's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wxo_load.core.errors import ConfigError

PROFILES_DIR = Path(__file__).with_name("profiles")

FAULT_NAMES: tuple[str, ...] = (
    "http_429",
    "http_500",
    "http_503",
    "token_expiry",
    "run_failed",
    "error_event",
    "truncated",
    "drop_connection",
    "stall",
    "malformed_line",
    "no_done",
)
HTTP_FAULTS: tuple[str, ...] = ("token_expiry", "http_429", "http_500", "http_503")
STREAM_FAULTS: tuple[str, ...] = (
    "run_failed",
    "error_event",
    "truncated",
    "drop_connection",
    "stall",
    "malformed_line",
    "no_done",
)

# The intermediate-step messages seen in the captures, key -> text.
STEP_TEXTS: dict[str, str] = {
    "thinkingThisThrough": "Thinking this through…",
    "preparingYourResponse": "Preparing your response…",
    "gettingAgentSetup": "Getting the agent set up to handle this…",
    "preparingGuidelines": "Preparing the right guidelines for your request…",
    "pullingEverythingTogether": "Pulling everything together…",
    "wrappingUpFinalResponse": "Wrapping up with the final response…",
}
REPLAY_EVENTS: frozenset[str] = frozenset(
    {
        "run.started",
        "message.started",
        "run.step.intermediate",
        "message.delta",
        "message.created",
        "message.completed",
        "run.completed",
        "done",
    }
)

DEFAULT_AGENT_DISPLAY_NAME = "context_variables_test_agent"
_Z99 = 2.3263478740408408  # standard normal quantile at 0.99


@dataclass(frozen=True, slots=True)
class Dist:
    """A latency (or count) distribution; `sample()` returns a float clamped to [lo, hi]."""

    kind: str  # fixed | uniform | lognormal | exponential
    a: float
    b: float = 0.0
    lo: float = 0.0
    hi: float = math.inf

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "lognormal":
            value = rng.lognormvariate(math.log(self.a), self.b)
        else:  # exponential
            value = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return min(max(value, self.lo), self.hi)

    @property
    def mean_hint(self) -> float:
        """A rough central value, for documentation and sanity checks."""
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return self.a


def fixed(value: float) -> Dist:
    return Dist("fixed", float(value))


@dataclass(frozen=True, slots=True)
class Timing:
    run_started_ms: Dist = field(default_factory=lambda: Dist("lognormal", 12.0, 0.4, 1.0, 200.0))
    message_started_ms: Dist = field(default_factory=lambda: Dist("uniform", 5.0, 15.0))
    steps: Dist = field(default_factory=lambda: fixed(6))
    step_gap_ms: Dist = field(default_factory=lambda: Dist("exponential", 6.0, 0.0, 0.0, 40.0))
    think_ms: Dist = field(default_factory=lambda: Dist("lognormal", 350.0, 0.35, 50.0, 1500.0))
    first_delta_ms: Dist = field(default_factory=lambda: Dist("uniform", 1.0, 5.0))
    delta_gap_ms: Dist = field(default_factory=lambda: Dist("uniform", 10.0, 30.0))
    finish_gap_ms: Dist = field(default_factory=lambda: Dist("uniform", 1.0, 10.0))


@dataclass(frozen=True, slots=True)
class Answer:
    chars: Dist = field(default_factory=lambda: Dist("uniform", 60.0, 240.0))
    chars_per_delta: Dist = field(default_factory=lambda: Dist("uniform", 12.0, 40.0))
    empty_deltas: bool = False
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Faults:
    rates: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULT_NAMES, 0.0))
    retry_after_s: int = 1
    stall_s: float = 150.0
    stall_then: str = "continue"  # continue | close


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    at_ms: float
    event: str
    key: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class ReplayScript:
    events: tuple[ReplayEvent, ...]

    @property
    def answer(self) -> str:
        for ev in self.events:
            if ev.event == "message.created":
                return ev.text
        return ""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str = ""
    source: str = "(built-in)"
    agent_display_name: str = DEFAULT_AGENT_DISPLAY_NAME
    seed: int | None = None
    token_ttl_s: float | None = None
    timing: Timing = field(default_factory=Timing)
    answer: Answer = field(default_factory=Answer)
    faults: Faults = field(default_factory=Faults)
    replay_first_turn: ReplayScript | None = None
    replay_follow_up: ReplayScript | None = None
    agent: Any = None  # agent_tools.AgentSpec: tools, hand-over, thinking (None: no tools)

    @property
    def is_replay(self) -> bool:
        return self.replay_first_turn is not None


# --------------------------------------------------------------------------------- loading


def builtin_profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def resolve_profile_path(name_or_file: str) -> Path:
    """A shipped profile name (`default`) or a path to a YAML file."""
    candidate = Path(name_or_file)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_file or candidate.exists():
        if not candidate.is_file():
            raise ConfigError(
                f"profile file {name_or_file}: no such file. Give a shipped profile name "
                f"({', '.join(builtin_profile_names())}) or the path of a YAML profile file."
            )
        return candidate
    shipped = PROFILES_DIR / f"{name_or_file}.yaml"
    if not shipped.is_file():
        raise ConfigError(
            f"unknown profile `{name_or_file}`: the shipped profiles are "
            f"{', '.join(builtin_profile_names())}; or give the path of a YAML profile file."
        )
    return shipped


def load_profile(name_or_file: str) -> Profile:
    path = resolve_profile_path(name_or_file)
    try:
        import yaml

        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"profile file {path}: cannot be read ({exc.strerror}).") from None
    except Exception as exc:  # yaml.YAMLError and its position details
        raise ConfigError(f"profile file {path}: not valid YAML ({exc}).") from None
    if path != PROFILES_DIR / "default.yaml" and isinstance(raw, dict):
        raw = _over_default(raw)
    return parse_profile(raw, source=str(path), default_name=path.stem)


def _over_default(raw: dict[str, Any]) -> dict[str, Any]:
    """A profile file states what differs from the shipped `default` profile."""
    import yaml

    base = yaml.safe_load((PROFILES_DIR / "default.yaml").read_text(encoding="utf-8"))
    merged = {k: v for k, v in base.items() if k not in ("name", "description")}
    for key, value in raw.items():
        if key in ("timing", "answer", "faults") and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


class _Ctx:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"profile file {self.source}, key `{key}`: {message}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}.")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}" if key else str(unknown[0]),
                f"unknown key; allowed keys here are: {', '.join(allowed)}.",
            )
        return value

    def number(self, value: Any, key: str, lo: float = 0.0, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {_kind(value)}.")
        if not (lo <= value <= hi) or math.isnan(value):
            raise self.fail(key, f"expected a number in [{lo:g}, {hi:g}], got {value!r}.")
        return float(value)

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)}.")
        return value

    def dist(self, value: Any, key: str) -> Dist:
        if not isinstance(value, dict):
            return fixed(self.number(value, key))
        kinds = [k for k in value if k in ("fixed", "uniform", "lognormal", "exponential")]
        extra = [
            k
            for k in value
            if k not in ("fixed", "uniform", "lognormal", "exponential", "min", "max")
        ]
        if extra:
            raise self.fail(
                f"{key}.{extra[0]}",
                "unknown key; a distribution has one of fixed, uniform, lognormal, exponential "
                "and optional min / max.",
            )
        if len(kinds) != 1:
            raise self.fail(
                key,
                "a distribution needs exactly one of `fixed: X`, `uniform: [A, B]`, "
                "`lognormal: {median: M, p99: Q}`, `exponential: {mean: M}`.",
            )
        kind = kinds[0]
        body = value[kind]
        lo = self.number(value.get("min", 0.0), f"{key}.min")
        hi = self.number(value["max"], f"{key}.max") if "max" in value else math.inf
        if hi < lo:
            raise self.fail(f"{key}.max", f"must be >= min ({lo:g}).")
        sub = f"{key}.{kind}"
        if kind == "fixed":
            return Dist("fixed", self.number(body, sub), 0.0, lo, hi)
        if kind == "uniform":
            if not isinstance(body, list) or len(body) != 2:
                raise self.fail(sub, f"expected a list of two numbers [A, B], got {body!r}.")
            a, b = self.number(body[0], sub), self.number(body[1], sub)
            if b < a:
                raise self.fail(sub, f"expected A <= B, got [{a:g}, {b:g}].")
            return Dist("uniform", a, b, lo, hi)
        if kind == "lognormal":
            params = self.mapping(body, sub, ("median", "p99"))
            if "median" not in params or "p99" not in params:
                raise self.fail(sub, "needs both `median` and `p99`.")
            median = self.number(params["median"], f"{sub}.median", lo=1e-6)
            p99 = self.number(params["p99"], f"{sub}.p99", lo=median)
            sigma = math.log(p99 / median) / _Z99
            return Dist("lognormal", median, sigma, lo, hi)
        params = self.mapping(body, sub, ("mean",))
        if "mean" not in params:
            raise self.fail(sub, "needs `mean`.")
        return Dist("exponential", self.number(params["mean"], f"{sub}.mean"), 0.0, lo, hi)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


_TOP_KEYS = (
    "name",
    "description",
    "agent_display_name",
    "seed",
    "token_ttl_s",
    "timing",
    "answer",
    "faults",
    "replay",
    "agent",
)


def parse_profile(raw: Any, *, source: str = "(inline)", default_name: str = "custom") -> Profile:
    ctx = _Ctx(source)
    if raw is None:
        raw = {}
    top = ctx.mapping(raw, "", _TOP_KEYS)
    name = ctx.text(top.get("name", default_name), "name")
    seed = top.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ctx.fail("seed", f"expected an integer, got {_kind(seed)}.")
    ttl = top.get("token_ttl_s")
    token_ttl_s = None if ttl is None else ctx.number(ttl, "token_ttl_s", lo=0.001)
    replay_first, replay_follow = _parse_replay(ctx, top.get("replay"))
    return Profile(
        name=name,
        description=ctx.text(top.get("description", ""), "description"),
        source=source,
        agent_display_name=ctx.text(
            top.get("agent_display_name", DEFAULT_AGENT_DISPLAY_NAME), "agent_display_name"
        ),
        seed=seed,
        token_ttl_s=token_ttl_s,
        timing=_parse_timing(ctx, top.get("timing")),
        answer=_parse_answer(ctx, top.get("answer")),
        faults=_parse_faults(ctx, top.get("faults")),
        replay_first_turn=replay_first,
        replay_follow_up=replay_follow,
        agent=_parse_agent(ctx, top.get("agent")),
    )


def _parse_agent(ctx: _Ctx, raw: Any) -> Any:
    from wxo_load.mock.agent_tools import parse_agent

    return parse_agent(ctx, raw)


_TIMING_KEYS = (
    "run_started_ms",
    "message_started_ms",
    "steps",
    "step_gap_ms",
    "think_ms",
    "first_delta_ms",
    "delta_gap_ms",
    "finish_gap_ms",
)


def _parse_timing(ctx: _Ctx, raw: Any) -> Timing:
    values = ctx.mapping(raw, "timing", _TIMING_KEYS)
    base = Timing()
    kwargs = {k: ctx.dist(v, f"timing.{k}") for k, v in values.items()}
    return Timing(**{k: kwargs.get(k, getattr(base, k)) for k in _TIMING_KEYS})


def _parse_answer(ctx: _Ctx, raw: Any) -> Answer:
    values = ctx.mapping(raw, "answer", ("chars", "chars_per_delta", "empty_deltas", "texts"))
    base = Answer()
    empty = values.get("empty_deltas", False)
    if not isinstance(empty, bool):
        raise ctx.fail("answer.empty_deltas", f"expected true or false, got {_kind(empty)}.")
    texts_raw = values.get("texts", [])
    if not isinstance(texts_raw, list) or not all(isinstance(t, str) and t for t in texts_raw):
        raise ctx.fail("answer.texts", "expected a list of non-empty strings.")
    return Answer(
        chars=ctx.dist(values["chars"], "answer.chars") if "chars" in values else base.chars,
        chars_per_delta=ctx.dist(values["chars_per_delta"], "answer.chars_per_delta")
        if "chars_per_delta" in values
        else base.chars_per_delta,
        empty_deltas=empty,
        texts=tuple(texts_raw),
    )


def _parse_faults(ctx: _Ctx, raw: Any) -> Faults:
    values = ctx.mapping(raw, "faults", (*FAULT_NAMES, "retry_after_s", "stall_s", "stall_then"))
    rates = dict.fromkeys(FAULT_NAMES, 0.0)
    for name in FAULT_NAMES:
        if name in values:
            rates[name] = ctx.number(values[name], f"faults.{name}", 0.0, 1.0)
    stall_then = values.get("stall_then", "continue")
    if stall_then not in ("continue", "close"):
        raise ctx.fail("faults.stall_then", f"expected `continue` or `close`, got {stall_then!r}.")
    retry_after = ctx.number(values.get("retry_after_s", 1), "faults.retry_after_s", 0, 3600)
    if retry_after != int(retry_after):
        raise ctx.fail("faults.retry_after_s", "expected a whole number of seconds.")
    return Faults(
        rates=rates,
        retry_after_s=int(retry_after),
        stall_s=ctx.number(values.get("stall_s", 150.0), "faults.stall_s", 0.0, 86400.0),
        stall_then=stall_then,
    )


def _parse_replay(ctx: _Ctx, raw: Any) -> tuple[ReplayScript | None, ReplayScript | None]:
    if raw is None:
        return None, None
    values = ctx.mapping(raw, "replay", ("first_turn", "follow_up"))
    if "first_turn" not in values:
        raise ctx.fail("replay", "needs `first_turn` (and optionally `follow_up`).")
    first = _parse_script(ctx, values["first_turn"], "replay.first_turn")
    follow = (
        _parse_script(ctx, values["follow_up"], "replay.follow_up")
        if "follow_up" in values
        else first
    )
    return first, follow


def _parse_script(ctx: _Ctx, raw: Any, key: str) -> ReplayScript:
    body = ctx.mapping(raw, key, ("events",))
    events_raw = body.get("events")
    if not isinstance(events_raw, list) or not events_raw:
        raise ctx.fail(f"{key}.events", "expected a non-empty list of events.")
    events: list[ReplayEvent] = []
    last = 0.0
    for i, item in enumerate(events_raw):
        ikey = f"{key}.events[{i}]"
        ev = ctx.mapping(item, ikey, ("at_ms", "event", "key", "text"))
        at_ms = ctx.number(ev.get("at_ms"), f"{ikey}.at_ms")
        if at_ms < last:
            raise ctx.fail(f"{ikey}.at_ms", f"times must not go backwards ({at_ms:g} < {last:g}).")
        last = at_ms
        name = ctx.text(ev.get("event"), f"{ikey}.event")
        if name not in REPLAY_EVENTS:
            raise ctx.fail(f"{ikey}.event", f"expected one of {', '.join(sorted(REPLAY_EVENTS))}.")
        step_key = ctx.text(ev.get("key", ""), f"{ikey}.key")
        if name == "run.step.intermediate" and step_key not in STEP_TEXTS:
            raise ctx.fail(f"{ikey}.key", f"expected one of {', '.join(STEP_TEXTS)}.")
        text = ctx.text(ev.get("text", ""), f"{ikey}.text")
        events.append(ReplayEvent(at_ms, name, step_key, text))
    names = [e.event for e in events]
    if names[0] != "run.started" or names[-1] != "done" or "message.created" not in names:
        raise ctx.fail(
            f"{key}.events",
            "a script starts with run.started, ends with done and has a message.created.",
        )
    return ReplayScript(tuple(events))
