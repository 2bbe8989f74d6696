"""wxo-load's Locust integration: the user class, options and listeners, in one place.

Importing this package registers wxo-load's listeners on Locust's global events (and, like any
import of locust, monkey-patches the process with gevent). `locustfile.py` is just this import.
"""

from __future__ import annotations

from wxo_load.locust_plugin import harness as _harness  # noqa: F401  (registers the listeners)
from wxo_load.locust_plugin.user import WxoChatUser

__all__ = ["WxoChatUser"]
