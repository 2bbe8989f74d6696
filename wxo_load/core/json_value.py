"""`Json`: any value a JSON document can hold, for the parts of a server's payload that wxo-load
passes through without reading (a chat transcript's tool calls, context variables, a claim
set). What wxo-load reads is typed where it is read (`core.stream.Event`, the trackers)."""

from __future__ import annotations

from typing import TypeAlias

Json: TypeAlias = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
"""A JSON value (recursive): what orjson.loads can return."""

JsonObject: TypeAlias = dict[str, Json]
"""A JSON object."""
