"""The token provider contract, and the single-flight refresh every provider shares.

One provider per process, shared by all its users. `token()` is a lock-free read while the
token is fresh. Once it is within the refresh margin of expiry, the first caller that gets the
refresh lock starts a background exchange, and every caller (that one included) keeps using the
old, still valid token until the new one is in.
Only when there is no valid token do callers wait, and then for the single fetch in flight.

The lock is `threading.Lock`: under Locust the process is gevent-monkey-patched, so it is a
greenlet-aware lock and a greenlet waiting on it (or doing the token exchange's HTTP call)
yields to the others, which keep streaming.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wxo_load.core.errors import AuthError
from wxo_load.core.redact import redact

log = logging.getLogger("wxo_load.auth")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Token:
    """A token and when (on the monotonic clock) to refresh it and to stop using it."""

    value: str
    obtained_at: float
    refresh_at: float  # math.inf when the token has no known expiry
    stale_at: float  # after this the token is not handed out any more

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at

    def usable(self, now: float) -> bool:
        return now < self.stale_at


def schedule(value: str, lifetime_s: float | None, margin_s: float, now: float) -> Token:
    """Refresh `margin_s` before expiry, but never later than 3/4 of the lifetime (short TTLs);
    stop handing the token out a little before it expires (clock granularity, transit time)."""
    if lifetime_s is None:
        return Token(value, now, math.inf, math.inf)
    lifetime_s = max(lifetime_s, 0.0)
    margin = min(margin_s, lifetime_s * 0.25)
    safety = min(2.0, lifetime_s * 0.1)
    return Token(value, now, now + lifetime_s - margin, now + lifetime_s - safety)


class TokenProvider:
    """Base class: subclasses implement `_fetch()` (one exchange) and `describe()`."""

    #: after a 401, a token younger than this is not replaced again (a server that keeps
    #: refusing fresh tokens must not turn every request into a token exchange)
    min_refresh_interval_s = 0.5
    #: after a failed proactive refresh, wait this long (at most) before trying again
    retry_interval_s = 5.0

    def __init__(self, refresh_margin_s: float = 60.0, clock: Clock = time.monotonic) -> None:
        self._margin_s = refresh_margin_s
        self._clock = clock
        self._current: Token | None = None
        self._refresh_lock = threading.Lock()
        self._retry_at = 0.0
        self.exchanges = 0  # how many tokens this provider fetched (diagnostics and tests)

    # -- the contract ------------------------------------------------------------------------

    def token(self) -> str:
        """The current valid token, refreshing it (one caller at a time) when near expiry."""
        current = self._current
        now = self._clock()
        if current is not None and current.fresh(now):
            return current.value
        if current is not None and current.usable(now):
            if now >= self._retry_at and self._refresh_lock.acquire(blocking=False):
                if self._current is current:
                    # the exchange runs in its own thread (a greenlet under gevent), which
                    # releases the lock: this caller does not wait for it either
                    threading.Thread(
                        target=self._refresh_in_background_of,
                        args=(current,),
                        daemon=True,
                        name="wxo-load token refresh",
                    ).start()
                else:
                    self._refresh_lock.release()
            return current.value
        with self._refresh_lock:
            latest = self._current
            if latest is not None and latest is not current and latest.usable(self._clock()):
                return latest.value
            return self._renew().value

    def refresh(self, stale: str) -> str:
        """After a 401 with `stale`: fetch a new token unless another caller already replaced it.
        Raises `AuthError` when no new token can be had."""
        with self._refresh_lock:
            now = self._clock()
            latest = self._current
            if latest is not None and latest.usable(now):
                if latest.value != stale:
                    return latest.value
                if now - latest.obtained_at < self.min_refresh_interval_s:
                    return latest.value
            return self._renew().value

    def describe(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the provider must not be used afterwards."""

    # -- for subclasses ------------------------------------------------------------------------

    def _fetch(self) -> tuple[str, float | None]:
        """One token exchange: (token, lifetime in seconds or None). Raises AuthError."""
        raise NotImplementedError

    def _renew(self) -> Token:
        fetched, lifetime_s = self._fetch()
        self.exchanges += 1
        redact.add(fetched)
        token = schedule(fetched, lifetime_s, self._margin_s, self._clock())
        self._current = token
        self._retry_at = 0.0
        return token

    def _refresh_in_background_of(self, current: Token) -> None:
        """Proactive refresh while `current` is still valid (runs holding the refresh lock,
        and releases it): a failure only logs and retries later; the users keep the old token
        until it is no longer usable."""
        try:
            self._renew()
        except Exception as exc:  # noqa: BLE001 - a background thread must not die noisily
            now = self._clock()
            self._retry_at = now + min(self.retry_interval_s, max(current.stale_at - now, 0.0) / 4)
            log.warning(
                "token refresh failed, keeping the current token for now: %s", redact(str(exc))
            )
        finally:
            self._refresh_lock.release()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class StaticTokenProvider(TokenProvider):
    """A token the user gave (`--token` / `WXO_TOKEN`): used as is, never refreshed."""

    def __init__(self, token: str, source: str = "WXO_TOKEN / --token") -> None:
        super().__init__()
        redact.add(token)
        self._value = token
        self._source = source

    def _fetch(self) -> tuple[str, float | None]:
        from wxo_load.edge.auth.jwt import jwt_exp

        exp = jwt_exp(self._value)
        return self._value, None if exp is None else exp - time.time()

    def token(self) -> str:
        return self._value

    def refresh(self, stale: str) -> str:
        raise AuthError(
            f"The server refused the token given with {self._source} (HTTP 401) and a given "
            "token cannot be refreshed. Get a fresh token, or set WXO_API_KEY (with --auth-type) "
            "so wxo-load can fetch and refresh tokens itself during long tests."
        )

    def describe(self) -> str:
        from wxo_load.edge.auth.jwt import jwt_exp

        exp = jwt_exp(self._value)
        until = (
            ""
            if exp is None
            else time.strftime(", expires %Y-%m-%d %H:%M:%S UTC", time.gmtime(exp))
        )
        return f"token from {self._source}{until}"


class NoAuthProvider(TokenProvider):
    """`--auth none`: no Authorization header (for servers without auth)."""

    def token(self) -> str:
        return ""

    def refresh(self, stale: str) -> str:
        return ""

    def describe(self) -> str:
        return "no authentication (no Authorization header)"


class UnresolvedProvider(TokenProvider):
    """No host yet: the caller starts the built-in simulator and resolves again with its URL."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self._reason = reason

    def _fetch(self) -> tuple[str, float | None]:
        raise AuthError(
            f"No target host to log in to ({self._reason}). Give --host, or activate an ADK "
            "environment with `orchestrate env activate NAME`."
        )

    def describe(self) -> str:
        return f"not resolved yet: {self._reason}"
