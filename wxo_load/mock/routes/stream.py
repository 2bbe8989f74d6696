"""The streamed run: each planned event written at its time, one line each (see framing.py).

With a capacity (capacity.py) a streamed run first waits for a slot, first come first served,
and its plan's times count from when it gets one.
"""

from __future__ import annotations

import time
from time import perf_counter
from typing import TYPE_CHECKING

from wxo_load.mock.agent_tools import interim_message
from wxo_load.mock.plan import DROP, MALFORMED, MESSAGE_CREATED, PlannedEvent, RunPlan
from wxo_load.mock.routes.control import StreamControl
from wxo_load.mock.routes.guard import send_http_fault
from wxo_load.mock.routes.http import (
    END,
    STREAM_HEADERS,
    DropConnection,
    Receive,
    Send,
    json_bytes,
)
from wxo_load.mock.routes.messages import assistant_message, message_created_rest
from wxo_load.mock.shapes import Claims
from wxo_load.mock.store import ThreadState

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

TIMER_PAD_S = 0.0005
_SPECIAL = frozenset({MESSAGE_CREATED, MALFORMED, DROP})


async def stream_run(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    t0: float,
    receive: Receive,
    send: Send,
) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    control = StreamControl(app, plan.run_id, receive)
    try:
        finished = await write_events(app, plan, state, claims, parent_id, t0, send, control)
        if control.cancelled:
            await _write_cancelled(app, plan, send)
            finished = True
        if finished:
            await send(END)
            app.stats.runs_completed += 1
    finally:
        control.close()


async def stream_run_in_line(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    receive: Receive,
    send: Send,
) -> None:
    """With a capacity: wait for a slot (FIFO), then stream with the plan's times from then."""
    slots = app.slots
    assert slots is not None
    if not await slots.enter():
        fault = "http_429" if slots.capacity.reject_status == 429 else "http_503"
        await send_http_fault(app, send, fault)
        return
    try:
        await stream_run(app, plan, state, claims, parent_id, perf_counter(), receive, send)
    finally:
        slots.leave()


async def write_events(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    t0: float,
    send: Send,
    control: StreamControl,
) -> bool:
    """Write each planned event at its time; False when the client left first or the run was
    cancelled (`control.cancelled`)."""
    record = app.stats.lateness.record
    log = app.event_log
    framer = app.framer
    sleep = control.sleep
    gone = control.gone
    clock = time.time
    last_ms = 0
    seq = 0
    for index, ev in enumerate(plan.events):
        t_sched = t0 + ev.offset_s
        delay = t_sched - perf_counter()
        while delay > 0:
            # The loop's timers have millisecond resolution and may fire up to ~1 ms early:
            # a half-millisecond pad avoids a train of early wake-ups (CPU) at ~0.5 ms cost.
            if not await sleep(delay + TIMER_PAD_S):
                return False
            delay = t_sched - perf_counter()
        if gone.done() or control.cancelled:
            return False
        now_ms = int(clock() * 1000)
        if now_ms > last_ms:
            last_ms, seq = now_ms, 0
        else:
            seq += 1
        event_id = f"{last_ms}-{seq}"
        rest = (
            _special_rest(plan, ev, state, claims, parent_id) if ev.event in _SPECIAL else ev.rest
        )
        line = b'{"id": "' + event_id.encode() + rest
        t_mono = perf_counter()
        if framer is None:
            await send({"type": "http.response.body", "body": line, "more_body": True})
        else:
            for piece in framer(line):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        record(t_mono - t_sched)
        if log is not None:
            t_sent = perf_counter()  # the event's last byte handed over (framings write pieces)
            log.add(plan.run_id, plan.thread_id, index, ev.event, event_id, t_mono, t_sent, t_sched,
                    ev.tag)  # fmt: skip
    app.stats.events_written += len(plan.events)
    control.finished = True
    return True


async def _write_cancelled(app: MockApp, plan: RunPlan, send: Send) -> None:
    """A cancelled stream's last line, `run.cancelled` (the API reference's event name)."""
    app.stats.runs_cancelled += 1
    now = time.time()
    line = (
        f'{{"id": "{int(now * 1000)}-0", "event": "run.cancelled", "data": {{"run_id": '
        f'"{plan.run_id}", "thread_id": "{plan.thread_id}", "cancelled_at": {now!r}}}}}\n'
    ).encode()
    t_mono = perf_counter()
    pieces = [line] if app.framer is None else app.framer(line)
    for piece in pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    if app.event_log is not None:
        t_sent = perf_counter()
        app.event_log.add(plan.run_id, plan.thread_id, -1, "run.cancelled", "", t_mono, t_sent,
                          t_mono)  # fmt: skip


def _special_rest(
    plan: RunPlan, ev: PlannedEvent, state: ThreadState, claims: Claims, parent_id: str
) -> bytes:
    """The line after the id of a message.created (stored), a malformed line, or a drop."""
    name = ev.event
    if name == MESSAGE_CREATED and ev.tag:  # an async agent's interim message
        interim = interim_message(assistant_message(plan, claims, parent_id))
        return message_created_rest(plan, interim)
    if name == MESSAGE_CREATED:
        message = assistant_message(plan, claims, parent_id)
        state.messages.append(json_bytes(message))
        return message_created_rest(plan, message)
    if name == MALFORMED:
        return (
            f'", "event": "message.delta", "data": {{"thread_id": "{plan.thread_id}", '
            '"run_'.encode()
            + b"\n"
        )
    raise DropConnection(plan.run_id)
