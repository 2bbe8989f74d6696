"""The token of the ADK's active environment (`orchestrate env activate NAME`)."""

from __future__ import annotations

import time

from wxo_load.core.errors import AuthError
from wxo_load.edge.auth.adk_config import AdkEnvironment
from wxo_load.edge.auth.base import TokenProvider


def expired_message(env: AdkEnvironment) -> str:
    if not env.token:
        state = f"has no cached token in {env.credentials_path}"
    else:
        state = f"has a token that expired at {env.expiry_text()}"
    return (
        f"The ADK environment '{env.name}' ({env.wxo_url}) {state}. Run "
        f"`orchestrate env activate {env.name}` to get a fresh one and start the test again "
        "(or set WXO_API_KEY so wxo-load fetches and refreshes tokens itself in long tests)."
    )


class AdkTokenProvider(TokenProvider):
    """Uses the token the ADK cached. It cannot renew it without the API key, so on expiry (or
    a 401) it reads the credentials file again, in case `orchestrate env activate` ran since;
    for a local environment it can fall back to the Developer Edition login."""

    def __init__(
        self,
        env: AdkEnvironment,
        fallback: TokenProvider | None = None,
        refresh_margin_s: float = 60.0,
    ) -> None:
        super().__init__(refresh_margin_s)
        self._env = env
        self._fallback = fallback
        self._rejected: set[str] = set()

    @property
    def environment(self) -> AdkEnvironment:
        return self._env

    def describe(self) -> str:
        text = (
            f"ADK environment '{self._env.name}' ({self._env.wxo_url}), "
            f"token expires {self._env.expiry_text()}"
        )
        if self._fallback is not None:
            text += f"; then {self._fallback.describe()}"
        return text

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()

    def refresh(self, stale: str) -> str:
        self._rejected.add(stale)
        return super().refresh(stale)

    def _fetch(self) -> tuple[str, float | None]:
        env = self._env.reload_token()
        self._env = env
        now = time.time()
        if env.token and env.token not in self._rejected and not env.is_expired(now, margin_s=1.0):
            return env.token, None if env.token_expiry is None else env.token_expiry - now
        if self._fallback is not None:
            return self._fallback._fetch()
        if env.token and not env.is_expired(now, margin_s=1.0):
            raise AuthError(
                f"The server refused the token of the ADK environment '{env.name}' (HTTP 401). "
                f"Run `orchestrate env activate {env.name}` to get a fresh one, or set "
                "WXO_API_KEY so wxo-load can fetch tokens itself."
            )
        raise AuthError(expired_message(env))
