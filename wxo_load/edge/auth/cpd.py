"""Cloud Pak for Data (on-premises) tokens, as the ADK gets them (`auth_type: cpd`):

    POST <URL before /orchestrate>/icp4d-api/v1/authorize
         {"username": ..., "api_key": ...}   or   {"username": ..., "password": ...}
    -> {"token": "<jwt>"}

The token is a JWT; it is refreshed before its `exp` like every other provider's. The
username comes from WXO_USERNAME / --username (or the scenario's `auth.username`), the
secret from WXO_API_KEY (preferred when both are set) or WXO_PASSWORD / the scenario's
`auth.password_env`. `--iam-url` may point at another authorize URL (or its base).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wxo_load.core.errors import AuthError
from wxo_load.core.redact import mask, redact
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.http import call, excerpt, json_body, lifetime_s, make_client
from wxo_load.edge.auth.settings import DEFAULT_PASSWORD, DEFAULT_USERNAME, AuthSettings

AUTHORIZE_PATH = "/icp4d-api/v1/authorize"


def is_cpd_url(host: str | None) -> bool:
    """The ADK's guess: an instance URL starting `https://cpd` is Cloud Pak for Data."""
    return bool(host) and str(host).lower().startswith("https://cpd")


def authorize_url(host: str | None, iam_url: str | None = None) -> str:
    """`--iam-url` (base or full URL) if given, else the host's URL up to `/orchestrate`."""
    if iam_url:
        base = iam_url.rstrip("/")
        return base if base.endswith(AUTHORIZE_PATH) else base + AUTHORIZE_PATH
    if not host:
        raise AuthError("--auth-type cpd needs --host (the Cloud Pak for Data instance URL).")
    base = host.split("/orchestrate", 1)[0].rstrip("/")
    if base == host.rstrip("/"):  # no /orchestrate in the URL: the server's root
        parts = urlsplit(host)
        base = f"{parts.scheme}://{parts.netloc}"
    return base + AUTHORIZE_PATH


class CpdTokenProvider(TokenProvider):
    def __init__(self, settings: AuthSettings, host: str | None) -> None:
        super().__init__(settings.refresh_margin_s)
        self._username = settings.username
        self._api_key = settings.api_key
        self._password = settings.password if settings.password != DEFAULT_PASSWORD else None
        if settings.username == DEFAULT_USERNAME or not (self._api_key or self._password):
            raise AuthError(
                "Cloud Pak for Data (--auth-type cpd) needs a user name and its API key or "
                "password: set WXO_USERNAME, and WXO_API_KEY or WXO_PASSWORD (or the scenario's "
                "auth.username and auth.api_key_env / auth.password_env)."
            )
        redact.add(self._api_key)
        redact.add(self._password)
        self.url = authorize_url(host, settings.iam_url)
        self._client = make_client(settings)

    def describe(self) -> str:
        secret = f"API key {mask(self._api_key)}" if self._api_key else "password"
        return f"Cloud Pak for Data user {self._username} with {secret} via {self.url}"

    def close(self) -> None:
        self._client.close()

    def _fetch(self) -> tuple[str, float | None]:
        what = "Cloud Pak for Data authorize"
        body = {"username": self._username}
        if self._api_key:
            body["api_key"] = self._api_key
        else:
            body["password"] = self._password or ""
        hint = (
            "Check --host (the URL up to /orchestrate must be the Cloud Pak for Data route) "
            "or --iam-url."
        )
        response = call(
            self._client,
            "POST",
            self.url,
            what,
            hint,
            json=body,
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403, 404):
            raise AuthError(
                f"{what}: {self.url} refused user {self._username} (HTTP {response.status_code}: "
                f"{excerpt(response)}). Check WXO_USERNAME and WXO_API_KEY / WXO_PASSWORD. {hint}"
            )
        if response.status_code >= 300:
            raise AuthError(
                f"{what}: {self.url} answered HTTP {response.status_code} ({excerpt(response)}). "
                "Try again later."
            )
        answer = json_body(response, what)
        token = answer.get("token") if type(answer) is dict else None
        if type(answer) is not dict or not isinstance(token, str) or not token:
            raise AuthError(f"{what}: {self.url} answered without a `token` field. {hint}")
        redact.add(token)
        return token, lifetime_s(answer, token)
