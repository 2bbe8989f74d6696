"""`Json`: any value a JSON document can hold, for the parts of a server's payload that wxo-load
passes through without reading (a chat transcript's tool calls, context variables, a claim
set, a results file's rows). What wxo-load reads is typed where it is read (`core.stream.Event`,
the trackers), never as Json."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, Union

if TYPE_CHECKING:
    Json: TypeAlias = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]  # noqa: UP007
    """A JSON value (recursive): what orjson.loads can return."""
else:  # msgspec takes no recursive alias on Python 3.11: to it (a Struct's field) any JSON value
    Json = Any

JsonObject: TypeAlias = "dict[str, Json]"
"""A JSON object."""
