"""The simulator as a raw ASGI app (no framework on the hot path).

Routes are served under `/api/v1/...` (the widget's prefix) and `/v1/...` (the ADK's):
login and tenants, threads and their messages, streamed and plain runs, readiness; plus the
unauthenticated `/_mock/stats` and `/_mock/reset-stats`. A SaaS instance's shape is served
under `/instances/<id>/v1/orchestrate/...` (threads, runs) only: anything else under
`/instances/<id>/` (e.g. `/v1/threads`, `/api/v1/...`) is 404, as on SaaS. With `no_auth`
(`--no-auth`) there is no login route and chat needs no token (a server without auth).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import signal
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import parse_qs

from wxo_load.mock.agent_tools import interim_message
from wxo_load.mock.capacity import Capacity, RunSlots
from wxo_load.mock.eventlog import EventLog
from wxo_load.mock.framing import framer
from wxo_load.mock.plan import DROP, MALFORMED, MESSAGE_CREATED, Planner, RunPlan, encode, rest_of
from wxo_load.mock.profiles import Profile
from wxo_load.mock.stats import Stats, aggregate
from wxo_load.mock.tokens import (
    DEFAULT_TENANT_ID,
    DEFAULT_TENANT_NAME,
    DEFAULT_TENANT_TITLE,
    LOCAL_PASSWORD,
    LOCAL_USER_ID,
    LOCAL_USERNAME,
    Keyring,
    TokenError,
)
from wxo_load.mock.validate import parse_json_body, validate_run_body, validate_thread_body

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

THREAD_KIND = b"thread"
TENANT_KIND = b"tenant"
DEFAULT_AGENT_ID = "0c191f04-78cd-45e3-a99a-988cfb29434d"
MAX_BODY_BYTES = 1 << 20
TIMER_PAD_S = 0.0005
# Measured with bench/simulator_bench.py at 500 runs/s: Python's default (700, 10, 10) gave
# GC pauses up to ~50 ms and lateness p99 ~11 ms; (5000, 10, 1000) gave p99 ~2 ms.
GC_THRESHOLDS = (5000, 10, 1000)
MAX_THREADS_KEPT = 20_000
MAX_RUNS_KEPT = 20_000

_CORS = (b"access-control-allow-origin", b"*")
_JSON_TYPE = (b"content-type", b"application/json")
STREAM_HEADERS = [
    (b"access-control-allow-credentials", b"true"),
    _CORS,
    (b"content-type", b"text/event-stream; charset=utf-8"),
]
_END = {"type": "http.response.body", "body": b"", "more_body": False}


_ANY_TOKEN_CLAIMS: dict[str, Any] = {"sub": "any-token", "tenant_id": DEFAULT_TENANT_ID, "woTenantId": DEFAULT_TENANT_ID}
"""Claims given to every bearer token with --accept-any-token (for hand-written locustfiles)."""


class DropConnection(Exception):
    """Raised mid-stream to make uvicorn close the connection without ending the body."""


class ClientGone(Exception):
    """The client disconnected while we were reading its request."""


@dataclass
class Settings:
    profile: Profile
    key: bytes
    seed: int | None = None
    token_ttl_s: float | None = None
    event_log: Path | None = None
    stats_dir: Path | None = None  # with --workers N: where workers share their stats
    watch_parent: bool = False  # exit when the process that started us goes away
    accept_any_token: bool = False  # benchmarks: any non-empty bearer is the default tenant's user
    no_auth: bool = False  # no login route; chat accepts requests without a token
    keep_alive_timeout_s: float = 5.0  # idle keep-alive connections are closed after this (uvicorn's default)
    framing: str = "ndjson"  # how event lines go on the wire: see mock/framing.py
    capacity: Capacity | None = None  # at most N streamed runs at once, the rest queue (capacity.py)


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_bytes(obj: Any) -> bytes:
    # FastAPI's JSONResponse format (the captured Content-Length 52 of {"thread_id": ...}).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class ThreadState:
    __slots__ = ("agent_id", "title", "messages", "user_turns")

    def __init__(self, agent_id: str, title: str) -> None:
        self.agent_id = agent_id
        self.title = title
        # Kept as encoded JSON: bytes are invisible to the garbage collector, so thousands of
        # threads do not lengthen its pauses (which would show as event lateness).
        self.messages: list[bytes] = []
        self.user_turns = 0


class MockApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.profile = settings.profile
        self.keyring = Keyring(settings.key)
        self.rng = random.Random(settings.seed)
        self.planner = Planner(self.profile, self.rng)
        self.stats = Stats(self.profile.name)
        ttl = settings.token_ttl_s if settings.token_ttl_s is not None else self.profile.token_ttl_s
        self.token_ttl_s = ttl
        self.threads: OrderedDict[str, ThreadState] = OrderedDict()
        self.runs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.tenants: dict[str, dict[str, Any]] = {
            DEFAULT_TENANT_ID: {
                "id": DEFAULT_TENANT_ID,
                "name": DEFAULT_TENANT_NAME,
                "title": DEFAULT_TENANT_TITLE,
                "tags": ["test"],
            }
        }
        self.event_log = EventLog(settings.event_log) if settings.event_log else None
        self.framer = framer(settings.framing)
        self.slots = RunSlots(settings.capacity) if settings.capacity else None
        self._background: list[asyncio.Task[None]] = []
        self._reset_generation = 0

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_background()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start_background(self) -> None:
        if self.event_log is not None:
            self._background.append(asyncio.ensure_future(self.event_log.run_flusher()))
        if self.settings.stats_dir is not None:
            self._background.append(asyncio.ensure_future(self._share_stats()))
        if self.settings.watch_parent:
            self._background.append(asyncio.ensure_future(_watch_parent(os.getppid())))
        gc.freeze()  # startup objects out of the collector's way: shorter pauses while serving
        # Full collections walk every live object (~80 per open stream) and stall the loop for
        # tens of ms at 1,000 streams: collect young objects in bigger batches, old ones rarely.
        gc.set_threshold(*GC_THRESHOLDS)

    async def shutdown(self) -> None:
        for task in self._background:
            task.cancel()
        if self.event_log is not None:
            self.event_log.flush()
        if self.settings.stats_dir is not None:
            self._write_stats_file()

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/api/v1/"):
            sub = path[7:]
        elif path.startswith("/v1/"):
            sub = path[3:]
        elif path.startswith("/_mock/"):
            await self.mock_route(path, method, send)
            return
        elif path.startswith("/instances/") and _instance_sub(path) is not None:
            sub = _instance_sub(path) or ""
        else:
            await self.respond(send, 404, {"detail": "Not Found"})
            return
        try:
            await self.route(sub, method, scope, receive, send)
        except ClientGone:
            return

    async def route(
        self, sub: str, method: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if sub.startswith("/orchestrate/"):
            rest = sub[12:]
            if rest in ("/runs", "/runs/stream"):
                if method != "POST":
                    await self.respond(send, 405, {"detail": "Method Not Allowed"})
                    return
                stream = rest == "/runs/stream" or _query_flag(scope, b"stream")
                await self.create_run(scope, receive, send, stream=stream)
                return
            if rest.startswith("/runs/") and method == "GET":
                await self.get_run(scope, send, rest[6:])
                return
            if rest.startswith("/threads"):  # the ADK's SaaS spelling
                sub = rest
        if sub == "/threads":
            if method == "POST":
                await self.create_thread(scope, receive, send)
            else:
                await self.respond(send, 405, {"detail": "Method Not Allowed"})
            return
        if sub.startswith("/threads/") and sub.endswith("/messages") and method == "GET":
            await self.thread_messages(scope, send, sub[9:-9])
            return
        if sub == "/auth/token" and method == "POST" and not self.settings.no_auth:
            await self.login(scope, receive, send)
            return
        if sub == "/tenants":
            await self.tenants_route(scope, method, receive, send)
            return
        if sub in ("/health/ready", "/health/alive", "/health") and method == "GET":
            await self.respond(send, 200, {"status": "ok"})
            return
        await self.respond(send, 404, {"detail": "Not Found"})

    # ------------------------------------------------------------------ helpers

    async def respond(
        self,
        send: Send,
        status: int,
        obj: Any,
        headers: list[tuple[bytes, bytes]] | None = None,
        *,
        text: str | None = None,
    ) -> None:
        if text is not None:
            body = text.encode()
            out = [(b"content-type", b"text/plain; charset=utf-8"), _CORS]
        else:
            body = _json_bytes(obj)
            out = [_JSON_TYPE, _CORS]
        out.append((b"content-length", str(len(body)).encode()))
        if headers:
            out.extend(headers)
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY_BYTES:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def bearer_claims(self, scope: Scope) -> tuple[dict[str, Any] | None, str]:
        """(claims, '') for a valid bearer token, else (None, why)."""
        token = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                text = value.decode("latin-1")
                if text[:7].lower() == "bearer ":
                    token = text[7:].strip()
                break
        if self.settings.no_auth:
            return _ANY_TOKEN_CLAIMS, ""
        if not token:
            return None, "Not authenticated"
        if self.settings.accept_any_token:
            return _ANY_TOKEN_CLAIMS, ""
        try:
            return self.keyring.verify(token), ""
        except TokenError as exc:
            return None, str(exc)

    async def unauthorized(self, send: Send, why: str) -> None:
        await self.respond(send, 401, {"detail": why}, [(b"www-authenticate", b"Bearer")])

    async def chat_guard(self, scope: Scope, send: Send) -> dict[str, Any] | None:
        """HTTP faults, then the bearer check, as a gateway and the real server would."""
        fault = self.planner.http_fault()
        if fault is not None:
            self.stats.fault(fault)
            await self.send_http_fault(send, fault)
            return None
        claims, why = self.bearer_claims(scope)
        if claims is None:
            await self.unauthorized(send, why)
            return None
        if not claims.get("tenant_id"):
            await self.unauthorized(
                send,
                "Token has no tenant: get a tenant token with POST /api/v1/auth/token?tenant_id=<id>",
            )
            return None
        return claims

    async def send_http_fault(self, send: Send, fault: str) -> None:
        if fault == "http_429":
            retry = str(self.profile.faults.retry_after_s).encode()
            await self.respond(
                send, 429, {"detail": "Too Many Requests"}, [(b"retry-after", retry)]
            )
        elif fault == "http_500":
            await self.respond(send, 500, None, text="Internal Server Error")
        elif fault == "http_503":
            await self.respond(send, 503, {"detail": "Service Unavailable"})
        else:  # token_expiry
            await self.unauthorized(send, "Token has expired")

    def thread_state(
        self, thread_id: str, agent_id: str = "", title: str = ""
    ) -> ThreadState | None:
        state = self.threads.get(thread_id)
        if state is not None:
            self.threads.move_to_end(thread_id)
            return state
        if not self.keyring.check_signed_uuid(THREAD_KIND, thread_id):
            return None
        # Minted by this simulator (maybe by another worker, or forgotten): adopt it.
        state = ThreadState(agent_id, title)
        self.threads[thread_id] = state
        if len(self.threads) > MAX_THREADS_KEPT:
            self.threads.popitem(last=False)
        return state

    def new_thread(self, agent_id: str, title: str) -> str:
        thread_id = self.keyring.new_signed_uuid(THREAD_KIND, self.rng.getrandbits(64))
        self.thread_state(thread_id, agent_id, title)
        self.stats.threads_created += 1
        return thread_id

    # ------------------------------------------------------------------ login

    async def login(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await self.read_body(receive)
        form = parse_qs(raw.decode("utf-8", "replace"))
        errors = [
            {"type": "missing", "loc": ["body", key], "msg": "Field required", "input": None}
            for key in ("username", "password")
            if not form.get(key)
        ]
        if errors:
            await self.respond(send, 422, {"detail": errors})
            return
        if form["username"][0] != LOCAL_USERNAME or form["password"][0] != LOCAL_PASSWORD:
            await self.unauthorized(send, "Incorrect username or password")
            return
        claims: dict[str, Any] = {
            "sub": LOCAL_USER_ID,
            "username": LOCAL_USERNAME,
            "aud": "authenticated",
        }
        tenant_id = _query_value(scope, b"tenant_id")
        if tenant_id:
            if tenant_id not in self.tenants and not self.keyring.check_signed_uuid(
                TENANT_KIND, tenant_id
            ):
                await self.respond(send, 404, {"detail": f"Tenant {tenant_id} not found"})
                return
            claims.update(tenant_id=tenant_id, woTenantId=tenant_id, woUserId=LOCAL_USER_ID)
        token = self.keyring.issue(claims, self.token_ttl_s)
        body: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
        if self.token_ttl_s is not None:
            body["expires_in"] = self.token_ttl_s
        await self.respond(send, 200, body)

    async def tenants_route(self, scope: Scope, method: str, receive: Receive, send: Send) -> None:
        if method not in ("GET", "POST"):
            await self.respond(send, 405, {"detail": "Method Not Allowed"})
            return
        claims, why = self.bearer_claims(scope)
        if claims is None:
            await self.unauthorized(send, why)
            return
        if method == "GET":
            await self.respond(send, 200, list(self.tenants.values()))
            return
        body, errors = parse_json_body(await self.read_body(receive))
        if not errors:
            if not isinstance(body, dict):
                errors = validate_thread_body(body)
            elif not isinstance(body.get("name"), str) or not body["name"]:
                errors = [
                    {
                        "type": "missing",
                        "loc": ["body", "name"],
                        "msg": "Field required",
                        "input": body,
                    }
                ]
        if errors:
            await self.respond(send, 422, {"detail": errors})
            return
        name = body["name"]
        if any(t["name"] == name for t in self.tenants.values()):
            await self.respond(send, 409, {"detail": f"Tenant {name} already exists"})
            return
        bits = int.from_bytes(self.keyring._tag(b"tenant-name", name.encode()), "big")
        tenant_id = self.keyring.new_signed_uuid(TENANT_KIND, bits)
        tenant = {
            "id": tenant_id,
            "name": name,
            "title": body.get("title", name),
            "tags": body.get("tags", []),
        }
        self.tenants[tenant_id] = tenant
        await self.respond(send, 201, tenant)

    # ------------------------------------------------------------------ threads

    async def create_thread(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await self.read_body(receive)
        claims = await self.chat_guard(scope, send)
        if claims is None:
            return
        body, errors = parse_json_body(raw) if raw else ({}, [])
        errors = errors or validate_thread_body(body)
        if errors:
            await self.respond(send, 422, {"detail": errors})
            return
        thread_id = self.new_thread(body.get("agent_id") or "", body.get("title") or "")
        await self.respond(
            send, 201, {"thread_id": thread_id}, [(b"location", f"/threads/{thread_id}".encode())]
        )

    async def thread_messages(self, scope: Scope, send: Send, thread_id: str) -> None:
        claims, why = self.bearer_claims(scope)
        if claims is None:
            await self.unauthorized(send, why)
            return
        state = self.thread_state(thread_id)
        if state is None:
            await self.respond(send, 404, {"detail": f"Thread {thread_id} not found"})
            return
        body = b"[" + b",".join(state.messages) + b"]"
        headers = [_JSON_TYPE, _CORS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    # ------------------------------------------------------------------ runs

    async def create_run(self, scope: Scope, receive: Receive, send: Send, *, stream: bool) -> None:
        t0 = perf_counter()
        raw = await self.read_body(receive)
        claims = await self.chat_guard(scope, send)
        if claims is None:
            return
        body, errors = parse_json_body(raw)
        errors = errors or validate_run_body(body)
        if errors:
            await self.respond(send, 422, {"detail": errors})
            return
        agent_id = body.get("agent_id") or DEFAULT_AGENT_ID
        thread_id = body.get("thread_id")
        if thread_id:
            state = self.thread_state(thread_id)
            if state is None:
                await self.respond(send, 404, {"detail": f"Thread {thread_id} not found"})
                return
        else:  # no thread: the server starts one, as the ADK relies on
            thread_id = self.new_thread(agent_id, "")
            state = self.threads[thread_id]
        state.user_turns += 1
        plan = self.planner.plan(thread_id=thread_id, agent_id=agent_id, turn=state.user_turns)
        self.stats.run_started()
        if plan.fault is not None:
            self.stats.fault(plan.fault)
        user_message = self.user_message(claims, thread_id, body["message"])
        state.messages.append(_json_bytes(user_message))
        if stream and self.slots is not None:
            await self.stream_run_in_line(plan, state, claims, user_message["id"], receive, send)
        elif stream:
            await self.stream_run(plan, state, claims, user_message["id"], t0, receive, send)
        else:
            await self.start_plain_run(plan, state, claims, user_message["id"], send)

    def user_message(
        self, claims: dict[str, Any], thread_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        content = message.get("content")
        if isinstance(content, str):
            content = [{"response_type": "text", "text": content}]
        now = _now_iso()
        return {
            "id": self.planner.new_uuid(),
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

    def assistant_message(
        self, plan: RunPlan, claims: dict[str, Any], parent_id: str
    ) -> dict[str, Any]:
        now = _now_iso()
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

    def message_created_rest(self, plan: RunPlan, message: dict[str, Any]) -> bytes:
        data = {
            "thread_id": plan.thread_id,
            "message_id": plan.message_id,
            "agent_id": plan.agent_id,
            "run_id": plan.run_id,
            "message": message,
        }
        if plan.trace_id is not None:
            data["trace_id"] = plan.trace_id
        return rest_of(MESSAGE_CREATED, encode(data))

    async def stream_run(
        self,
        plan: RunPlan,
        state: ThreadState,
        claims: dict[str, Any],
        parent_id: str,
        t0: float,
        receive: Receive,
        send: Send,
    ) -> None:
        stats = self.stats
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        stats.stream_opened()
        gone = asyncio.ensure_future(receive())
        try:
            finished = await self.write_events(plan, state, claims, parent_id, t0, send, gone)
            if finished:
                await send(_END)
                stats.runs_completed += 1
        finally:
            stats.stream_closed()
            gone.cancel()

    async def stream_run_in_line(
        self, plan: RunPlan, state: ThreadState, claims: dict[str, Any], parent_id: str, receive: Receive, send: Send
    ) -> None:
        """With a capacity: wait for a slot (FIFO), then stream with the plan's times from then."""
        slots = self.slots
        assert slots is not None
        if not await slots.enter():
            await self.send_http_fault(send, "http_429" if slots.capacity.reject_status == 429 else "http_503")
            return
        try:
            await self.stream_run(plan, state, claims, parent_id, perf_counter(), receive, send)
        finally:
            slots.leave()

    async def write_events(
        self,
        plan: RunPlan,
        state: ThreadState,
        claims: dict[str, Any],
        parent_id: str,
        t0: float,
        send: Send,
        gone: asyncio.Future[Message],
    ) -> bool:
        """Write each planned event at its time; False when the client left first."""
        record = self.stats.lateness.record
        log = self.event_log
        sleep = asyncio.sleep
        clock = time.time
        last_ms = 0
        seq = 0
        for index, ev in enumerate(plan.events):
            t_sched = t0 + ev.offset_s
            delay = t_sched - perf_counter()
            while delay > 0:
                # The loop's timers have millisecond resolution and may fire up to ~1 ms early:
                # a half-millisecond pad avoids a train of early wake-ups (CPU) at ~0.5 ms cost.
                await sleep(delay + TIMER_PAD_S)
                delay = t_sched - perf_counter()
            if gone.done():
                return False
            now_ms = int(clock() * 1000)
            if now_ms > last_ms:
                last_ms, seq = now_ms, 0
            else:
                seq += 1
            event_id = f"{last_ms}-{seq}"
            name = ev.event
            rest = ev.rest
            if name == MESSAGE_CREATED and ev.tag:  # an async agent's interim message
                rest = self.message_created_rest(plan, interim_message(self.assistant_message(plan, claims, parent_id)))
            elif name == MESSAGE_CREATED:
                message = self.assistant_message(plan, claims, parent_id)
                state.messages.append(_json_bytes(message))
                rest = self.message_created_rest(plan, message)
            elif name == MALFORMED:
                rest = (
                    f'", "event": "message.delta", "data": {{"thread_id": "{plan.thread_id}", "run_'.encode()
                    + b"\n"
                )
            elif name == DROP:
                raise DropConnection(plan.run_id)
            line = b'{"id": "' + event_id.encode() + rest
            t_mono = perf_counter()
            if self.framer is None:
                await send({"type": "http.response.body", "body": line, "more_body": True})
            else:
                for piece in self.framer(line):
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
            record(t_mono - t_sched)
            if log is not None:
                log.add(plan.run_id, plan.thread_id, index, name, event_id, t_mono, t_sched, ev.tag)
        self.stats.events_written += len(plan.events)
        return True

    async def start_plain_run(
        self, plan: RunPlan, state: ThreadState, claims: dict[str, Any], parent_id: str, send: Send
    ) -> None:
        """Without stream=true: answer the run's ids at once; the run completes in the background."""
        failed = plan.fault in ("run_failed", "error_event")
        record: dict[str, Any] = {
            "id": plan.run_id,
            "run_id": plan.run_id,
            "thread_id": plan.thread_id,
            "agent_id": plan.agent_id,
            "status": "in_progress",
            "created_at": _now_iso(),
            "completed_at": None,
            "result": None,
            "last_error": None,
        }
        self.runs[plan.run_id] = record
        if len(self.runs) > MAX_RUNS_KEPT:
            self.runs.popitem(last=False)

        def finish() -> None:
            record["completed_at"] = _now_iso()
            self.stats.runs_completed += 1
            if failed:
                record["status"] = "failed"
                record["last_error"] = {
                    "code": 500,
                    "message": "The agent failed to produce a response (simulated).",
                }
                return
            message = self.assistant_message(plan, claims, parent_id)
            state.messages.append(_json_bytes(message))
            record["status"] = "completed"
            record["result"] = {"data": {"message": message}}

        created = next(
            e.offset_s for e in plan.events if e.event in (MESSAGE_CREATED, "run.failed", "error")
        )
        asyncio.get_running_loop().call_later(created, finish)
        await self.respond(
            send,
            200,
            {
                "thread_id": plan.thread_id,
                "run_id": plan.run_id,
                "task_id": plan.run_id,
                "message_id": plan.message_id,
            },
        )

    async def get_run(self, scope: Scope, send: Send, run_id: str) -> None:
        claims, why = self.bearer_claims(scope)
        if claims is None:
            await self.unauthorized(send, why)
            return
        record = self.runs.get(run_id)
        if record is None:
            await self.respond(send, 404, {"detail": f"Run {run_id} not found"})
            return
        await self.respond(send, 200, record)

    # ------------------------------------------------------------------ self-measurement

    async def mock_route(self, path: str, method: str, send: Send) -> None:
        if path == "/_mock/stats" and method == "GET":
            await self.respond(send, 200, self.stats_answer())
        elif path == "/_mock/reset-stats" and method == "POST":
            self.reset_stats()
            await self.respond(send, 200, {"reset": True})
        else:
            await self.respond(send, 404, {"detail": "Not Found"})

    def stats_answer(self) -> dict[str, Any]:
        own = self.stats.to_wire()
        if self.slots is not None:
            own["capacity"] = self.slots.snapshot()
        stats_dir = self.settings.stats_dir
        if stats_dir is None:
            own.pop("lateness_wire")
            own["workers"] = 1
            return own
        wires = [own]
        for file in sorted(stats_dir.glob("worker-*.json")):
            if file.name == f"worker-{own['pid']}.json":
                continue
            try:
                wires.append(json.loads(file.read_text()))
            except (OSError, ValueError):
                continue
        out = aggregate(wires)
        out.update(
            pid=own["pid"],
            profile=self.profile.name,
            workers=len(wires),
            per_worker=[{k: v for k, v in w.items() if k != "lateness_wire"} for w in wires],
        )
        return out

    def reset_stats(self) -> None:
        self.stats.reset()
        stats_dir = self.settings.stats_dir
        if stats_dir is not None:
            marker = stats_dir / "reset"
            generation = self._read_generation(marker) + 1
            self._reset_generation = generation
            tmp = stats_dir / f"reset.{id(self)}.tmp"
            tmp.write_text(str(generation))
            tmp.replace(marker)
            self._write_stats_file()

    @staticmethod
    def _read_generation(marker: Path) -> int:
        try:
            return int(marker.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def _write_stats_file(self) -> None:
        stats_dir = self.settings.stats_dir
        assert stats_dir is not None
        wire = self.stats.to_wire()
        tmp = stats_dir / f"worker-{wire['pid']}.tmp"
        tmp.write_text(json.dumps(wire))
        tmp.replace(stats_dir / f"worker-{wire['pid']}.json")

    async def _share_stats(self) -> None:
        stats_dir = self.settings.stats_dir
        assert stats_dir is not None
        while True:
            generation = self._read_generation(stats_dir / "reset")
            if generation > self._reset_generation:
                self._reset_generation = generation
                self.stats.reset()
            self._write_stats_file()
            await asyncio.sleep(0.25)


async def _watch_parent(ppid: int) -> None:
    """Stop (as on SIGTERM) when the parent process is gone, so no simulator outlives its user."""
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != ppid:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def _instance_sub(path: str) -> str | None:
    """`/instances/<id>/v1/orchestrate/rest` -> `/orchestrate/rest`; None for any other shape."""
    parts = path.split("/", 3)  # ['', 'instances', '<id>', 'v1/orchestrate/...']
    if len(parts) < 4 or not parts[2] or not parts[3].startswith("v1/orchestrate/"):
        return None
    return "/" + parts[3][3:]


def _query_value(scope: Scope, key: bytes) -> str:
    qs: bytes = scope.get("query_string", b"")
    if not qs:
        return ""
    for part in qs.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == key:
            from urllib.parse import unquote

            return unquote(value.decode("latin-1"))
    return ""


def _query_flag(scope: Scope, key: bytes) -> bool:
    return _query_value(scope, key).lower() in ("true", "1", "yes")
