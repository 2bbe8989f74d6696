"""One error tree for everything wxo-load reports to a person.

Each message says what went wrong *and what to do*. Control flow (stopping a user, ending a
test) is not an error and does not use these classes.
"""

from __future__ import annotations


class WxoLoadError(Exception):
    """Base of every error wxo-load raises on purpose. Its text is shown as is, no traceback."""

    exit_code = 2


class ConfigError(WxoLoadError):
    """A scenario, profile, option or gate expression that cannot be used."""


class AuthError(WxoLoadError):
    """No token could be obtained or refreshed. Messages never contain the secret itself."""


class ConnectError(WxoLoadError):
    """The target could not be reached before the test started."""


class ResultsError(WxoLoadError):
    """Saved results that are missing or unreadable."""
