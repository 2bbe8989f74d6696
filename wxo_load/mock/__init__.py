"""The built-in Developer Edition simulator: `wxo-load mock` / `python -m wxo_load.mock`.

An ASGI app served by uvicorn that speaks the Orchestrate chat API as captured in the seeds:
local login and tenants, threads, streamed and plain runs, with latency profiles and fault
injection. It shares no parsing code with the harness's client on purpose.

Importing this package is cheap: it holds three constants and imports none of its modules
(uvicorn only loads when a server starts). Import a name from the module that defines it.
"""

from __future__ import annotations

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 4321
LISTENING_PREFIX = "wxo-load mock: listening on "
