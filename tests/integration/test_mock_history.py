"""The simulator's threads API over seeded history (`wxo-load mock --history`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers.history import write_history
from tests.helpers.mockserver import AGENT_ID, bearer, login, simulator


@contextmanager
def seeded(args: list[str]) -> Iterator[httpx.Client]:
    with simulator(args=args) as sim, httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client


def test_history_threads_are_listed_by_agent_with_paging_and_read_with_created_on(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.jsonl"
    items = write_history(history, 12, **{"3": {"status": 500}})
    with seeded(["--history", str(history)]) as client:
        token = login(client)
        seen: list[str] = []
        for offset in range(0, 20, 5):
            page = client.get(
                "/api/v1/threads",
                params={"agent_id": AGENT_ID, "limit": 5, "offset": offset},
                headers=bearer(token),
            )
            assert page.status_code == 200
            seen.extend(t["id"] for t in page.json())
        assert len(seen) == 12 and len(set(seen)) == 12
        assert seen[0] == items[-1]["thread_id"]  # most recent first
        other = client.get("/v1/threads", params={"agent_id": "x"}, headers=bearer(token))
        assert other.json() == []
        messages = client.get(f"/v1/threads/{items[0]['thread_id']}/messages",
                                  headers=bearer(token)).json()  # fmt: skip
        assert [m["role"] for m in messages] == ["user", "assistant"] * 3
        assert messages[0]["created_on"] == items[0]["messages"][0]["created_on"]
        assert messages[0]["content"][0]["text"] == items[0]["messages"][0]["text"]
        assert messages[3]["step_history"][0]["step_details"][0]["type"] == "tool_calls"
        broken = client.get(f"/v1/threads/{items[3]['thread_id']}/messages",
                                headers=bearer(token))  # fmt: skip
        assert broken.status_code == 500
        assert client.get("/v1/threads", params={"agent_id": AGENT_ID}).status_code == 401


def test_threads_list_data_shape_wraps_both_lists(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    items = write_history(history, 2)
    with seeded(["--history", str(history), "--threads-list", "data"]) as client:
        token = login(client)
        page = client.get("/api/v1/threads", params={"agent_id": AGENT_ID},
                              headers=bearer(token)).json()  # fmt: skip
        assert [t["id"] for t in page["data"]] == [items[1]["thread_id"], items[0]["thread_id"]]
        messages = client.get(f"/api/v1/threads/{items[0]['thread_id']}/messages",
                                  headers=bearer(token)).json()  # fmt: skip
        assert len(messages["data"]) == 6


def test_bad_history_file_stops_the_simulator_with_the_line(tmp_path: Path) -> None:
    from wxo_load.mock.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "bot", "text": "x", "created_on": "t"}]}\n')
    assert main(["--history", str(bad), "--port", "0"]) == 2
