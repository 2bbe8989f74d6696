"""How a request's failure becomes one error class and a short, redacted detail (every client
of the edge: the streamed run, run-and-poll, async agents)."""

from __future__ import annotations

import time

from wxo_load.core.errors import ConnectionFailed, ProtocolError
from wxo_load.core.records import CONNECT_ERROR, PROTOCOL_ERROR, TIMEOUT, TRUNCATED
from wxo_load.core.redact import redact

TRANSPORT_ERRORS = (OSError, ProtocolError)  # TimeoutError, ConnectionFailed, resets: OSErrors
_perf = time.perf_counter


def classify(exc: Exception, got_response: bool, stall_timeout_s: float) -> tuple[str, str]:
    """(error class, detail) of a request that raised `exc`."""
    if not isinstance(exc, TRANSPORT_ERRORS):  # a bug of ours: counted, never an escape
        return PROTOCOL_ERROR, f"internal error: {exc_text(exc)}"
    if isinstance(exc, ConnectionFailed):
        return CONNECT_ERROR, exc_text(exc)
    if isinstance(exc, TimeoutError):
        return TIMEOUT, f"no event for {stall_timeout_s:g} s (stall_timeout_s)"
    if isinstance(exc, ProtocolError):
        return PROTOCOL_ERROR, exc_text(exc)
    if not got_response:
        return CONNECT_ERROR, exc_text(exc)
    return TRUNCATED, f"connection broke: {exc_text(exc)}"


def ms_since(t0: float) -> float:
    return (_perf() - t0) * 1000.0


def body_text(content: bytes) -> str:
    return redact(content[:300].decode("utf-8", "replace").strip())


def exc_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}")[:300]
