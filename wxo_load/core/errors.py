"""One error tree for everything wxo-load reports to a person.

Each message says what went wrong *and what to do*. Control flow (stopping a user, ending a
test) is not an error and does not use these classes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code wxo-load gives, for `locust` runs and the `wxo-load` commands alike."""

    PASSED = 0  # the test ran; every gate passed (or none configured and nothing failed)
    REQUESTS_FAILED = 1  # no gates configured and some requests failed (Locust's own rule)
    CANNOT_RUN = 2  # bad scenario, option or gate expression; target unreachable at start
    GATE_FAILED = 3  # the test ran and at least one gate failed
    MASTER_LOST = 4  # a worker whose master went away (exited, killed, unreachable) ended itself
    INTERRUPTED = 130  # Ctrl-C


class WxoLoadError(Exception):
    """Base of every error wxo-load raises on purpose. Its text is shown as is, no traceback."""

    exit_code = ExitCode.CANNOT_RUN


class ConfigError(WxoLoadError):
    """A scenario, profile, option or gate expression that cannot be used."""


class AuthError(WxoLoadError):
    """No token could be obtained or refreshed. Messages never contain the secret itself."""


class UnreachableError(WxoLoadError):
    """The target could not be reached before the test started."""


class TransportError(WxoLoadError):
    """One request's connection failed mid-test. Never shown as an error of the whole test: the
    client counts it as the run's outcome (`connect_error`, `protocol_error`, `truncated`)."""


class ConnectionFailed(TransportError, ConnectionError):
    """The connection (TCP, proxy tunnel or TLS) could not be opened. An OSError too, so the
    transport's `except OSError` paths see it as the socket errors it stands for."""


class ProtocolError(TransportError):
    """The peer did not speak HTTP/1.1 as expected (bad status line, bad chunk size...)."""


class WireFormatError(WxoLoadError):
    """Data one wxo-load process sent another (the scenario sent to workers) that is not of the
    shape this version reads: the message names the path of the first wrong value."""


class ResultsError(WxoLoadError):
    """Saved results that are missing or unreadable."""
