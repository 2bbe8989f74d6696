"""`POST /orchestrate/runs[/stream]` and `GET /orchestrate/runs/<id>`.

A streamed run is written by stream.py; a plain run answers its ids at once and completes in
the background, its record readable with `GET /runs/<id>`.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import TYPE_CHECKING, Any

from wxo_load.mock.answers import log_line
from wxo_load.mock.plan import MESSAGE_CREATED, RunPlan
from wxo_load.mock.routes.guard import authorized, chat_guard
from wxo_load.mock.routes.http import Receive, Scope, Send, json_bytes, now_iso, read_body, respond
from wxo_load.mock.routes.messages import assistant_message, user_message
from wxo_load.mock.routes.stream import stream_run, stream_run_in_line
from wxo_load.mock.store import ThreadState
from wxo_load.mock.validate import parse_json_body, validate_run_body

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

DEFAULT_AGENT_ID = "0c191f04-78cd-45e3-a99a-988cfb29434d"


async def create_run(
    app: MockApp, scope: Scope, receive: Receive, send: Send, *, stream: bool
) -> None:
    t0 = perf_counter()
    raw = await read_body(receive)
    claims = await chat_guard(app, scope, send)
    if claims is None:
        return
    body, errors = parse_json_body(raw)
    errors = errors or validate_run_body(body)
    if errors:
        await respond(send, 422, {"detail": errors})
        return
    agent_id = body.get("agent_id") or DEFAULT_AGENT_ID
    thread_id = body.get("thread_id")
    if thread_id:
        state = app.store.thread_state(thread_id)
        if state is None:
            await respond(send, 404, {"detail": f"Thread {thread_id} not found"})
            return
    else:  # no thread: the server starts one, as the ADK relies on
        thread_id = app.store.new_thread(agent_id, "")
        state = app.store.threads[thread_id]
    state.user_turns += 1
    answers = app.answers
    verdict = answers.begin(thread_id, state.title, body["message"]) if answers else None
    plan = app.planner.plan(
        thread_id=thread_id,
        agent_id=agent_id,
        turn=state.user_turns,
        rewrite=verdict.rewrite(answers.faults) if answers and verdict else None,
    )
    if verdict is not None and app.event_log is not None:
        app.event_log.add_line(log_line(plan.run_id, thread_id, verdict))
    try:
        await _respond_run(app, plan, state, claims, body, t0, receive, send, stream=stream)
    finally:
        if answers is not None:
            answers.end(thread_id)


async def _respond_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: dict[str, Any],
    body: dict[str, Any],
    t0: float,
    receive: Receive,
    send: Send,
    *,
    stream: bool,
) -> None:
    thread_id = plan.thread_id
    app.stats.run_started()
    user = str(claims.get("sub") or "")
    app.stats.run_by(plan.agent_id, user)
    if app.run_log is not None:
        content = body["message"].get("content")
        app.run_log.add_request(plan.run_id, thread_id, plan.agent_id, user, str(content))
    if plan.fault is not None:
        app.stats.fault(plan.fault)
    message = user_message(claims, thread_id, body["message"], app.planner.new_uuid())
    state.messages.append(json_bytes(message))
    if stream and app.slots is not None:
        await stream_run_in_line(app, plan, state, claims, message["id"], receive, send)
    elif stream:
        await stream_run(app, plan, state, claims, message["id"], t0, receive, send)
    else:
        await start_plain_run(app, plan, state, claims, message["id"], send)


async def start_plain_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: dict[str, Any],
    parent_id: str,
    send: Send,
) -> None:
    """Without stream=true: answer the run's ids at once; the run completes in the background."""
    record = _run_record(plan)
    app.store.add_run(record)

    def finish() -> None:
        _finish_run(app, plan, state, claims, parent_id, record)

    created = next(
        e.offset_s for e in plan.events if e.event in (MESSAGE_CREATED, "run.failed", "error")
    )
    asyncio.get_running_loop().call_later(created, finish)
    ids = {
        "thread_id": plan.thread_id,
        "run_id": plan.run_id,
        "task_id": plan.run_id,
        "message_id": plan.message_id,
    }
    await respond(send, 200, ids)


def _run_record(plan: RunPlan) -> dict[str, Any]:
    return {
        "id": plan.run_id,
        "run_id": plan.run_id,
        "thread_id": plan.thread_id,
        "agent_id": plan.agent_id,
        "status": "in_progress",
        "created_at": now_iso(),
        "completed_at": None,
        "result": None,
        "last_error": None,
    }


def _finish_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: dict[str, Any],
    parent_id: str,
    record: dict[str, Any],
) -> None:
    """The plain run's end: failed (with the plan's fault) or completed with its message."""
    record["completed_at"] = now_iso()
    app.stats.runs_completed += 1
    if plan.fault in ("run_failed", "error_event"):
        record["status"] = "failed"
        record["last_error"] = {
            "code": 500,
            "message": "The agent failed to produce a response (simulated).",
        }
        return
    message = assistant_message(plan, claims, parent_id)
    state.messages.append(json_bytes(message))
    record["status"] = "completed"
    record["result"] = {"data": {"message": message}}


async def get_run(app: MockApp, scope: Scope, send: Send, run_id: str) -> None:
    if await authorized(app, scope, send) is None:
        return
    record = app.store.runs.get(run_id)
    if record is None:
        await respond(send, 404, {"detail": f"Run {run_id} not found"})
        return
    await respond(send, 200, record)
