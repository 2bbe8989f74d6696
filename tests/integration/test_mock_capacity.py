"""The simulator's capacity: runs past the limit wait in a FIFO queue, or are turned away."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from mockserver import login, new_thread, simulator, stream_run

from wxo_load.core.errors import ConfigError
from wxo_load.mock.capacity import Capacity, RunSlots


def test_slots_are_handed_over_first_come_first_served() -> None:
    async def scenario() -> list[int]:
        slots = RunSlots(Capacity(2))
        order: list[int] = []

        async def run(i: int) -> None:
            await slots.enter()
            order.append(i)
            await asyncio.sleep(0.01)
            slots.leave()

        await asyncio.gather(*(run(i) for i in range(6)))
        assert slots.active == 0 and slots.queued_total == 4 and slots.queue_peak == 4
        return order

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4, 5]


def test_a_full_queue_turns_runs_away() -> None:
    async def scenario() -> list[bool]:
        slots = RunSlots(Capacity(1, max_queue=1))
        first = await slots.enter()
        waiting = asyncio.ensure_future(slots.enter())
        await asyncio.sleep(0)
        rejected = await slots.enter()
        slots.leave()
        return [first, await waiting, rejected]

    assert asyncio.run(scenario()) == [True, True, False]


def test_bad_capacity_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="concurrent_runs"):
        Capacity(0)


def _profile(tmp_path: Path, think_ms: int) -> str:
    path = tmp_path / "steady.yaml"
    path.write_text(f"name: steady\ntiming: {{think_ms: {think_ms}, run_started_ms: 1}}\n")
    return str(path)


def _run_started_s(url: str, token: str) -> tuple[int, float]:
    with httpx.Client(base_url=url) as client:
        thread = new_thread(client, token)
        result = stream_run(client, token, thread)
    return result.status, (result.chunks[0][0] if result.chunks else -1.0)


@pytest.mark.slow
def test_runs_past_the_capacity_wait_in_line_before_run_started(tmp_path: Path) -> None:
    with simulator(_profile(tmp_path, 300), args=["--capacity", "2"]) as sim:
        with httpx.Client(base_url=sim.url) as client:
            token = login(client)
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: _run_started_s(sim.url, token), range(6)))
        stats = sim.stats()
    waits = sorted(t for _, t in results)
    assert all(status == 200 for status, _ in results)
    # two at once, each run ~0.35 s: the 3rd-4th wait one run, the 5th-6th two
    assert waits[1] < 0.15 and 0.25 < waits[3] < 0.9 and 0.55 < waits[5] < 1.6, waits
    assert stats["capacity"]["queued_total"] == 4 and stats["capacity"]["active"] == 0


@pytest.mark.slow
def test_max_queue_answers_429_when_the_line_is_full(tmp_path: Path) -> None:
    with simulator(_profile(tmp_path, 400), args=["--capacity", "1", "--max-queue", "1"]) as sim:
        with httpx.Client(base_url=sim.url) as client:
            token = login(client)
        with ThreadPoolExecutor(4) as pool:
            statuses = sorted(
                s for s, _ in pool.map(lambda _: _run_started_s(sim.url, token), range(4))
            )
        stats = sim.stats()
    assert statuses == [200, 200, 429, 429]
    assert stats["capacity"]["rejected_total"] == 2
