"""When did the kernel receive the bytes a read returns? SO_TIMESTAMPNS on plain TCP sockets.

A stamp taken when `recv` returns is late by however long the load generator took to get to
the socket: with a hundred streams on a busy machine, the process may be runnable but not
running for tens of milliseconds, and every event read then looks that much later than it
arrived. With `SO_TIMESTAMPNS` set, Linux stamps each packet as it is received (on loopback:
when the peer's `send` hands it over) and `recvmsg` returns, as ancillary data, the stamp of
the last packet the read consumed (CLOCK_REALTIME). `arrival()` converts it to perf_counter()
time by the stamp's age when it is converted, never later than the read.

Limits: on TCP one read carries one stamp, that of its newest bytes, and packets that waited
in the receive queue together are merged under the newest stamp, so events that a late read
takes together share the stamp of the last one (still never later than the read). TLS sockets
have no `recvmsg` (the bytes are decrypted in user space): https connections keep the
user-space stamp, as does any platform without SO_TIMESTAMPNS (macOS, Windows), and any read
that carries no stamp (Linux turns stamping on for the system a moment after the first socket
asks for it).
"""

from __future__ import annotations

import platform
import socket
import struct
import sys
import time
from typing import Any

_time_ns = time.time_ns
_perf = time.perf_counter


def _option() -> int | None:
    """SO_TIMESTAMPNS (= SCM_TIMESTAMPNS), which Python's socket module does not name."""
    value = getattr(socket, "SO_TIMESTAMPNS", None)
    if value is not None:
        return int(value)
    if sys.platform.startswith("linux") and not platform.machine().startswith(("sparc", "parisc")):
        return 35  # asm-generic/socket.h (x86, arm, ...): SO_TIMESTAMPNS_OLD, a native timespec
    return None


SO_TIMESTAMPNS = _option()
_TIMESPEC = struct.Struct("@ll")  # struct timespec: tv_sec, tv_nsec
ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_SOL_SOCKET = socket.SOL_SOCKET
_KIND = SO_TIMESTAMPNS  # SCM_TIMESTAMPNS: the control message's type is the option's number
_SIZE = _TIMESPEC.size
_unpack = _TIMESPEC.unpack_from


def enable(sock: socket.socket) -> bool:
    """Ask the kernel to stamp what `sock` receives. False where it cannot (then use `recv`)."""
    if SO_TIMESTAMPNS is None or not ANCILLARY_BYTES or not hasattr(sock, "recvmsg"):
        return False
    try:
        sock.setsockopt(_SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def arrival(ancdata: list[tuple[int, int, Any]], read_at: float) -> float:
    """The perf_counter() time the kernel received a read's last bytes, from the read's
    `ancdata`; `read_at` (the read's own perf_counter()) when it holds no stamp or the stamp
    is later than the read (a step of the system clock)."""
    for level, kind, payload in ancdata:
        if kind == _KIND and level == _SOL_SOCKET and len(payload) >= _SIZE:
            sec, nsec = _unpack(payload)
            t = _perf() - (_time_ns() - sec * 1_000_000_000 - nsec) * 1e-9
            return t if t < read_at else read_at
    return read_at
