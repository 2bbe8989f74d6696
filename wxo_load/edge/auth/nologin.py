"""Auto mode on a local host: the Developer Edition login, or no token at all when the server
has no login endpoint (its `/api/v1/auth/token` answers 404), as the ADK would find.

A server that then refuses a request sent without a token (HTTP 401) cannot be tested this way:
`refresh()` calls `on_refused` (the harness stops the test, exit 2) and raises `AuthError`
with what to set instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from wxo_load.core.errors import AuthError
from wxo_load.edge.auth.local import LocalLoginProvider, LoginNotFound
from wxo_load.edge.auth.settings import AuthSettings

log = logging.getLogger("wxo_load.auth")
_said: set[str] = set()  # hosts this process has already logged "no login endpoint" for


class LocalOrNoTokenProvider(LocalLoginProvider):
    def __init__(self, settings: AuthSettings, host: str) -> None:
        super().__init__(settings, host)
        self.without_token = False
        #: called once with the message when the server refuses a request without a token
        self.on_refused: Callable[[str], None] | None = None

    def describe(self) -> str:
        if self.without_token:
            return f"no token: {self._host} has no login endpoint"
        return super().describe() + " (or none if the server has no login)"

    def _fetch(self) -> tuple[str, float | None]:
        if self.without_token:
            return "", None
        try:
            return super()._fetch()
        except LoginNotFound:
            self.without_token = True
            if self._host not in _said:
                _said.add(self._host)
                log.info(
                    "%s has no login endpoint (HTTP 404 from /api/v1/auth/token): testing it "
                    "without a token",
                    self._host,
                )
            return "", None

    def refresh(self, stale: str) -> str:
        if not self.without_token:
            return super().refresh(stale)
        message = (
            f"{self._host} refused a request sent without a token (HTTP 401), and it has no "
            "Developer Edition login to get one. Set WXO_TOKEN to a bearer token, or WXO_API_KEY "
            "with --auth-type ibm_iam / mcsp / mcsp_v2 / cpd (or --auth-type cpd with "
            "WXO_USERNAME and WXO_PASSWORD), or activate an ADK environment for this server."
        )
        callback, self.on_refused = self.on_refused, None
        if callback is not None:
            callback(message)
        raise AuthError(message)
