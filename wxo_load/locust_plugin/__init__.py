"""wxo-load's Locust integration: the user class, options, listeners and the harness's parts.

Lazy: importing this package imports no locust. The first access of `WxoChatUser` (as
`locustfile.py` does) imports the user class and registers wxo-load's listeners on Locust's
global events, and, like any import of locust, monkey-patches the process with gevent. The
pure units (`session`, `state`, `recording`, `handoff`, `progress`, `finish`) import no locust,
so tests can use them in a plain process.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "WxoChatUser": "wxo_load.locust_plugin.user",
    "Harness": "wxo_load.locust_plugin.harness",
    "harness_of": "wxo_load.locust_plugin.listeners",
    "locust_users": "wxo_load.locust_plugin.personas",
}

__all__ = ["Harness", "WxoChatUser", "harness_of", "locust_users"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("wxo_load.locust_plugin.listeners")  # registers the listeners
    return getattr(importlib.import_module(module), name)
