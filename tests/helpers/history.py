"""Historical conversations for `wxo-load mock --history`: known texts, gaps and personal data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.helpers.mockserver import AGENT_ID

START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def conversation(i: int, turns: int = 3) -> dict[str, Any]:
    """Conversation i: user turns that carry an e-mail and a phone number, answers 1.2 s after
    each user turn, think gaps of (0.4 + 0.1 * i % 5 + turn/10) s after each answer."""
    t = START + timedelta(seconds=7 * i, milliseconds=i)
    messages = []
    for k in range(turns):
        if k:
            t += timedelta(milliseconds=think_ms(i, k))
        text = f"c{i} turn {k}: mail me at user{i}.{k}@example.com or call +1 (555) 010-{i:04d}"
        messages.append({"role": "user", "text": text, "created_on": iso(t)})
        t += timedelta(milliseconds=1200 + 10 * k)
        answer = {"role": "assistant", "text": "ok " * (10 + k), "created_on": iso(t)}
        answer.update(agent="support_agent", tools=["lookup"] if k == 1 else [])
        messages.append(answer)
    return {"thread_id": f"00000000-0000-4000-8000-{i:012d}", "agent_id": AGENT_ID,
            "messages": messages}  # fmt: skip


def think_ms(i: int, k: int) -> int:
    """The seeded gap before user turn k (k >= 1) of conversation i, in ms."""
    return 400 + 100 * (i % 5) + 100 * k


def write_history(path: Path, count: int = 50, **extra: dict[str, Any]) -> list[dict[str, Any]]:
    """`count` conversations; `extra` maps a thread index (as a string) to fields to add."""
    items = [conversation(i) for i in range(count)]
    for index, fields in extra.items():
        items[int(index)].update(fields)
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return items
