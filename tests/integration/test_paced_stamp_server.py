"""bench/paced_stamp_server.py, the ceiling bench's independent server, as a real process with
gaps of a few ms: the API a conversation needs, answers a check and a canary scan can judge,
the injected faults, and the log of each run's write times."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from bench_runs import StampServerProcess  # noqa: E402 - bench/ is not a package

CANARY = "WXO-0123456789"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[StampServerProcess, Path]]:
    log = tmp_path / "runs.jsonl"
    extra = ["--gap-ms", "1,3", "--cross-talk-every", "3", "--wrong-every", "4",
             "--stop-after-s", "60"]  # fmt: skip
    with StampServerProcess(log, extra) as proc:
        yield proc, log


def _run(client: httpx.Client, thread_id: str, text: str) -> list[dict[str, object]]:
    body = {"message": {"role": "user", "content": text}, "thread_id": thread_id}
    with client.stream("POST", "/api/v1/orchestrate/runs?stream=true", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line) for line in resp.iter_lines() if line]


def _text(events: list[dict[str, object]]) -> str:
    deltas = [e["data"]["delta"]["content"][0]["text"] for e in events  # type: ignore[index]
              if e["event"] == "message.delta"]  # fmt: skip
    return "".join(deltas)  # type: ignore[arg-type]


def test_a_conversation_its_answers_faults_and_write_times(
    server: tuple[StampServerProcess, Path],
) -> None:
    proc, log = server
    with httpx.Client(base_url=proc.url, timeout=10) as client:
        assert client.post("/api/v1/auth/token", data={"username": "x"}).status_code == 404
        made = client.post("/api/v1/threads", json={"title": "hi", "agent_id": "a"})
        assert made.status_code == 201
        first, second = made.json()["thread_id"], "thread-2"
        one = _run(client, first, f"my laptop won't start (ref {CANARY})")
        two = _run(client, first, "it shows a blue screen")
        three = _run(client, second, "hello")  # the 3rd run: quotes another conversation
        four = _run(client, second, "thanks")  # the 4th: a wrong answer
        stats = proc.stats()
    names = [e["event"] for e in one]
    assert names[:2] == ["run.started", "message.started"]
    assert names[-4:] == ["message.created", "message.completed", "run.completed", "done"]
    assert 34 <= names.count("message.delta") <= 36
    created = next(e for e in one if e["event"] == "message.created")
    assert created["data"]["message"]["content"][0]["text"] == _text(one)  # type: ignore[index]
    assert _text(one).startswith(f"You said: my laptop won't start (ref {CANARY}).")
    assert CANARY in _text(two)  # every answer quotes the conversation's first message
    assert CANARY in _text(three) and "hello" not in _text(three)
    assert _text(four).startswith("I'm sorry")
    assert stats["runs_completed"] == 4 and stats["faults"] == {"cross_talk": 1, "wrong": 1}
    assert stats["events_written"] == sum(len(x) for x in (one, two, three, four))
    proc.stop()  # its last log lines are written on SIGTERM
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    by_run = {line["run_id"]: line for line in lines}
    assert [by_run[r[0]["data"]["run_id"]]["fault"] for r in (one, two, three, four)] == [  # type: ignore[index]
        None, None, "cross_talk", "wrong"]  # fmt: skip
    for line in lines:
        assert line["run.started"] < line["message.delta"] < line["done"]
