"""API key -> bearer token, in the three shapes IBM's token services speak.

Request shapes follow `ibm-cloud-sdk-core`'s token managers (and the ADK's use of them):

- `ibm_iam`: `POST <iam>/identity/token`, form `grant_type=urn:ibm:params:oauth:grant-type:apikey
  &apikey=<key>`, `Accept: application/json` -> `access_token`, `expires_in`, `expiration`.
- `mcsp`: `POST <iam>/siusermgr/api/1.0/apikeys/token`, JSON `{"apikey": <key>}` ->
  `token`, `expires_in`.
- `mcsp_v2`: `POST <iam>/api/2.0/apikeys/token` (the scopeless operation the ADK uses), JSON
  `{"apikey": <key>}` plus the key in an `X-API-Key` header -> `token`, `expires_in`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

from wxo_load.core.errors import AuthError
from wxo_load.core.redact import mask, redact
from wxo_load.edge.auth import mcsp
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.http import call, excerpt, json_body, lifetime_s, make_client
from wxo_load.edge.auth.settings import AuthSettings

log = logging.getLogger("wxo_load.auth")


@dataclass(frozen=True, slots=True)
class TokenService:
    auth_type: str
    default_base: str
    path: str
    token_field: str


SERVICES = {
    "ibm_iam": TokenService(
        "ibm_iam", "https://iam.cloud.ibm.com", "/identity/token", "access_token"
    ),
    "mcsp": TokenService(
        "mcsp", "https://iam.platform.saas.ibm.com", "/siusermgr/api/1.0/apikeys/token", "token"
    ),
    "mcsp_v2": TokenService(
        "mcsp_v2", "https://account-iam.platform.saas.ibm.com", "/api/2.0/apikeys/token", "token"
    ),
}
_MCSP_V2_QUERY = {
    "includeBuiltinActions": "false",
    "includeCustomActions": "false",
    "includeRoles": "true",
    "prefixRolesWithDefinitionScope": "false",
}


def infer_auth_type(host: str | None) -> str:
    """The ADK's guess from the instance URL: IBM Cloud -> ibm_iam, other IBM SaaS -> mcsp."""
    hostname = (urlsplit(host).hostname or "") if host else ""
    if hostname.endswith(".cloud.ibm.com"):
        return "ibm_iam"
    if hostname.endswith(".ibm.com"):
        return "mcsp"
    return "ibm_iam"


def token_url(auth_type: str, iam_url: str | None) -> str:
    """`--iam-url` may be the service's base or its full operation URL."""
    service = SERVICES[auth_type]
    base = (iam_url or service.default_base).rstrip("/")
    for known in SERVICES.values():
        if base.endswith(known.path):
            base = base[: -len(known.path)]
    return base + service.path


class ApiKeyProvider(TokenProvider):
    """Exchanges an API key for a token and refreshes it before it expires."""

    def __init__(
        self, settings: AuthSettings, host: str | None = None, adk_auth_type: str | None = None
    ) -> None:
        super().__init__(settings.refresh_margin_s)
        if not settings.api_key:
            raise AuthError("API key authentication needs WXO_API_KEY (or --api-key).")
        self._api_key = settings.api_key
        redact.add(self._api_key)
        auth_type = settings.auth_type
        if auth_type == "auto":
            auth_type = adk_auth_type if adk_auth_type in SERVICES else infer_auth_type(host)
        # plain mcsp: a k1:/k2: key says which service; otherwise the ADK tries v1, then v2 on
        # any error, and so do we
        self._fallback_to_v2 = False
        if auth_type == "mcsp":
            version = mcsp.key_version(self._api_key)
            if version == "mcsp_v2":
                log.info("the API key is an MCSP v2 key (k2:): using the MCSP v2 token service")
            self._fallback_to_v2 = version is None
            auth_type = version or auth_type
        self._auth_type = auth_type
        self._iam_url = settings.iam_url
        self._v2_base = mcsp.v2_base(host)
        self._client = make_client(settings)

    @property
    def auth_type(self) -> str:
        return self._auth_type

    @property
    def url(self) -> str:
        return self._url_for(self._auth_type)

    def _url_for(self, auth_type: str) -> str:
        """`--iam-url` if given; the v2 service's default is regional (wxo_load.edge.auth.mcsp)."""
        default = self._v2_base if auth_type == "mcsp_v2" else None
        return token_url(auth_type, self._iam_url or default)

    def describe(self) -> str:
        return f"API key {mask(self._api_key)} ({self._auth_type}) via {self.url}"

    def close(self) -> None:
        self._client.close()

    def _fetch(self) -> tuple[str, float | None]:
        try:
            return self._exchange(self._auth_type)
        except (_Refused, AuthError) as failed:
            error = failed.error if isinstance(failed, _Refused) else failed
            if not self._fallback_to_v2:
                raise error from None
            log.info(
                "MCSP v1 failed (%s); trying MCSP v2 as the ADK does", redact(str(error))[:200]
            )
            self._fallback_to_v2 = False
            try:
                result = self._exchange("mcsp_v2")
            except _Refused as refused_v2:
                raise refused_v2.error from None
            self._auth_type = "mcsp_v2"
            return result

    def _exchange(self, auth_type: str) -> tuple[str, float | None]:
        url = self._url_for(auth_type)
        what = f"API key exchange ({auth_type})"
        hint = "Check --iam-url (or its default for this --auth-type) and your network or proxy."
        headers, kwargs = self._request_shape(auth_type)
        response = call(self._client, "POST", url, what, hint, headers=headers, **kwargs)
        if response.status_code in (400, 401, 403, 404):
            raise _Refused(
                AuthError(
                    f"{what}: {url} refused the API key (HTTP {response.status_code}: "
                    f"{excerpt(response)}). Check WXO_API_KEY, and that --auth-type matches your "
                    "instance: ibm_iam for IBM Cloud, mcsp or mcsp_v2 for AWS-hosted SaaS "
                    "(`orchestrate env list` shows the type the ADK uses)."
                )
            )
        if response.status_code >= 300:
            raise AuthError(
                f"{what}: {url} answered HTTP {response.status_code} ({excerpt(response)}). "
                "The token service may be down or rate-limiting; try again later."
            )
        body = json_body(response, what)
        field = SERVICES[auth_type].token_field
        token = body.get(field) if type(body) is dict else None
        if type(body) is not dict or not isinstance(token, str) or not token:
            raise AuthError(
                f"{what}: {url} answered without a `{field}` field. Check that --iam-url points "
                f"at a {auth_type} token service."
            )
        redact.add(token)
        return token, lifetime_s(body, token)

    def _request_shape(self, auth_type: str) -> tuple[dict[str, str], TokenRequest]:
        """The headers and the body/query keywords this token service expects."""
        headers = {"Accept": "application/json"}
        kwargs: TokenRequest
        if auth_type == "ibm_iam":
            kwargs = {
                "data": {
                    "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                    "apikey": self._api_key,
                },
            }
        elif auth_type == "mcsp":
            kwargs = {"json": {"apikey": self._api_key}}
        else:
            headers["X-API-Key"] = self._api_key
            kwargs = {"json": {"apikey": self._api_key}, "params": _MCSP_V2_QUERY}
        return headers, kwargs


class TokenRequest(TypedDict, total=False):
    """What a token exchange sends besides its headers (httpx's keywords): a form, a JSON body,
    a query."""

    data: dict[str, str]
    json: dict[str, str]
    params: dict[str, str]


class _Refused(Exception):
    def __init__(self, error: AuthError) -> None:
        super().__init__(str(error))
        self.error = error
