"""The simulator's own capacity: at most N runs at once, the rest wait in a FIFO queue.

A real Orchestrate deployment has a finite number of runs it works on at once (LLM slots,
worker pools). The simulator models that with one limit per simulator process:

- at most `concurrent_runs` runs stream at once; a run past the limit waits, first come first
  served, before its `run.started` (so time to `run.started`, and every later timing, grows by
  the wait; the answer itself keeps the profile's latencies);
- with `max_queue: Q`, a run that finds Q runs already waiting is turned away at once with
  `reject_status` (429 with `Retry-After`, or 503) instead of waiting.

So the true capacity of a simulator with `concurrent_runs: 40` is known: 40 runs in flight,
and 40 / (mean run time) runs per second. `--workers N` multiplies it (one limit per process).
Pure asyncio, no I/O: the app calls `enter()` before it answers a run and `leave()` after.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import msgspec

from wxo_load.core.errors import ConfigError

REJECT_STATUSES = (429, 503)


class SlotsSnapshot(msgspec.Struct, kw_only=True):
    """`capacity` in `/_mock/stats`: the limit and what waited or was turned away."""

    concurrent_runs: int
    max_queue: int | None
    active: int
    queued_now: int
    queued_total: int
    queue_peak: int
    rejected_total: int


@dataclass(frozen=True, slots=True)
class Capacity:
    concurrent_runs: int
    max_queue: int | None = None  # None: the queue is unbounded
    reject_status: int = 429

    def __post_init__(self) -> None:
        if self.concurrent_runs < 1:
            raise ConfigError(
                f"capacity: concurrent_runs must be 1 or more; got {self.concurrent_runs}."
            )
        if self.max_queue is not None and self.max_queue < 0:
            raise ConfigError(f"capacity: max_queue must be 0 or more; got {self.max_queue}.")
        if self.reject_status not in REJECT_STATUSES:
            raise ConfigError(
                f"capacity: reject_status must be 429 or 503; got {self.reject_status}."
            )


class RunSlots:
    """A FIFO queue in front of `concurrent_runs` slots, with counters for /_mock/stats."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        self.active = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.queued_total = 0
        self.rejected_total = 0
        self.queue_peak = 0

    async def enter(self) -> bool:
        """Take a slot, waiting in line if needed; False when the queue is full (reject)."""
        if self.active < self.capacity.concurrent_runs and not self.waiting:
            self.active += 1
            return True
        limit = self.capacity.max_queue
        if limit is not None and len(self.waiting) >= limit:
            self.rejected_total += 1
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.queued_total += 1
        self.queue_peak = max(self.queue_peak, len(self.waiting))
        try:
            await future  # leave() hands its slot straight to us
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.leave()  # the slot was handed over just as we were cancelled
            else:
                self.waiting.remove(future)
            raise
        return True

    def leave(self) -> None:
        """Give the slot to the first run in line, or free it."""
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.active -= 1

    def snapshot(self) -> SlotsSnapshot:
        return SlotsSnapshot(
            concurrent_runs=self.capacity.concurrent_runs,
            max_queue=self.capacity.max_queue,
            active=self.active,
            queued_now=len(self.waiting),
            queued_total=self.queued_total,
            queue_peak=self.queue_peak,
            rejected_total=self.rejected_total,
        )
