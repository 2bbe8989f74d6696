"""`POST /orchestrate/runs[/stream]` and `GET /orchestrate/agents`.

A streamed run is written by stream.py; a plain run (plain.py) answers its ids at once and
completes in the background, its record readable with `GET /runs/<id>`.
"""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING

import msgspec

from wxo_load.mock.answers import log_line
from wxo_load.mock.plan import RunPlan
from wxo_load.mock.routes.guard import authorized, chat_guard
from wxo_load.mock.routes.http import Receive, Scope, Send, json_bytes, read_body, respond
from wxo_load.mock.routes.messages import user_message
from wxo_load.mock.routes.plain import start_plain_run
from wxo_load.mock.routes.stream import stream_run, stream_run_in_line
from wxo_load.mock.shapes import Claims, RunRequest
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
    request = msgspec.convert(body, RunRequest)  # validate_run_body accepted it
    agent_id = request.get("agent_id") or DEFAULT_AGENT_ID
    thread_id = request.get("thread_id")
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
    verdict = answers.begin(thread_id, state.title, request["message"]) if answers else None
    plan = app.planner.plan(
        thread_id=thread_id,
        agent_id=agent_id,
        turn=state.user_turns,
        rewrite=verdict.rewrite(answers.faults) if answers and verdict else None,
    )
    if verdict is not None and app.event_log is not None:
        app.event_log.add_line(log_line(plan.run_id, thread_id, verdict))
    try:
        await _respond_run(app, plan, state, claims, request, t0, receive, send, stream=stream)
    finally:
        if answers is not None:
            answers.end(thread_id)


async def _respond_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    request: RunRequest,
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
    app.stats.channel("runs-stream" if stream else "runs-poll")
    if app.run_log is not None:
        content = request["message"].get("content")
        app.run_log.add_request(plan.run_id, thread_id, plan.agent_id, user, str(content))
    if plan.fault is not None:
        app.stats.fault(plan.fault)
    message = user_message(claims, thread_id, request["message"], app.planner.new_uuid())
    state.messages.append(json_bytes(message))
    if stream and app.slots is not None:
        await stream_run_in_line(app, plan, state, claims, message["id"], receive, send)
    elif stream:
        await stream_run(app, plan, state, claims, message["id"], t0, receive, send)
    else:
        await start_plain_run(app, plan, state, claims, message["id"], send)


async def list_agents(app: MockApp, scope: Scope, send: Send) -> None:
    """`GET /v1/orchestrate/agents`: the simulator's agent and every agent id asked of it, as
    `{id, name, display_name}` (IBM's evaluation framework resolves a name to an id here)."""
    if await authorized(app, scope, send) is None:
        return
    name = app.profile.agent_display_name
    ids = [DEFAULT_AGENT_ID, *(a for a in app.stats.runs_by_agent if a and a != DEFAULT_AGENT_ID)]
    agents = [
        {"id": agent_id, "name": name if n == 0 else f"agent_{n}", "display_name": name}
        for n, agent_id in enumerate(ids)
    ]
    await respond(send, 200, agents)
