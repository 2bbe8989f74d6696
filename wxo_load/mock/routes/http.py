"""ASGI types, the response helpers and the JSON/time spellings every route uses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20

CORS = (b"access-control-allow-origin", b"*")
JSON_TYPE = (b"content-type", b"application/json")
STREAM_HEADERS = [
    (b"access-control-allow-credentials", b"true"),
    CORS,
    (b"content-type", b"text/event-stream; charset=utf-8"),
]
END = {"type": "http.response.body", "body": b"", "more_body": False}


class DropConnection(Exception):
    """Raised mid-stream to make uvicorn close the connection without ending the body."""


class ClientGone(Exception):
    """The client disconnected while we were reading its request."""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_bytes(obj: Any) -> bytes:
    # FastAPI's JSONResponse format (the captured Content-Length 52 of {"thread_id": ...}).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


async def respond(
    send: Send,
    status: int,
    obj: Any,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    text: str | None = None,
) -> None:
    if text is not None:
        body = text.encode()
        out = [(b"content-type", b"text/plain; charset=utf-8"), CORS]
    else:
        body = json_bytes(obj)
        out = [JSON_TYPE, CORS]
    out.append((b"content-length", str(len(body)).encode()))
    if headers:
        out.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def respond_raw_json(send: Send, status: int, body: bytes) -> None:
    """An already encoded JSON body."""
    headers = [JSON_TYPE, CORS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def not_found(send: Send) -> None:
    await respond(send, 404, {"detail": "Not Found"})


async def not_allowed(send: Send) -> None:
    await respond(send, 405, {"detail": "Method Not Allowed"})


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def query_value(scope: Scope, key: bytes) -> str:
    qs: bytes = scope.get("query_string", b"")
    if not qs:
        return ""
    for part in qs.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == key:
            return unquote(value.decode("latin-1"))
    return ""


def query_flag(scope: Scope, key: bytes) -> bool:
    return query_value(scope, key).lower() in ("true", "1", "yes")
