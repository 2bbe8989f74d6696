"""The built-in Developer Edition simulator: `wxo-load mock` / `python -m wxo_load.mock`.

An ASGI app served by uvicorn that speaks the Orchestrate chat API as captured in the seeds:
local login and tenants, threads, streamed and plain runs, with latency profiles and fault
injection. It shares no parsing code with the harness's client on purpose.

Importing this package is cheap; uvicorn and the app are imported only when a server starts.
"""

from __future__ import annotations

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 4321
LISTENING_PREFIX = "wxo-load mock: listening on "

__all__ = ["DEFAULT_BIND", "DEFAULT_PORT", "LISTENING_PREFIX"]
