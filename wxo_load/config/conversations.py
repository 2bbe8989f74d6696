"""A file of whole conversations (JSONL, one conversation a line), read into `ConversationPlan`s.

Each line is a JSON object with `turns`, a non-empty list whose items are the user's messages,
either as text or as objects:

    {"id": "c1", "turns": ["my laptop won't start", "it shows a blue screen", "thanks"]}
    {"id": "c2", "start_offset_s": 12.5,
     "turns": [{"text": "hi"}, {"text": "my balance?", "think_s": 4.2,
                "recorded": {"answer_chars": 180, "agent_ms": 2100}}]}

A turn object's text is under `text` (or `content`, `message`, `prompt`); `think_s` is the think
time before it as recorded (seconds, >= 0); `recorded` is what was observed then (kept as given).
`id` and `start_offset_s` (seconds from the first conversation's start) are optional. Captures
written by `wxo-load capture` have this shape. Blank lines are skipped; anything else that is off
is a `ConfigError` naming the file, the line and the key.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import orjson

from wxo_load.config import fields
from wxo_load.config.answers import parse_expect
from wxo_load.config.fields import Where, describe
from wxo_load.config.model import ReplayArrivals, ReplayTiming
from wxo_load.core.conversation import ConversationPlan, Turn

_TEXT_KEYS = ("text", "content", "message", "prompt")
_CONVERSATION_KEYS = ("id", "turns", "start_offset_s")
_TURN_KEYS = (*_TEXT_KEYS, "think_s", "recorded", "expect")


def read_conversations(w: Where, key: str, path: Path) -> tuple[ConversationPlan, ...]:
    """Every conversation of a JSONL file; `key` names the scenario key that points at it."""
    if not path.is_file():
        raise w.error(key, f"file {path} does not exist (paths are relative to the scenario file).")
    plans = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            plans.append(_conversation(w, f"{key} ({path.name}, line {number})", line))
    if not plans:
        raise w.error(key, f"{path} holds no conversation: write one JSON object per line.")
    return tuple(plans)


def json_object(w: Where, where: str, line: str, what: str) -> dict[str, object]:
    """One JSONL line that must be an object (`what` says of what, for the error)."""
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise w.error(where, f"not JSON: {line[:80]!r}.") from None
    if not isinstance(item, dict):
        raise w.error(where, f"expected an object {what}; got {describe(item)}.")
    return item


def _conversation(w: Where, where: str, line: str) -> ConversationPlan:
    item = json_object(w, where, line, "with `turns`")
    unknown = sorted(set(item) - set(_CONVERSATION_KEYS))
    if unknown:
        raise w.error(
            where, f"unknown key {unknown[0]!r}; allowed: {', '.join(_CONVERSATION_KEYS)}."
        )
    turns = item.get("turns")
    if not isinstance(turns, list) or not turns:
        raise w.error(
            where, f"`turns` must be a non-empty list of messages; got {describe(turns)}."
        )
    offset = item.get("start_offset_s")
    if offset is not None and (not isinstance(offset, (int, float)) or offset < 0):
        raise w.error(where, f"`start_offset_s` must be a number >= 0; got {describe(offset)}.")
    source_id = item.get("id")
    return ConversationPlan(
        tuple(turn_of(w, f"{where}, turn {i + 1}", t) for i, t in enumerate(turns)),
        source_id=None if source_id is None else str(source_id),
        start_offset_s=None if offset is None else float(offset),
    )


def turn_of(w: Where, where: str, item: Any) -> Turn:
    """One turn: a message text or an object with `text`, `think_s`, `recorded`, `expect`."""
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise w.error(where, f"expected a message text or an object; got {describe(item)}.")
    unknown = sorted(set(item) - set(_TURN_KEYS))
    if unknown:
        raise w.error(where, f"unknown key {unknown[0]!r}; allowed: {', '.join(_TURN_KEYS)}.")
    text = next((item[k] for k in _TEXT_KEYS if k in item), None)
    if not isinstance(text, str) or not text.strip():
        raise w.error(where, f"expected a non-empty message text; got {describe(text)}.")
    think = item.get("think_s")
    if think is not None and (not isinstance(think, (int, float)) or think < 0):
        raise w.error(where, f"`think_s` must be a number of seconds >= 0; got {describe(think)}.")
    recorded = item.get("recorded")
    if recorded is not None and not isinstance(recorded, dict):
        raise w.error(where, f"`recorded` must be an object; got {describe(recorded)}.")
    expect = parse_expect(w, f"{where}, expect", item.get("expect"))
    return Turn(text, None if think is None else float(think), expect, recorded)


def split_script(raw: dict[str, object]) -> tuple[dict[str, object], Any]:
    """A scenario's raw mapping without `conversation.script` (the prompts then stand in, so the
    rest parses as usual), and the script (None without one)."""
    conversation = raw.get("conversation")
    if not isinstance(conversation, dict) or "script" not in conversation:
        return raw, None
    rest = {k: v for k, v in conversation.items() if k != "script"}
    return {**raw, "conversation": rest, "prompts": {"messages": ["(script)"]}}, conversation[
        "script"
    ]


def script_plan(w: Where, script: Any) -> ConversationPlan:
    """`conversation: {script: [...]}`: one scripted conversation, its turns as in a file's."""
    key = "conversation.script"
    if not isinstance(script, list) or not script:
        raise w.error(key, f"expected a non-empty list of messages; got {describe(script)}.")
    return ConversationPlan(tuple(turn_of(w, f"{key}[{i}]", t) for i, t in enumerate(script)))


TIMING_KEYS = ("timing", "time_scale", "arrivals")
TIMINGS: tuple[ReplayTiming, ...] = get_args(ReplayTiming)
ARRIVALS: tuple[ReplayArrivals, ...] = get_args(ReplayArrivals)


def parse_arrivals(w: Where, raw: dict[str, object]) -> ReplayArrivals:
    """`prompts.arrivals`: `recorded` (start at the scaled start offsets) or `none` (default)."""
    arrivals = raw.get("arrivals", "none")
    if arrivals not in ARRIVALS:
        raise w.error(
            "prompts.arrivals",
            "expected `recorded` (each conversation starts at its recorded start offset, times "
            f"`time_scale`, from the test's start) or `none`; got {arrivals!r}.",
        )
    return arrivals


def parse_timing(
    w: Where, raw: dict[str, object], has_conversations: bool
) -> tuple[ReplayTiming, float]:
    """`prompts.timing` (recorded | scenario) and `prompts.time_scale` (> 0, default 1)."""
    if not has_conversations and any(k in raw for k in TIMING_KEYS):
        key = next(k for k in TIMING_KEYS if k in raw)
        raise w.error(f"prompts.{key}", "only applies to `prompts.conversations` (a replay file).")
    timing = raw.get("timing", "recorded")
    if timing not in TIMINGS:
        raise w.error(
            "prompts.timing",
            "expected `recorded` (each turn's recorded think time, times `time_scale`) or "
            f"`scenario` (the scenario's `conversation.think_time`); got {timing!r}.",
        )
    scale = fields.number(w, "prompts.time_scale", raw.get("time_scale", 1.0))
    if scale <= 0:
        raise w.error("prompts.time_scale", f"must be above 0 (0.5: twice as fast); got {scale}.")
    return timing, scale


def retimed(
    plans: tuple[ConversationPlan, ...], timing: str, scale: float
) -> tuple[ConversationPlan, ...]:
    """The plans with each turn's think time as it will be waited: recorded x scale, or None
    (the scenario's) with `timing: scenario`; start offsets scaled alike."""
    if timing == "recorded" and scale == 1.0:
        return plans
    out = []
    for plan in plans:
        turns = tuple(
            replace(t, think_s=None if timing == "scenario" or t.think_s is None
                    else t.think_s * scale)
            for t in plan.turns
        )  # fmt: skip
        offset = plan.start_offset_s
        out.append(replace(plan, turns=turns,
                           start_offset_s=None if offset is None else offset * scale))  # fmt: skip
    return tuple(out)
