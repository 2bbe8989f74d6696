"""The simulator's own routes: `/_mock/stats`, `/_mock/reset-stats` (no auth) and health.

With `--workers N` each worker writes its stats to `stats_dir/worker-<pid>.json` (every 0.25 s)
and answers `/_mock/stats` with all workers' aggregate; a reset bumps `stats_dir/reset`, which
every worker follows.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from wxo_load.mock.routes.http import Send, not_found, respond, respond_raw_json
from wxo_load.mock.stats import StatsTotal, WorkerStats, aggregate

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

HEALTH_PATHS = ("/health/ready", "/health/alive", "/health")


async def health(send: Send) -> None:
    await respond(send, 200, {"status": "ok"})


async def mock_route(app: MockApp, path: str, method: str, send: Send) -> None:
    if path == "/_mock/stats" and method == "GET":
        await respond_raw_json(send, 200, msgspec.json.encode(stats_answer(app)))
    elif path == "/_mock/reset-stats" and method == "POST":
        reset_stats(app)
        await respond(send, 200, {"reset": True})
    else:
        await not_found(send)


def stats_answer(app: MockApp) -> WorkerStats | StatsTotal:
    own = app.stats.snapshot()
    if app.slots is not None:
        own.capacity = app.slots.snapshot()
    stats_dir = app.settings.stats_dir
    if stats_dir is None:
        own.lateness_wire = None
        own.workers = 1
        return own
    wires = [own]
    for file in sorted(stats_dir.glob("worker-*.json")):
        if file.name == f"worker-{own.pid}.json":
            continue
        try:
            wires.append(_WIRE.decode(file.read_bytes()))
        except (OSError, msgspec.ValidationError, msgspec.DecodeError):
            continue
    return aggregate(wires, own.pid, app.profile.name)


_WIRE = msgspec.json.Decoder(WorkerStats)


def reset_stats(app: MockApp) -> None:
    app.stats.reset()
    stats_dir = app.settings.stats_dir
    if stats_dir is not None:
        marker = stats_dir / "reset"
        generation = read_generation(marker) + 1
        app.reset_generation = generation
        tmp = stats_dir / f"reset.{id(app)}.tmp"
        tmp.write_text(str(generation))
        tmp.replace(marker)
        write_stats_file(app)


def read_generation(marker: Path) -> int:
    try:
        return int(marker.read_text() or 0)
    except (OSError, ValueError):
        return 0


def write_stats_file(app: MockApp) -> None:
    stats_dir = app.settings.stats_dir
    assert stats_dir is not None
    wire = app.stats.snapshot()
    tmp = stats_dir / f"worker-{wire.pid}.tmp"
    tmp.write_bytes(msgspec.json.encode(wire))
    tmp.replace(stats_dir / f"worker-{wire.pid}.json")


async def share_stats(app: MockApp) -> None:
    """Background: follow other workers' resets and publish this worker's stats."""
    stats_dir = app.settings.stats_dir
    assert stats_dir is not None
    while True:
        generation = read_generation(stats_dir / "reset")
        if generation > app.reset_generation:
            app.reset_generation = generation
            app.stats.reset()
        write_stats_file(app)
        await asyncio.sleep(0.25)


async def watch_parent(ppid: int) -> None:
    """Stop (as on SIGTERM) when the parent process is gone, so no simulator outlives its user."""
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != ppid:
            os.kill(os.getpid(), signal.SIGTERM)
            return
