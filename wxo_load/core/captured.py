"""A thread's messages (as `GET <threads>/<id>/messages` gives them) as a captured conversation.

Each user message becomes a turn, in order:
- `think_s`: seconds from the previous assistant message's `created_on` to this user message's
  (the person read the answer, then typed); the first turn has none;
- `recorded`: what was observed then, from the assistant messages up to the next user message:
  `answer_chars` (their text length), `agent_ms` (from the user message's `created_on` to the
  last of them), `answered_by` (`assistant.name` / `agent_display_name` / `assistant.agent_id`,
  when given), `tools` (tool-call names from their `step_history`).
`start_s` is the first message's time (Unix seconds) so that the caller can compute each
conversation's `start_offset_s` relative to the first one. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from wxo_load.core.json_value import Json


class Malformed(ValueError):
    """The messages are not what the threads API returns (missing role, text or time)."""


def parse_time(value: Any) -> float:
    if not isinstance(value, str) or not value:
        raise Malformed(f"created_on {value!r} is not an ISO time")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise Malformed(f"created_on {value!r} is not an ISO time") from None


def message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(item.get("text") or "") for item in content if isinstance(item, Mapping))


def _tools(message: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for step in message.get("step_history") or []:
        for detail in (step or {}).get("step_details") or []:
            if isinstance(detail, Mapping) and detail.get("type") in ("tool_calls", "tool_call"):
                calls = detail.get("tool_calls") or [detail]
                names.extend(str(c.get("name")) for c in calls if isinstance(c, Mapping))
    return names


def _answered_by(message: Mapping[str, Any]) -> str | None:
    found = message.get("assistant")
    assistant: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    for value in (
        assistant.get("name"),
        message.get("agent_display_name"),
        assistant.get("agent_id"),
    ):
        if value:
            return str(value)
    return None


class CapturedConversation(TypedDict):
    """One line of the conversations file: the thread's id and its turns in order."""

    id: str
    turns: list[dict[str, Json]]


def conversation_of(
    thread_id: str, messages: Sequence[Mapping[str, Any]], clean: Callable[[str], str]
) -> tuple[float, CapturedConversation] | None:
    """(start_s, `{"id", "turns"}`) for the JSONL file; None without a user message.
    `clean` redacts each user text before it is kept."""
    turns: list[dict[str, Any]] = []
    start: float | None = None
    last_answer: float | None = None
    asked = 0.0
    for message in messages:
        role = message.get("role")
        at = parse_time(message.get("created_on"))
        start = at if start is None else start
        if role == "user":
            text = message_text(message)
            if not text.strip():
                raise Malformed("a user message without text")
            turn: dict[str, Any] = {"text": clean(text)}
            if turns and last_answer is not None:
                turn["think_s"] = round(max(0.0, at - last_answer), 6)
            turn["recorded"] = {"answer_chars": 0, "agent_ms": None, "tools": []}
            turns.append(turn)
            asked, last_answer = at, None
        elif role == "assistant" and turns:
            recorded = turns[-1]["recorded"]
            recorded["answer_chars"] += len(message_text(message))
            recorded["agent_ms"] = round((at - asked) * 1000.0, 3)
            recorded["answered_by"] = _answered_by(message) or recorded.get("answered_by")
            recorded["tools"].extend(_tools(message))
            last_answer = at
        elif role not in ("user", "assistant"):
            raise Malformed(f"a message with role {role!r}")
    if not turns or start is None:
        return None
    return start, CapturedConversation(id=thread_id, turns=turns)
