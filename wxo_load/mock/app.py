"""The simulator as a raw ASGI app (no framework on the hot path): state, lifespan, wiring.

Requests go to `routes/router.py`, which picks the handler (login and tenants, threads, runs,
`/_mock/...`, health) for local and SaaS paths; `store.py` keeps threads, runs and tenants.
With `no_auth` (`--no-auth`) there is no login route and chat needs no token.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from dataclasses import dataclass
from pathlib import Path

from wxo_load.mock.answers import AnswerDecider
from wxo_load.mock.capacity import Capacity, RunSlots
from wxo_load.mock.eventlog import EventLog
from wxo_load.mock.framing import framer
from wxo_load.mock.plan import Planner
from wxo_load.mock.profile_model import Profile
from wxo_load.mock.routes import admin
from wxo_load.mock.routes.chat import V2Threads
from wxo_load.mock.routes.control import StreamControl
from wxo_load.mock.routes.http import Receive, Scope, Send
from wxo_load.mock.routes.router import http
from wxo_load.mock.socketio import Socket, serve_socket
from wxo_load.mock.stats import Stats
from wxo_load.mock.store import Store
from wxo_load.mock.tokens import Keyring

__all__ = [
    "MockApp",
    "Settings",
]

# Measured with bench/simulator_bench.py at 500 runs/s: Python's default (700, 10, 10) gave
# GC pauses up to ~50 ms and lateness p99 ~11 ms; (5000, 10, 1000) gave p99 ~2 ms.
GC_THRESHOLDS = (5000, 10, 1000)


@dataclass
class Settings:
    profile: Profile
    key: bytes
    seed: int | None = None
    token_ttl_s: float | None = None
    event_log: Path | None = None
    run_log: Path | None = None  # a line per run asked for (eventlog.EventLog.add_request)
    stats_dir: Path | None = None  # with --workers N: where workers share their stats
    watch_parent: bool = False  # exit when the process that started us goes away
    accept_any_token: bool = False  # benchmarks: any non-empty bearer is the default tenant's user
    no_auth: bool = False  # no login route; chat accepts requests without a token
    # Idle keep-alive connections are closed after this (uvicorn's default).
    keep_alive_timeout_s: float = 5.0
    framing: str = "ndjson"  # how event lines go on the wire: see mock/framing.py
    # At most N streamed runs at once, the rest queue (capacity.py).
    capacity: Capacity | None = None
    history: Path | None = None  # --history: historical conversations to seed (history.py)
    threads_list: str = "list"  # how thread and message lists are shaped: list | data
    # chat completions v2 (routes/chat.py): on | off (503 on a stateful turn) | echo (`new` back)
    thread_store: str = "on"
    thread_expiry_s: float | None = None  # a stateful v2 thread expires this old (404)
    thread_expiry_turns: int | None = None  # ... or after this many turns
    async_port: int | None = None  # also serve Socket.IO on this port (socketio.py)
    chat_frames: str = "orchestrate"  # chat completions v1 frames: orchestrate | openai


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
        self.store = Store(self.keyring, self.rng, self.stats)
        if settings.history is not None:
            from wxo_load.mock.history import load_history

            load_history(settings.history, self.store)
        self.event_log = EventLog(settings.event_log) if settings.event_log else None
        self.run_log = EventLog(settings.run_log) if settings.run_log else None
        self.framer = framer(settings.framing)
        self.slots = RunSlots(settings.capacity) if settings.capacity else None
        faults = self.profile.answers
        self.answers = AnswerDecider(faults, settings.seed) if faults is not None else None
        self._background: list[asyncio.Task[None]] = []
        # streamed runs in flight, for POST runs/cancel/<id> (routes/control.py)
        self.active_runs: dict[str, StreamControl] = {}
        self.v2_threads = V2Threads()
        self.plain_timers: dict[str, list[asyncio.TimerHandle]] = {}  # routes/plain.py
        self.sockets: dict[tuple[str, str], list[Socket]] = {}  # socketio.py: by tenant, user
        self.deliveries: set[asyncio.Future[None]] = set()  # async runs being delivered
        self.reset_generation = 0  # the last `stats_dir/reset` generation followed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await http(self, scope, receive, send)
        elif kind == "websocket":
            await serve_socket(self, scope, receive, send)
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
        for log in (self.event_log, self.run_log):
            if log is not None:
                self._background.append(asyncio.ensure_future(log.run_flusher()))
        if self.settings.stats_dir is not None:
            self._background.append(asyncio.ensure_future(admin.share_stats(self)))
        if self.settings.watch_parent:
            self._background.append(asyncio.ensure_future(admin.watch_parent(os.getppid())))
        gc.freeze()  # startup objects out of the collector's way: shorter pauses while serving
        # Full collections walk every live object (~80 per open stream) and stall the loop for
        # tens of ms at 1,000 streams: collect young objects in bigger batches, old ones rarely.
        gc.set_threshold(*GC_THRESHOLDS)

    async def shutdown(self) -> None:
        for task in self._background:
            task.cancel()
        for log in (self.event_log, self.run_log):
            if log is not None:
                log.flush()
        if self.settings.stats_dir is not None:
            admin.write_stats_file(self)
