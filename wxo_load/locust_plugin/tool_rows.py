"""One Locust row per tool (`TOOL lookup_order`), so the web UI and CSVs show each tool's calls.

A call that got no tool_response before its run ended is a failure of that row ("no
tool_response"). Tool names are dynamic: after MAX_TOOL_NAMES distinct names, further ones go
to the row `TOOL other`, as in summary.json.
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.records import RunRecord
from wxo_load.core.step_stats import MAX_TOOL_NAMES, OTHER

REQUEST_TYPE = "TOOL"


class ToolNoResponse(Exception):
    """The Locust-visible failure of a tool call (low cardinality text)."""


_NO_RESPONSE = ToolNoResponse("no tool_response")


class ToolRows:
    __slots__ = ("_names",)

    def __init__(self) -> None:
        self._names: set[str] = set()

    def _row(self, name: str) -> str:
        if name in self._names:
            return name
        if len(self._names) < MAX_TOOL_NAMES:
            self._names.add(name)
            return name
        return OTHER

    def fire(self, fire: Any, run: RunRecord) -> None:
        """Fire one request event per tool call of `run` (nothing for a run without tools)."""
        for name, _start_ms, duration_ms in run.tools or ():
            failed = duration_ms is None
            fire(
                request_type=REQUEST_TYPE,
                name=self._row(name),
                response_time=(run.total_ms or 0.0) if failed else duration_ms,
                response_length=0,
                exception=_NO_RESPONSE if failed else None,
                context={},
            )
