"""What the simulator keeps between requests: threads and their messages, plain runs, tenants.

Threads and runs are bounded (oldest out first). A thread id minted by this simulator (signed
by its key, maybe by another worker) is adopted when it is not, or no longer, in the store.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from datetime import datetime, timezone

from wxo_load.mock.shapes import Json, RunRecord, Tenant
from wxo_load.mock.stats import Stats
from wxo_load.mock.tokens import (
    DEFAULT_TENANT_ID,
    DEFAULT_TENANT_NAME,
    DEFAULT_TENANT_TITLE,
    Keyring,
)

THREAD_KIND = b"thread"
TENANT_KIND = b"tenant"
MAX_THREADS_KEPT = 20_000
MAX_RUNS_KEPT = 20_000


class ThreadState:
    __slots__ = ("agent_id", "title", "messages", "user_turns", "created_on", "status")

    def __init__(self, agent_id: str, title: str) -> None:
        self.agent_id = agent_id
        self.title = title
        self.created_on = ""  # ISO time; set for new and seeded (--history) threads
        self.status = 200  # a seeded thread may answer its messages with an error (--history)
        # Kept as encoded JSON: bytes are invisible to the garbage collector, so thousands of
        # threads do not lengthen its pauses (which would show as event lateness).
        self.messages: list[bytes] = []
        self.user_turns = 0


def default_tenants() -> dict[str, Tenant]:
    return {
        DEFAULT_TENANT_ID: {
            "id": DEFAULT_TENANT_ID,
            "name": DEFAULT_TENANT_NAME,
            "title": DEFAULT_TENANT_TITLE,
            "tags": ["test"],
        }
    }


class Store:
    """Threads, plain runs' records and tenants; `rng` is shared with the planner."""

    def __init__(self, keyring: Keyring, rng: random.Random, stats: Stats) -> None:
        self.keyring = keyring
        self.rng = rng
        self.stats = stats
        self.threads: OrderedDict[str, ThreadState] = OrderedDict()
        self.runs: OrderedDict[str, RunRecord] = OrderedDict()
        self.tenants: dict[str, Tenant] = default_tenants()

    def thread_state(
        self, thread_id: str, agent_id: str = "", title: str = ""
    ) -> ThreadState | None:
        state = self.threads.get(thread_id)
        if state is not None:
            self.threads.move_to_end(thread_id)
            return state
        if not self.keyring.check_signed_uuid(THREAD_KIND, thread_id):
            return None
        # Minted by this simulator (maybe by another worker, or forgotten): adopt it.
        state = ThreadState(agent_id, title)
        self.threads[thread_id] = state
        if len(self.threads) > MAX_THREADS_KEPT:
            self.threads.popitem(last=False)
        return state

    def new_thread(self, agent_id: str, title: str) -> str:
        thread_id = self.keyring.new_signed_uuid(THREAD_KIND, self.rng.getrandbits(64))
        state = self.thread_state(thread_id, agent_id, title)
        if state is not None:
            state.created_on = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.stats.threads_created += 1
        return thread_id

    def agent_threads(self, agent_id: str) -> list[tuple[str, ThreadState]]:
        """The agent's threads, most recent first (as the ADK reads them)."""
        held = [(tid, st) for tid, st in self.threads.items() if st.agent_id == agent_id]
        return sorted(held, key=lambda item: item[1].created_on, reverse=True)

    def add_run(self, record: RunRecord) -> None:
        self.runs[record["run_id"]] = record
        if len(self.runs) > MAX_RUNS_KEPT:
            self.runs.popitem(last=False)

    def known_tenant(self, tenant_id: str) -> bool:
        """In the table, or minted by this simulator (maybe by another worker)."""
        return tenant_id in self.tenants or self.keyring.check_signed_uuid(TENANT_KIND, tenant_id)

    def add_tenant(self, name: str, title: Json, tags: Json) -> Tenant:
        bits = int.from_bytes(self.keyring._tag(b"tenant-name", name.encode()), "big")
        tenant_id = self.keyring.new_signed_uuid(TENANT_KIND, bits)
        tenant: Tenant = {"id": tenant_id, "name": name, "title": title, "tags": tags}
        self.tenants[tenant_id] = tenant
        return tenant
