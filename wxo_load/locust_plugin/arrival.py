"""The open arrival model inside Locust: a dispatcher greenlet per process and a pool of users.

Why a pool of users and not a greenlet per arrival: the conversation code stays the one
`WxoChatUser` runs (records, thread creation, think times, stop handling all unchanged), and
Locust's user count keeps a meaning: it is the pool, `max_concurrent` conversations at most in
flight (split across workers by Locust like any user count), shown and changed as usual. Each
process runs one dispatcher greenlet that walks the shared, seeded schedule
(`wxo_load.load.schedule`), takes its share (every n-th arrival for process i of n), and at
each arrival's time hands a ticket to an idle user. An arrival that finds no idle user (the cap
is reached) or that the dispatcher reaches later than the tolerance (the load generator is
behind) is counted as dropped, with its reason, never silently skipped. A conversation is
measured from its scheduled start; how late it really began is `arrival_lag`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gevent
import msgspec
from gevent.queue import Queue

from wxo_load.load.schedule import Due, my_share, segment_arrivals

log = logging.getLogger("wxo_load")
perf_counter = time.perf_counter

DROPPED_CAP = "cap_reached"
DROPPED_LATE = "generator_behind"
ARRIVAL_LAG = "arrival_lag"

# One segment of the shared schedule: (index, start s, end s or None: open, arrivals per s).
ScheduleSegment = tuple[int, float, float | None, float]


class ArrivalsBegin(msgspec.Struct, forbid_unknown_fields=True):
    """Master -> each load-generating process (`control.MESSAGE_BEGIN`): when the shared
    schedule starts (unix s), this process's slot among `processes`, and the segments."""

    epoch: float
    slot: int
    processes: int
    segments: list[ScheduleSegment]


class RateStep(msgspec.Struct, forbid_unknown_fields=True):
    """Master -> every process (`control.MESSAGE_RATE`): a rate search's next segment."""

    segment: int
    start_s: float
    rate: float


@dataclass(frozen=True, slots=True)
class Ticket:
    scheduled_unix: float
    scheduled_perf: float


class ArrivalDispatcher:
    """One process's share of the schedule, handed to idle users as tickets."""

    def __init__(self, process: str, seed: int, tolerance_s: float) -> None:
        self.process = process
        self.seed = seed
        self.tolerance_s = tolerance_s
        self.tickets: Queue[Ticket] = Queue()
        self.idle = 0  # users waiting for a ticket, minus tickets not yet taken
        self.epoch_unix: float | None = None
        self.slot, self.processes = 0, 1
        self.segments: list[
            tuple[int, float, float | None, float]
        ] = []  # (segment, start_s, end_s, rate)
        self.pending_dropped: list[
            list[Any]
        ] = []  # [scheduled_unix, reason], shipped to the master
        self.scheduled = 0
        self.greenlet: gevent.Greenlet | None = None

    # -- plan ------------------------------------------------------------------------------

    def begin(
        self, epoch_unix: float, slot: int, processes: int, segments: list[ScheduleSegment]
    ) -> None:
        self.epoch_unix, self.slot, self.processes = epoch_unix, slot, max(1, processes)
        self.segments = list(segments)
        self.stop()
        self.greenlet = gevent.spawn(self._run)

    def add_segment(self, segment: int, start_s: float, rate_per_s: float) -> None:
        """A rate search's next step: the running segment ends where this one starts."""
        if self.segments and self.segments[-1][2] is None:
            last = self.segments[-1]
            self.segments[-1] = (last[0], last[1], start_s, last[3])
        self.segments.append((segment, start_s, None, rate_per_s))

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
            self.greenlet = None

    # -- the dispatcher --------------------------------------------------------------------

    def _arrivals(self) -> Iterator[Due]:
        done = 0
        while True:
            if done >= len(self.segments):
                gevent.sleep(0.05)  # a rate search adds its next step later
                continue
            segment, start_s, _end, rate = self.segments[done]
            for due in my_share(
                segment_arrivals(segment, start_s, None, rate, self.process, self.seed),
                self.slot,
                self.processes,
            ):
                end_s = self.segments[done][2]
                if end_s is not None and due.at_s >= end_s:
                    break
                yield due
            done += 1

    def _run(self) -> None:
        assert self.epoch_unix is not None
        for due in self._arrivals():
            scheduled_unix = self.epoch_unix + due.at_s
            delay = scheduled_unix - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if not self._cut_off(due):
                self._dispatch(scheduled_unix)

    def _cut_off(self, due: Due) -> bool:
        """True when the due arrival's segment ended (a new rate step began) while we waited."""
        for segment, _start, end_s, _rate in self.segments:
            if segment == due.segment:
                return end_s is not None and due.at_s >= end_s
        return False

    def _dispatch(self, scheduled_unix: float) -> None:
        self.scheduled += 1
        late_s = time.time() - scheduled_unix
        if late_s > self.tolerance_s:
            self.pending_dropped.append([scheduled_unix, DROPPED_LATE])
        elif self.idle <= 0:
            self.pending_dropped.append([scheduled_unix, DROPPED_CAP])
        else:
            self.idle -= 1  # reserved for the user that will take this ticket
            self.tickets.put(Ticket(scheduled_unix, perf_counter() - late_s))

    # -- the users' side -------------------------------------------------------------------

    def take(self) -> Ticket:
        """Wait for the next arrival meant for this process (a user of the pool calls this)."""
        self.idle += 1
        try:
            ticket = self.tickets.get()
        except BaseException:
            self.idle -= 1  # stopped while idle: no longer in the pool
            raise
        return ticket

    def take_dropped(self) -> list[list[Any]]:
        dropped, self.pending_dropped = self.pending_dropped, []
        return dropped

    def take_scheduled(self) -> int:
        """Arrivals this process reached since the last call (started or dropped)."""
        count, self.scheduled = self.scheduled, 0
        return count
