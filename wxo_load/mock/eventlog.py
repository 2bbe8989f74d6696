"""`--event-log FILE`: one JSON line per event written, buffered in memory, flushed every 0.1 s.

Line: `{"run_id", "thread_id", "seq", "event", "id", "t_mono", "t_sent", "t_sched"}` where
`t_mono` is `time.perf_counter()` (CLOCK_MONOTONIC on Linux, comparable across processes of one
host) just before the event's first byte went to the transport, `t_sent` just after its last
byte did (a framing such as crlf-tiny writes one event in many pieces: a client can know the
event only from then on), and `t_sched` the time the profile scheduled it on the same clock.
Several worker processes append to one file; each flush is a single `write()` on an O_APPEND
descriptor, so lines do not interleave.

`--run-log FILE` (another `EventLog`, written with `add_request`) gets one line per run as it
is asked for: `{"run_id", "thread_id", "event": "run.request", "agent_id", "user", "text",
"t_mono"}` (`t_mono` as above, when the request was read)
(`user`: who made it, the subject of its bearer token, never the token), so a test can tell
which agent, person and message each run served.

A tool's step events (agents with tools, see agent_tools.py) add `"step"` (`tool_call` or
`tool_response`), `"tool"` (its name) and `"tool_call_id"`, so a test can compare each call's
duration as written with the one the client measured.

A profile with an `answers:` section adds one line per run with its verdict (`"event": "_answer"`,
see answers.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

_Entry = tuple[str, str, int, str, str, float, float, float, str]


def _q(text: str) -> str:
    """A JSON string literal; thread ids are UUIDs we minted, but stay safe for any text."""
    if '"' in text or "\\" in text or not text.isprintable():
        return json.dumps(text, ensure_ascii=False)
    return f'"{text}"'


def _step_fields(tag: str) -> str:
    """`tool_call NAME ID` -> `, "step": "tool_call", "tool": NAME, "tool_call_id": ID`."""
    if not tag:
        return ""
    kind, _, rest = tag.partition(" ")
    if not rest:
        return f', "step": {_q(kind)}'
    name, _, call_id = rest.partition(" ")
    return f', "step": {_q(kind)}, "tool": {_q(name)}, "tool_call_id": {_q(call_id)}'


class EventLog:
    def __init__(self, path: Path, flush_every_s: float = 0.1) -> None:
        self.path = path
        self.flush_every_s = flush_every_s
        self._buffer: list[_Entry] = []
        # whole lines of other kinds: answers.py's verdicts, the requests of --run-log
        self._lines: list[str] = []
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def add(
        self,
        run_id: str,
        thread_id: str,
        seq: int,
        event: str,
        event_id: str,
        t_mono: float,
        t_sent: float,
        t_sched: float,
        tag: str = "",
    ) -> None:
        self._buffer.append((run_id, thread_id, seq, event, event_id, t_mono, t_sent, t_sched, tag))

    def add_line(self, line: str) -> None:
        self._lines.append(line)

    def add_request(
        self, run_id: str, thread_id: str, agent_id: str, user: str, text: str, **extra: object
    ) -> None:
        """`extra`: the other channels' fields (`channel`, `messages`, `bytes`)."""
        self.add_line(json.dumps({
            "run_id": run_id, "thread_id": thread_id, "event": "run.request",
            "agent_id": agent_id, "user": user, "text": text, "t_mono": time.perf_counter(),
            **extra,
        }, ensure_ascii=False) + "\n")  # fmt: skip

    def flush(self) -> None:
        if not self._buffer and not self._lines:
            return
        entries, self._buffer = self._buffer, []
        extra, self._lines = self._lines, []
        # Ids, event names and UUIDs need no JSON escaping: plain formatting is several times
        # cheaper than json.dumps, which keeps each flush short (it runs on the event loop).
        lines = [
            f'{{"run_id": "{r}", "thread_id": {_q(t)}, "seq": {s}, "event": "{e}", "id": "{i}", '
            f'"t_mono": {m!r}, "t_sent": {sent!r}, "t_sched": {sch!r}{_step_fields(tag)}}}\n'
            for r, t, s, e, i, m, sent, sch, tag in entries
        ]
        os.write(self._fd, "".join(extra + lines).encode())

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
