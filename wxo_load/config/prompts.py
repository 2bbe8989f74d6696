"""A scenario's `prompts:` section: inline messages and/or a file (.yaml, .jsonl, .csv, .txt)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

from wxo_load.config.conversations import (
    TIMING_KEYS,
    parse_arrivals,
    parse_timing,
    read_conversations,
    retimed,
)
from wxo_load.config.fields import Where, describe, section, string
from wxo_load.config.model import Prompts
from wxo_load.core.conversation import ConversationPlan


def parse_prompts(w: Where, value: Any, base_dir: Path) -> Prompts:
    if value is None:
        raise w.error(
            "prompts",
            "missing. Say what the users type: `prompts: {messages: [hello, ...]}`, "
            "`prompts: {file: prompts.jsonl}` or `prompts: {conversations: conversations.jsonl}`.",
        )
    if isinstance(value, list):
        value = {"messages": value}
    raw = section(w, "prompts", value, ("messages", "file", "order", "conversations", *TIMING_KEYS))
    order = raw.get("order", "script")
    order = "script" if order == "sequential" else order
    if order == "unique" and "conversations" not in raw:
        raise w.error("prompts.order", "`unique` applies to `prompts.conversations` only.")
    if order not in ("script", "random", "unique"):
        raise w.error(
            "prompts.order",
            "expected `script` (or `sequential`: in order, one per turn; whole conversations in "
            "file order), `random` (sampled from the pool, or whole conversations at random) or "
            "`unique` (each conversation of the file once across the test, then it ends); "
            f"got {order!r}.",
        )
    conversations: tuple[ConversationPlan, ...] = ()
    source = "inline"
    if "conversations" in raw:
        rel = string(w, "prompts.conversations", raw["conversations"], non_empty=True)
        path = Path(rel) if Path(rel).is_absolute() else base_dir / rel
        conversations = read_conversations(w, "prompts.conversations", path)
        source = str(path)
    timing, scale = parse_timing(w, raw, bool(conversations))
    conversations = retimed(conversations, timing, scale)
    messages = _inline_messages(w, raw["messages"]) if "messages" in raw else []
    if "file" in raw:
        rel = string(w, "prompts.file", raw["file"], non_empty=True)
        path = Path(rel) if Path(rel).is_absolute() else base_dir / rel
        messages.extend(_read_prompt_file(w, path))
        source = str(path)
    if not messages and not conversations:
        raise w.error(
            "prompts",
            "the prompt pool is empty: give at least one message in `messages` or a non-empty "
            "`file`.",
        )
    return Prompts(
        order=order,
        messages=tuple(messages),
        source=source,
        conversations=conversations,
        timing=timing,
        time_scale=scale,
        arrivals=parse_arrivals(w, raw),
    )


def _inline_messages(w: Where, items: Any) -> list[str]:
    if not isinstance(items, list):
        raise w.error("prompts.messages", f"expected a list of messages; got {describe(items)}.")
    return [_prompt_text(w, f"prompts.messages[{i}]", item) for i, item in enumerate(items)]


def _prompt_text(w: Where, key: str, item: Any) -> str:
    if isinstance(item, dict):
        for field_name in ("content", "message", "prompt", "text"):
            if field_name in item:
                item = item[field_name]
                break
    if not isinstance(item, str) or not item.strip():
        raise w.error(key, f"expected a non-empty message text; got {describe(item)}.")
    return item


def _read_prompt_file(w: Where, path: Path) -> list[str]:
    if not path.is_file():
        raise w.error(
            "prompts.file",
            f"file {path} does not exist (paths are relative to the scenario file).",
        )
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
        raise w.error(
            "prompts.file",
            f"unsupported prompt file type {suffix!r}: use .yaml, .jsonl, .csv or .txt.",
        )
    items = readers[suffix]()
    return [_prompt_text(w, f"{key} item {i + 1}", item) for i, item in enumerate(items)]


def _jsonl_items(w: Where, key: str, text: str) -> list[Any]:
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise w.error(key, f"line {number} is not JSON: {line[:80]!r}.") from None
    return items


def _csv_items(w: Where, key: str, text: str) -> list[Any]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    for column in ("prompt", "message", "content", "text"):
        if column in header:
            index = header.index(column)
            return [row[index] for row in rows[1:] if len(row) > index]
    return [row[0] for row in rows if row]  # no header: the first column


def _yaml_items(w: Where, key: str, text: str) -> list[Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise w.error(key, "not valid YAML.") from None
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise w.error(key, "expected a YAML list of messages (or a mapping with `messages:`).")
    return data
