"""Runs built from timed step events, shared by the step, gate and waterfall tests."""

from __future__ import annotations

from typing import Any

from wxo_load.core.records import RunRecord
from wxo_load.core.tracker import RunTracker

T = "thread-1"


def ev(name: str, **data: Any) -> dict[str, Any]:
    return {"event": name, "data": {"thread_id": T, **data}}


def step(*details: dict[str, Any]) -> dict[str, Any]:
    return ev("run.step.delta", delta={"role": "assistant", "step_details": list(details)})


def text(chunk: str) -> dict[str, Any]:
    return ev(
        "message.delta",
        delta={"role": "assistant", "content": [{"response_type": "text", "text": chunk}]},
    )


def blank_record(thread_id: str = T) -> RunRecord:
    """A run record with placeholder ids, for feeding a tracker by hand."""
    return RunRecord(
        started_at_unix=0.0,
        user_id="u",
        conversation_id="c",
        turn_index=0,
        request_id="r",
        thread_id=thread_id,
    )


def run_of(timeline: list[tuple[float, dict[str, Any]]]) -> RunRecord:
    tracker = RunTracker(blank_record(), 0.0, 0.0)
    for at_ms, event in timeline:
        if tracker.on_event(event, at_ms / 1000.0):
            break
    return tracker.end(timeline[-1][0] / 1000.0)


def two_tools_and_a_handoff() -> list[tuple[float, dict[str, Any]]]:
    message = {"role": "assistant", "content": [{"response_type": "text", "text": "abcdefgh"}]}
    return [
        (10, ev("run.started")),
        (15, ev("run.step.thinking")),
        (
            100,
            step(
                {
                    "type": "tool_calls",
                    "tool_calls": [{"id": "c1", "name": "lookup_order", "args": {}}],
                }
            ),
        ),
        (
            102,
            step(
                {
                    "type": "tool_call",
                    "id": "x",
                    "name": "lookup_order",
                    "args": {},
                    "tool_call_id": "c1",
                }
            ),
        ),
        (
            400,
            step(
                {
                    "type": "tool_response",
                    "name": "lookup_order",
                    "content": "{}",
                    "tool_call_id": "c1",
                }
            ),
        ),
        (
            450,
            step(
                {
                    "type": "tool_calls",
                    "tool_calls": [{"id": "c2", "name": "search_kb", "args": {}}],
                }
            ),
        ),
        (
            650,
            step(
                {
                    "type": "tool_response",
                    "name": "search_kb",
                    "content": "[]",
                    "tool_call_id": "c2",
                }
            ),
        ),
        (
            700,
            step(
                {
                    "type": "tool_call",
                    "id": "h",
                    "name": "billing_agent",
                    "args": {},
                    "tool_call_id": "c3",
                }
            ),
        ),
        (
            900,
            step(
                {
                    "type": "tool_response",
                    "name": "billing_agent",
                    "content": "ok",
                    "tool_call_id": "c3",
                }
            ),
        ),
        (950, text("ab")),
        (970, text("cd")),
        (990, text("ef")),
        (1010, text("gh")),
        (1020, ev("message.created", message=message)),
        (1030, ev("run.completed")),
        (1031, ev("done")),
    ]


WATERFALL_PHASES = (
    "queue → run.started",
    "thinking",
    "lookup_order",
    "search_kb",
    "billing_agent (hand-over)",
    "streaming",
    "finish → done",
)
"""The phases the report's waterfall draws for a run with two tool calls and a hand-over
(`two_tools_and_a_handoff` here, the simulator's `tools` profile end to end)."""
