"""Agents that use tools: the `agent:` section of a profile and the step events it produces.

    agent:
      thinking: true                  # a run.step.thinking event before the first tool
      tool_gap_ms: {uniform: [5, 20]} # the model's time between a tool's response and what follows
      trace_id: true                  # message.created carries a trace_id
      async_interim: true             # an async agent's interim message.created
                                      # (is_async: true) first
      tools:
        - name: lookup_order
          probability: 1.0            # chance the agent calls it in a run
          latency_ms: 300             # a distribution: fixed, uniform, lognormal, exponential
        - name: search_kb
          latency_ms: {uniform: [100, 500]}
      handoff:                        # a hand-over to a collaborator agent (a tool named *_agent)
        agent: billing_agent
        probability: 1.0
        latency_ms: 200

Events (`run.step.delta`, the shapes the ADK's evaluation framework reads):
a call is `{"type": "tool_calls", "tool_calls": [{"id", "name", "args"}]}`, a hand-over call
`{"type": "tool_call", "id", "name", "args", "tool_call_id"}`, and each answer
`{"type": "tool_response", "name", "content", "tool_call_id"}`, all in
`data.delta.step_details[]`. The timeline's arg of such an event is `"<tag>\\n<details JSON>"`,
the tag (`tool_call NAME ID` / `tool_response NAME ID`) going to the event log.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wxo_load.mock.profile_model import Dist, fixed
from wxo_load.mock.shapes import Json, StoredMessage

STEP_DELTA = "run.step.delta"
STEP_THINKING = "run.step.thinking"
STEP_EVENTS = frozenset({STEP_DELTA, STEP_THINKING})
_KEYS = (
    "thinking",
    "tool_gap_ms",
    "trace_id",
    "async_interim",
    "async",
    "async_delay_ms",
    "tools",
    "handoff",
)
ASYNC_INTERIM = "async_interim"  # timeline arg (and event-log tag) of the interim message.created
ASYNC_TEXT = "I am looking into this; the answer follows shortly."
_TOOL_KEYS = ("name", "probability", "latency_ms")
_HANDOFF_KEYS = ("agent", "probability", "latency_ms")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    latency_ms: Dist
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class AgentSpec:
    tools: tuple[ToolSpec, ...] = ()
    handoff: ToolSpec | None = None  # name ends in _agent
    thinking: bool = False
    tool_gap_ms: Dist = fixed(5.0)
    trace_id: bool = False
    async_interim: bool = False
    # `async: true`: a plain run completes at once with an interim message (is_async true) and
    # the answer follows over Socket.IO (socketio.py)
    async_answer: bool = False
    async_delay_ms: Dist = fixed(0.0)  # from the HTTP run's completion to the first socket event


def _tool(ctx: Any, raw: Any, key: str, keys: tuple[str, ...], name_key: str) -> ToolSpec:
    values = ctx.mapping(raw, key, keys)
    name = ctx.text(values.get(name_key), f"{key}.{name_key}")
    if not name:
        raise ctx.fail(f"{key}.{name_key}", "expected a non-empty name.")
    if "latency_ms" not in values:
        raise ctx.fail(f"{key}.latency_ms", "needs a latency distribution (for example 300).")
    return ToolSpec(
        name=name,
        latency_ms=ctx.dist(values["latency_ms"], f"{key}.latency_ms"),
        probability=ctx.number(values.get("probability", 1.0), f"{key}.probability", 0.0, 1.0),
    )


def parse_agent(ctx: Any, raw: Any) -> AgentSpec | None:
    """The `agent:` section (ctx is a profile_fields.FieldReader); None when absent."""
    if raw is None:
        return None
    values = ctx.mapping(raw, "agent", _KEYS)
    tools_raw = values.get("tools", [])
    if not isinstance(tools_raw, list):
        raise ctx.fail("agent.tools", "expected a list of tools ({name, latency_ms, probability}).")
    tools = tuple(
        _tool(ctx, t, f"agent.tools[{i}]", _TOOL_KEYS, "name") for i, t in enumerate(tools_raw)
    )
    handoff = None
    if values.get("handoff") is not None:
        handoff = _tool(ctx, values["handoff"], "agent.handoff", _HANDOFF_KEYS, "agent")
        if not handoff.name.endswith("_agent"):
            raise ctx.fail("agent.handoff.agent", "a collaborator agent's name ends in `_agent`.")
    for flag in ("thinking", "trace_id", "async_interim", "async"):
        if not isinstance(values.get(flag, False), bool):
            raise ctx.fail(f"agent.{flag}", "expected true or false.")
    gap = (
        ctx.dist(values["tool_gap_ms"], "agent.tool_gap_ms")
        if "tool_gap_ms" in values
        else fixed(5.0)
    )
    return AgentSpec(
        tools,
        handoff,
        bool(values.get("thinking")),
        gap,
        bool(values.get("trace_id")),
        bool(values.get("async_interim")),
        bool(values.get("async")),
        ctx.dist(values["async_delay_ms"], "agent.async_delay_ms")
        if "async_delay_ms" in values
        else fixed(0.0),
    )


Timeline = list[tuple[float, str, str]]


def _details(tag: str, details: list[Json], encode: Callable[[Json], str]) -> str:
    return f"{tag}\n{encode(details)}"


def _call(
    out: Timeline,
    t: float,
    spec: ToolSpec,
    call_id: str,
    rng: random.Random,
    encode: Callable[[Any], str],
) -> float:
    """A call at `t` and its response after the sampled latency; returns the response's time."""
    call: dict[str, Json]
    tool_call: dict[str, Json] = {"id": call_id, "name": spec.name, "args": {"query": "order 1234"}}
    if spec.name.endswith("_agent"):
        call = {
            "type": "tool_call",
            "id": call_id[:8],
            "name": spec.name,
            "args": {"request": "continue"},
            "tool_call_id": call_id,
        }
        content = f"{spec.name} handled the request."
    else:
        call = {
            "type": "tool_calls",
            "tool_calls": [tool_call],
        }
        content = encode({"status": "ok", "tool": spec.name})
    out.append((t, STEP_DELTA, _details(f"tool_call {spec.name} {call_id}", [call], encode)))
    latency = spec.latency_ms.sample(rng)
    t_end = t + (latency if math.isfinite(latency) else 0.0)
    response: dict[str, Json] = {
        "type": "tool_response",
        "name": spec.name,
        "content": content,
        "tool_call_id": call_id,
    }
    out.append(
        (t_end, STEP_DELTA, _details(f"tool_response {spec.name} {call_id}", [response], encode))
    )
    return t_end


def agent_timeline(
    agent: AgentSpec,
    t: float,
    rng: random.Random,
    new_id: Callable[[], str],
    encode: Callable[[Any], str],
) -> tuple[Timeline, float]:
    """The thinking, tool and hand-over events from `t`; returns them and the time after."""
    out: Timeline = []
    if agent.async_interim:
        out.append((t, "message.created", ASYNC_INTERIM))
    if agent.thinking:
        out.append(
            (
                t,
                STEP_THINKING,
                "thinking\n"
                + encode([{"type": "thinking", "content": "Planning which tools to call."}]),
            )
        )
    chosen = [
        spec for spec in agent.tools if spec.probability >= 1.0 or rng.random() < spec.probability
    ]
    if agent.handoff is not None and (
        agent.handoff.probability >= 1.0 or rng.random() < agent.handoff.probability
    ):
        chosen.append(agent.handoff)
    for spec in chosen:
        t += agent.tool_gap_ms.sample(rng)
        t = _call(out, t, spec, "call_" + new_id().replace("-", "")[:24], rng, encode)
    if chosen:
        t += agent.tool_gap_ms.sample(rng)
    return out, t


def step_data(name: str, arg: str, q_thread: str, q_run: str, q_display: str) -> tuple[str, str]:
    """(data JSON, event-log tag) of a step event planned by agent_timeline."""
    tag, _, details = arg.partition("\n")
    if name == STEP_THINKING:
        return (
            f'{{"thread_id": {q_thread}, "run_id": {q_run}, "agent_display_name": {q_display}, '
            f'"step_details": {details}}}'
        ), ""
    return (
        f'{{"thread_id": {q_thread}, "run_id": {q_run}, "agent_display_name": {q_display}, '
        f'"delta": {{"role": "assistant", "step_details": {details}}}}}'
    ), tag


def interim_message(answer_message: StoredMessage) -> StoredMessage:
    """An async agent's interim assistant message: the answer's shape, is_async true, own id."""
    message = answer_message.copy()
    message["id"] = answer_message["id"] + "-async"
    message["content"] = [{"response_type": "text", "id": "1", "text": ASYNC_TEXT}]
    message["additional_properties"] = {
        "display_properties": {"skip_render": False, "is_async": True},
        "is_interrupt": False,
    }
    return message
