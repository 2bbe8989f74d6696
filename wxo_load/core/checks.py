"""Checks on an answer's text: what a run's answer must (not) say, evaluated once after `done`.

Pure: `Expect` is the frozen, already-validated set of checks (`wxo_load.config.answers` reads it
from a scenario's `expect:` or a scripted turn's `expect`), `failed_checks()` returns the names
of the checks one answer failed, in `CHECK_NAMES` order:

    not_contains  any of these strings in the answer (case-insensitive): wrong
    contains      every one of these strings must be in it (case-insensitive)
    matches       a regular expression that must match somewhere in it
    min_chars     the answer has at least this many characters
    tool_called   a tool call of this name happened in the run
    answered_by   the agent that answered: the last hand-over's collaborator (a tool named
                  `*_agent`), else the `current_agent` the run's steps named
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CHECK_NAMES = ("not_contains", "contains", "matches", "min_chars", "tool_called", "answered_by")


@lru_cache(maxsize=256)
def regex(pattern: str) -> re.Pattern[str]:
    """The compiled pattern (compiled once per pattern; validated at load by config)."""
    return re.compile(pattern)


@dataclass(frozen=True, slots=True)
class Expect:
    not_contains: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    matches: str | None = None
    min_chars: int | None = None
    tool_called: str | None = None
    answered_by: str | None = None

    def __post_init__(self) -> None:  # lower-cased once, not per answer
        object.__setattr__(self, "not_contains", tuple(s.lower() for s in self.not_contains))
        object.__setattr__(self, "contains", tuple(s.lower() for s in self.contains))

    @property
    def wants_agent(self) -> bool:
        return self.answered_by is not None


def answered_by(tools: Sequence[Sequence[Any]] | None, current_agent: str | None) -> str | None:
    """The agent that answered: the last hand-over's collaborator, else the steps' agent."""
    if tools:
        for call in reversed(tools):
            name = call[0]
            if isinstance(name, str) and name.endswith("_agent"):
                return name
    return current_agent


def failed_checks(
    expect: Expect, text: str, tools: Sequence[Sequence[Any]] | None, agent: str | None
) -> list[str]:
    """The names of the checks `text` (the whole answer) failed; [] when it passed them all."""
    failed: list[str] = []
    lowered = text.lower() if (expect.not_contains or expect.contains) else text
    if expect.not_contains and any(s in lowered for s in expect.not_contains):
        failed.append("not_contains")
    if expect.contains and not all(s in lowered for s in expect.contains):
        failed.append("contains")
    if expect.matches is not None and regex(expect.matches).search(text) is None:
        failed.append("matches")
    if expect.min_chars is not None and len(text) < expect.min_chars:
        failed.append("min_chars")
    if expect.tool_called is not None and not any(
        call[0] == expect.tool_called for call in tools or ()
    ):
        failed.append("tool_called")
    if expect.answered_by is not None and expect.answered_by != agent:
        failed.append("answered_by")
    return failed
