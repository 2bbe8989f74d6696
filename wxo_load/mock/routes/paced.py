"""The paced writer of the channels other than the widget's: each planned event at its time,
rendered by the channel (chat completions v1/v2 frames, Socket.IO packets).

The widget's own stream (stream.py) keeps its inlined loop; this one asks a `render(event,
event_id)` for each planned event's bytes: `None` skips the event on this channel (not written,
not logged), `b""` writes nothing but logs the moment (e.g. chat v2's end of stream, the close
at `done`'s time). Each event written is stamped in `--event-log` with the plan's event name,
so every channel's timings compare with the simulator's own write times as the widget's do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING

from wxo_load.mock.plan import PlannedEvent, RunPlan
from wxo_load.mock.routes.control import StreamControl
from wxo_load.mock.routes.http import Send
from wxo_load.mock.routes.stream import TIMER_PAD_S

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

Render = Callable[[PlannedEvent, str], "bytes | None"]


class EventIds:
    """`<ms since the epoch>-<seq>` ids, as the Developer Edition numbers its events."""

    __slots__ = ("last_ms", "seq")

    def __init__(self) -> None:
        self.last_ms = 0
        self.seq = 0

    def next(self) -> str:
        now_ms = int(time.time() * 1000)
        if now_ms > self.last_ms:
            self.last_ms, self.seq = now_ms, 0
        else:
            self.seq += 1
        return f"{self.last_ms}-{self.seq}"


async def write_paced(
    app: MockApp,
    plan: RunPlan,
    t0: float,
    send: Send,
    control: StreamControl,
    render: Render,
    keep_alive: tuple[float, bytes] | None = None,
) -> bool:
    """Write the plan's events as rendered; False when the client left or the run was
    cancelled first (`control.cancelled`). `keep_alive` (every, bytes): written whenever
    nothing else was for that long (not logged)."""
    record = app.stats.lateness.record
    log = app.event_log
    ids = EventIds()
    gone = control.gone
    for index, ev in enumerate(plan.events):
        t_sched = t0 + ev.offset_s
        delay = t_sched - perf_counter()
        while delay > 0:
            if keep_alive is not None and delay > keep_alive[0]:
                if not await control.sleep(keep_alive[0]) or gone.done():
                    return False
                await send({"type": "http.response.body", "body": keep_alive[1], "more_body": True})
            elif not await control.sleep(delay + TIMER_PAD_S):
                return False
            delay = t_sched - perf_counter()
        if gone.done() or control.cancelled:
            return False
        event_id = ids.next()
        body = render(ev, event_id)
        if body is None:
            continue
        t_mono = perf_counter()
        if body:
            await send({"type": "http.response.body", "body": body, "more_body": True})
        record(t_mono - t_sched)
        if log is not None:
            log.add(plan.run_id, plan.thread_id, index, ev.event, event_id, t_mono, perf_counter(),
                    t_sched, ev.tag)  # fmt: skip
    app.stats.events_written += len(plan.events)
    control.finished = True
    return True
