"""The JSON shapes the simulator owns: token claims, tenants, run records, stored messages, the
request bodies it reads after checking them (validate.py), and FastAPI's 422 error items.

TypedDicts, so the routes build and serve plain dicts at no cost on the hot path (the stdlib
`json` encodes them as they are); a request body is turned into its TypedDict by
`msgspec.convert` once validate.py has accepted it. `Json` is for what passes through unread
(a client's `context`, a message's content parts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, Union

Json: TypeAlias = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]  # noqa: UP007
"""Any JSON value, for what the simulator passes through without reading it."""
if not TYPE_CHECKING:  # msgspec.convert cannot follow a recursive alias: it takes what
    Json = Any  # json.loads gave as is (the type checker sees the alias above)


class Claims(TypedDict, total=False):
    """A bearer token's claims (tokens.py signs and checks them; routes/auth.py mints them)."""

    sub: str
    username: str
    aud: str
    tenant_id: str
    woTenantId: str
    woUserId: str
    exp: float


class Tenant(TypedDict):
    """One row of `GET /tenants`."""

    id: str
    name: str
    title: Json
    tags: Json


RunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]


class RunError(TypedDict):
    code: int
    message: str


class _RunIds(TypedDict):
    id: str
    run_id: str
    status: RunStatus


class RunRecord(_RunIds, total=False):
    """`GET runs/<id>`: a plain run's record (routes/plain.py), or a cancelled stream's ids."""

    thread_id: str
    agent_id: str
    created_at: str
    started_at: str | None
    completed_at: str | None
    failed_at: str | None
    cancelled_at: str | None
    result: dict[str, dict[str, StoredMessage]] | None
    last_error: RunError | None


class _MessageCore(TypedDict):
    id: str
    created_on: str
    updated_at: str
    role: str
    content: Json
    additional_properties: Json
    step_history: list[Json]
    message_state: None


class StoredMessage(_MessageCore, total=False):
    """A thread's message as `GET threads/<id>/messages` answers it (routes/messages.py)."""

    tenant_id: str | None
    created_by: str | None
    created_by_username: str | None
    thread_id: str
    parent_message_id: str | None
    assistant: dict[str, Json]
    mentions: None
    document_ids: None
    context: None


class _ErrorCore(TypedDict):
    type: str
    loc: list[str | int]
    msg: str
    input: Json


class ValidationError(_ErrorCore, total=False):
    """One item of a 422's `detail`, as FastAPI/pydantic v2 writes it (validate.py)."""

    ctx: dict[str, Json]


class _RequestMessageCore(TypedDict):
    role: str


class RequestMessage(_RequestMessageCore, total=False):
    """The user's message of a run request; `content` a string or the widget's typed parts."""

    content: Json  # a string, or the typed parts validate.py checked


class _RunRequestCore(TypedDict):
    message: RequestMessage


class RunRequest(_RunRequestCore, total=False):
    """`POST orchestrate/runs[/stream]`, the fields the simulator reads (validate.py checks
    the rest as the server would, and passes it by)."""

    agent_id: str | None
    thread_id: str | None


class ThreadRequest(TypedDict, total=False):
    """`POST threads`: the fields the simulator keeps."""

    agent_id: str | None
    title: str | None


class ChatMessage(TypedDict):
    """A chat completions message as the simulator keeps it: its text flattened."""

    role: str
    content: str


class _ChatRequestCore(TypedDict):
    messages: list[dict[str, Json]]


class ChatRequest(_ChatRequestCore, total=False):
    """`POST .../chat/completions` (v1 and v2): the fields the simulator reads."""

    thread_id: Json  # v2 stateless: the client's own thread id
    stream: Json  # `false` answers one JSON
