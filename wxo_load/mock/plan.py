"""Plans one run: which events, with what payloads, at which offsets, with which fault.

Everything random comes from the simulator's seeded `random.Random`, so a given seed and the
same sequence of requests give the same timings, answers, ids and faults. Payloads are encoded
here once, in the capture's format (`json.dumps` separators, `ensure_ascii=False`), so the
writer only prepends the id at write time.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from wxo_load.mock import agent_tools
from wxo_load.mock.profile_model import (
    HTTP_FAULTS,
    STEP_TEXTS,
    STREAM_FAULTS,
    Profile,
    ReplayScript,
)
from wxo_load.mock.words import WORDS as _WORDS

ENCODER = json.JSONEncoder(ensure_ascii=False)
encode = ENCODER.encode

# The intermediate steps before the think pause, in the captured order.
STEP_CYCLE = (
    "thinkingThisThrough",
    "preparingYourResponse",
    "gettingAgentSetup",
    "preparingGuidelines",
    "preparingYourResponse",
    "thinkingThisThrough",
)


# Markers for the writer (never sent as event names).
MALFORMED = "_malformed"
DROP = "_drop"
MESSAGE_CREATED = "message.created"


@dataclass(slots=True)
class PlannedEvent:
    offset_s: float
    event: str
    rest: bytes  # everything after the id: `", "event": "...", "data": {...}}\n` ('' if built late)
    tag: str = ""  # for the event log: `tool_call NAME ID` / `tool_response NAME ID`
    text: str = ""  # a message.delta's text, for the channels that frame it otherwise


@dataclass(slots=True)
class RunPlan:
    run_id: str
    message_id: str
    thread_id: str
    agent_id: str
    answer: str
    fault: str | None
    events: list[PlannedEvent] = field(default_factory=list)
    trace_id: str | None = None

    @property
    def total_s(self) -> float:
        return self.events[-1].offset_s if self.events else 0.0


def rest_of(event: str, data_json: str) -> bytes:
    return f'", "event": "{event}", "data": {data_json}}}\n'.encode()


class Planner:
    def __init__(self, profile: Profile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng
        self._rates = profile.faults.rates

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def http_fault(self) -> str | None:
        """Decide an HTTP-level fault for one chat request (or None)."""
        rates = self._rates
        for name in HTTP_FAULTS:
            rate = rates[name]
            if rate and self.rng.random() < rate:
                return name
        return None

    def _stream_fault(self) -> str | None:
        rates = self._rates
        for name in STREAM_FAULTS:
            rate = rates[name]
            if rate and self.rng.random() < rate:
                return name
        return None

    # ------------------------------------------------------------------ plans

    def plan(
        self,
        *,
        thread_id: str,
        agent_id: str,
        turn: int,
        rewrite: Callable[[str], str] | None = None,
    ) -> RunPlan:
        """`turn` is 1 for the first run of a thread (as far as this process knows); `rewrite`
        turns the planned answer into another (a wrong one: answers.py)."""
        profile = self.profile
        run_id = self.new_uuid()
        message_id = self.new_uuid()
        timeline, answer = self._timeline_and_answer(turn, rewrite)
        plan = RunPlan(run_id, message_id, thread_id, agent_id, answer, self._stream_fault())
        if profile.agent is not None and profile.agent.trace_id:
            plan.trace_id = self.new_uuid().replace("-", "")
        quoted = _Quoted(
            encode(run_id), encode(thread_id), encode(agent_id), encode(profile.agent_display_name)
        )
        plan.events.extend(
            _planned_event(offset_ms, name, arg, quoted) for offset_ms, name, arg in timeline
        )
        if plan.fault is not None:
            self._apply_fault(plan)
        return plan

    def _timeline_and_answer(
        self, turn: int, rewrite: Callable[[str], str] | None
    ) -> tuple[list[tuple[float, str, str]], str]:
        profile = self.profile
        start_ms = profile.timing.run_started_ms.sample(self.rng)
        if profile.replay_first_turn is not None:
            script = profile.replay_first_turn if turn <= 1 else profile.replay_follow_up
            assert script is not None
            return self._replay_timeline(script, start_ms)
        answer = self._answer()
        if rewrite is not None:
            answer = rewrite(answer)
        return self._timeline(answer, start_ms), answer

    def _answer(self) -> str:
        spec = self.profile.answer
        if spec.texts:
            return self.rng.choice(spec.texts)
        target = max(1, int(spec.chars.sample(self.rng)))
        words: list[str] = []
        length = -1
        i = self.rng.randrange(len(_WORDS))
        while length < target:
            word = _WORDS[i % len(_WORDS)]
            words.append(word)
            length += len(word) + 1
            i += 1
        return " ".join(words)[:target].rstrip() or "OK"

    def _split(self, answer: str) -> list[str]:
        spec = self.profile.answer
        chunks: list[str] = []
        pos = 0
        while pos < len(answer):
            size = int(spec.chars_per_delta.sample(self.rng))
            if size <= 0:
                size = len(answer)
            chunks.append(answer[pos : pos + size])
            pos += size
        if spec.empty_deltas:
            chunks = [""] * len(chunks)
        return chunks or [""]

    def _timeline(self, answer: str, start_ms: float) -> list[tuple[float, str, str]]:
        timing = self.profile.timing
        rng = self.rng
        t = start_ms
        out: list[tuple[float, str, str]] = [(t, "run.started", "")]
        t += timing.message_started_ms.sample(rng)
        out.append((t, "message.started", ""))
        for i in range(max(0, int(round(timing.steps.sample(rng))))):
            t += timing.step_gap_ms.sample(rng)
            out.append((t, "run.step.intermediate", STEP_CYCLE[i % len(STEP_CYCLE)]))
        if self.profile.agent is not None:
            steps, t = agent_tools.agent_timeline(self.profile.agent, t, rng, self.new_uuid, encode)
            out += steps
        t += timing.think_ms.sample(rng)
        out.append((t, "run.step.intermediate", "pullingEverythingTogether"))
        t += timing.first_delta_ms.sample(rng)
        for n, chunk in enumerate(self._split(answer)):
            if n:
                t += timing.delta_gap_ms.sample(rng)
            out.append((t, "message.delta", chunk))
        t += timing.finish_gap_ms.sample(rng)
        out.append((t, "run.step.intermediate", "wrappingUpFinalResponse"))
        for name in (MESSAGE_CREATED, "message.completed", "run.completed"):
            t += timing.finish_gap_ms.sample(rng)
            out.append((t, name, ""))
        out.append((t, "done", ""))
        return out

    @staticmethod
    def _replay_timeline(
        script: ReplayScript, start_ms: float
    ) -> tuple[list[tuple[float, str, str]], str]:
        out = [
            (
                start_ms + ev.at_ms,
                ev.event,
                ev.key if ev.event == "run.step.intermediate" else ev.text,
            )
            for ev in script.events
        ]
        return out, script.answer

    # ------------------------------------------------------------------ faults

    def _apply_fault(self, plan: RunPlan) -> None:
        fault = plan.fault
        events = plan.events
        created = next(i for i, e in enumerate(events) if e.event == MESSAGE_CREATED)
        # Where the fault strikes: after run.started, before done.
        k = self.rng.randint(1, len(events) - 2)
        at = events[k].offset_s
        if fault == "no_done":  # run.completed, then the body ends: the ADK reads it as finished
            if events[-1].event == "done":
                del events[-1]
        elif fault == "truncated":
            del events[k:]
        elif fault == "drop_connection":
            del events[k:]
            events.append(PlannedEvent(at, DROP, b""))
        elif fault == "malformed_line":
            events.insert(k, PlannedEvent(at, MALFORMED, b""))
        elif fault == "stall":
            self._stall(events, k, at)
        elif fault == "run_failed":
            _fail_run(plan, min(k, created))
        elif fault == "error_event":
            _error_event(plan, k, at)

    def _stall(self, events: list[PlannedEvent], k: int, at: float) -> None:
        stall_s = self.profile.faults.stall_s
        if self.profile.faults.stall_then == "close":
            del events[k:]
            events.append(PlannedEvent(at + stall_s, DROP, b""))
        else:
            for ev in events[k:]:
                ev.offset_s += stall_s


class _Quoted(NamedTuple):
    """The run's ids and the agent's display name, each already JSON-encoded."""

    run: str
    thread: str
    agent: str
    display: str


def _done_data(q_run: str, q_agent: str, q_thread: str) -> str:
    """The data of run.completed and done."""
    return f'{{"run_id": {q_run}, "agent_id": {q_agent}, "context": {{}}, "thread_id": {q_thread}}}'


def _planned_event(offset_ms: float, name: str, arg: str, q: _Quoted) -> PlannedEvent:
    """One timeline entry as a PlannedEvent (`arg`: a step key, a delta's text or a tag)."""
    offset_s = offset_ms / 1000.0
    if name == "run.started":
        data = f'{{"run_id": {q.run}, "agent_id": {q.agent}, "thread_id": {q.thread}}}'
    elif name in ("message.started", "message.completed"):
        data = f'{{"thread_id": {q.thread}, "run_id": {q.run}}}'
    elif name == "run.step.intermediate":
        data = (
            f'{{"thread_id": {q.thread}, "run_id": {q.run}, '
            f'"agent_display_name": {q.display}, '
            f'"current_agent": {q.display}, "message": {{"key": "{arg}", '
            f'"text": {encode(STEP_TEXTS[arg])}}}}}'
        )
    elif name == "message.delta":
        data = (
            f'{{"thread_id": {q.thread}, "run_id": {q.run}, '
            f'"delta": {{"role": "assistant", '
            f'"content": [{{"id": "1", "response_type": "text", "text": {encode(arg)}}}]}}}}'
        )
        return PlannedEvent(offset_s, name, rest_of(name, data), text=arg)
    elif name in ("run.completed", "done"):
        data = _done_data(q.run, q.agent, q.thread)
    elif name in agent_tools.STEP_EVENTS:
        data, tag = agent_tools.step_data(name, arg, q.thread, q.run, q.display)
        return PlannedEvent(offset_s, name, rest_of(name, data), tag)
    else:  # message.created: built at write time (its timestamps are wall-clock)
        # (replay: arg is the text)
        tag = agent_tools.ASYNC_INTERIM if arg == agent_tools.ASYNC_INTERIM else ""
        return PlannedEvent(offset_s, name, b"", tag)
    return PlannedEvent(offset_s, name, rest_of(name, data))


def _fail_run(plan: RunPlan, k: int) -> None:
    """The run fails at event k (at the latest at message.created): run.failed, then done."""
    events = plan.events
    at = events[k].offset_s
    del events[k:]
    q_run, q_thread, q_agent = encode(plan.run_id), encode(plan.thread_id), encode(plan.agent_id)
    error = encode(
        {
            "code": 500,
            "message": "The agent failed to produce a response (simulated run.failed).",
        }
    )
    failed = (
        f'{{"run_id": {q_run}, "agent_id": {q_agent}, "thread_id": {q_thread}, "error": {error}}}'
    )
    events.append(PlannedEvent(at, "run.failed", rest_of("run.failed", failed)))
    events.append(PlannedEvent(at, "done", rest_of("done", _done_data(q_run, q_agent, q_thread))))


def _error_event(plan: RunPlan, k: int, at: float) -> None:
    """The stream ends at event k with an error event."""
    events = plan.events
    del events[k:]
    error = encode(
        {
            "code": 500,
            "message": "Internal error while streaming the run (simulated error event).",
        }
    )
    q_run, q_thread = encode(plan.run_id), encode(plan.thread_id)
    data = f'{{"thread_id": {q_thread}, "run_id": {q_run}, "error": {error}}}'
    events.append(PlannedEvent(at, "error", rest_of("error", data)))
