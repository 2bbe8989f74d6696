"""The simulator's other channels: chat completions v1 and v2, run-and-poll, cancel, and the
count of streams a client closed early."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mockserver import AGENT_ID, RUN_QUERY, bearer, login, new_thread, run_body, simulator

from wxo_load.mock.process import SimulatorProcess

V1 = f"/api/v1/orchestrate/{AGENT_ID}/chat/completions"
V2 = f"/api/v2/{AGENT_ID}/chat/completions"
SAAS_V2 = f"/instances/abc123/v2/orchestrate/{AGENT_ID}/chat/completions"
SAAS_V1 = f"/instances/abc123/v1/orchestrate/{AGENT_ID}/chat/completions"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def sim(logs: Path) -> Iterator[SimulatorProcess]:
    args = ["--event-log", str(logs / "events.jsonl"), "--run-log", str(logs / "runs.jsonl")]
    with simulator("fast", seed=5, args=args) as process:
        yield process


@pytest.fixture()
def client(sim: SimulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10) as c:
        yield c


@pytest.fixture()
def token(client: httpx.Client) -> str:
    return login(client)


def sse_frames(text: str) -> list[Any]:
    """`data:` payloads (JSON, or the `[DONE]` string); comments and blank lines skipped."""
    out: list[Any] = []
    for block in text.split("\n\n"):
        data = [ln[5:].strip() for ln in block.split("\n") if ln.startswith("data:")]
        if data:
            joined = "\n".join(data)
            out.append(joined if joined == "[DONE]" else json.loads(joined))
    return out


def chat(
    client: httpx.Client,
    token: str,
    path: str,
    messages: list[dict[str, Any]],
    thread: str | None = None,
    **body: Any,
) -> httpx.Response:
    headers = bearer(token)
    if thread is not None:
        headers["X-IBM-THREAD-ID"] = thread
    return client.post(path, json={"messages": messages, **body}, headers=headers)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def wait_for(check: Any, timeout_s: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# ------------------------------------------------------------------------------ v1


def test_v1_streams_delta_and_completed_frames_then_done_and_continues_its_thread(
    client: httpx.Client, token: str
) -> None:
    first = chat(client, token, V1, [user("hello")])
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/event-stream")
    frames = sse_frames(first.text)
    assert frames[-1] == "[DONE]"
    deltas = [f for f in frames[:-1] if f["object"] == "thread.message.delta"]
    completed = frames[-2]
    assert completed["object"] == "thread.message.completed" and deltas
    text = "".join(f["choices"][0]["delta"]["content"] for f in deltas)
    assert completed["choices"][0]["message"]["content"] == text
    thread_id = completed["thread_id"]
    assert all(f["thread_id"] == thread_id and f["run_id"] for f in frames[:-1])

    second = chat(client, token, V1, [user("again")], thread=thread_id, stream=False)
    answer = second.json()
    assert second.status_code == 200 and answer["object"] == "chat.completion"
    assert answer["thread_id"] == thread_id and answer["choices"][0]["message"]["content"]
    messages = client.get(f"/v1/threads/{thread_id}/messages", headers=bearer(token)).json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["content"][0]["text"] == text


def test_v1_saas_path_and_unknown_thread(client: httpx.Client, token: str) -> None:
    assert chat(client, token, SAAS_V1, [user("hi")], stream=False).status_code == 200
    missing = chat(client, token, V1, [user("hi")], thread=str(uuid.uuid4()))
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    assert chat(client, token, V1, []).status_code == 422


# ------------------------------------------------------------------------------ v2


def test_v2_stateful_first_turn_mints_a_thread_later_turns_continue_it(
    client: httpx.Client, token: str
) -> None:
    first = chat(client, token, V2, [user("hello")], thread="new", stream=True)
    assert first.status_code == 200 and first.text.startswith(": keep-alive")
    frames = sse_frames(first.text)
    assert "[DONE]" not in frames  # v2 ends at the close
    completed = frames[-1]
    assert completed["object"] == "thread.message.completed"
    thread_id = completed["thread_id"]
    assert uuid.UUID(thread_id) and completed["trace_id"] and completed["run_id"]
    assert completed["data"]["message"]["content"][0]["text"]
    second = chat(client, token, SAAS_V2, [user("more")], thread=thread_id, stream=True)
    assert sse_frames(second.text)[-1]["thread_id"] == thread_id
    messages = client.get(f"/v1/threads/{thread_id}/messages", headers=bearer(token)).json()
    assert len(messages) == 4


def test_v2_stateless_keeps_nothing_and_records_each_requests_size(
    client: httpx.Client, token: str, sim: SimulatorProcess, logs: Path
) -> None:
    thread_id = str(uuid.uuid4())
    transcript: list[dict[str, Any]] = []
    sizes = []
    for turn in range(3):
        transcript.append(user(f"question {turn}"))
        resp = chat(client, token, V2, transcript, thread_id=thread_id, stream=True)
        completed = sse_frames(resp.text)[-1]
        assert completed["thread_id"] == thread_id
        transcript.append({"role": "assistant", "content": completed["data"]["message"]["content"]})
        sizes.append(len(resp.request.content))
    runs_log = logs / "runs.jsonl"
    lines = wait_for(
        lambda: [r for r in read_jsonl(runs_log) if r.get("thread_id") == thread_id and
                 len([x for x in read_jsonl(runs_log) if x.get("thread_id") == thread_id]) == 3]
    )  # fmt: skip
    assert [r["channel"] for r in lines] == ["chat-v2-stateless"] * 3
    assert [r["messages"] for r in lines] == [1, 3, 5]
    assert [r["bytes"] for r in lines] == sizes
    assert sim.stats()["stateless_requests"] >= 3
    not_kept = client.get(f"/v1/threads/{thread_id}/messages", headers=bearer(token))
    assert not_kept.status_code == 404


def test_v2_errors_are_json_and_agents_are_listed(client: httpx.Client, token: str) -> None:
    bad = chat(client, token, V2, [])
    assert bad.status_code == 400 and "messages" in bad.json()["error"]["message"]
    gone = chat(client, token, V2, [user("hi")], thread=str(uuid.uuid4()))
    assert gone.status_code == 404 and "thread" in gone.json()["error"]["message"].lower()
    agents = client.get("/v1/orchestrate/agents", headers=bearer(token)).json()
    assert agents[0]["id"] == AGENT_ID and agents[0]["name"]
    empty_env = client.post(
        V2, json={"messages": [user("hi")]}, headers={**bearer(token), "X-IBM-ENVIRONMENT-ID": ""}
    )
    assert empty_env.status_code == 400 and "ENVIRONMENT" in empty_env.json()["error"]["message"]
    env = str(uuid.uuid4())
    live = client.post(
        V2, json={"messages": [user("hi")]}, headers={**bearer(token), "X-IBM-ENVIRONMENT-ID": env}
    )
    assert live.status_code == 200


@pytest.mark.parametrize(
    ("args", "status", "echo"),
    [(["--thread-store", "off"], 503, None), (["--thread-store", "echo"], 200, "new")],
)
def test_v2_without_a_thread_store(args: list[str], status: int, echo: str | None) -> None:
    with simulator("fast", args=args) as sim, httpx.Client(base_url=sim.url, timeout=10) as c:
        token = login(c)
        resp = chat(c, token, V2, [user("hi")], thread="new", stream=True)
        assert resp.status_code == status
        if echo is None:
            assert "thread" in resp.json()["error"]["message"].lower()
        else:
            assert sse_frames(resp.text)[-1]["thread_id"] == echo


def test_v2_thread_expires_after_n_turns() -> None:
    with (
        simulator("fast", args=["--thread-expiry-turns", "3"]) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as c,
    ):
        token = login(c)
        first = chat(c, token, V2, [user("1")], thread="new", stream=True)
        thread_id = sse_frames(first.text)[-1]["thread_id"]
        assert chat(c, token, V2, [user("2")], thread=thread_id).status_code == 200
        assert chat(c, token, V2, [user("3")], thread=thread_id).status_code == 200
        expired = chat(c, token, V2, [user("4")], thread=thread_id)
        assert expired.status_code == 404
        assert "thread" in expired.json()["error"]["message"].lower()


def test_v2_tool_steps_stream_as_step_deltas_and_in_the_completed_frame() -> None:
    with simulator("tools", seed=2) as sim, httpx.Client(base_url=sim.url, timeout=10) as c:
        token = login(c)
        frames = sse_frames(chat(c, token, V2, [user("order?")], thread="new").text)
        steps = [f for f in frames if f["object"] == "thread.run.step.delta"]
        assert steps and all(f["data"]["delta"]["step_details"] for f in steps)
        details = frames[-1]["data"]["message"]["step_details"]
        assert {d["type"] for d in details} >= {"tool_calls", "tool_response"}
        assert len(details) == len(steps)


# ------------------------------------------------------------------ poll, cancel, abandon


def test_polled_run_goes_pending_running_completed_on_the_simulators_clock(
    client: httpx.Client, token: str, logs: Path
) -> None:
    resp = client.post("/v1/orchestrate/runs", json=run_body(None), headers=bearer(token))
    ids = resp.json()
    assert set(ids) == {"thread_id", "run_id", "task_id", "message_id"}
    seen: list[str] = []

    def poll() -> dict[str, Any] | None:
        record = client.get(f"/v1/orchestrate/runs/{ids['run_id']}", headers=bearer(token)).json()
        if not seen or seen[-1] != record["status"]:
            seen.append(record["status"])
        return record if record["status"] == "completed" else None

    record = wait_for(poll)
    assert seen[-1] == "completed" and set(seen) <= {"pending", "running", "completed"}
    assert record["created_at"] <= record["started_at"] <= record["completed_at"]
    events = logs / "events.jsonl"
    done = wait_for(
        lambda: [e for e in read_jsonl(events)
                 if e["run_id"] == ids["run_id"] and e["event"] == "run.completed"]
    )  # fmt: skip
    assert len(done) == 1 and done[0]["t_mono"] > 0


def test_cancel_a_polled_run_and_a_streamed_run() -> None:
    with simulator("slow", seed=3) as sim, httpx.Client(base_url=sim.url, timeout=10) as c:
        tok = login(c)
        ids = c.post("/v1/orchestrate/runs", json=run_body(None), headers=bearer(tok)).json()
        cancel = c.post(f"/v1/orchestrate/runs/cancel/{ids['run_id']}", headers=bearer(tok))
        assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
        record = c.get(f"/v1/orchestrate/runs/{ids['run_id']}", headers=bearer(tok)).json()
        assert record["status"] == "cancelled" and record["cancelled_at"]
        again = c.post(f"/v1/orchestrate/runs/cancel/{ids['run_id']}", headers=bearer(tok))
        assert again.status_code == 409

        thread_id = new_thread(c, tok)
        url = f"/api/v1/orchestrate/runs{RUN_QUERY}"
        with c.stream("POST", url, json=run_body(thread_id), headers=bearer(tok)) as resp:
            lines = resp.iter_lines()
            first = json.loads(next(lines))
            assert first["event"] == "run.started"
            run_id = first["data"]["run_id"]
            stop = c.post(f"/v1/orchestrate/runs/cancel/{run_id}", headers=bearer(tok))
            assert stop.status_code == 200
            rest = [json.loads(line) for line in lines if line]
        assert rest[-1]["event"] == "run.cancelled"
        assert sim.stats()["runs_cancelled"] == 2


PACED = """name: paced
timing: {run_started_ms: 5, message_started_ms: 1, steps: 1, step_gap_ms: 1, think_ms: 50,
         first_delta_ms: 1, delta_gap_ms: 40, finish_gap_ms: 5}
answer: {chars: 200, chars_per_delta: 20}
"""


@pytest.mark.parametrize("path", ["runs", V1, V2])
def test_a_stream_closed_before_its_last_event_counts_as_abandoned(
    path: str, tmp_path: Path
) -> None:
    profile = tmp_path / "paced.yaml"
    profile.write_text(PACED)
    with simulator(str(profile)) as sim, httpx.Client(base_url=sim.url, timeout=30) as c:
        tok = login(c)
        if path == "runs":
            url, body = f"/api/v1/orchestrate/runs{RUN_QUERY}", run_body(new_thread(c, tok))
        else:
            url, body = path, {"messages": [user("hi")]}
        for _ in range(2):
            with c.stream("POST", url, json=body, headers=bearer(tok)) as resp:
                next(resp.iter_bytes())  # the first bytes, then leave
        chat(c, tok, V1, [user("whole answer")], stream=True)  # read to the end: not abandoned
        stats = wait_for(lambda: (s := sim.stats())["streams_abandoned"] >= 2 and s)
        assert stats["streams_abandoned"] == 2 and stats["streams_open"] == 0


def test_v1_openai_chunks_for_aiperf() -> None:
    with (
        simulator("fast", args=["--chat-frames", "openai"]) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as c,
    ):
        frames = sse_frames(chat(c, login(c), V1, [user("hi")]).text)
        assert frames[-1] == "[DONE]"
        assert {f["object"] for f in frames[:-1]} == {"chat.completion.chunk"}
        assert frames[-2]["choices"][0]["finish_reason"] == "stop"


# ------------------------------------------------------------------------------ Socket.IO


def test_socketio_handshake_ping_and_refusal_on_the_main_and_the_async_port() -> None:
    websocket = pytest.importorskip("websocket")
    from net import free_port

    port = free_port()
    with (
        simulator("fast", args=["--async-port", str(port)]) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as c,
    ):
        token = login(c)
        for p in (sim.port, port):
            url = f"ws://127.0.0.1:{p}/api/async/?userId=u&tenantId=t&EIO=4&transport=websocket"
            ws = websocket.create_connection(url, header=[f"Authorization: Bearer {token}"])
            try:
                opened = ws.recv()
                assert opened.startswith("0") and json.loads(opened[1:])["upgrades"] == []
                ws.send("40")
                assert ws.recv().startswith('40{"sid":')
                ws.send("2")
                assert ws.recv() == "3"
            finally:
                ws.close()
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(url, header=["Authorization: Bearer nope"])
        assert wait_for(lambda: sim.stats()["sockets_connected"] == 2)


def test_every_channel_stamps_its_writes_in_the_event_log(
    client: httpx.Client, token: str, logs: Path
) -> None:
    v1 = sse_frames(chat(client, token, V1, [user("hi")]).text)[-2]["run_id"]
    v2 = sse_frames(chat(client, token, V2, [user("hi")], thread="new").text)[-1]["run_id"]
    events = logs / "events.jsonl"

    def names(run_id: str) -> list[str]:
        return [e["event"] for e in read_jsonl(events) if e["run_id"] == run_id]

    assert wait_for(lambda: "done" in names(v1) and "done" in names(v2))
    assert set(names(v1)) == {"message.delta", "message.created", "done"}
    assert set(names(v2)) == {"run.started", "message.delta", "message.created", "done"}
    for e in read_jsonl(events):
        if e["run_id"] in (v1, v2):
            assert e["t_sched"] <= e["t_mono"] <= e["t_sent"]


def test_async_agent_events_are_stamped_as_written_to_the_socket(tmp_path: Path) -> None:
    websocket = pytest.importorskip("websocket")
    log = tmp_path / "events.jsonl"
    with (
        simulator("async", args=["--event-log", str(log)]) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as c,
    ):
        token = login(c)
        url = f"ws://127.0.0.1:{sim.port}/api/async/?EIO=4&transport=websocket"
        ws = websocket.create_connection(url, header=[f"Authorization: Bearer {token}"])
        try:
            ws.recv()
            ws.send("40")
            ws.recv()
            ids = c.post("/v1/orchestrate/runs", json=run_body(None), headers=bearer(token))
            run_id = ids.json()["run_id"]
            seen = []
            while not seen or seen[-1] != "done":
                packet = ws.recv()
                if packet.startswith("42"):
                    name, payload = json.loads(packet[2:])
                    assert name == payload["event"] and payload["data"]["run_id"] == run_id
                    seen.append(name)
        finally:
            ws.close()
    logged = [e["event"] for e in read_jsonl(log) if e["run_id"] == run_id]
    assert logged[:2] == ["run.running", "run.completed"]  # the HTTP run, with the interim
    assert logged[2:] == seen


@pytest.mark.slow  # waits 2 s on the clock
def test_v2_thread_expires_after_s_seconds() -> None:
    with (
        simulator("fast", args=["--thread-expiry-s", "0.3"]) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as c,
    ):
        token = login(c)
        started = time.monotonic()
        first = chat(c, token, V2, [user("1")], thread="new")
        thread_id = sse_frames(first.text)[-1]["thread_id"]
        assert chat(c, token, V2, [user("2")], thread=thread_id).status_code == 200
        expired = wait_for(
            lambda: (
                (r := chat(c, token, V2, [user("n")], thread=thread_id)).status_code == 404 and r
            )
        )
        assert expired and time.monotonic() - started >= 0.3
        assert "thread" in expired.json()["error"]["message"].lower()
