"""Async agents' Socket.IO channel: `ws://<host>/api/async/?userId=…&tenantId=…&EIO=4&transport=websocket`.

A minimal Engine.IO v4 / Socket.IO v5 server, WebSocket transport only (what IBM's ADK opens),
on uvicorn's WebSocket support: `0{sid, upgrades: [], pingInterval, pingTimeout}` on open, `40`
answered `40{"sid"}`, a `2` ping every `PING_INTERVAL_MS` answered `3`, `41` to leave. Not
python-socketio's server: its emit queues a packet for a writer task, so the moment a frame
reaches the transport is not the moment we could stamp; here each event is stamped in
`--event-log` just before and after its frame is handed to the transport, as every other channel
is, and nothing is imported unless a socket connects.

The bearer token goes in the upgrade's `Authorization` header (checked as on every chat route;
a bad one is refused before the upgrade, HTTP 403). A socket joins the room of its `userId` and
`tenantId` (from the query, else the token's `sub` and `woTenantId`). An async agent's run
(plain.py) is delivered to every socket of its user and tenant as
`42["<event>", {"id", "event", "data"}]`, the event name of the payload also the Socket.IO
event name (GUESS: the ADK reads only the payload's `event`), from the plan: `run.started` …
`message.created` (the answer, `is_async` false, stored in the thread) … `run.completed`, `done`.
Events for a room with no socket are dropped (counted in `async_events_undelivered`); a socket
that leaves while a run is being delivered to it counts in `sockets_left_mid_answer`.
"""

from __future__ import annotations

import asyncio
import json
from time import perf_counter
from typing import TYPE_CHECKING

from wxo_load.mock.plan import DROP, MALFORMED, MESSAGE_CREATED, RunPlan
from wxo_load.mock.routes.guard import bearer_claims
from wxo_load.mock.routes.http import Receive, Scope, Send, json_bytes, query_value
from wxo_load.mock.routes.messages import assistant_message, message_created_rest
from wxo_load.mock.routes.paced import EventIds
from wxo_load.mock.routes.stream import TIMER_PAD_S
from wxo_load.mock.shapes import Claims
from wxo_load.mock.store import ThreadState

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

ASYNC_PATH = "/api/async"
PING_INTERVAL_MS = 25_000
PING_TIMEOUT_MS = 20_000
Room = tuple[str, str]  # (tenant id, user id)


class Socket:
    __slots__ = ("send", "room", "closed")

    def __init__(self, send: Send, room: Room) -> None:
        self.send = send
        self.room = room
        self.closed = False

    async def write(self, text: str) -> bool:
        if self.closed:
            return False
        try:
            await self.send({"type": "websocket.send", "text": text})
        except Exception:  # the peer went away mid-write: uvicorn tells us on receive too
            self.closed = True
            return False
        return True


async def serve_socket(app: MockApp, scope: Scope, receive: Receive, send: Send) -> None:
    """One Engine.IO connection, from the upgrade to the close."""
    if scope["path"].rstrip("/") != ASYNC_PATH:
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    claims, _why = bearer_claims(app, scope)
    await receive()  # websocket.connect
    if claims is None or query_value(scope, b"EIO") != "4":
        await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
        return
    user = query_value(scope, b"userId") or str(claims.get("sub") or "")
    tenant = query_value(scope, b"tenantId") or str(
        claims.get("woTenantId") or claims.get("tenant_id") or ""
    )
    sid = app.planner.new_uuid().replace("-", "")[:20]
    await send({"type": "websocket.accept"})
    handshake = {
        "sid": sid,
        "upgrades": [],
        "pingInterval": PING_INTERVAL_MS,
        "pingTimeout": PING_TIMEOUT_MS,
        "maxPayload": 1_000_000,
    }
    sock = Socket(send, (tenant, user))
    await sock.write("0" + json.dumps(handshake))
    pinger = asyncio.ensure_future(_ping(sock))
    try:
        await _read(app, sock, receive, sid)
    finally:
        pinger.cancel()
        sock.closed = True
        _leave(app, sock)


async def _read(app: MockApp, sock: Socket, receive: Receive, sid: str) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text") or ""
        if text.startswith("40"):
            app.sockets.setdefault(sock.room, []).append(sock)
            app.stats.sockets_connected += 1
            await sock.write("40" + json.dumps({"sid": sid + "-io"}))
        elif text == "2":
            await sock.write("3")
        elif text.startswith("41") or text == "1":
            await sock.send({"type": "websocket.close", "code": 1000})
            return


async def _ping(sock: Socket) -> None:
    while not sock.closed:
        await asyncio.sleep(PING_INTERVAL_MS / 1000)
        await sock.write("2")


def _leave(app: MockApp, sock: Socket) -> None:
    members = app.sockets.get(sock.room)
    if members and sock in members:
        members.remove(sock)
        if not members:
            del app.sockets[sock.room]


def deliver_async(
    app: MockApp, plan: RunPlan, state: ThreadState, claims: Claims, parent_id: str
) -> None:
    """Deliver the rest of an async agent's run to its user's sockets, at the plan's times
    (counted from now, the moment its HTTP run completed with the interim message)."""
    room = (str(claims.get("woTenantId") or claims.get("tenant_id") or ""), str(claims.get("sub")))
    task = asyncio.ensure_future(_deliver(app, plan, state, claims, parent_id, room))
    app.deliveries.add(task)
    task.add_done_callback(app.deliveries.discard)


async def _deliver(
    app: MockApp,
    plan: RunPlan,
    state: ThreadState,
    claims: Claims,
    parent_id: str,
    room: Room,
) -> None:
    agent = app.profile.agent
    delay_ms = agent.async_delay_ms.sample(app.rng) if agent is not None else 0.0
    t0 = perf_counter() + delay_ms / 1000.0
    base = next((e.offset_s for e in plan.events if e.event == "run.started"), 0.0)
    ids = EventIds()
    log = app.event_log
    stats = app.stats
    reached: set[Socket] = set()
    for index, ev in enumerate(plan.events):
        if ev.event in (MALFORMED, DROP):  # the stream-cut faults end the delivery
            break
        if ev.event == MESSAGE_CREATED and ev.tag:  # the interim went with the HTTP run
            continue
        t_sched = t0 + max(0.0, ev.offset_s - base)
        delay = t_sched - perf_counter()
        if delay > 0:
            await asyncio.sleep(delay + TIMER_PAD_S)
        event_id = ids.next()
        if ev.event == MESSAGE_CREATED:
            message = assistant_message(plan, claims, parent_id)
            state.messages.append(json_bytes(message))
            rest = message_created_rest(plan, message)
        else:
            rest = ev.rest
        packet = f'42["{ev.event}",' + '{"id": "' + event_id + rest.decode().rstrip("\n") + "]"
        members = list(app.sockets.get(room, ()))
        if not members:
            stats.async_events_undelivered += 1
            continue
        t_mono = perf_counter()
        for sock in members:
            if await sock.write(packet):
                reached.add(sock)
                stats.async_events_written += 1
        stats.lateness.record(t_mono - t_sched)
        if log is not None:
            log.add(plan.run_id, plan.thread_id, index, ev.event, event_id, t_mono, perf_counter(),
                    t_sched, ev.tag)  # fmt: skip
    stats.sockets_left_mid_answer += sum(1 for s in reached if s.closed)
