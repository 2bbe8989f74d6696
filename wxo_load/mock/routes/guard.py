"""The bearer check and the HTTP faults, in front of the chat routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wxo_load.mock.routes.http import Scope, Send, respond
from wxo_load.mock.shapes import Claims
from wxo_load.mock.tokens import DEFAULT_TENANT_ID, TokenError

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp

ANY_TOKEN_CLAIMS: Claims = {
    "sub": "any-token",
    "tenant_id": DEFAULT_TENANT_ID,
    "woTenantId": DEFAULT_TENANT_ID,
}
"""Claims given to every bearer token with --accept-any-token (for hand-written locustfiles)."""

NO_TENANT = "Token has no tenant: get a tenant token with POST /api/v1/auth/token?tenant_id=<id>"


def bearer_claims(app: MockApp, scope: Scope) -> tuple[Claims | None, str]:
    """(claims, '') for a valid bearer token, else (None, why)."""
    token = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                token = text[7:].strip()
            break
    if app.settings.no_auth:
        return ANY_TOKEN_CLAIMS, ""
    if not token:
        return None, "Not authenticated"
    if app.settings.accept_any_token:
        return ANY_TOKEN_CLAIMS, ""
    try:
        return app.keyring.verify(token), ""
    except TokenError as exc:
        return None, str(exc)


async def unauthorized(send: Send, why: str) -> None:
    await respond(send, 401, {"detail": why}, [(b"www-authenticate", b"Bearer")])


async def authorized(app: MockApp, scope: Scope, send: Send) -> Claims | None:
    """The bearer's claims, or None after answering 401."""
    claims, why = bearer_claims(app, scope)
    if claims is None:
        await unauthorized(send, why)
    return claims


async def chat_guard(
    app: MockApp, scope: Scope, send: Send, *, json_errors: bool = False
) -> Claims | None:
    """HTTP faults, then the bearer check, as a gateway and the real server would
    (`json_errors`: a 500 fault answers JSON too, as chat completions v2 does)."""
    fault = app.planner.http_fault()
    if fault is not None:
        app.stats.fault(fault)
        await send_http_fault(app, send, fault, json_errors=json_errors)
        return None
    claims = await authorized(app, scope, send)
    if claims is None:
        return None
    if not claims.get("tenant_id"):
        await unauthorized(send, NO_TENANT)
        return None
    return claims


async def send_http_fault(
    app: MockApp, send: Send, fault: str, *, json_errors: bool = False
) -> None:
    if fault == "http_429":
        retry = str(app.profile.faults.retry_after_s).encode()
        await respond(send, 429, {"detail": "Too Many Requests"}, [(b"retry-after", retry)])
    elif fault == "http_500" and json_errors:
        await respond(send, 500, {"error": {"message": "Internal Server Error"}})
    elif fault == "http_500":
        await respond(send, 500, None, text="Internal Server Error")
    elif fault == "http_503":
        await respond(send, 503, {"detail": "Service Unavailable"})
    else:  # token_expiry
        await unauthorized(send, "Token has expired")
