"""What `locustfile.py` imports: wxo-load's listeners registered on Locust's events, and the user
classes of the scenario the command line names. The top of the Locust layer: it imports the
listeners (which import the harness, which imports its parts); nothing imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wxo_load.locust_plugin import listeners
from wxo_load.locust_plugin.personas import scenario_users

if TYPE_CHECKING:
    from wxo_load.locust_plugin.user import WxoChatUser

REGISTERED = listeners.__name__  # importing the listeners registers them


def locust_users(locustfile: str, argv: list[str] | None = None) -> dict[str, type[WxoChatUser]]:
    """The user classes the locustfile offers Locust, once wxo-load's listeners are registered
    on Locust's events (`locustfile.py`: `globals().update(locust_users(__file__))`)."""
    return scenario_users(locustfile, argv)
