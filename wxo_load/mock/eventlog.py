"""`--event-log FILE`: one JSON line per event written, buffered in memory, flushed every 0.1 s.

Line: `{"run_id", "thread_id", "seq", "event", "id", "t_mono", "t_sched"}` where `t_mono` is
`time.perf_counter()` (CLOCK_MONOTONIC on Linux, comparable across processes of one host) just
before the event's bytes went to the transport, and `t_sched` the time the profile scheduled
it on the same clock. Several worker processes append to one file; each flush is a single
`write()` on an O_APPEND descriptor, so lines do not interleave.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

_Entry = tuple[str, str, int, str, str, float, float]


def _q(text: str) -> str:
    """A JSON string literal; thread ids are UUIDs we minted, but stay safe for any text."""
    if '"' in text or "\\" in text or not text.isprintable():
        return json.dumps(text, ensure_ascii=False)
    return f'"{text}"'


class EventLog:
    def __init__(self, path: Path, flush_every_s: float = 0.1) -> None:
        self.path = path
        self.flush_every_s = flush_every_s
        self._buffer: list[_Entry] = []
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def add(
        self,
        run_id: str,
        thread_id: str,
        seq: int,
        event: str,
        event_id: str,
        t_mono: float,
        t_sched: float,
    ) -> None:
        self._buffer.append((run_id, thread_id, seq, event, event_id, t_mono, t_sched))

    def flush(self) -> None:
        if not self._buffer:
            return
        entries, self._buffer = self._buffer, []
        # Ids, event names and UUIDs need no JSON escaping: plain formatting is several times
        # cheaper than json.dumps, which keeps each flush short (it runs on the event loop).
        lines = [
            f'{{"run_id": "{r}", "thread_id": {_q(t)}, "seq": {s}, "event": "{e}", "id": "{i}", '
            f'"t_mono": {m!r}, "t_sched": {sch!r}}}\n'
            for r, t, s, e, i, m, sch in entries
        ]
        os.write(self._fd, "".join(lines).encode())

    async def run_flusher(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.flush_every_s)
                self.flush()
        finally:
            self.flush()

    def close(self) -> None:
        self.flush()
        os.close(self._fd)
