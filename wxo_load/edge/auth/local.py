"""Developer Edition login, as the ADK does it (`LocalServiceInstance`):

1. `POST /api/v1/auth/token`, form `username` / `password` -> a user token;
2. `GET /api/v1/tenants` with it -> the tenant named `wxo-dev` (created with
   `POST /api/v1/tenants` if missing);
3. `POST /api/v1/auth/token?tenant_id=<id>`, same form -> the tenant token used for chat.

A Developer Edition's tenant token has no `exp`; the built-in simulator's has one when it is
started with a token TTL, and then the provider logs in again before it expires.
"""

from __future__ import annotations

import httpx

from wxo_load.core.errors import AuthError
from wxo_load.core.json_value import Json, JsonObject
from wxo_load.core.redact import redact
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.http import call, excerpt, json_body, lifetime_s, make_client
from wxo_load.edge.auth.settings import DEFAULT_PASSWORD, AuthSettings

_TENANT_BODY = {"title": "WatsonX Orchestrate Development", "tags": ["test"]}


class LocalLoginProvider(TokenProvider):
    def __init__(self, settings: AuthSettings, host: str) -> None:
        super().__init__(settings.refresh_margin_s)
        self._host = host.rstrip("/")
        self._username = settings.username
        self._password = settings.password
        self._tenant = settings.tenant
        self._tenant_id: str | None = None
        if settings.password != DEFAULT_PASSWORD:  # the well-known default is no secret
            redact.add(settings.password)
        self._client = make_client(settings)
        self._hint = (
            f"Is the Developer Edition running at {self._host}? Start it with "
            "`orchestrate server start` (or `wxo-load mock`), or give --host / WXO_TOKEN."
        )

    def describe(self) -> str:
        return f"local login as {self._username} (tenant {self._tenant}) at {self._host}"

    def close(self) -> None:
        self._client.close()

    def _fetch(self) -> tuple[str, float | None]:
        if self._tenant_id is not None:
            try:
                token, body = self._login_body(self._tenant_id)
                return token, lifetime_s(body, token)
            except AuthError:
                self._tenant_id = None  # the server may have been reset: full sequence again
        user_token = self._login(None)
        self._tenant_id = self._find_or_create_tenant(user_token)
        token, body = self._login_body(self._tenant_id)
        return token, lifetime_s(body, token)

    def _login(self, tenant_id: str | None) -> str:
        return self._login_body(tenant_id)[0]

    def _login_body(self, tenant_id: str | None) -> tuple[str, JsonObject]:
        url = f"{self._host}/api/v1/auth/token"
        what = "Developer Edition login" + (" (tenant token)" if tenant_id else "")
        response = call(
            self._client,
            "POST",
            url,
            what,
            self._hint,
            data={"username": self._username, "password": self._password},
            params={"tenant_id": tenant_id} if tenant_id else None,
            headers={"Accept": "application/json"},
        )
        if response.status_code == 404 and tenant_id is None:
            raise LoginNotFound(
                f"{what}: {url} answered HTTP 404: this server has no Developer Edition login. "
                "If it needs no token, use --auth none (or the default auto mode); otherwise set "
                "WXO_TOKEN, or WXO_API_KEY with --auth-type, or check --host."
            )
        if response.status_code in (401, 403):
            raise AuthError(
                f"{what}: {url} refused user {self._username} (HTTP {response.status_code}). "
                "The Developer Edition's built-in user is wxo.archer@ibm.com / watsonx; set the "
                "scenario's `auth: username:` / `password_env:` if yours differs."
            )
        body = self._ok_json(response, what)
        token = body.get("access_token") if type(body) is dict else None
        if type(body) is not dict or not isinstance(token, str) or not token:
            raise AuthError(f"{what}: {url} answered without an access_token. {self._hint}")
        redact.add(token)
        return token, body

    def _find_or_create_tenant(self, user_token: str) -> str:
        url = f"{self._host}/api/v1/tenants"
        headers = {"Authorization": f"Bearer {user_token}", "Accept": "application/json"}
        found = self._listed_tenant(url, headers)
        if found:
            return found
        found = self._create_tenant(url, headers)
        if found:
            return found
        found = self._listed_tenant(url, headers)
        if not found:
            raise AuthError(
                f"Developer Edition: tenant `{self._tenant}` is not listed at {url} even after "
                "creating it. Set the scenario's `auth: tenant:` to an existing tenant name."
            )
        return found

    def _listed_tenant(self, url: str, headers: dict[str, str]) -> str | None:
        """The tenant's id from `GET /api/v1/tenants`, None when it is not listed."""
        what = "Developer Edition tenant lookup"
        tenants = self._ok_json(
            call(self._client, "GET", url, what, self._hint, headers=headers), what
        )
        return _tenant_id(tenants, self._tenant)

    def _create_tenant(self, url: str, headers: dict[str, str]) -> str | None:
        """`POST /api/v1/tenants`; the new tenant's id when the answer names it (409: exists)."""
        created = call(
            self._client,
            "POST",
            url,
            "Developer Edition tenant creation",
            self._hint,
            headers=headers,
            json={"name": self._tenant, **_TENANT_BODY},
        )
        if created.status_code not in (200, 201, 409):
            raise AuthError(
                f"Developer Edition: tenant `{self._tenant}` does not exist and creating it failed "
                f"(HTTP {created.status_code}: {excerpt(created)}). Create it with the ADK, or "
                "set the scenario's `auth: tenant:` to an existing one."
            )
        try:
            return _tenant_id(created.json(), self._tenant)
        except ValueError:
            return None

    def _ok_json(self, response: httpx.Response, what: str) -> Json:
        if response.status_code >= 300:
            raise AuthError(
                f"{what}: {response.request.url} answered HTTP {response.status_code} "
                f"({excerpt(response)}). {self._hint}"
            )
        return json_body(response, what)


class LoginNotFound(AuthError):
    """The host has no `/api/v1/auth/token` (HTTP 404): not a Developer Edition login."""


def _tenant_id(data: Json, name: str) -> str | None:
    """Find the tenant called `name` in a list (or a `{"tenants": [...]}` / single object)."""
    items: Json
    if isinstance(data, dict):
        items = data.get("tenants") or data.get("items") or data.get("data") or [data]
    else:
        items = data
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("name") == name:
            tenant_id = item.get("id") or item.get("tenant_id")
            if tenant_id:
                return str(tenant_id)
    return None
