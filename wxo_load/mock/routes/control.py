"""One streamed run in flight, on any channel: did the client leave, was it cancelled.

`StreamControl` watches the request's `receive()` for the client's disconnect and counts a
stream the client closed before its last planned event was written (`streams_abandoned` in
`/_mock/stats`: the server's view of a person who left mid-answer) the moment uvicorn reports
it, not at the next planned event. It also registers the run in `app.active_runs` so
`POST runs/cancel/<run_id>` can stop it: a cancel that arrives while the writer sleeps until
its next event wakes it at once (the writer task is cancelled and takes the cancel as an
outcome); one that arrives mid-write is seen before the next event.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from wxo_load.mock.routes.http import Message, Receive

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp


class StreamControl:
    __slots__ = ("app", "run_id", "gone", "finished", "cancelled", "sleeping", "task")

    def __init__(self, app: MockApp, run_id: str, receive: Receive) -> None:
        self.app = app
        self.run_id = run_id
        self.finished = False  # the last planned event was written (or the run was cancelled)
        self.cancelled = False
        self.sleeping = False
        self.task = asyncio.current_task()
        self.gone: asyncio.Future[Message] = asyncio.ensure_future(receive())
        self.gone.add_done_callback(self._left)
        app.active_runs[run_id] = self
        app.stats.stream_opened()

    def _left(self, fut: asyncio.Future[Message]) -> None:
        if not fut.cancelled() and not self.finished:
            self.app.stats.streams_abandoned += 1

    def close(self) -> None:
        """The stream's handler is done with it (whatever the outcome)."""
        self.gone.cancel()
        self.app.active_runs.pop(self.run_id, None)
        self.app.stats.stream_closed()

    def cancel(self) -> None:
        """`POST runs/cancel/<id>`: stop at once when sleeping, else before the next event."""
        if self.finished or self.cancelled:
            return
        self.cancelled = True
        if self.sleeping and self.task is not None:
            self.task.cancel()

    async def sleep(self, delay: float) -> bool:
        """Sleep `delay` seconds; False when the run was cancelled meanwhile."""
        self.sleeping = True
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if not self.cancelled:
                raise
            uncancel = getattr(self.task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
            return False
        finally:
            self.sleeping = False
        return not self.cancelled
