"""Reading a tenant's conversation history: an agent's threads and each thread's messages.

    api = ThreadsApi(host, deployment.threads_path, provider, tls)
    for thread_id in api.thread_ids(agent_id, limit=500): messages = api.messages(thread_id)

`GET <threads>?agent_id=…&limit=…&offset=…` (most recent first), then
`GET <threads>/<id>/messages` (oldest first). Both lists may be bare or wrapped as
`{"data": [...]}`, as the ADK accepts. Paging stops on an empty or short page, at `limit`, or when
a server that ignores `offset` sends a page already seen. A 401 is retried once with a renewed
token; a second 401, or a 403, is `AuthError` (exit 2) saying what to set. A thread that cannot be
read (another status, a body that is not a list of messages) is `ThreadUnreadable`. The token
only travels in the request header: it is never in an error, a log line or a result.
"""

from __future__ import annotations

import httpx

from wxo_load.core.errors import AuthError, UnreachableError
from wxo_load.core.json_value import Json, JsonObject
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.http import USER_AGENT, excerpt
from wxo_load.edge.proxy import httpx_proxy
from wxo_load.edge.tls import TlsSettings, ssl_context

PAGE = 100
WHAT_TO_SET = (
    "Set a valid credential: WXO_TOKEN (or --token), WXO_API_KEY (or --api-key, with "
    "--auth-type), or the ADK's active environment (orchestrate env activate); for a local "
    "Developer Edition --username / --password. The account must be allowed to read the "
    "agent's threads."
)


class ThreadUnreadable(Exception):
    """One thread's messages could not be read; the reason is short and secret-free."""


class ThreadsApi:
    def __init__(
        self, host: str, threads_path: str, tokens: TokenProvider, tls: TlsSettings
    ) -> None:
        proxy, trust_env = httpx_proxy()
        self.base = host.rstrip("/") + threads_path
        self.tokens = tokens
        self.client = httpx.Client(
            verify=ssl_context(tls),
            timeout=httpx.Timeout(30.0, connect=10.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            trust_env=trust_env,
            proxy=proxy,
        )

    def close(self) -> None:
        self.client.close()

    def thread_ids(self, agent_id: str, limit: int) -> list[str]:
        ids: list[str] = []
        offset = 0
        while len(ids) < limit:
            size = min(PAGE, limit - len(ids))
            params = {"agent_id": agent_id, "limit": str(size), "offset": str(offset)}
            response = self._get(self.base, params)
            if response.status_code != 200:
                raise UnreachableError(
                    f"listing the threads of agent {agent_id} at {self.base}: HTTP "
                    f"{response.status_code} ({excerpt(response)}). Check --host, --agent-id "
                    "and the deployment's paths."
                )
            page = [
                (t.get("id") or t.get("thread_id")) if type(t) is dict else None
                for t in _items(response) or []
            ]
            fresh = [t for t in page if isinstance(t, str) and t not in ids]
            ids.extend(fresh[: limit - len(ids)])
            if not fresh or len(page) < size:
                break
            offset += len(page)
        return ids

    def messages(self, thread_id: str) -> list[JsonObject]:
        response = self._get(f"{self.base}/{thread_id}/messages", None)
        if response.status_code != 200:
            raise ThreadUnreadable(f"HTTP {response.status_code}")
        items = _items(response)
        messages = [m for m in items if type(m) is dict] if items is not None else []
        if items is None or len(messages) != len(items):
            raise ThreadUnreadable("not a list of messages")
        return messages

    def _get(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        token = self.tokens.token()
        response = self._send(url, params, token)
        if response.status_code == 401:
            response = self._send(url, params, self.tokens.refresh(token))
        if response.status_code in (401, 403):
            raise AuthError(
                f"{url} answered HTTP {response.status_code} with {self.tokens.describe()}. "
                + WHAT_TO_SET
            )
        return response

    def _send(self, url: str, params: dict[str, str] | None, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self.client.get(url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise UnreachableError(
                f"cannot read {url} ({type(exc).__name__}). Check --host, the network, "
                "--proxy and the TLS options (--ca-bundle, --insecure)."
            ) from None


def _items(response: httpx.Response) -> list[Json] | None:
    """The list in a bare or `{"data": [...]}` body; None when the body is neither."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        body = body.get("data")
    return body if isinstance(body, list) else None
