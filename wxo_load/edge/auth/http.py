"""The HTTP side of token exchanges: one small httpx client per provider, errors that say what
to do, and never a secret in an error message."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from wxo_load.core.errors import AuthError
from wxo_load.core.json_value import Json, JsonObject
from wxo_load.core.redact import redact
from wxo_load.edge.proxy import httpx_proxy
from wxo_load.edge.tls import TlsSettings, ssl_context

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "wxo-load"


def make_client(settings: TlsSettings) -> httpx.Client:
    """A client for token exchanges, with the process's shared TLS context and the proxy the
    chat connections use (`--proxy` / `WXO_PROXY`, else the environment's)."""
    proxy, trust_env = httpx_proxy()
    return httpx.Client(
        verify=ssl_context(settings),
        timeout=TIMEOUT,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=trust_env,
        proxy=proxy,
    )


def call(
    client: httpx.Client, method: str, url: str, what: str, hint: str, **kwargs: Any
) -> httpx.Response:
    """Send one request; transport failures become `AuthError` naming `what` and `hint`."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.ConnectError as exc:
        cause = exc.__context__ or exc.__cause__
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE" in str(exc).upper():
            raise AuthError(
                f"{what}: TLS verification of {url} failed ({_short(exc)}). If the server uses a "
                "private or self-signed certificate, pass its CA with --ca-bundle FILE (or "
                "--insecure on a trusted network)."
            ) from None
        raise AuthError(f"{what}: cannot connect to {url} ({_short(exc)}). {hint}") from None
    except httpx.TimeoutException as exc:
        raise AuthError(
            f"{what}: {url} did not answer within {TIMEOUT.read:.0f} s ({type(exc).__name__}). "
            f"{hint}"
        ) from None
    except httpx.HTTPError as exc:
        raise AuthError(f"{what}: request to {url} failed ({_short(exc)}). {hint}") from None


def json_body(response: httpx.Response, what: str) -> Json:
    try:
        return response.json()
    except ValueError:
        raise AuthError(
            f"{what}: {response.request.url} answered HTTP {response.status_code} with a body "
            f"that is not JSON ({excerpt(response)}). Check that the URL points at the token "
            "service (--iam-url) or the Orchestrate server (--host)."
        ) from None


def lifetime_s(body: JsonObject, token: str) -> float | None:
    """Seconds the token stays valid: the shortest of `expires_in`, `expiration` (Unix s) and
    the JWT's `exp`; None when none is known."""
    from wxo_load.edge.auth.jwt import jwt_exp

    now = time.time()
    candidates: list[float] = []
    for key in ("expires_in",):
        value = body.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            candidates.append(float(value))
    expiration = body.get("expiration")
    if (
        isinstance(expiration, (int, float))
        and not isinstance(expiration, bool)
        and expiration > 1e9
    ):
        candidates.append(float(expiration) - now)
    exp = jwt_exp(token)
    if exp is not None:
        candidates.append(exp - now)
    return min(candidates) if candidates else None


def excerpt(response: httpx.Response, limit: int = 200) -> str:
    """A short, secret-free piece of a response body for an error message."""
    try:
        text = response.text
    except Exception:  # noqa: BLE001 - undecodable body; say so rather than fail here
        return "(unreadable body)"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return redact(text) or "(empty body)"


def _short(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")[:300]
