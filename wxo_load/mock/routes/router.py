"""Which handler serves a request: local paths (`/api/v1/...`, `/v1/...`) vs SaaS paths.

Routes are served under `/api/v1/...` (the widget's prefix) and `/v1/...` (the ADK's), plus the
unauthenticated `/_mock/...`. A SaaS instance's shape is served under
`/instances/<id>/v1/orchestrate/...` (threads, runs, chat completions v1, agents) and
`/instances/<id>/v2/orchestrate/<agent>/chat/completions` only: anything else under
`/instances/<id>/` (e.g. `/v1/threads`, `/api/v1/...`) is 404, as on SaaS. Chat completions v2's
direct runtime path is `/api/v2/<agent>/chat/completions`. With `no_auth` there is no login route.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from wxo_load.mock.routes import admin, auth, chat, plain, runs, threads
from wxo_load.mock.routes.http import (
    ClientGone,
    Receive,
    Scope,
    Send,
    not_allowed,
    not_found,
    query_flag,
)

if TYPE_CHECKING:
    from wxo_load.mock.app import MockApp


async def http(app: MockApp, scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    method: str = scope["method"]
    if path.startswith("/api/v1/"):
        sub = path[7:]
    elif path.startswith("/v1/"):
        sub = path[3:]
    elif path.startswith("/_mock/"):
        await admin.mock_route(app, path, method, send)
        return
    elif path.startswith("/instances/") and instance_sub(path) is not None:
        sub = instance_sub(path) or ""
    elif _v2_agent(path) is not None:
        if method != "POST":
            await not_allowed(send)
            return
        with contextlib.suppress(ClientGone):
            await chat.chat_completions(app, scope, receive, send, _v2_agent(path) or "", 2)
        return
    else:
        await not_found(send)
        return
    try:
        await route(app, sub, method, scope, receive, send)
    except ClientGone:
        return


async def route(
    app: MockApp, sub: str, method: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """`sub` is the path after the prefix (`/threads`, `/orchestrate/runs`, ...)."""
    if sub.startswith("/orchestrate/"):
        rest = sub[12:]
        if await orchestrate_runs(app, rest, method, scope, receive, send):
            return
        if rest.startswith("/threads"):  # the ADK's SaaS spelling
            sub = rest
    if sub == "/threads":
        if method == "POST":
            await threads.create_thread(app, scope, receive, send)
        elif method == "GET":
            await threads.list_threads(app, scope, send)
        else:
            await not_allowed(send)
        return
    if sub.startswith("/threads/") and sub.endswith("/messages") and method == "GET":
        await threads.thread_messages(app, scope, send, sub[9:-9])
        return
    if sub == "/auth/token" and method == "POST" and not app.settings.no_auth:
        await auth.login(app, scope, receive, send)
        return
    if sub == "/tenants":
        await auth.tenants(app, scope, method, receive, send)
        return
    if sub in admin.HEALTH_PATHS and method == "GET":
        await admin.health(send)
        return
    await not_found(send)


async def orchestrate_runs(
    app: MockApp, rest: str, method: str, scope: Scope, receive: Receive, send: Send
) -> bool:
    """The `/orchestrate/runs...`, chat completions v1 and agents routes; False when `rest` is
    none of them."""
    if rest.endswith("/chat/completions") and rest.count("/") == 3:
        if method != "POST":
            await not_allowed(send)
            return True
        await chat.chat_completions(app, scope, receive, send, rest.split("/")[1], 1)
        return True
    if rest == "/agents" and method == "GET":
        await runs.list_agents(app, scope, send)
        return True
    if rest.startswith("/runs/cancel/") and method == "POST":
        await plain.cancel_run(app, scope, send, rest[13:])
        return True
    if rest in ("/runs", "/runs/stream"):
        if method != "POST":
            await not_allowed(send)
            return True
        stream = rest == "/runs/stream" or query_flag(scope, b"stream")
        await runs.create_run(app, scope, receive, send, stream=stream)
        return True
    if rest.startswith("/runs/") and method == "GET":
        await plain.get_run(app, scope, send, rest[6:])
        return True
    return False


def _v2_agent(path: str) -> str | None:
    """The agent id of a chat completions v2 path (direct runtime or SaaS), else None."""
    parts = path.split("/")
    if path.startswith("/api/v2/") and len(parts) == 6 and parts[4:] == ["chat", "completions"]:
        return parts[3] or None
    if (
        path.startswith("/instances/")
        and len(parts) == 8
        and parts[3:5] == ["v2", "orchestrate"]
        and parts[6:] == ["chat", "completions"]
    ):
        return parts[5] or None
    return None


def instance_sub(path: str) -> str | None:
    """`/instances/<id>/v1/orchestrate/rest` -> `/orchestrate/rest`; None for any other shape."""
    parts = path.split("/", 3)  # ['', 'instances', '<id>', 'v1/orchestrate/...']
    if len(parts) < 4 or not parts[2] or not parts[3].startswith("v1/orchestrate/"):
        return None
    return "/" + parts[3][3:]
