"""Clients nobody here wrote, talking to the simulator: IBM's ADK `RunClient`, `ThreadsClient`
and `WebSocketClient` (ibm-watsonx-orchestrate-clients), and the `openai` Python client.

The ADK's clients need Python 3.11+ (skipped before). Its `WebSocketClient` builds
`ws://<host>:4001/api/async/...` for a local URL, as on a Developer Edition: the test keeps
everything it builds and only swaps the port for the simulator's (4001 may be taken here).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mockserver import AGENT_ID, login, simulator

from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def async_sim() -> Iterator[SimulatorProcess]:
    with simulator("async", seed=7) as process:
        yield process


@pytest.fixture(scope="module")
def token(async_sim: SimulatorProcess) -> str:
    with httpx.Client(base_url=async_sim.url, timeout=10) as client:
        return login(client)


def test_adk_run_client_polls_a_run_to_completed_and_reads_the_answer_from_the_thread() -> None:
    run_client = pytest.importorskip("ibm_watsonx_orchestrate_clients.chat.run_client")
    threads_client = pytest.importorskip("ibm_watsonx_orchestrate_clients.threads.threads_client")
    with simulator("fast", seed=3) as sim, httpx.Client(base_url=sim.url, timeout=10) as c:
        token = login(c)
        runs = run_client.RunClient(base_url=sim.url, api_key=token, is_local=True)
        created = runs.create_run("What is my balance?", agent_id=AGENT_ID)
        assert set(created) >= {"thread_id", "run_id", "task_id", "message_id"}
        status = runs.wait_for_run_completion(created["run_id"], poll_interval=0.05)
        assert status["status"] == "completed"
        threads = threads_client.ThreadsClient(base_url=sim.url, api_key=token, is_local=True)
        messages = threads.get_thread_messages(created["thread_id"])
        answer = [m for m in messages if m["role"] == "assistant"][-1]
        text = answer["content"][0]["text"]
        assert text and text == status["result"]["data"]["message"]["content"][0]["text"]
        assert answer["id"] == created["message_id"]


def test_adk_websocket_client_receives_an_async_agents_answer_and_run_completed(
    async_sim: SimulatorProcess, token: str
) -> None:
    ws_module = pytest.importorskip("ibm_watsonx_orchestrate_clients.chat.websocket_client")
    run_module = pytest.importorskip("ibm_watsonx_orchestrate_clients.chat.run_client")
    port = async_sim.port

    class SimulatorPortClient(ws_module.WebSocketClient):  # type: ignore[name-defined]
        def _build_websocket_url(self, *args: Any, **kwargs: Any) -> str:
            url: str = super()._build_websocket_url(*args, **kwargs)
            assert ":4001/api/async/?userId=" in url and "&EIO=4&transport=websocket" in url
            return url.replace(":4001/", f":{port}/")

    events: list[dict[str, Any]] = []
    runs = run_module.RunClient(base_url=async_sim.url, api_key=token, is_local=True)

    async def converse() -> dict[str, Any]:
        client = SimulatorPortClient(base_url=async_sim.url, api_key=token, is_local=True)
        for name in ("run.started", "message.delta", "message.created", "run.completed", "done"):
            client.register_handler(name, events.append)
        await client.connect(AGENT_ID, "")
        try:
            created = runs.create_run("Start the flow", agent_id=AGENT_ID)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(e["event"] == "done" for e in events):
                await asyncio.sleep(0.02)
        finally:
            await client.disconnect()
        return dict(created)

    created = asyncio.run(converse())
    names = [e["event"] for e in events]
    assert names[0] == "run.started" and names[-2:] == ["run.completed", "done"]
    final = [e for e in events if e["event"] == "message.created"]
    message = final[-1]["data"]["message"]
    assert message["additional_properties"]["display_properties"]["is_async"] is False
    assert final[-1]["data"]["run_id"] == created["run_id"]
    # the HTTP run completed first, with the interim message (is_async true)
    status = runs.get_run_status(created["run_id"])
    interim = status["result"]["data"]["message"]
    assert interim["additional_properties"]["display_properties"]["is_async"] is True
    assert async_sim.stats()["sockets_connected"] >= 1


def test_openai_client_streams_a_v1_chat_completion_from_the_agent_path(
    async_sim: SimulatorProcess, token: str
) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(
        base_url=f"{async_sim.url}/api/v1/orchestrate/{AGENT_ID}", api_key=token, max_retries=0
    )
    stream = client.chat.completions.create(
        model="agent", messages=[{"role": "user", "content": "hello"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    completed = chunks[-1]
    assert completed.object == "thread.message.completed"
    assert text and completed.choices[0].finish_reason == "stop"
    plain = client.chat.completions.create(
        model="agent", messages=[{"role": "user", "content": "hello"}], stream=False
    )
    assert plain.choices[0].message.content
