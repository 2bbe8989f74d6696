"""The constant parts of the chat requests, encoded once: the request heads up to the
per-request lines, and the tail of a run's body (built again only for a conversation with its
own context variables or headers: a persona's data row)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import orjson

from wxo_load.config.model import ApiPaths, RequestSettings
from wxo_load.core.deployment import Deployment
from wxo_load.core.json_value import JsonObject
from wxo_load.edge.proxy import Proxy

if TYPE_CHECKING:
    from wxo_load.edge.endpoint import Endpoint


def request_heads(
    host_header: str,
    endpoint: Endpoint,
    deployment: Deployment,
    api: ApiPaths,
    proxy: Proxy | None,
    user_agent: str,
    req: RequestSettings,
) -> tuple[bytes, bytes]:
    """The fixed start of the thread-creation and run requests (up to the per-request lines)."""
    # Through a proxy, a plain-http request names its origin (absolute form) and carries the
    # proxy's credentials; an https one goes through a CONNECT tunnel and needs neither.
    origin = f"http://{host_header}" if proxy is not None and not endpoint.https else ""
    common = (
        f"Host: {host_header}\r\nUser-Agent: {user_agent}\r\n"
        "Content-Type: application/json\r\nx-watson-channel: agentic_chat\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
        + (proxy.header_line if origin and proxy is not None else "")
    )
    threads_target = origin + endpoint.base_path + deployment.threads_path
    runs_target = (
        f"{origin}{endpoint.base_path}{deployment.runs_path}?{urlencode(api.stream_query)}"
    )
    thread_head = (
        f"POST {threads_target} HTTP/1.1\r\nAccept: application/json, text/plain, */*\r\n{common}"
    ).encode()
    run_head = f"POST {runs_target} HTTP/1.1\r\nAccept: */*\r\n{common}".encode()
    return thread_head, run_head


def run_body_extra(req: RequestSettings) -> bytes:
    """The constant tail of every run body, encoded once (per conversation with a data row)."""
    tail: JsonObject = {
        "additional_properties": dict(req.additional_properties),
        "context": dict(req.context),
        "environment_id": req.environment_id,
    }
    if req.context_variables is not None:
        tail["context_variables"] = dict(req.context_variables)
    if req.llm_params is not None:
        tail["llm_params"] = dict(req.llm_params)
    if req.guardrails is not None:
        tail["guardrails"] = dict(req.guardrails)
    encoded = orjson.dumps(tail)  # b'{"additional_properties":...}'
    return b"," + encoded[1:]


def chat_head(
    host_header: str,
    endpoint: Endpoint,
    proxy: Proxy | None,
    user_agent: str,
    path: str,
    headers: Mapping[str, str],
    environment_id: str | None,
) -> bytes:
    """The fixed start of a chat completions request (v1 or v2): no widget headers; v2's
    `X-IBM-ENVIRONMENT-ID` only when one is set (its presence marks a request as live)."""
    origin = f"http://{host_header}" if proxy is not None and not endpoint.https else ""
    return (
        f"POST {origin}{endpoint.base_path}{path} HTTP/1.1\r\nHost: {host_header}\r\n"
        f"User-Agent: {user_agent}\r\nContent-Type: application/json\r\n"
        "Accept: text/event-stream\r\n"
        + (f"X-IBM-ENVIRONMENT-ID: {environment_id}\r\n" if environment_id else "")
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + (proxy.header_line if origin and proxy is not None else "")
    ).encode()


def chat_body_extra(req: RequestSettings) -> JsonObject:
    """The constant fields of a chat completions body: the scenario's `context` and
    `context_variables` (a persona's data row), when set."""
    extra: JsonObject = {}
    if req.context:
        extra["context"] = dict(req.context)
    if req.context_variables is not None:
        extra["context_variables"] = dict(req.context_variables)
    return extra
