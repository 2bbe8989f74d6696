"""`wxo-load mock --history FILE`: seed the simulator with historical conversations.

One JSON object a line (blank lines skipped):

    {"thread_id": "…", "agent_id": "<uuid>", "title": "…", "status": 500,
     "messages": [
       {"role": "user", "text": "hi", "created_on": "2026-01-05T09:00:00.000Z"},
       {"role": "assistant", "text": "Hello!", "created_on": "2026-01-05T09:00:02.300Z",
        "agent": "support_agent", "tools": ["get_balance"]}]}

`messages` (oldest first) is required; each needs `role` (`user` / `assistant`), `text` and
`created_on` (ISO 8601). `thread_id` (default: a fresh UUID), `agent_id` (default: any agent,
i.e. the id the capture asks for must match; give it), `title` (default: the first message)
are optional; `status` (e.g. 500, 404) makes `GET <threads>/<id>/messages` answer that error,
for testing how a reader skips a thread. `agent` names who answered (`assistant.name`), `tools`
become the message's `step_history` tool calls, as the ADK reads them.

The seeded threads are listed by `GET <threads>?agent_id=…` (most recent first, `limit`/`offset`
paging) and read by `GET <threads>/<id>/messages`, like threads the simulator made itself.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from wxo_load.core.errors import ConfigError
from wxo_load.mock.shapes import Json, StoredMessage
from wxo_load.mock.store import Store, ThreadState


def load_history(path: Path, store: Store) -> int:
    """Seed `store` from the file; returns the number of threads. ConfigError on bad input."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"option --history {path}: cannot read it ({exc.strerror}).") from None
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"option --history {path}, line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{where}: not JSON: {line[:80]!r}.") from None
        _seed(where, item, store)
        count += 1
    return count


def _seed(where: str, item: Any, store: Store) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("messages"), list):
        raise ConfigError(f"{where}: expected an object with a `messages` list.")
    thread_id = str(item.get("thread_id") or uuid.uuid4())
    read = [_message(f"{where}, message {i + 1}", m) for i, m in enumerate(item["messages"])]
    if not read:
        raise ConfigError(f"{where}: `messages` is empty; give at least one message.")
    messages = [message for message, _ in read]
    title = str(item.get("title") or read[0][1])
    state = ThreadState(str(item.get("agent_id") or ""), title)
    state.created_on = messages[0]["created_on"]
    status = item.get("status", 200)
    if not isinstance(status, int) or not 200 <= status <= 599:
        raise ConfigError(f"{where}: `status` must be an HTTP status (e.g. 500); got {status!r}.")
    state.status = status
    parent = None
    for message in messages:
        message["thread_id"] = thread_id
        message["parent_message_id"] = parent
        parent = message["id"]
        state.messages.append(json.dumps(message, ensure_ascii=False).encode())
    state.user_turns = sum(1 for m in messages if m["role"] == "user")
    store.threads[thread_id] = state


def _message(where: str, item: Json) -> tuple[StoredMessage, str]:
    """The message as the server stores it, and its text."""
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected an object with `role`, `text`, `created_on`.")
    role, text, created = item.get("role"), item.get("text"), item.get("created_on")
    if role not in ("user", "assistant"):
        raise ConfigError(f"{where}: `role` must be `user` or `assistant`; got {role!r}.")
    if not isinstance(text, str) or not isinstance(created, str) or not created:
        raise ConfigError(f"{where}: `text` and `created_on` (ISO time) must be strings.")
    tools = item.get("tools") or []
    if not isinstance(tools, list):
        raise ConfigError(f"{where}: `tools` must be a list of tool names; got {tools!r}.")
    steps: list[Json] = [
        {"step_details": [{"type": "tool_calls", "tool_calls": [{"name": t, "args": {}}]}]}
        for t in tools
    ]
    message: StoredMessage = {
        "id": str(uuid.uuid4()),
        "created_on": created,
        "updated_at": created,
        "role": role,
        "content": [{"response_type": "text", "text": text}],
        "additional_properties": {"display_properties": {"is_async": False}},
        "step_history": steps,
        "message_state": None,
    }
    if role == "assistant":
        message["assistant"] = {"is_default": False, "name": item.get("agent")}
    return message, text
