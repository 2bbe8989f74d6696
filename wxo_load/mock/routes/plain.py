"""A run without streaming (`POST runs`, then `GET runs/<id>`), and `POST runs/cancel/<id>`.

The run answers its ids at once; its record then goes `pending` -> `running` (at the plan's
`run.started`, `started_at`) -> `completed` with the answer in its thread (at the plan's
`message.created`, `completed_at`) or `failed` (`failed_at`, `last_error`). Each change is
written on the simulator's own clock: with `--event-log`, one line per change
(`"event": "run.running" | "run.completed" | "run.failed" | "run.cancelled"`, `t_mono` when the
record changed), so a poller's "completion seen" compares with the moment it became visible.

An async agent (`agent: {async: true}` in the profile) completes its HTTP run at `run.started`
with an interim message (`is_async` true) and delivers the rest of the plan over Socket.IO
(socketio.py) to the sockets of the run's user and tenant.

A cancel stops a streamed run (routes/control.py) or a pending or running plain run: its record
shows `status: cancelled` and `cancelled_at`; a run already final answers 409.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import TYPE_CHECKING

from wxo_load.mock.agent_tools import interim_message
from wxo_load.mock.plan import MESSAGE_CREATED, RunPlan
from wxo_load.mock.routes.guard import authorized
from wxo_load.mock.routes.http import Scope, Send, json_bytes, now_iso, respond
from wxo_load.mock.routes.messages import assistant_message
from wxo_load.mock.shapes import Claims, RunRecord
from wxo_load.mock.store import ThreadState

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

FINAL = frozenset({"completed", "failed", "cancelled"})
_FAILS = frozenset({"run.failed", "error"})


def run_record(plan: RunPlan) -> RunRecord:
    return {
        "id": plan.run_id,
        "run_id": plan.run_id,
        "thread_id": plan.thread_id,
        "agent_id": plan.agent_id,
        "status": "pending",
        "created_at": now_iso(),
        "started_at": None,
        "completed_at": None,
        "failed_at": None,
        "cancelled_at": None,
        "result": None,
        "last_error": None,
    }


def _log(app: MockApp, plan: RunPlan, event: str, t_sched: float) -> None:
    if app.event_log is not None:
        t = perf_counter()
        app.event_log.add(plan.run_id, plan.thread_id, -1, event, "", t, t, t_sched)


async def start_plain_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    send: Send,
) -> None:
    """Answer the run's ids at once; the record changes at the plan's times."""
    record = run_record(plan)
    app.store.add_run(record)
    loop = asyncio.get_running_loop()
    t0 = perf_counter()
    started = next((e.offset_s for e in plan.events if e.event == "run.started"), 0.0)
    agent = app.profile.agent
    if agent is not None and agent.async_answer:
        end = started
        end_event = "async"
    else:
        hit = next(e for e in plan.events if e.event in (MESSAGE_CREATED, *_FAILS))
        end, end_event = hit.offset_s, hit.event

    def start() -> None:
        if record["status"] == "pending":
            record["status"] = "running"
            record["started_at"] = now_iso()
            _log(app, plan, "run.running", t0 + started)

    def finish() -> None:
        app.plain_timers.pop(plan.run_id, None)
        if record["status"] in FINAL:
            return
        start()
        _finish(app, plan, state, claims, parent_id, record, end_event, t0 + end)

    app.plain_timers[plan.run_id] = [loop.call_later(started, start), loop.call_later(end, finish)]
    ids = {
        "thread_id": plan.thread_id,
        "run_id": plan.run_id,
        "task_id": plan.run_id,
        "message_id": plan.message_id,
    }
    await respond(send, 200, ids)


def _finish(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    record: RunRecord,
    end_event: str,
    t_sched: float,
) -> None:
    """The plain run's end: failed (with the plan's fault) or completed with its message."""
    app.stats.runs_completed += 1
    if end_event in _FAILS:
        record["status"] = "failed"
        record["failed_at"] = record["completed_at"] = now_iso()
        record["last_error"] = {
            "code": 500,
            "message": "The agent failed to produce a response (simulated).",
        }
        _log(app, plan, "run.failed", t_sched)
        return
    message = assistant_message(plan, claims, parent_id)
    if end_event == "async":
        message = interim_message(message)
        from wxo_load.mock.socketio import deliver_async

        deliver_async(app, plan, state, claims, parent_id)
    state.messages.append(json_bytes(message))
    record["status"] = "completed"
    record["completed_at"] = now_iso()
    record["result"] = {"data": {"message": message}}
    _log(app, plan, "run.completed", t_sched)


async def get_run(app: MockApp, scope: Scope, send: Send, run_id: str) -> None:
    if await authorized(app, scope, send) is None:
        return
    record = app.store.runs.get(run_id)
    if record is None:
        await respond(send, 404, {"detail": f"Run {run_id} not found"})
        return
    await respond(send, 200, record)


async def cancel_run(app: MockApp, scope: Scope, send: Send, run_id: str) -> None:
    if await authorized(app, scope, send) is None:
        return
    record = app.store.runs.get(run_id)
    control = app.active_runs.get(run_id)
    if control is not None and not control.finished and not control.cancelled:
        control.cancel()
        if record is None:  # a streamed run: a record from now on, for GET runs/<id>
            record = {"id": run_id, "run_id": run_id, "status": "cancelled"}
            app.store.add_run(record)
    elif control is not None:  # a streamed run whose last event is already written
        await respond(send, 409, {"detail": f"Run {run_id} is already completed."})
        return
    elif record is None:
        await respond(send, 404, {"detail": f"Run {run_id} not found"})
        return
    elif record["status"] in FINAL:
        await respond(send, 409, {"detail": f"Run {run_id} is already {record['status']}."})
        return
    else:
        for handle in app.plain_timers.pop(run_id, []):
            handle.cancel()
        app.stats.runs_cancelled += 1
        if app.event_log is not None:
            t = perf_counter()
            app.event_log.add(
                run_id, str(record.get("thread_id")), -1, "run.cancelled", "", t, t, t
            )
    record["status"] = "cancelled"
    record["cancelled_at"] = now_iso()
    await respond(send, 200, record)
