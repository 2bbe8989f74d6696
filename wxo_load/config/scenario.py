"""Scenario files: who the users are, what they say, how fast, and which limits the results meet.

`load_scenario(path)` reads YAML into a frozen, typed `Scenario`, validated once: an unknown
key, a wrong type, a missing agent id or an empty prompt pool raises `ConfigError` naming the
file, the key and what is allowed. The scenario travels to distributed workers as plain data
(`to_wire()` / `from_wire()`), prompts already read from their files, so workers need no files.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from wxo_load.core.deployment import normalise_kind
from wxo_load.core.errors import ConfigError
from wxo_load.load.model import LoadPlan

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ApiPaths:
    # None: chosen per deployment kind (wxo_load.core.deployment): a Developer Edition gets /api/v1 +
    # /threads and /orchestrate/runs, SaaS and other remote instances /v1 + /orchestrate/threads
    # and /orchestrate/runs
    prefix: str | None = None
    threads_path: str | None = None
    runs_path: str | None = None
    stream_query: tuple[tuple[str, str], ...] = (
        ("stream", "true"),
        ("stream_timeout", "120000"),
        ("multiple_content", "true"),
    )
    deployment: str = "auto"  # auto | local | remote (--deployment wins)


@dataclass(frozen=True, slots=True)
class LoadSettings:
    users: int | None = None
    spawn_rate: float | None = None
    run_time_s: float | None = None
    plan: LoadPlan | None = None  # stages, an arrival model or a capacity search (wxo_load.load)


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    turns: Range = (3.0, 3.0)
    think_time_s: Range = (1.0, 1.0)
    pause_between_s: Range = (0.0, 0.0)
    on_failure: str = "continue"  # continue | end


@dataclass(frozen=True, slots=True)
class Prompts:
    order: str  # script: in order, cycling; random: sampled from the pool
    messages: tuple[str, ...]
    source: str = "inline"


@dataclass(frozen=True, slots=True)
class RequestSettings:
    stream_timeout_s: float = 120.0
    stall_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    context_variables: Mapping[str, Any] | None = None
    llm_params: Mapping[str, Any] | None = None
    guardrails: Mapping[str, Any] | None = None
    additional_properties: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    environment_id: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    profile: str = "default"
    seed: int | None = None
    faults: Mapping[str, float] = field(default_factory=dict)
    token_ttl_s: float | None = None
    capacity: Mapping[str, int] = field(default_factory=dict)  # concurrent_runs, max_queue, reject_status


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    agent_id: str
    prompts: Prompts
    file: str | None = None
    description: str = ""
    host: str | None = None
    api: ApiPaths = ApiPaths()
    load: LoadSettings = LoadSettings()
    conversation: ConversationSettings = ConversationSettings()
    request: RequestSettings = RequestSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    auth: Mapping[str, Any] = field(default_factory=dict)
    gates: tuple[Any, ...] = ()  # raw gate specs, validated by wxo_load.gates.engine at load time
    regressions: tuple[Any, ...] = ()
    baseline: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Plain data (msgpack-safe) for Locust's spawn message and for summary.json."""
        return _plain(asdict(self))

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Scenario:
        """Rebuild a scenario validated by `load_scenario` on the master (trusted data)."""
        api, conv, prompts = d["api"], d["conversation"], d["prompts"]
        return cls(
            name=d["name"],
            agent_id=d["agent_id"],
            prompts=Prompts(prompts["order"], tuple(prompts["messages"]), prompts["source"]),
            file=d.get("file"),
            description=d.get("description", ""),
            host=d.get("host"),
            api=ApiPaths(
                api["prefix"], api["threads_path"], api["runs_path"],
                tuple((str(k), str(v)) for k, v in api["stream_query"]),
                api.get("deployment", "auto"),
            ),
            load=LoadSettings(**{**d["load"], "plan": LoadPlan.from_wire(d["load"].get("plan"))}),
            conversation=ConversationSettings(
                turns=tuple(conv["turns"]),
                think_time_s=tuple(conv["think_time_s"]),
                pause_between_s=tuple(conv["pause_between_s"]),
                on_failure=conv["on_failure"],
            ),
            request=RequestSettings(**d["request"]),
            simulator=SimulatorSettings(**d["simulator"]),
            auth=dict(d.get("auth") or {}),
            gates=tuple(d.get("gates") or ()),
            regressions=tuple(d.get("regressions") or ()),
            baseline=d.get("baseline"),
        )

    def pick_turns(self, rng: random.Random) -> int:
        low, high = self.conversation.turns
        return rng.randint(int(low), int(high))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Loading and validation


class _Where:
    """Builds error messages that name the file and the key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}, key `{key}`: {message}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ConfigError with a what-to-do message."""
    p = Path(path)
    if not p.is_file():
        hint = ", ".join(sorted(x.name for x in Path("scenarios").glob("*.yaml"))) if Path("scenarios").is_dir() else ""
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
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}. Fix the file's syntax.") from None
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
    "load": "users, spawn_rate, run_time (Locust's -u/-r/-t win); stages, arrival or search",
    "conversation": "turns, think_time_s, pause_between_s, on_failure",
    "prompts": "messages, file, order",
    "request": "timeouts and extra body fields / headers",
    "simulator": "profile, seed, faults, token_ttl_s, capacity for the built-in simulator",
    "auth": "how to get a token (no secrets here: name environment variables)",
    "gates": "limits the results must meet",
    "regressions": "tolerances against a baseline summary",
    "baseline": "path of a baseline summary.json",
    "file": "(set by wxo-load)",
}


def _parse(raw: dict[str, Any], file: str, base_dir: Path) -> Scenario:
    w = _Where(file)
    _no_unknown_keys(w, "", raw, _TOP_KEYS)
    name = _string(w, "name", raw.get("name") or "scenario")
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    agent_id = raw.get("agent_id")
    if agent_id is None:
        raise w.error(
            "agent_id",
            "missing. Every run names the agent it talks to: add `agent_id: <uuid>` "
            "(find it with `orchestrate agents list`; any value works against the simulator).",
        )
    gates, regressions = _gates(w, raw)
    return Scenario(
        name=safe_name,
        file=file,
        description=_string(w, "description", raw.get("description", "")),
        agent_id=_string(w, "agent_id", agent_id, non_empty=True),
        host=_optional_url(w, "host", raw.get("host")),
        api=_api(w, raw.get("api")),
        load=_load(w, raw.get("load")),
        conversation=_conversation(w, raw.get("conversation")),
        prompts=_prompts(w, raw.get("prompts"), base_dir),
        request=_request(w, raw.get("request")),
        simulator=_simulator(w, raw.get("simulator")),
        auth=_auth(w, raw.get("auth")),
        gates=gates,
        regressions=regressions,
        baseline=_optional_string(w, "baseline", raw.get("baseline")),
    )


def _no_unknown_keys(w: _Where, prefix: str, raw: Mapping[str, Any], allowed: Mapping[str, str] | tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            keys = ", ".join(f"`{k}`" for k in allowed if k != "file")
            raise w.error(f"{prefix}{key}", f"unknown key. Allowed here: {keys}.")


def _section(w: _Where, key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise w.error(key, f"expected a mapping with keys {', '.join(allowed)}; got {_kind(value)}.")
    _no_unknown_keys(w, f"{key}.", value, allowed)
    return value


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def _string(w: _Where, key: str, value: Any, *, non_empty: bool = False) -> str:
    if not isinstance(value, str) or (non_empty and not value.strip()):
        raise w.error(key, f"expected {'a non-empty' if non_empty else 'a'} string; got {_kind(value)}.")
    return value


def _optional_string(w: _Where, key: str, value: Any) -> str | None:
    return None if value is None else _string(w, key, value, non_empty=True)


def _optional_url(w: _Where, key: str, value: Any) -> str | None:
    if value is None:
        return None
    url = _string(w, key, value, non_empty=True).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise w.error(key, f"expected a URL starting with http:// or https://; got {value!r}.")
    return url


def _number(w: _Where, key: str, value: Any, *, minimum: float = 0.0, integer: bool = False) -> float:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise w.error(key, f"expected {'an integer' if integer else 'a number'}; got {_kind(value)}.")
    if value < minimum:
        raise w.error(key, f"must be at least {minimum:g}; got {value}.")
    return float(value)


def _duration_s(w: _Where, key: str, value: Any) -> float:
    """Seconds from a number or a string like `90s`, `2m`, `1h30m`."""
    if isinstance(value, str):
        total, number, units = 0.0, "", {"h": 3600.0, "m": 60.0, "s": 1.0}
        for ch in value.strip().lower():
            if ch.isdigit() or ch == ".":
                number += ch
            elif ch in units and number:
                total, number = total + float(number) * units[ch], ""
            else:
                raise w.error(key, f"expected a duration like 30, 30s, 2m or 1h30m; got {value!r}.")
        return total + (float(number) if number else 0.0)
    return _number(w, key, value)


def _range(w: _Where, key: str, value: Any, *, minimum: float = 0.0, integer: bool = False) -> Range:
    """A fixed number or a [min, max] pair (sampled uniformly)."""
    if isinstance(value, list):
        if len(value) != 2:
            raise w.error(key, f"expected a number or a [min, max] pair; got a list of {len(value)}.")
        low = _number(w, key, value[0], minimum=minimum, integer=integer)
        high = _number(w, key, value[1], minimum=minimum, integer=integer)
        if low > high:
            raise w.error(key, f"[min, max] with min above max: {value}.")
        return (low, high)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        what = "an integer" if integer else "a number"
        raise w.error(key, f"expected {what} or a [min, max] pair like [2, 5]; got {_kind(value)}.")
    number = _number(w, key, value, minimum=minimum, integer=integer)
    return (number, number)


def _mapping(w: _Where, key: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise w.error(key, f"expected a mapping; got {_kind(value)}.")
    return value


def _api(w: _Where, value: Any) -> ApiPaths:
    raw = _section(w, "api", value, ("prefix", "threads_path", "runs_path", "stream_query", "deployment"))
    paths: dict[str, Any] = {}
    for key in ("prefix", "threads_path", "runs_path"):
        if key in raw:
            text = _string(w, f"api.{key}", raw[key])
            if text and not text.startswith("/"):
                raise w.error(f"api.{key}", f"a path must start with '/'; got {text!r}.")
            paths[key] = text.rstrip("/")
    query = raw.get("stream_query")
    if query is not None:
        query_map = _mapping(w, "api.stream_query", query) or {}
        paths["stream_query"] = tuple((str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query_map.items())
    if "deployment" in raw:
        try:
            paths["deployment"] = normalise_kind(_string(w, "api.deployment", raw["deployment"]), where="")
        except ConfigError:
            raise w.error("api.deployment", f"expected auto, local (Developer Edition paths) or remote (SaaS paths); got {raw['deployment']!r}.") from None
    return ApiPaths(**paths)


def _load(w: _Where, value: Any) -> LoadSettings:
    from wxo_load.config.load import parse_plan  # reads this module's helpers

    raw = _section(w, "load", value, ("users", "spawn_rate", "run_time", "stages", "arrival", "search"))
    return LoadSettings(
        plan=parse_plan(w, raw),
        users=int(_number(w, "load.users", raw["users"], minimum=1, integer=True)) if "users" in raw else None,
        spawn_rate=_number(w, "load.spawn_rate", raw["spawn_rate"], minimum=0.001) if "spawn_rate" in raw else None,
        run_time_s=_duration_s(w, "load.run_time", raw["run_time"]) if "run_time" in raw else None,
    )


def _conversation(w: _Where, value: Any) -> ConversationSettings:
    raw = _section(w, "conversation", value, ("turns", "think_time_s", "pause_between_s", "on_failure"))
    settings: dict[str, Any] = {}
    if "turns" in raw:
        settings["turns"] = _range(w, "conversation.turns", raw["turns"], minimum=1, integer=True)
    for key in ("think_time_s", "pause_between_s"):
        if key in raw:
            settings[key] = _range(w, f"conversation.{key}", raw[key])
    if "on_failure" in raw:
        on_failure = raw["on_failure"]
        if on_failure not in ("continue", "end"):
            raise w.error(
                "conversation.on_failure",
                f"expected `continue` (send the next message anyway) or `end` (start a new "
                f"conversation); got {on_failure!r}.",
            )
        settings["on_failure"] = on_failure
    return ConversationSettings(**settings)


def _prompts(w: _Where, value: Any, base_dir: Path) -> Prompts:
    if value is None:
        raise w.error("prompts", "missing. Say what the users type: `prompts: {messages: [hello, ...]}` or `prompts: {file: prompts.jsonl}`.")
    if isinstance(value, list):
        value = {"messages": value}
    raw = _section(w, "prompts", value, ("messages", "file", "order"))
    order = raw.get("order", "script")
    if order not in ("script", "random"):
        raise w.error("prompts.order", f"expected `script` (in order, one per turn) or `random` (sampled from the pool); got {order!r}.")
    messages: list[str] = []
    source = "inline"
    if "messages" in raw:
        items = raw["messages"]
        if not isinstance(items, list):
            raise w.error("prompts.messages", f"expected a list of messages; got {_kind(items)}.")
        messages.extend(_prompt_text(w, f"prompts.messages[{i}]", item) for i, item in enumerate(items))
    if "file" in raw:
        rel = _string(w, "prompts.file", raw["file"], non_empty=True)
        path = Path(rel) if Path(rel).is_absolute() else base_dir / rel
        messages.extend(_read_prompt_file(w, path))
        source = str(path)
    if not messages:
        raise w.error("prompts", "the prompt pool is empty: give at least one message in `messages` or a non-empty `file`.")
    return Prompts(order=order, messages=tuple(messages), source=source)


def _prompt_text(w: _Where, key: str, item: Any) -> str:
    if isinstance(item, dict):
        for field_name in ("content", "message", "prompt", "text"):
            if field_name in item:
                item = item[field_name]
                break
    if not isinstance(item, str) or not item.strip():
        raise w.error(key, f"expected a non-empty message text; got {_kind(item)}.")
    return item


def _read_prompt_file(w: _Where, path: Path) -> list[str]:
    if not path.is_file():
        raise w.error("prompts.file", f"file {path} does not exist (paths are relative to the scenario file).")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    key = f"prompts.file ({path.name})"
    readers: dict[str, Callable[[], list[Any]]] = {
        ".jsonl": lambda: _jsonl_items(w, key, text),
        ".csv": lambda: _csv_items(w, key, text),
        ".yaml": lambda: _yaml_items(w, key, text),
        ".yml": lambda: _yaml_items(w, key, text),
        ".txt": lambda: [line for line in text.splitlines() if line.strip()],
    }
    if suffix not in readers:
        raise w.error("prompts.file", f"unsupported prompt file type {suffix!r}: use .yaml, .jsonl, .csv or .txt.")
    return [_prompt_text(w, f"{key} item {i + 1}", item) for i, item in enumerate(readers[suffix]())]


def _jsonl_items(w: _Where, key: str, text: str) -> list[Any]:
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise w.error(key, f"line {number} is not JSON: {line[:80]!r}.") from None
    return items


def _csv_items(w: _Where, key: str, text: str) -> list[Any]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for column in ("prompt", "message", "content", "text"):
        if column in header:
            index = header.index(column)
            return [row[index] for row in rows[1:] if len(row) > index]
    return [row[0] for row in rows if row]  # no header: the first column


def _yaml_items(w: _Where, key: str, text: str) -> list[Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise w.error(key, "not valid YAML.") from None
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise w.error(key, "expected a YAML list of messages (or a mapping with `messages:`).")
    return data


_REQUEST_KEYS = (
    "stream_timeout_s", "stall_timeout_s", "connect_timeout_s", "context_variables", "llm_params",
    "guardrails", "additional_properties", "context", "environment_id", "headers",
)  # fmt: skip
_FORBIDDEN_HEADERS = frozenset({"authorization", "content-length", "host", "transfer-encoding"})


def _request(w: _Where, value: Any) -> RequestSettings:
    raw = _section(w, "request", value, _REQUEST_KEYS)
    settings: dict[str, Any] = {}
    for key in ("stream_timeout_s", "stall_timeout_s", "connect_timeout_s"):
        if key in raw:
            settings[key] = _number(w, f"request.{key}", raw[key], minimum=0.001)
    for key in ("context_variables", "llm_params", "guardrails", "additional_properties", "context"):
        if key in raw:
            settings[key] = _mapping(w, f"request.{key}", raw[key])
    if "environment_id" in raw:
        settings["environment_id"] = _string(w, "request.environment_id", raw["environment_id"])
    if "headers" in raw:
        headers = _mapping(w, "request.headers", raw["headers"]) or {}
        for name, header_value in headers.items():
            if str(name).lower() in _FORBIDDEN_HEADERS:
                raise w.error(f"request.headers.{name}", "set by wxo-load itself; remove it (tokens come from --token / WXO_TOKEN / WXO_API_KEY).")
            if not isinstance(header_value, (str, int, float)):
                raise w.error(f"request.headers.{name}", f"expected a string; got {_kind(header_value)}.")
        settings["headers"] = {str(k): str(v) for k, v in headers.items()}
    return RequestSettings(**settings)


def _simulator(w: _Where, value: Any) -> SimulatorSettings:
    raw = _section(w, "simulator", value, ("profile", "seed", "faults", "token_ttl_s", "capacity"))
    settings: dict[str, Any] = {}
    if "profile" in raw:
        settings["profile"] = _string(w, "simulator.profile", raw["profile"], non_empty=True)
    if "seed" in raw:
        settings["seed"] = int(_number(w, "simulator.seed", raw["seed"], integer=True))
    if "token_ttl_s" in raw:
        settings["token_ttl_s"] = _number(w, "simulator.token_ttl_s", raw["token_ttl_s"], minimum=0.1)
    if "faults" in raw:
        faults = _mapping(w, "simulator.faults", raw["faults"]) or {}
        for fault, rate in faults.items():
            rate = _number(w, f"simulator.faults.{fault}", rate)
            if rate > 1:
                raise w.error(f"simulator.faults.{fault}", f"a rate is a fraction from 0 to 1; got {rate}.")
        settings["faults"] = {str(k): float(v) for k, v in faults.items()}
    if "capacity" in raw:
        settings["capacity"] = _sim_capacity(w, raw["capacity"])
    return SimulatorSettings(**settings)


def _sim_capacity(w: _Where, value: Any) -> dict[str, int]:
    raw = _section(w, "simulator.capacity", value, ("concurrent_runs", "max_queue", "reject_status"))
    if "concurrent_runs" not in raw:
        raise w.error("simulator.capacity.concurrent_runs", "missing: how many runs the simulator serves at once, e.g. `concurrent_runs: 40`.")
    out = {k: int(_number(w, f"simulator.capacity.{k}", raw[k], minimum=1 if k == "concurrent_runs" else 0, integer=True)) for k in raw}
    if out.get("reject_status", 429) not in (429, 503):
        raise w.error("simulator.capacity.reject_status", f"expected 429 or 503; got {out['reject_status']}.")
    return out


_AUTH_KEYS = (
    "mode", "auth_type", "iam_url", "wxo_env", "token_env", "api_key_env", "password_env",
    "username", "tenant", "insecure", "ca_bundle", "refresh_margin_s",
)  # fmt: skip
_SECRET_KEYS = {"token": "token_env", "api_key": "api_key_env", "apikey": "api_key_env", "password": "password_env"}


def _auth(w: _Where, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, instead in _SECRET_KEYS.items():
            if key in value:
                raise w.error(
                    f"auth.{key}",
                    f"secrets do not belong in a scenario file (it lands in results and reports): "
                    f"put the value in an environment variable and name it with `{instead}: VAR`.",
                )
    raw = _section(w, "auth", value, _AUTH_KEYS)
    return dict(raw)


def _gates(w: _Where, raw: Mapping[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Validate gate specs now, so a bad expression stops the test before it starts."""
    from wxo_load import gates as gate_engine  # pure core, same layer

    parsed: list[tuple[Any, ...]] = []
    for key in ("gates", "regressions"):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise w.error(key, f"expected a list of expressions like \"first_text.p95 < 3000ms\"; got {_kind(items)}.")
        for index, item in enumerate(items):
            where = f"{w.file}, key `{key}[{index}]`"
            if key == "gates":
                gate_engine.parse_gate_spec(item, where=where)
            elif not isinstance(item, str):
                raise w.error(f"{key}[{index}]", f"expected a string like \"first_text.p95 +10%\"; got {_kind(item)}.")
            else:
                gate_engine.parse_regression(item, where=where)
        parsed.append(tuple(items))
    return parsed[0], parsed[1]
