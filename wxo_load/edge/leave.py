"""A person who leaves mid-answer (wxo_load.core.leaving): how the client closes the stream.

At first text the client closes the connection once the piece that carried the text is read and
nothing more has arrived (`Connection.drained`): what already arrived is read first, and if it
ends the run the answer was complete and nobody left. So a run counted `abandoned` is one whose
server was still writing when the connection closed (up to bytes in flight).
At a time, a timer shuts the socket down (a gevent timer under Locust, else a thread's), so a
read waiting for the next byte returns at once, whatever the server is doing; the request is
then never sent again on a new connection (`Connection.leaving`). Either way the connection is
closed, never reused: the server sees the client go, as when a browser tab closes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from wxo_load.core.errors import AuthError
from wxo_load.core.leaving import ABANDON, CANCEL, LEAVING_CHANNELS, LeaveAt
from wxo_load.core.records import ABANDONED, CANCELLED, INTERRUPTED
from wxo_load.edge.failures import TRANSPORT_ERRORS, exc_text
from wxo_load.edge.watchdog import gevent_loop

if TYPE_CHECKING:
    from wxo_load.core.tracker import RunTracker
    from wxo_load.edge.plain import PlainRequests
    from wxo_load.edge.transport import Connection

_perf = time.perf_counter
OUTCOME_OF = {ABANDON: ABANDONED, CANCEL: CANCELLED}
"""The run's outcome for each kind of leaving (the rest: `interrupted`)."""


def outcome_of(kind: str) -> str:
    return OUTCOME_OF.get(kind, INTERRUPTED)


class Leaver:
    """One run's leaving: armed before the request is written, disarmed when the run ends."""

    __slots__ = ("conn", "at", "left_at", "_timer", "_thread_timer")

    def __init__(self, conn: Connection, at: LeaveAt) -> None:
        self.conn = conn
        self.at = at
        self.left_at: float | None = None  # perf_counter() when the person left
        self._timer: Any = None
        self._thread_timer: threading.Timer | None = None

    @property
    def outcome(self) -> str:
        return outcome_of(self.at.kind)

    @property
    def at_first_text(self) -> bool:
        return self.at.at_first_text

    def arm(self, t0: float) -> None:
        """Start the clock of a time-based leave (`t0`: just before the request is written)."""
        if self.at.at_first_text:
            return
        delay_s = max(0.0, t0 + self.at.after_s - _perf())
        loop: Any = gevent_loop()
        if loop is not None:
            timer = loop.timer(delay_s)
            timer.start(self._fire)
            self._timer = timer
        else:
            self._thread_timer = threading.Timer(delay_s, self._fire)
            self._thread_timer.daemon = True
            self._thread_timer.start()

    def disarm(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.close()
        thread_timer, self._thread_timer = self._thread_timer, None
        if thread_timer is not None:
            thread_timer.cancel()
        self.conn.leaving = False

    def _fire(self) -> None:
        self.leave_now(_perf(), shut_only=True)

    def leave_now(self, t: float, *, shut_only: bool = False) -> None:
        """Leave at `t`: the socket is shut down (from a timer: the reader then closes it) or
        closed (from the reader)."""
        if self.left_at is not None:
            return
        self.left_at = t
        conn = self.conn
        conn.leaving = True  # a read that now fails is not sent again on a new connection
        if shut_only:
            sock = conn.raw_socket
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        else:
            conn.close()


def cannot_leave(channel: str, leave: LeaveAt | None) -> None:
    """The leave rule on a channel whose people cannot leave mid-answer: always None, as the
    scenario makes sure (config.leaving.check_leaving_channel refuses leaving on it)."""
    if leave is not None:
        raise ValueError(
            f"channel {channel!r} cannot leave mid-answer (only {', '.join(LEAVING_CHANNELS)} "
            "can): the scenario should have refused it; pass leave=None"
        )


def end_if_left(tracker: RunTracker, leaver: Leaver) -> bool:
    """If the run's person has left and its answer was not over: end the run so (at the moment
    they left, with their outcome) and close the connection. True if so."""
    if leaver.left_at is None or tracker.finished:
        return False
    leaver.conn.close()  # shut down by a timer, or closed already: never reused
    at = leaver.at
    when = "at first text" if at.at_first_text else f"after {at.after_s:g} s"
    tracker.end(leaver.left_at, leaver.outcome, f"the person left {when} ({at.kind})")
    return True


def after_leaving(tracker: RunTracker, leaver: Leaver, plain: PlainRequests) -> None:
    """When they left; for `cancel`, the run's cancel on a new connection (its status kept)."""
    record = tracker.record
    if record.outcome != leaver.outcome or leaver.left_at is None:  # the run was over before
        return
    record.left_at_ms = (leaver.left_at - tracker.t0) * 1000.0
    if leaver.at.kind == CANCEL and record.run_id is not None:
        try:  # the stop button: the stream is closed, the run cancelled
            record.cancel_status = plain.cancel(record.run_id).status
        except (AuthError, *TRANSPORT_ERRORS) as exc:
            leaver.conn.close()
            record.error_detail = f"{record.error_detail}; the cancel failed: {exc_text(exc)}"
