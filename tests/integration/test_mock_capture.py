"""The simulator's responses, checked field by field against the captured Developer Edition."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mockserver import (
    AGENT_ID,
    EVENT_ID_RE,
    StreamResult,
    capture_lines,
    key_tree,
    load_capture,
    login,
    new_thread,
    normalise_line,
    simulator,
    stream_run,
)
from net import wait_until


@pytest.fixture(scope="module")
def replayed() -> Iterator[dict[str, Any]]:
    """One thread, two turns on the replay profile (started together to save time)."""
    yield from _replay()


@pytest.fixture
def replayed_alone(_alone_or_shared: None) -> Iterator[dict[str, Any]]:
    """The same replay made while the test holds the `alone` lock: its arrival times are measured
    with no other test's load beside it (the module's shared replay may have been made under
    load)."""
    yield from _replay()


def _replay() -> Iterator[dict[str, Any]]:
    with simulator("replay", seed=3) as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        thread_id = new_thread(client, token)
        t_before = time.time()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(stream_run, client, token, thread_id, text="hello")
            # the second request is the thread's turn 2 once the first is in
            wait_until(lambda: sim.stats()["runs_started"] >= 1, timeout_s=5)
            second = pool.submit(
                stream_run, client, token, thread_id, text="what context variables do you accept?"
            )
            results: dict[str, Any] = {"first": first.result(), "second": second.result()}
        results["t_before"] = t_before
        results["t_after"] = time.time()
        results["thread_id"] = thread_id
        results["messages"] = client.get(
            f"/api/v1/threads/{thread_id}/messages", headers={"Authorization": f"Bearer {token}"}
        )
        yield results


@pytest.mark.slow
@pytest.mark.parametrize(("turn", "capture"), [("first", 1), ("second", 2)])
def test_replayed_stream_equals_capture_line_for_line_once_ids_are_blanked(
    replayed: dict[str, Any], turn: str, capture: int
) -> None:
    got: StreamResult = replayed[turn]
    assert got.status == 200 and got.error is None
    assert [normalise_line(line) for line in got.lines] == [
        normalise_line(line) for line in capture_lines(capture)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("turn", "capture"), [("first", 1), ("second", 2)])
def test_replayed_events_have_the_captured_key_sets_at_every_level(
    replayed: dict[str, Any], turn: str, capture: int
) -> None:
    got = replayed[turn].events()
    want = load_capture(capture)
    assert [e["event"] for e in got] == [e["event"] for e in want]
    for mine, theirs in zip(got, want, strict=True):
        assert key_tree(mine) == key_tree(theirs), mine["event"]


@pytest.mark.slow
def test_follow_up_replay_sends_empty_deltas_and_the_text_only_in_message_created(
    replayed: dict[str, Any],
) -> None:
    events = replayed["second"].events()
    deltas = [e for e in events if e["event"] == "message.delta"]
    assert len(deltas) == 2
    assert all(d["data"]["delta"]["content"][0]["text"] == "" for d in deltas)
    created = next(e for e in events if e["event"] == "message.created")
    assert created["data"]["message"]["content"][0]["text"].startswith(
        "The user is asking about the context"
    )


def test_stream_ids_echo_the_thread_and_agent_and_carry_fresh_run_ids(
    replayed: dict[str, Any],
) -> None:
    captured_ids = {e["data"]["run_id"] for n in (1, 2) for e in load_capture(n)}
    run_ids = set()
    for turn in ("first", "second"):
        events = replayed[turn].events()
        assert {e["data"]["thread_id"] for e in events} == {replayed["thread_id"]}
        assert {e["data"]["agent_id"] for e in events if "agent_id" in e["data"]} == {AGENT_ID}
        ids = {e["data"]["run_id"] for e in events}
        assert len(ids) == 1
        run_ids |= ids
        created = next(e for e in events if e["event"] == "message.created")["data"]
        assert created["message_id"] == created["message"]["id"]
        assert created["message"]["thread_id"] == replayed["thread_id"]
    assert len(run_ids) == 2 and not run_ids & captured_ids


def test_event_ids_are_wall_clock_milliseconds_with_a_sequence_in_the_same_millisecond(
    replayed: dict[str, Any],
) -> None:
    lo, hi = int(replayed["t_before"] * 1000), int(replayed["t_after"] * 1000) + 1
    for turn in ("first", "second"):
        parsed = []
        for event in replayed[turn].events():
            match = EVENT_ID_RE.match(event["id"])
            assert match, event["id"]
            parsed.append((int(match.group(1)), int(match.group(2))))
        assert all(lo <= ms <= hi for ms, _ in parsed)
        assert parsed == sorted(parsed) and len(set(parsed)) == len(parsed)
        for (ms_a, seq_a), (ms_b, seq_b) in zip(parsed, parsed[1:], strict=False):
            assert seq_b == (seq_a + 1 if ms_b == ms_a else 0)


def test_stream_headers_are_the_captured_ones(replayed: dict[str, Any]) -> None:
    headers = replayed["first"].headers
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["transfer-encoding"] == "chunked"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["server"] == "uvicorn"
    assert "content-length" not in headers


def test_each_event_is_written_in_its_own_chunk_ending_with_a_newline(
    replayed: dict[str, Any],
) -> None:
    for turn in ("first", "second"):
        chunks = [c for _, c in replayed[turn].chunks]
        assert all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in chunks)
        assert len(chunks) == len(replayed[turn].lines)


def test_ellipsis_is_sent_as_three_utf8_bytes_not_an_escape(replayed: dict[str, Any]) -> None:
    body = replayed["first"].body
    assert "…".encode() in body and b"\\u2026" not in body


@pytest.mark.alone  # arrival times: no other test's load beside it
@pytest.mark.parametrize(("turn", "capture"), [("first", 1), ("second", 2)])
def test_replay_reproduces_the_captured_relative_timings(
    replayed_alone: dict[str, Any], turn: str, capture: int
) -> None:
    replayed = replayed_alone
    want_ms = [int(e["id"].split("-")[0]) for e in load_capture(capture)]
    want = [ms - want_ms[0] for ms in want_ms]
    arrivals = replayed[turn].arrival_by_line()
    got = [(t - arrivals[0]) * 1000 for t in arrivals]
    # Arrival times on a shared 2-core box: allow scheduling noise, but not a different shape.
    for name, g, w in zip([e["event"] for e in load_capture(capture)], got, want, strict=True):
        assert abs(g - w) <= 40, f"{name}: arrived at +{g:.1f} ms, captured at +{w} ms"
    # The ids' own millisecond parts follow the capture too.
    ids = [int(e["id"].split("-")[0]) for e in replayed[turn].events()]
    assert abs((ids[-1] - ids[0]) - want[-1]) <= 40


def test_thread_messages_hold_both_turns_user_and_assistant(replayed: dict[str, Any]) -> None:
    resp = replayed["messages"]
    assert resp.status_code == 200
    messages = resp.json()
    assert [m["role"] for m in messages].count("user") == 2
    assert [m["role"] for m in messages].count("assistant") == 2
    user_texts = [m["content"][0]["text"] for m in messages if m["role"] == "user"]
    assert set(user_texts) == {"hello", "what context variables do you accept?"}
    assistant = [m for m in messages if m["role"] == "assistant"]
    captured = load_capture(1)[11]["data"]["message"]
    for message in assistant:
        assert key_tree(message) == key_tree(captured)
        assert message["parent_message_id"] in {m["id"] for m in messages if m["role"] == "user"}


def test_thread_creation_answers_like_the_capture() -> None:
    with simulator("fast") as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        resp = client.post(
            "/api/v1/threads",
            json={"title": "hello", "agent_id": AGENT_ID},
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/plain, */*",
            },
        )
    assert resp.status_code == 201
    thread_id = resp.json()["thread_id"]
    assert resp.headers["location"] == f"/threads/{thread_id}"
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["content-length"] == "52"  # as captured: compact JSON
    assert resp.content == f'{{"thread_id":"{thread_id}"}}'.encode()
    assert resp.headers["access-control-allow-origin"] == "*"
    assert resp.headers["server"] == "uvicorn"


def test_default_profile_streams_the_captured_sequence_with_the_answer_split_across_deltas() -> (
    None
):
    with simulator("default", seed=5) as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        thread_id = new_thread(client, token)
        started = time.perf_counter()
        result = stream_run(client, token, thread_id)
        elapsed = time.perf_counter() - started
    events = result.events()
    names = [e["event"] for e in events]
    assert names[:2] == ["run.started", "message.started"]
    assert names[2:8] == ["run.step.intermediate"] * 6
    assert (
        names[8] == "run.step.intermediate"
        and events[8]["data"]["message"]["key"] == "pullingEverythingTogether"
    )
    n_deltas = names.count("message.delta")
    assert n_deltas >= 2
    assert names[9 : 9 + n_deltas] == ["message.delta"] * n_deltas
    assert names[9 + n_deltas :] == [
        "run.step.intermediate",
        "message.created",
        "message.completed",
        "run.completed",
        "done",
    ]
    text = "".join(
        e["data"]["delta"]["content"][0]["text"] for e in events if e["event"] == "message.delta"
    )
    created = next(e for e in events if e["event"] == "message.created")
    assert text == created["data"]["message"]["content"][0]["text"] and text
    capture = {e["event"]: e for e in load_capture(1)}
    for event in events:
        assert key_tree(event) == key_tree(capture[event["event"]]), event["event"]
    assert 0.3 <= elapsed <= 2.5
