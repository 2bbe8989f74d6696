"""`POST /threads` and `GET /threads/<id>/messages`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wxo_load.mock.routes.guard import authorized, chat_guard
from wxo_load.mock.routes.http import Receive, Scope, Send, read_body, respond, respond_raw_json
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
    thread_id = app.store.new_thread(body.get("agent_id") or "", body.get("title") or "")
    location = (b"location", f"/threads/{thread_id}".encode())
    await respond(send, 201, {"thread_id": thread_id}, [location])


async def thread_messages(app: MockApp, scope: Scope, send: Send, thread_id: str) -> None:
    if await authorized(app, scope, send) is None:
        return
    state = app.store.thread_state(thread_id)
    if state is None:
        await respond(send, 404, {"detail": f"Thread {thread_id} not found"})
        return
    await respond_raw_json(send, 200, b"[" + b",".join(state.messages) + b"]")
