"""Local login (`POST /auth/token`) and the tenants table (`GET`/`POST /tenants`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from wxo_load.mock.routes.guard import authorized, unauthorized
from wxo_load.mock.routes.http import (
    Receive,
    Scope,
    Send,
    not_allowed,
    query_value,
    read_body,
    respond,
)
from wxo_load.mock.shapes import Claims, Json, Tenant, ValidationError
from wxo_load.mock.tokens import LOCAL_PASSWORD, LOCAL_USER_ID, LOCAL_USERNAME
from wxo_load.mock.validate import parse_json_body, validate_thread_body

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp


async def login(app: MockApp, scope: Scope, receive: Receive, send: Send) -> None:
    raw = await read_body(receive)
    form = parse_qs(raw.decode("utf-8", "replace"))
    errors = [
        {"type": "missing", "loc": ["body", key], "msg": "Field required", "input": None}
        for key in ("username", "password")
        if not form.get(key)
    ]
    if errors:
        await respond(send, 422, {"detail": errors})
        return
    if form["username"][0] != LOCAL_USERNAME or form["password"][0] != LOCAL_PASSWORD:
        await unauthorized(send, "Incorrect username or password")
        return
    claims: Claims = {
        "sub": LOCAL_USER_ID,
        "username": LOCAL_USERNAME,
        "aud": "authenticated",
    }
    tenant_id = query_value(scope, b"tenant_id")
    if tenant_id:
        if not app.store.known_tenant(tenant_id):
            await respond(send, 404, {"detail": f"Tenant {tenant_id} not found"})
            return
        claims["tenant_id"] = claims["woTenantId"] = tenant_id
        claims["woUserId"] = LOCAL_USER_ID
    token = app.keyring.issue(claims, app.token_ttl_s)
    body: dict[str, str | float] = {"access_token": token, "token_type": "bearer"}
    if app.token_ttl_s is not None:
        body["expires_in"] = app.token_ttl_s
    await respond(send, 200, body)


async def tenants(app: MockApp, scope: Scope, method: str, receive: Receive, send: Send) -> None:
    if method not in ("GET", "POST"):
        await not_allowed(send)
        return
    if await authorized(app, scope, send) is None:
        return
    if method == "GET":
        await respond(send, 200, list(app.store.tenants.values()))
        return
    body, errors = parse_json_body(await read_body(receive))
    errors = errors or _tenant_errors(body)
    if errors or not isinstance(body, dict):
        await respond(send, 422, {"detail": errors})
        return
    name = str(body["name"])
    if any(t["name"] == name for t in app.store.tenants.values()):
        await respond(send, 409, {"detail": f"Tenant {name} already exists"})
        return
    tenant: Tenant = app.store.add_tenant(name, body.get("title", name), body.get("tags", []))
    await respond(send, 201, tenant)


def _tenant_errors(body: Json) -> list[ValidationError]:
    if not isinstance(body, dict):
        return validate_thread_body(body)
    if not isinstance(body.get("name"), str) or not body["name"]:
        return [
            {"type": "missing", "loc": ["body", "name"], "msg": "Field required", "input": body}
        ]
    return []
