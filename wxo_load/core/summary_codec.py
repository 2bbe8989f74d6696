"""One way in and one way out of summary.json: `summary_from_bytes` / `summary_from_dict` (v1 and
v2 files; a v1 file is upgraded first) and `dump_summary`. Pure: bytes and dicts, no files.

What v2 renamed (the upgrade applies it to a v1 file, so a v1 baseline gates a v2 run):

    v1 key       v2 key          why
    steps        search_steps    `steps` also means the agent's run steps (tools, phases)
    load_plan    plan            the plan the test ran; `load` was a package, modules and a verb
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from wxo_load.core.summary_model import SCHEMA, Summary

SCHEMA_PREFIX = "wxo-load/summary/"
SCHEMA_V1 = "wxo-load/summary/v1"
V1_RENAMES = {"steps": "search_steps", "load_plan": "plan"}


class SummaryFormatError(ValueError):
    """Bytes or a dict that are not a summary this version reads; the message says why."""


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """A v1 summary dict as v2 (renamed keys, v2 schema name); a v2 dict as it is."""
    if raw.get("schema") != SCHEMA_V1:
        return raw
    upgraded = {V1_RENAMES.get(key, key): value for key, value in raw.items()}
    upgraded["schema"] = SCHEMA
    return upgraded


def summary_from_dict(raw: Any) -> Summary:
    """A decoded summary.json (v1 or v2) as a `Summary`; SummaryFormatError naming the path of
    the first wrong value."""
    found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
    if not isinstance(found, str) or not found.startswith(SCHEMA_PREFIX):
        raise SummaryFormatError(f"not a wxo-load summary (schema {found!r}, expected {SCHEMA!r})")
    if found not in (SCHEMA, SCHEMA_V1):
        raise SummaryFormatError(
            f"schema {found!r} is not one this version reads ({SCHEMA_V1!r} or {SCHEMA!r})"
        )
    try:
        return msgspec.convert(upgrade(raw), Summary)
    except msgspec.ValidationError as exc:
        raise SummaryFormatError(f"not a valid {SCHEMA} summary: {exc}") from None


def summary_from_bytes(data: bytes) -> Summary:
    """summary.json's bytes as a `Summary` (SummaryFormatError when they are not one)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SummaryFormatError(f"not valid JSON: {exc}") from None
    return summary_from_dict(raw)


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    """The summary as plain JSON data (what `dump_summary` writes)."""
    data: dict[str, Any] = msgspec.to_builtins(summary)
    return data


def dump_summary(summary: Summary) -> bytes:
    """summary.json bytes: indented, keys in the model's order, newline-terminated."""
    return orjson.dumps(summary_to_dict(summary), option=orjson.OPT_INDENT_2) + b"\n"
