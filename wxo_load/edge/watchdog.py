"""The stall watchdog of the transport: one timer per request instead of one per `recv`."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any, Protocol

_perf = time.perf_counter


class _Watched(Protocol):
    last_rx: float
    _sock: socket.socket | None


def gevent_loop() -> object | None:
    """The gevent event loop when sockets are gevent's (under Locust), else None."""
    try:
        from gevent import get_hub
        from gevent.monkey import is_module_patched
    except ImportError:  # pragma: no cover - gevent comes with locust
        return None
    return get_hub().loop if is_module_patched("socket") else None


class StallWatchdog:
    """Detects a silent peer without a timer per `recv`.

    A gevent socket with a timeout creates and cancels a timer for every blocking read: about
    15 per run here. The watchdog instead arms one timer per request attempt; `recv` only notes
    when data last arrived, and when the timer fires it either re-arms for the time left or, if
    the peer really was silent for the whole limit, shuts the socket down so the waiting `recv`
    returns and reports a timeout.
    """

    __slots__ = ("conn", "loop", "limit_s", "timer", "stalled")

    def __init__(self, conn: _Watched, loop: Any, limit_s: float) -> None:
        self.conn, self.loop, self.limit_s = conn, loop, limit_s
        self.timer: Any = None
        self.stalled = False

    def arm(self, delay_s: float) -> None:
        self.disarm()
        timer = self.loop.timer(delay_s)
        timer.start(self._fire)
        self.timer = timer

    def disarm(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.stop()
            timer.close()

    def _fire(self) -> None:
        self.disarm()
        silent_s = _perf() - self.conn.last_rx
        if silent_s < self.limit_s:
            self.arm(self.limit_s - silent_s)
            return
        self.stalled = True
        sock = self.conn._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
