"""The scenario as frozen, typed data: users, prompts, pacing, request extras, simulator, gates.

Built by `wxo_load.config.scenario.load_scenario` from YAML, validated once. The scenario travels
to distributed workers as plain data (`scenario_to_wire` / `scenario_from_wire`: msgspec encodes
and decodes every part from its type), prompts already read from their files, so workers need
no files.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from wxo_load.core.answers import AnswerSettings
from wxo_load.core.channels import DEFAULT_CHANNEL
from wxo_load.core.conversation import ConversationPlan, CredentialKind
from wxo_load.core.errors import WireFormatError
from wxo_load.core.leaving import Leaving
from wxo_load.core.plan import LoadPlan

Range = tuple[float, float]
OnFailure = Literal["continue", "end"]
"""After a failed turn: send the next message anyway, or end the conversation."""
PromptOrder = Literal["script", "random", "unique"]
ReplayTiming = Literal["recorded", "scenario"]
ReplayArrivals = Literal["none", "recorded"]
ChatMode = Literal["stateless", "stateful"]
FeedMode = Literal["random", "sequential", "unique"]
OnExhausted = Literal["recycle", "stop"]


@dataclass(frozen=True, slots=True)
class ApiPaths:
    # None: chosen per deployment kind (wxo_load.core.deployment): a Developer Edition gets
    # /api/v1 + /threads and /orchestrate/runs, SaaS and other remote instances /v1 +
    # /orchestrate/threads and /orchestrate/runs
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
    warmup_s: float = 0.0  # not measured after the load starts (wxo_load.core.window)
    cooldown_s: float = 0.0  # not measured before the planned end


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    turns: Range = (3.0, 3.0)
    think_time_s: Range = (1.0, 1.0)
    pause_between_s: Range = (0.0, 0.0)
    on_failure: OnFailure = "continue"


@dataclass(frozen=True, slots=True)
class Prompts:
    order: PromptOrder  # script: in order, cycling; random: sampled from the pool
    messages: tuple[str, ...]
    source: str = "inline"
    # whole scripted conversations (`prompts.conversations`, wxo_load.config.conversations); when
    # there are any, users hold these instead of drawing messages from the pool
    conversations: tuple[ConversationPlan, ...] = ()
    # replay (docs/replay.md): `recorded` think times (already scaled into the turns' think_s) or
    # the `scenario`'s; the scale the recorded ones were multiplied by
    timing: ReplayTiming = "recorded"
    time_scale: float = 1.0
    arrivals: ReplayArrivals = "none"  # `recorded`: each starts at its (scaled) start offset


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
class ChannelSettings:
    """How the users talk to the agent (`channel:`; wxo_load.core.channels, docs/channels.md).
    Each option applies to one channel; config.channels checks which."""

    name: str = DEFAULT_CHANNEL  # runs-stream | chat | chat-v2 | runs-poll | async
    stream: bool = True  # chat: stream the answer (SSE), or take it as one JSON body
    mode: ChatMode = (
        "stateless"  # chat-v2: stateless (transcript resent) | stateful (server thread)
    )
    environment_id: str | None = None  # chat-v2: X-IBM-ENVIRONMENT-ID, sent only when set
    poll_interval_s: float = 2.0  # runs-poll: between two GET runs/{id} (the ADK's 2 s)
    socket_url: str | None = None  # async: the Socket.IO server (default: the API's host)


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    profile: str = "default"
    seed: int | None = None
    faults: Mapping[str, float] = field(default_factory=dict)
    token_ttl_s: float | None = None
    # concurrent_runs, max_queue, reject_status
    capacity: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DataFeed:
    """A persona's data rows (wxo_load.config.feeders): one row per conversation."""

    file: str
    mode: FeedMode = "random"  # sequential: each process in file order; unique: test-wide
    on_exhausted: OnExhausted = "recycle"  # stop (unique only): the test ends after the last row
    rows: tuple[Mapping[str, str], ...] = ()  # values as text; identity columns included


@dataclass(frozen=True, slots=True)
class Persona:
    """One kind of person (a Locust user class): its own scenario, derived from the top level
    with the persona's keys (wxo_load.config.personas), its weight and data."""

    name: str
    scenario: Scenario
    weight: int = 1
    fixed_count: int = 0
    data: DataFeed | None = None
    credential_env: tuple[CredentialKind, str] | None = None  # (kind, environment variable)


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
    channel: ChannelSettings = ChannelSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    auth: Mapping[str, Any] = field(default_factory=dict)
    gates: tuple[Any, ...] = ()  # raw gate specs, validated by wxo_load.gates at load time
    regressions: tuple[Any, ...] = ()
    baseline: str | None = None
    answers: AnswerSettings = AnswerSettings()  # expect, checks, goodput (config.answers)
    leaving: Leaving = Leaving()  # abandon, cancel, interrupt (config.leaving)
    personas: tuple[Persona, ...] = ()  # each a Locust user class; none: one WxoChatUser

    def persona(self, name: str) -> Persona | None:
        return next((p for p in self.personas if p.name == name), None)

    def pick_turns(self, rng: random.Random) -> int:
        low, high = self.conversation.turns
        return rng.randint(int(low), int(high))


def scenario_to_wire(scenario: Scenario) -> object:
    """The scenario as plain data (msgpack-safe; Locust's spawn message carries it to workers),
    every part encoded by msgspec from its type; opaque until `scenario_from_wire` reads it."""
    wire: object = msgspec.to_builtins(scenario)
    return wire


def scenario_from_wire(wire: object) -> Scenario:
    """The scenario `scenario_to_wire` sent, decoded by msgspec against its types; a value of
    the wrong type or a key that is not a field is a `WireFormatError` naming its path."""
    try:
        scenario = msgspec.convert(wire, Scenario)
    except msgspec.ValidationError as exc:
        raise WireFormatError(f"the scenario sent to this worker is not valid: {exc}") from None
    unknown = _unknown_key(wire, msgspec.to_builtins(scenario), "$")
    if unknown is not None:
        raise WireFormatError(
            f"the scenario sent to this worker has a key that is not a field: `{unknown}`; "
            "run the master and the workers from the same wxo-load version"
        )
    return scenario


def _unknown_key(given: object, known: object, path: str) -> str | None:
    """The path of the first key of `given` that its decoded form has no field for (msgspec
    ignores a dataclass's unknown keys; a misspelt key must fail, not vanish)."""
    if isinstance(given, dict) and isinstance(known, dict):
        for key, value in given.items():
            if key not in known:
                return f"{path}.{key}"
            found = _unknown_key(value, known[key], f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(given, (list, tuple)) and isinstance(known, (list, tuple)):
        for i, (value, decoded) in enumerate(zip(given, known, strict=False)):
            found = _unknown_key(value, decoded, f"{path}[{i}]")
            if found is not None:
                return found
    return None
