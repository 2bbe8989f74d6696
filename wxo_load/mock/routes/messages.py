"""The message objects the simulator stores and streams, in the server's JSON shape."""

from __future__ import annotations

from wxo_load.mock.plan import MESSAGE_CREATED, RunPlan, encode, rest_of
from wxo_load.mock.routes.http import now_iso
from wxo_load.mock.shapes import ChatMessage, Claims, RequestMessage, StoredMessage


def user_message(
    claims: Claims, thread_id: str, message: RequestMessage | ChatMessage, message_id: str
) -> StoredMessage:
    content = message.get("content")
    if isinstance(content, str):
        content = [{"response_type": "text", "text": content}]
    now = now_iso()
    return {
        "id": message_id,
        "tenant_id": claims.get("tenant_id"),
        "created_by": claims.get("sub"),
        "created_by_username": claims.get("username"),
        "created_on": now,
        "updated_at": now,
        "thread_id": thread_id,
        "parent_message_id": None,
        "role": message.get("role", "user"),
        "content": content,
        "mentions": None,
        "document_ids": None,
        "additional_properties": {},
        "context": None,
        "step_history": [],
        "message_state": None,
    }


def assistant_message(plan: RunPlan, claims: Claims, parent_id: str) -> StoredMessage:
    now = now_iso()
    return {
        "id": plan.message_id,
        "tenant_id": claims.get("tenant_id"),
        "created_by": claims.get("sub"),
        "created_by_username": claims.get("username"),
        "created_on": now,
        "updated_at": now,
        "thread_id": plan.thread_id,
        "assistant": {"is_default": True},
        "parent_message_id": parent_id,
        "role": "assistant",
        "content": [{"response_type": "text", "id": "1", "text": plan.answer}],
        "mentions": None,
        "document_ids": None,
        "additional_properties": {
            "display_properties": {"skip_render": False, "is_async": False},
            "is_interrupt": False,
        },
        "context": None,
        "step_history": [],
        "message_state": None,
    }


def message_created_rest(plan: RunPlan, message: StoredMessage) -> bytes:
    """A `message.created` event line after its id."""
    data: dict[str, str | StoredMessage] = {
        "thread_id": plan.thread_id,
        "message_id": plan.message_id,
        "agent_id": plan.agent_id,
        "run_id": plan.run_id,
        "message": message,
    }
    if plan.trace_id is not None:
        data["trace_id"] = plan.trace_id
    return rest_of(MESSAGE_CREATED, encode(data))
