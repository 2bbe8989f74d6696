"""Is anything waiting on an idle kept-alive connection? A zero-timeout poll, never a wait.

An idle connection should have nothing to read. If it has (the server closed it: EOF or a
reset; or it wrote something unasked, like a proxy's `408 Request Timeout`), it must not carry
the next request: those bytes would be taken as the next answer.

The poll is the operating system's, not gevent's: a zero timeout never blocks, and going
through gevent's hub for it would cost a loop iteration per request. `poll`, not `select`:
descriptors above 1023 are common with a thousand open streams.
"""

from __future__ import annotations

import select
import socket
import ssl

try:
    from gevent.monkey import get_original

    _poll = get_original("select", "poll")
except (ImportError, AttributeError):  # pragma: no cover - gevent comes with locust
    _poll = select.poll

_POLLIN = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def readable(sock: socket.socket) -> bool:
    """True when `sock` has bytes (or an EOF, or an error) waiting to be read."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        fd = sock.fileno()
    except OSError:
        return True
    if fd < 0:
        return True
    poller = _poll()
    poller.register(fd, _POLLIN)
    return bool(poller.poll(0))
