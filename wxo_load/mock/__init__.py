"""The built-in Developer Edition simulator: `wxo-load mock` / `python -m wxo_load.mock`.

An ASGI app served by uvicorn that speaks the Orchestrate chat API as captured in the seeds:
local login and tenants, threads, streamed and plain runs, with latency profiles and fault
injection. It shares no parsing code with the harness's client on purpose.

Importing this package is cheap: the names below other than the constants are loaded from
their modules on first use, and uvicorn only when a server starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 4321
LISTENING_PREFIX = "wxo-load mock: listening on "

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp, Settings
    from wxo_load.mock.capacity import Capacity
    from wxo_load.mock.cli import main
    from wxo_load.mock.framing import FRAMINGS
    from wxo_load.mock.process import SimulatorProcess
    from wxo_load.mock.profiles import (
        FAULT_NAMES,
        Profile,
        builtin_profile_names,
        load_profile,
        parse_profile,
    )
    from wxo_load.mock.server import serve

_LAZY = {
    "FAULT_NAMES": "wxo_load.mock.profiles",
    "FRAMINGS": "wxo_load.mock.framing",
    "Capacity": "wxo_load.mock.capacity",
    "MockApp": "wxo_load.mock.app",
    "Profile": "wxo_load.mock.profiles",
    "Settings": "wxo_load.mock.app",
    "SimulatorProcess": "wxo_load.mock.process",
    "builtin_profile_names": "wxo_load.mock.profiles",
    "load_profile": "wxo_load.mock.profiles",
    "main": "wxo_load.mock.cli",
    "parse_profile": "wxo_load.mock.profiles",
    "serve": "wxo_load.mock.server",
}

__all__ = [
    "DEFAULT_BIND",
    "DEFAULT_PORT",
    "FAULT_NAMES",
    "FRAMINGS",
    "LISTENING_PREFIX",
    "Capacity",
    "MockApp",
    "Profile",
    "Settings",
    "SimulatorProcess",
    "builtin_profile_names",
    "load_profile",
    "main",
    "parse_profile",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
