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

The model is in profile_model.py, the value checks in profile_fields.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wxo_load.core.errors import ConfigError
from wxo_load.mock.agent_tools import parse_agent
from wxo_load.mock.answers import parse_answers
from wxo_load.mock.profile_fields import FieldReader, kind_of
from wxo_load.mock.profile_model import (
    DEFAULT_AGENT_DISPLAY_NAME,
    FAULT_NAMES,
    REPLAY_EVENTS,
    STEP_TEXTS,
    Answer,
    Faults,
    Profile,
    ReplayEvent,
    ReplayScript,
    Timing,
)
from wxo_load.mock.shapes import Json

__all__ = [
    "PROFILES_DIR",
    "builtin_profile_names",
    "load_profile",
    "parse_profile",
    "resolve_profile_path",
]

PROFILES_DIR = Path(__file__).with_name("profiles")


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


def _over_default(raw: dict[str, Json]) -> dict[str, Json]:
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
    "answers",
)


def parse_profile(raw: Any, *, source: str = "(inline)", default_name: str = "custom") -> Profile:
    ctx = FieldReader(source)
    if raw is None:
        raw = {}
    top = ctx.mapping(raw, "", _TOP_KEYS)
    name = ctx.text(top.get("name", default_name), "name")
    seed = top.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ctx.fail("seed", f"expected an integer, got {kind_of(seed)}.")
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
        agent=parse_agent(ctx, top.get("agent")),
        answers=parse_answers(ctx, top.get("answers")),
    )


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


def _parse_timing(ctx: FieldReader, raw: Any) -> Timing:
    values = ctx.mapping(raw, "timing", _TIMING_KEYS)
    base = Timing()
    kwargs = {k: ctx.dist(v, f"timing.{k}") for k, v in values.items()}
    return Timing(**{k: kwargs.get(k, getattr(base, k)) for k in _TIMING_KEYS})


def _parse_answer(ctx: FieldReader, raw: Any) -> Answer:
    values = ctx.mapping(raw, "answer", ("chars", "chars_per_delta", "empty_deltas", "texts"))
    base = Answer()
    empty = values.get("empty_deltas", False)
    if not isinstance(empty, bool):
        raise ctx.fail("answer.empty_deltas", f"expected true or false, got {kind_of(empty)}.")
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


def _parse_faults(ctx: FieldReader, raw: Any) -> Faults:
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


def _parse_replay(ctx: FieldReader, raw: Any) -> tuple[ReplayScript | None, ReplayScript | None]:
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


def _parse_script(ctx: FieldReader, raw: Any, key: str) -> ReplayScript:
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
