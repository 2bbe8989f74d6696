"""Helpers for the simulator's tests: a real simulator process, the ADK's login, NDJSON reading.

Deliberately independent of the harness's client code (wxo_load.edge.client /
wxo_load.core.stream): the simulator and the client must not share parsing code. httpx is the test
client.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from wxo_load.mock.process import SimulatorProcess

DATA = Path(__file__).resolve().parents[1] / "data"
AGENT_ID = "0c191f04-78cd-45e3-a99a-988cfb29434d"
USERNAME = "wxo.archer@ibm.com"
PASSWORD = "watsonx"
RUN_QUERY = "?stream=true&stream_timeout=120000&multiple_content=true"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT_ID_RE = re.compile(r"^(\d{13})-(\d+)$")


def load_capture(n: int) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (DATA / f"capture_run{n}.ndjson").read_text().splitlines()
        if line
    ]


def capture_lines(n: int) -> list[str]:
    return [line for line in (DATA / f"capture_run{n}.ndjson").read_text().splitlines() if line]


@contextmanager
def simulator(
    profile: str = "fast", *, seed: int | None = 1, args: list[str] | None = None
) -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(profile=profile, port=0, seed=seed, extra_args=args or []) as sim:
        yield sim


def login(client: httpx.Client) -> str:
    """The ADK's local login: user token, tenants list, tenant token. Returns the tenant token."""
    form = {"username": USERNAME, "password": PASSWORD}
    resp = client.post("/api/v1/auth/token", data=form)
    resp.raise_for_status()
    user_token = resp.json()["access_token"]
    tenants = client.get("/api/v1/tenants", headers={"Authorization": f"Bearer {user_token}"})
    tenants.raise_for_status()
    tenant_id = next(t["id"] for t in tenants.json() if t["name"] == "wxo-dev")
    resp = client.post(f"/api/v1/auth/token?tenant_id={tenant_id}", data=form)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_thread(client: httpx.Client, token: str, prefix: str = "/api/v1") -> str:
    resp = client.post(
        f"{prefix}/threads", json={"title": "hello", "agent_id": AGENT_ID}, headers=bearer(token)
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["thread_id"])


def run_body(thread_id: str | None, text: str = "hello") -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": {"role": "user", "content": text},
        "additional_properties": {},
        "context": {},
        "agent_id": AGENT_ID,
        "environment_id": "",
    }
    if thread_id is not None:
        body["thread_id"] = thread_id
    return body


class StreamResult:
    """What one streamed run looked like on the wire."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: httpx.Headers = httpx.Headers()
        self.chunks: list[tuple[float, bytes]] = []  # (seconds since the request, raw chunk)
        self.error: Exception | None = None
        self.ended_s = 0.0  # seconds from the request to the end of the body (or the error)

    @property
    def body(self) -> bytes:
        return b"".join(c for _, c in self.chunks)

    @property
    def lines(self) -> list[str]:
        return [line for line in self.body.decode("utf-8").split("\n") if line]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def arrival_by_line(self) -> list[float]:
        """Arrival time of each line (a line belongs to the chunk that ends it)."""
        out: list[float] = []
        for t, chunk in self.chunks:
            out.extend([t] * chunk.count(b"\n"))
        return out


def stream_run(
    client: httpx.Client,
    token: str,
    thread_id: str | None,
    *,
    path: str = f"/api/v1/orchestrate/runs{RUN_QUERY}",
    text: str = "hello",
    timeout: float | None = 30.0,
) -> StreamResult:
    result = StreamResult()
    t0 = time.perf_counter()
    headers = {**bearer(token), "Accept": "*/*", "x-watson-channel": "agentic_chat"}
    try:
        with client.stream(
            "POST",
            path,
            json=run_body(thread_id, text),
            headers=headers,
            timeout=httpx.Timeout(timeout),
        ) as resp:
            result.status = resp.status_code
            result.headers = resp.headers
            for chunk in resp.iter_raw():
                result.chunks.append((time.perf_counter() - t0, chunk))
    except (httpx.TransportError, httpx.DecodingError) as exc:
        result.error = exc
    result.ended_s = time.perf_counter() - t0
    return result


def key_tree(value: Any) -> Any:
    """The shape of a JSON value: dict keys (in order) and element shapes, no leaf values."""
    if isinstance(value, dict):
        return {k: key_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [key_tree(v) for v in value]
    return type(value).__name__


def normalise_line(line: str) -> str:
    """Blank out what differs between any two runs: ids, uuids, timestamps."""
    line = re.sub(r'"id": "\d{13}-\d+"', '"id": "<ID>"', line)
    line = UUID_RE.sub("<UUID>", line)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", "<TS>", line)
