"""`POST /threads`, `GET /threads?agent_id=…` (an agent's threads, most recent first, paged by
`limit` / `offset`) and `GET /threads/<id>/messages`. With `--threads-list data` both lists are
wrapped as `{"data": [...]}`; by default they are bare lists (the ADK reads both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from wxo_load.mock.routes.guard import authorized, chat_guard
from wxo_load.mock.routes.http import (
    Receive,
    Scope,
    Send,
    json_bytes,
    query_value,
    read_body,
    respond,
    respond_raw_json,
)
from wxo_load.mock.shapes import ThreadRequest
from wxo_load.mock.validate import parse_json_body, validate_thread_body

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp


async def create_thread(app: MockApp, scope: Scope, receive: Receive, send: Send) -> None:
    raw = await read_body(receive)
    claims = await chat_guard(app, scope, send)
    if claims is None:
        return
    body, errors = parse_json_body(raw) if raw else ({}, [])
    errors = errors or validate_thread_body(body)
    if errors:
        await respond(send, 422, {"detail": errors})
        return
    request = msgspec.convert(body, ThreadRequest)  # validate_thread_body accepted it
    thread_id = app.store.new_thread(request.get("agent_id") or "", request.get("title") or "")
    location = (b"location", f"/threads/{thread_id}".encode())
    await respond(send, 201, {"thread_id": thread_id}, [location])


async def thread_messages(app: MockApp, scope: Scope, send: Send, thread_id: str) -> None:
    if await authorized(app, scope, send) is None:
        return
    state = app.store.thread_state(thread_id)
    if state is None:
        await respond(send, 404, {"detail": f"Thread {thread_id} not found"})
        return
    if state.status != 200:
        await respond(send, state.status, {"detail": f"Thread {thread_id} cannot be read"})
        return
    await respond_raw_json(send, 200, _wrapped(app, b"[" + b",".join(state.messages) + b"]"))


async def list_threads(app: MockApp, scope: Scope, send: Send) -> None:
    if await authorized(app, scope, send) is None:
        return
    agent_id = query_value(scope, b"agent_id")
    try:
        limit = int(query_value(scope, b"limit") or 50)
        offset = int(query_value(scope, b"offset") or 0)
    except ValueError:
        await respond(send, 422, {"detail": "limit and offset must be integers"})
        return
    held = app.store.agent_threads(agent_id)[max(offset, 0) : max(offset, 0) + max(limit, 0)]
    items = [
        {
            "id": thread_id,
            "agent_id": state.agent_id,
            "title": state.title,
            "created_on": state.created_on,
            "updated_at": state.created_on,
        }
        for thread_id, state in held
    ]
    await respond_raw_json(send, 200, _wrapped(app, json_bytes(items)))


def _wrapped(app: MockApp, items: bytes) -> bytes:
    """A JSON list as the configured shape: bare, or `{"data": [...]}`."""
    return b'{"data":' + items + b"}" if app.settings.threads_list == "data" else items
