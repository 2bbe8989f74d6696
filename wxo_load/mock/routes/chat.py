"""Chat completions v1 (`…/v1/orchestrate/<agent>/chat/completions`) and v2
(`/api/v2/<agent>/chat/completions`, `/instances/<id>/v2/orchestrate/<agent>/…`).

Both plan their run as the widget's channel does (profile, faults, tools, wrong answers,
capacity) and stream it as chat_frames.py renders it (`stream` defaults to true), or answer
one `chat.completion` JSON at the answer's planned time.

Threads. v1: `X-IBM-THREAD-ID` names a thread to continue; without it a thread is started.
v2 stateful: `X-IBM-THREAD-ID: new` mints a thread (its id in the completed frame), later turns
send that id; v2 stateless (no header): the client resends the whole transcript with its own
`thread_id` in the body and nothing is kept (the request's message count and bytes go to the
run log and `/_mock/stats`). `--thread-store off` answers a stateful v2 turn 503 ("thread"),
`--thread-store echo` echoes the header (`new`) as a store-less deployment does;
`--thread-expiry-s` / `--thread-expiry-turns` make a v2 continuation 404 ("thread") once its
thread is that old or has had that many turns. v2's error bodies are `{"error": {"message"}}`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from time import perf_counter
from typing import TYPE_CHECKING

import msgspec

from wxo_load.mock.answers import log_line
from wxo_load.mock.plan import MESSAGE_CREATED, RunPlan
from wxo_load.mock.routes.chat_frames import (
    KEEP_ALIVE,
    KEEP_ALIVE_EVERY_S,
    ChatFrames,
    completion_json,
)
from wxo_load.mock.routes.control import StreamControl
from wxo_load.mock.routes.guard import chat_guard, send_http_fault
from wxo_load.mock.routes.http import (
    END,
    STREAM_HEADERS,
    Receive,
    Scope,
    Send,
    json_bytes,
    read_body,
    respond,
)
from wxo_load.mock.routes.messages import assistant_message, user_message
from wxo_load.mock.routes.paced import write_paced
from wxo_load.mock.shapes import ChatMessage, ChatRequest, Claims, Json
from wxo_load.mock.store import ThreadState
from wxo_load.mock.validate import parse_json_body

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

THREAD_HEADER = b"x-ibm-thread-id"
ENVIRONMENT_HEADER = b"x-ibm-environment-id"  # a deployed environment; absent: the draft
NEW_THREAD = "new"
MAX_V2_THREADS = 20_000


class V2Threads:
    """Stateful v2 threads' birth (perf_counter) and turns, for --thread-expiry-*."""

    def __init__(self) -> None:
        self.born: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def add(self, thread_id: str) -> None:
        self.born[thread_id] = (perf_counter(), 1)  # the turn that made it
        if len(self.born) > MAX_V2_THREADS:
            self.born.popitem(last=False)

    def expired(self, app: MockApp, thread_id: str) -> bool:
        born, turns = self.born.get(thread_id, (perf_counter(), 0))
        s = app.settings
        too_old = s.thread_expiry_s is not None and perf_counter() - born > s.thread_expiry_s
        return too_old or (s.thread_expiry_turns is not None and turns >= s.thread_expiry_turns)

    def turn(self, thread_id: str) -> None:
        born, turns = self.born.get(thread_id, (perf_counter(), 0))
        self.born[thread_id] = (born, turns + 1)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1").strip())
    return None


async def _error(send: Send, version: int, status: int, message: str) -> None:
    body = {"error": {"message": message}} if version == 2 else {"detail": message}
    await respond(send, status, body)


def _check_messages(body: Json) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object with `messages`."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "`messages` must be a non-empty list of {role, content}."
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            return f"messages[{i}] must be an object with a `role`."
    if not any(isinstance(m, dict) and m["role"] == "user" for m in messages):
        return "`messages` has no `user` message."
    return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _last_user(messages: list[dict[str, Json]]) -> ChatMessage:
    message = next(m for m in reversed(messages) if m["role"] == "user")
    content = message.get("content")
    if isinstance(content, list):  # typed parts
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return {"role": "user", "content": content if isinstance(content, str) else ""}


async def chat_completions(
    app: MockApp, scope: Scope, receive: Receive, send: Send, agent_id: str, version: int
) -> None:
    raw = await read_body(receive)
    claims = await chat_guard(app, scope, send, json_errors=version == 2)
    if claims is None:
        return
    body, errors = parse_json_body(raw)
    why = _check_messages(body) if not errors else "the body is not JSON."
    if why is not None:
        await _error(send, version, 422 if version == 1 else 400, f"Invalid request: {why}")
        return
    request = msgspec.convert(body, ChatRequest)  # _check_messages accepted it
    environment = _header(scope, ENVIRONMENT_HEADER)
    if environment is not None and not _is_uuid(environment):
        await _error(send, version, 400, "Invalid X-IBM-ENVIRONMENT-ID: expected an environment's "
                     "UUID, or no header at all for the agent's draft.")  # fmt: skip
        return
    header = _header(scope, THREAD_HEADER)
    resolved = await _thread(app, send, version, header, request)
    if resolved is None:
        return
    thread_id, state = resolved
    channel = "chat" if version == 1 else ("chat-v2" if state is not None else "chat-v2-stateless")
    user_turns = sum(1 for m in request["messages"] if m["role"] == "user")
    message = _last_user(request["messages"])
    if state is not None:
        state.user_turns += 1
        user_turns = state.user_turns
    answers = app.answers
    title = state.title if state is not None else ""
    verdict = answers.begin(thread_id, title, message) if answers else None
    plan = app.planner.plan(
        thread_id=thread_id,
        agent_id=agent_id,
        turn=user_turns,
        rewrite=verdict.rewrite(answers.faults) if answers and verdict else None,
    )
    if verdict is not None and app.event_log is not None:
        app.event_log.add_line(log_line(plan.run_id, thread_id, verdict))
    _count(app, plan, claims, channel, message, request["messages"], len(raw), environment)
    try:
        await _answer(app, plan, state, claims, message, request, version, receive, send)
    finally:
        if answers is not None:
            answers.end(thread_id)


async def _thread(
    app: MockApp, send: Send, version: int, header: str | None, request: ChatRequest
) -> tuple[str, ThreadState | None] | None:
    """(thread id shown, its state or None for stateless), or None after an error answer."""
    store = app.store
    if version == 1:
        if header:
            state = store.thread_state(header)
            if state is None:
                await _error(send, 1, 404, f"Thread {header} not found")
                return None
            return header, state
        thread_id = store.new_thread("", "")
        return thread_id, store.threads[thread_id]
    if header is None:  # stateless: the client's own thread id
        return str(request.get("thread_id") or uuid.uuid4()), None
    mode = app.settings.thread_store
    if mode == "off":
        await _error(send, 2, 503, "Thread store unavailable (simulated): send the whole "
                     "transcript without X-IBM-THREAD-ID.")  # fmt: skip
        return None
    if mode == "echo":
        return header, None
    if header == NEW_THREAD:
        thread_id = store.new_thread("", "")
        app.v2_threads.add(thread_id)
        return thread_id, store.threads[thread_id]
    state = store.thread_state(header)
    if state is None or app.v2_threads.expired(app, header):
        await _error(send, 2, 404, f"Thread {header} not found or expired.")
        return None
    app.v2_threads.turn(header)
    return header, state


def _count(
    app: MockApp,
    plan: RunPlan,
    claims: Claims,
    channel: str,
    message: ChatMessage,
    messages: list[dict[str, Json]],
    size: int,
    environment: str | None,
) -> None:
    stats = app.stats
    stats.run_started()
    stats.channel(channel)
    user = str(claims.get("sub") or "")
    stats.run_by(plan.agent_id, user)
    if channel == "chat-v2-stateless":
        stats.stateless_requests += 1
        stats.stateless_messages_total += len(messages)
        stats.stateless_bytes_total += size
    if plan.fault is not None:
        stats.fault(plan.fault)
    if app.run_log is not None:
        app.run_log.add_request(plan.run_id, plan.thread_id, plan.agent_id, user,
                                str(message["content"]), channel=channel, messages=len(messages),
                                bytes=size, environment_id=environment)  # fmt: skip


async def _answer(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState | None,
    claims: Claims,
    message: ChatMessage,
    request: ChatRequest,
    version: int,
    receive: Receive,
    send: Send,
) -> None:
    parent_id = app.planner.new_uuid()
    if state is not None:
        state.messages.append(json_bytes(user_message(claims, plan.thread_id, message, parent_id)))

    def store_answer() -> None:
        if state is not None:
            state.messages.append(json_bytes(assistant_message(plan, claims, parent_id)))

    slots = app.slots
    if slots is not None and not await slots.enter():
        fault = "http_429" if slots.capacity.reject_status == 429 else "http_503"
        await send_http_fault(app, send, fault, json_errors=version == 2)
        return
    try:
        t0 = perf_counter()
        openai_chunks = app.settings.chat_frames == "openai"
        frames = ChatFrames(plan, version, plan.thread_id, store_answer, openai_chunks)
        if request.get("stream", True) is False:
            await _json_answer(app, plan, frames, version, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        control = StreamControl(app, plan.run_id, receive)
        try:
            keep = (KEEP_ALIVE_EVERY_S, KEEP_ALIVE) if version == 2 else None
            finished = await write_paced(app, plan, t0, send, control, frames.render, keep)
            if control.cancelled:
                app.stats.runs_cancelled += 1
                body_bytes = frames.cancelled()
                await send({"type": "http.response.body", "body": body_bytes, "more_body": True})
                finished = True
            if finished:
                await send(END)
                app.stats.runs_completed += 1
        finally:
            control.close()
    finally:
        if slots is not None:
            slots.leave()


async def _json_answer(
    app: MockApp, plan: RunPlan, frames: ChatFrames, version: int, send: Send
) -> None:
    """`stream: false`: one JSON answer when the planned answer is complete (or failed)."""
    end = next((e for e in plan.events if e.event in (MESSAGE_CREATED, "error", "run.failed")),
               None)  # fmt: skip
    if end is not None:
        await asyncio.sleep(end.offset_s)
    if end is None or end.event != MESSAGE_CREATED:
        await _error(send, version, 500, "The agent failed to produce a response (simulated).")
        return
    frames.on_created()
    app.stats.runs_completed += 1
    await respond(send, 200, completion_json(plan, plan.thread_id))
