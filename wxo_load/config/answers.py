"""A scenario's answer checks, canaries and goodput limits (`expect:`, `checks:`, `goodput:`).

    expect:                        # every run's answer (a scripted turn's `expect` replaces it)
      not_contains: ["I'm sorry"]  # any of these (case-insensitive): wrong
      contains: [leave]            # all of these (case-insensitive)
      matches: '\\b\\d+ days\\b'     # a regular expression (Python syntax), compiled at load
      min_chars: 20
      tool_called: get_leave_balance
      answered_by: hr_agent
    checks: {canary: true}         # a unique token per conversation: finds cross-talk
    goodput: {first_text: 3s, done: 20s}

An unknown key, a wrong type or a regular expression that does not compile is a `ConfigError`
naming the key (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wxo_load.config.fields import Where, describe, duration_s, number, section, string
from wxo_load.core.answers import AnswerSettings
from wxo_load.core.checks import CHECK_NAMES, Expect

ANSWER_KEYS: dict[str, str] = {
    "expect": "checks every answer must pass: not_contains, contains, matches, min_chars, "
    "tool_called, answered_by",
    "checks": "canary: true gives each conversation a token that finds cross-talk",
    "goodput": "first_text and done limits of a good run, e.g. {first_text: 3s, done: 20s}",
}


def _strings(w: Where, key: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise w.error(
            key, f"expected a string or a non-empty list of strings; got {describe(value)}."
        )
    return tuple(string(w, f"{key}[{i}]", item, non_empty=True) for i, item in enumerate(items))


def parse_expect(w: Where, key: str, value: Any) -> Expect | None:
    """`expect:` (at `key`) as checks; None when absent."""
    if value is None:
        return None
    raw = section(w, key, value, CHECK_NAMES)
    if not raw:
        raise w.error(key, f"names no check; use one or more of {', '.join(CHECK_NAMES)}.")
    not_contains, contains = (
        _strings(w, f"{key}.{name}", raw[name]) if name in raw else ()
        for name in ("not_contains", "contains")
    )
    matches = _pattern(w, f"{key}.matches", raw["matches"]) if "matches" in raw else None
    min_chars = (
        int(number(w, f"{key}.min_chars", raw["min_chars"], integer=True))
        if "min_chars" in raw
        else None
    )
    tool_called, answered_by = (
        string(w, f"{key}.{name}", raw[name], non_empty=True) if name in raw else None
        for name in ("tool_called", "answered_by")
    )
    return Expect(not_contains, contains, matches, min_chars, tool_called, answered_by)


def _pattern(w: Where, key: str, value: Any) -> str:
    pattern = string(w, key, value, non_empty=True)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise w.error(
            key,
            f"not a valid regular expression ({exc}); write it in Python's `re` syntax, "
            "in single quotes in YAML so backslashes stay as written.",
        ) from None
    return pattern


def _limit_ms(w: Where, key: str, value: Any) -> float:
    if isinstance(value, str) and value.strip().lower().endswith("ms"):
        return number(w, key, _ms_number(w, key, value))
    seconds = duration_s(w, key, value)
    if seconds <= 0:
        raise w.error(key, f"expected a positive duration like 3s or 500ms; got {value!r}.")
    return seconds * 1000.0


def _ms_number(w: Where, key: str, value: str) -> float:
    try:
        return float(value.strip()[:-2])
    except ValueError:
        raise w.error(key, f"expected a duration like 3s or 500ms; got {value!r}.") from None


def parse_answers(w: Where, raw: Mapping[str, Any]) -> AnswerSettings:
    """The scenario's `expect`, `checks` and `goodput` keys."""
    expect = parse_expect(w, "expect", raw.get("expect"))
    checks = section(w, "checks", raw.get("checks"), ("canary",))
    canary = checks.get("canary", False)
    if not isinstance(canary, bool):
        raise w.error("checks.canary", f"expected true or false; got {describe(canary)}.")
    goodput = section(w, "goodput", raw.get("goodput"), ("first_text", "done"))
    limits = {k: _limit_ms(w, f"goodput.{k}", v) for k, v in goodput.items()}
    return AnswerSettings(
        expect=expect,
        canary=canary,
        goodput_first_text_ms=limits.get("first_text"),
        goodput_done_ms=limits.get("done"),
    )
