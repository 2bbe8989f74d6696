"""Scenario files: who the users are, what they say, how fast, and which limits the results meet.

`load_scenario(path)` reads YAML into a frozen, typed `Scenario` (`wxo_load.config.model`),
validated once: an unknown key, a wrong type, a missing agent id or an empty prompt pool raises
`ConfigError` naming the file, the key and what is allowed. The model's classes are importable
from here too. The value checks live in `config.fields`, prompts in `config.prompts` and load
plans in `config.load`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from wxo_load.config.answers import ANSWER_KEYS, parse_answers
from wxo_load.config.channels import parse_channel
from wxo_load.config.conversations import script_plan, split_script
from wxo_load.config.fields import (
    Where,
    describe,
    duration_s,
    mapping,
    no_unknown_keys,
    number,
    optional_string,
    optional_url,
    section,
    string,
    value_range,
)
from wxo_load.config.leaving import LEAVING_KEYS, check_leaving_channel, parse_leaving
from wxo_load.config.load import parse_plan
from wxo_load.config.model import (
    ApiPaths,
    ConversationSettings,
    LoadSettings,
    Prompts,
    Scenario,
)
from wxo_load.config.personas import parse_personas
from wxo_load.config.prompts import parse_prompts
from wxo_load.config.sections import parse_auth, parse_request, parse_simulator
from wxo_load.core.deployment import normalise_kind
from wxo_load.core.errors import ConfigError
from wxo_load.core.plan import planned_duration_s
from wxo_load.gates.parse import parse_gate_spec, parse_regression

__all__ = [
    "load_scenario",
]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ConfigError with a what-to-do message."""
    p = Path(path)
    if not p.is_file():
        shipped = Path("scenarios")
        hint = ", ".join(sorted(x.name for x in shipped.glob("*.yaml"))) if shipped.is_dir() else ""
        raise ConfigError(
            f"scenario file {path} does not exist. Pass --scenario with the path of a YAML file"
            + (f" (scenarios/ has: {hint})." if hint else ".")
        )
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{path}: not valid YAML{where}: {problem}. Fix the file's syntax."
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: a scenario must be a YAML mapping with keys like `name`, `agent_id`, "
            f"`prompts`; got {type(raw).__name__}."
        )
    raw.setdefault("name", p.stem)
    return _parse(raw, str(path), p.parent)


_TOP_KEYS: dict[str, str] = {
    "name": "a short name used in result directory names",
    "description": "free text",
    "agent_id": "the agent to talk to (uuid)",
    "host": "base URL of the Orchestrate API (--host wins)",
    "api": "API prefix and paths",
    "load": "users, spawn_rate, run_time (Locust's -u/-r/-t win); warmup, cooldown (--warmup, "
    "--cooldown win); stages, arrival or search",
    "conversation": "turns, think_time_s, pause_between_s, on_failure, script",
    "prompts": "messages, file, order, conversations, timing, time_scale, arrivals",
    "request": "timeouts and extra body fields / headers",
    "channel": "how users talk to the agent: runs-stream (default), chat, chat-v2, runs-poll, "
    "async, and that channel's options (docs/channels.md)",
    "simulator": "profile, seed, faults, token_ttl_s, capacity for the built-in simulator",
    "auth": "how to get a token (no secrets here: name environment variables)",
    "gates": "limits the results must meet",
    "regressions": "tolerances against a baseline summary",
    "baseline": "path of a baseline summary.json",
    **ANSWER_KEYS,
    **LEAVING_KEYS,
    "personas": "a weighted mix of kinds of people, each with its own agent, prompts and data",
    "data": "rows of a CSV or JSONL file filling the prompts' {{column}}s (every persona's, or "
    "the one kind of user's without personas)",
    "file": "(set by wxo-load)",
}

IMPLICIT_PERSONA = "WxoChatUser"
"""A scenario with a top-level `data:` and no personas runs one persona of this name (the user
class name a scenario without personas has), which holds the rows."""


def _parse(
    raw: dict[str, object], file: str, base_dir: Path, where: Where | None = None
) -> Scenario:
    w = where or Where(file)
    no_unknown_keys(w, "", raw, _TOP_KEYS)
    if "data" in raw and "personas" not in raw:  # one kind of user with rows: one persona
        raw = {**raw, "personas": [{"name": IMPLICIT_PERSONA, "data": raw["data"]}]}
    if "personas" in raw:
        return _with_personas(raw, file, base_dir, w)
    raw, script = split_script(raw)
    name = string(w, "name", raw.get("name") or "scenario")
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    agent_id = raw.get("agent_id")
    if agent_id is None:
        raise w.error(
            "agent_id",
            "missing. Every run names the agent it talks to: add `agent_id: <uuid>` "
            "(find it with `orchestrate agents list`; any value works against the simulator).",
        )
    gates, regressions = _gates(w, raw)
    scenario = Scenario(
        name=safe_name,
        file=file,
        description=string(w, "description", raw.get("description", "")),
        agent_id=string(w, "agent_id", agent_id, non_empty=True),
        host=optional_url(w, "host", raw.get("host")),
        api=_api(w, raw.get("api")),
        load=_load(w, raw.get("load")),
        conversation=_conversation(w, raw.get("conversation")),
        prompts=parse_prompts(w, raw.get("prompts"), base_dir),
        request=parse_request(w, raw.get("request")),
        channel=parse_channel(w, raw.get("channel")),
        simulator=parse_simulator(w, raw.get("simulator")),
        auth=parse_auth(w, raw.get("auth")),
        gates=gates,
        regressions=regressions,
        baseline=optional_string(w, "baseline", raw.get("baseline")),
        answers=parse_answers(w, raw),
        leaving=parse_leaving(w, raw),
    )
    check_leaving_channel(w.file, scenario.leaving, scenario.channel.name)
    if script is None:
        return scenario
    plan = script_plan(w, script)
    return dataclasses.replace(scenario, prompts=Prompts("script", (), "script", (plan,)))


def _with_personas(raw: dict[str, object], file: str, base_dir: Path, w: Where) -> Scenario:
    """The top level (the personas' defaults; `agent_id` and `prompts` may be left to each
    persona) and its personas, each parsed by `_parse` from its keys laid over the top level."""
    personas = parse_personas(w, file, raw, base_dir, _parse)
    top = {k: v for k, v in raw.items() if k not in ("personas", "data")}
    first = personas[0].scenario
    top.setdefault("agent_id", first.agent_id)
    top.setdefault("prompts", {"messages": ["(personas)"]})
    return dataclasses.replace(_parse(top, file, base_dir, w), personas=personas)


def _api(w: Where, value: Any) -> ApiPaths:
    allowed = ("prefix", "threads_path", "runs_path", "stream_query", "deployment")
    raw = section(w, "api", value, allowed)
    base = ApiPaths()
    prefix, threads_path, runs_path = (
        _path(w, key, raw[key]) if key in raw else None
        for key in ("prefix", "threads_path", "runs_path")
    )
    query = raw.get("stream_query")
    stream_query = base.stream_query
    if query is not None:
        query_map = mapping(w, "api.stream_query", query) or {}
        stream_query = tuple(
            (str(k), str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in query_map.items()
        )
    deployment = base.deployment
    if "deployment" in raw:
        try:
            kind = string(w, "api.deployment", raw["deployment"])
            deployment = normalise_kind(kind, where="")
        except ConfigError:
            raise w.error(
                "api.deployment",
                "expected auto, local (Developer Edition paths) or remote (SaaS paths); "
                f"got {raw['deployment']!r}.",
            ) from None
    return ApiPaths(prefix, threads_path, runs_path, stream_query, deployment)


def _path(w: Where, key: str, value: Any) -> str:
    text = string(w, f"api.{key}", value)
    if text and not text.startswith("/"):
        raise w.error(f"api.{key}", f"a path must start with '/'; got {text!r}.")
    return text.rstrip("/")


def _load(w: Where, value: Any) -> LoadSettings:
    allowed = ("users", "spawn_rate", "run_time", "warmup", "cooldown", "stages", "arrival",
               "search")  # fmt: skip
    raw = section(w, "load", value, allowed)
    plan = parse_plan(w, raw)
    users = spawn_rate = run_time_s = None
    if "users" in raw:
        users = int(number(w, "load.users", raw["users"], minimum=1, integer=True))
    if "spawn_rate" in raw:
        spawn_rate = number(w, "load.spawn_rate", raw["spawn_rate"], minimum=0.001)
    if "run_time" in raw:
        run_time_s = duration_s(w, "load.run_time", raw["run_time"])
    warmup_s = duration_s(w, "load.warmup", raw["warmup"]) if "warmup" in raw else 0.0
    cooldown_s = duration_s(w, "load.cooldown", raw["cooldown"]) if "cooldown" in raw else 0.0
    planned_s = planned_duration_s(plan, run_time_s)
    if planned_s is not None and warmup_s + cooldown_s >= planned_s:
        raise w.error(
            "load.warmup",
            f"warmup {warmup_s:g} s + cooldown {cooldown_s:g} s leave nothing of the "
            f"{planned_s:g} s test to measure: shorten them or lengthen the test.",
        )
    return LoadSettings(users=users, spawn_rate=spawn_rate, run_time_s=run_time_s, plan=plan,
                        warmup_s=warmup_s, cooldown_s=cooldown_s)  # fmt: skip


def _conversation(w: Where, value: Any) -> ConversationSettings:
    allowed = ("turns", "think_time_s", "pause_between_s", "on_failure")
    raw = section(w, "conversation", value, allowed)
    base = ConversationSettings()
    turns = (
        value_range(w, "conversation.turns", raw["turns"], minimum=1, integer=True)
        if "turns" in raw
        else base.turns
    )
    think, pause = (
        value_range(w, f"conversation.{key}", raw[key]) if key in raw else default
        for key, default in (("think_time_s", base.think_time_s),
                             ("pause_between_s", base.pause_between_s))
    )  # fmt: skip
    on_failure = raw.get("on_failure", base.on_failure)
    if on_failure not in ("continue", "end"):
        raise w.error(
            "conversation.on_failure",
            f"expected `continue` (send the next message anyway) or `end` (start a new "
            f"conversation); got {on_failure!r}.",
        )
    return ConversationSettings(turns, think, pause, on_failure)


def _gates(w: Where, raw: Mapping[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Validate gate specs now, so a bad expression stops the test before it starts."""
    parsed: list[tuple[Any, ...]] = []
    for key in ("gates", "regressions"):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise w.error(
                key,
                'expected a list of expressions like "first_text.p95 < 3000ms"; '
                f"got {describe(items)}.",
            )
        for index, item in enumerate(items):
            where = f"{w.file}, key `{key}[{index}]`"
            if key == "gates":
                parse_gate_spec(item, where=where)
            elif not isinstance(item, str):
                raise w.error(
                    f"{key}[{index}]",
                    f'expected a string like "first_text.p95 +10%"; got {describe(item)}.',
                )
            else:
                parse_regression(item, where=where)
        parsed.append(tuple(items))
    return parsed[0], parsed[1]
