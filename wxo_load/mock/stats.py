"""The simulator's measurement of itself: open streams, runs per second, event write lateness.

Lateness is "event bytes handed to the transport" minus "when the profile scheduled them",
recorded in a fixed-bucket histogram (10 µs buckets up to 100 ms, then 1 ms buckets) that
costs one list increment per event and merges across worker processes by adding buckets.
"""

from __future__ import annotations

import gc
import os
import resource
import time

import msgspec

from wxo_load.mock.capacity import SlotsSnapshot

_FINE_US = 10
_FINE_N = 10_000  # 10 µs buckets up to 100 ms


class LatenessSummary(msgspec.Struct):
    """Event write lateness in ms (`lateness_ms` of `/_mock/stats`)."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    p999: float | None
    max: float | None


class LatenessWire(msgspec.Struct):
    """A histogram as one worker hands it to another (`fine`/`coarse`: bucket -> count)."""

    fine: dict[int, int]
    coarse: dict[int, int]
    count: int
    max_us: float
    early: int


class GcSummary(msgspec.Struct):
    collections: int
    pause_ms_total: float
    pause_ms_max: float


class LatenessHistogram:
    __slots__ = ("fine", "coarse", "count", "max_us", "early")

    def __init__(self) -> None:
        self.fine = [0] * _FINE_N
        self.coarse: dict[int, int] = {}
        self.count = 0
        self.max_us = 0.0
        self.early = 0

    def record(self, late_s: float) -> None:
        us = late_s * 1e6
        if us < 0:
            self.early += 1
            us = 0.0
        i = int(us) // _FINE_US
        if i < _FINE_N:
            self.fine[i] += 1
        else:
            ms = int(us // 1000)
            self.coarse[ms] = self.coarse.get(ms, 0) + 1
        self.count += 1
        if us > self.max_us:
            self.max_us = us

    def percentile_ms(self, q: float) -> float | None:
        if not self.count:
            return None
        rank = max(1, int(round(q / 100.0 * self.count + 0.4999)))
        seen = 0
        for i, c in enumerate(self.fine):
            if c:
                seen += c
                if seen >= rank:
                    return min((i + 1) * _FINE_US / 1000.0, self.max_us / 1000.0)
        for ms in sorted(self.coarse):
            seen += self.coarse[ms]
            if seen >= rank:
                return min(float(ms + 1), self.max_us / 1000.0)
        return self.max_us / 1000.0

    def summary(self) -> LatenessSummary:
        return LatenessSummary(
            count=self.count,
            p50=_r(self.percentile_ms(50)),
            p90=_r(self.percentile_ms(90)),
            p99=_r(self.percentile_ms(99)),
            p999=_r(self.percentile_ms(99.9)),
            max=_r(self.max_us / 1000.0) if self.count else None,
        )

    def to_wire(self) -> LatenessWire:
        fine = {i: c for i, c in enumerate(self.fine) if c}
        return LatenessWire(fine, dict(self.coarse), self.count, self.max_us, self.early)

    def merge_wire(self, wire: LatenessWire) -> None:
        for i, c in wire.fine.items():
            self.fine[i] += c
        for k, v in wire.coarse.items():
            self.coarse[k] = self.coarse.get(k, 0) + v
        self.count += wire.count
        self.max_us = max(self.max_us, wire.max_us)
        self.early += wire.early


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class Stats:
    """Counters of one worker process. Cheap to update; summarised on request."""

    gc_collections: int
    gc_pause_ms_total: float
    gc_pause_ms_max: float

    def __init__(self, profile_name: str) -> None:
        self.profile_name = profile_name
        self.reset()
        self._gc_t0 = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # Garbage-collector pauses stop the event loop: report them, to tell them from the OS.
        if phase == "start":
            self._gc_t0 = time.perf_counter()
        else:
            pause_ms = (time.perf_counter() - self._gc_t0) * 1000
            self.gc_collections += 1
            self.gc_pause_ms_total += pause_ms
            if pause_ms > self.gc_pause_ms_max:
                self.gc_pause_ms_max = pause_ms

    def reset(self) -> None:
        self.started_at = time.time()
        self.streams_open = 0
        self.streams_open_max = 0
        self.streams_served = 0
        # streams the client closed before their last planned event was written (routes/control)
        self.streams_abandoned = 0
        self.runs_cancelled = 0  # POST runs/cancel/<id> that stopped a run
        self.runs_by_channel: dict[str, int] = {}
        # chat completions v2 stateless: the transcripts resent
        self.stateless_requests = 0
        self.stateless_messages_total = 0
        self.stateless_bytes_total = 0
        # async agents' Socket.IO channel (socketio.py)
        self.sockets_connected = 0
        self.async_events_written = 0  # one per socket an event reached
        self.async_events_undelivered = 0  # events of a user and tenant with no socket open
        self.sockets_left_mid_answer = 0
        self.runs_started = 0
        self.runs_completed = 0
        self.threads_created = 0
        self.events_written = 0
        self.faults: dict[str, int] = {}
        self.runs_by_agent: dict[str, int] = {}  # runs asked of each agent_id
        self.runs_by_user: dict[str, int] = {}  # runs by who made them (the token's subject)
        self.lateness = LatenessHistogram()
        self.gc_collections = 0
        self.gc_pause_ms_total = 0.0
        self.gc_pause_ms_max = 0.0
        self._run_secs: dict[int, int] = {}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._cpu_base = usage.ru_utime + usage.ru_stime

    def run_started(self) -> None:
        self.runs_started += 1
        sec = int(time.monotonic())
        secs = self._run_secs
        secs[sec] = secs.get(sec, 0) + 1
        if len(secs) > 30:
            for old in [s for s in secs if s < sec - 10]:
                del secs[old]

    def stream_opened(self) -> None:
        self.streams_open += 1
        if self.streams_open > self.streams_open_max:
            self.streams_open_max = self.streams_open

    def stream_closed(self) -> None:
        self.streams_open -= 1
        self.streams_served += 1

    def run_by(self, agent_id: str, user: str) -> None:
        self.runs_by_agent[agent_id] = self.runs_by_agent.get(agent_id, 0) + 1
        self.runs_by_user[user] = self.runs_by_user.get(user, 0) + 1

    def channel(self, name: str) -> None:
        self.runs_by_channel[name] = self.runs_by_channel.get(name, 0) + 1

    def fault(self, name: str) -> None:
        self.faults[name] = self.faults.get(name, 0) + 1

    def runs_per_s(self, window_s: int = 5) -> float:
        now = int(time.monotonic())
        # the last `window_s` complete seconds
        total = sum(c for s, c in self._run_secs.items() if now - window_s <= s < now)
        return round(total / window_s, 2)

    def cpu_s(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime - self._cpu_base

    def snapshot(self) -> WorkerStats:
        """This worker's figures; `lateness_wire` is for the other workers (admin.py)."""
        return WorkerStats(
            pid=os.getpid(),
            profile=self.profile_name,
            uptime_s=round(time.time() - self.started_at, 3),
            streams_open=self.streams_open,
            streams_open_max=self.streams_open_max,
            streams_served=self.streams_served,
            streams_abandoned=self.streams_abandoned,
            runs_cancelled=self.runs_cancelled,
            runs_by_channel=dict(self.runs_by_channel),
            stateless_requests=self.stateless_requests,
            stateless_messages_total=self.stateless_messages_total,
            stateless_bytes_total=self.stateless_bytes_total,
            sockets_connected=self.sockets_connected,
            async_events_written=self.async_events_written,
            async_events_undelivered=self.async_events_undelivered,
            sockets_left_mid_answer=self.sockets_left_mid_answer,
            runs_started=self.runs_started,
            runs_completed=self.runs_completed,
            runs_per_s=self.runs_per_s(),
            threads_created=self.threads_created,
            events_written=self.events_written,
            faults=dict(self.faults),
            runs_by_agent=dict(self.runs_by_agent),
            runs_by_user=dict(self.runs_by_user),
            lateness_ms=self.lateness.summary(),
            lateness_early_count=self.lateness.early,
            cpu_s=round(self.cpu_s(), 4),
            gc=GcSummary(
                collections=self.gc_collections,
                pause_ms_total=round(self.gc_pause_ms_total, 3),
                pause_ms_max=round(self.gc_pause_ms_max, 3),
            ),
            lateness_wire=self.lateness.to_wire(),
        )


class _Counts(msgspec.Struct, kw_only=True):
    """The figures that add up across workers (`aggregate`)."""

    streams_open: int
    streams_open_max: int
    streams_served: int
    streams_abandoned: int
    runs_cancelled: int
    stateless_requests: int
    stateless_messages_total: int
    stateless_bytes_total: int
    sockets_connected: int
    async_events_written: int
    async_events_undelivered: int
    sockets_left_mid_answer: int
    runs_started: int
    runs_completed: int
    runs_per_s: float
    threads_created: int
    events_written: int
    lateness_early_count: int
    cpu_s: float
    faults: dict[str, int]
    runs_by_agent: dict[str, int]
    runs_by_user: dict[str, int]
    runs_by_channel: dict[str, int]
    lateness_ms: LatenessSummary


class WorkerStats(_Counts, kw_only=True, omit_defaults=True):
    """One worker's `/_mock/stats` (`workers: 1`), or its entry in `per_worker`."""

    pid: int
    profile: str
    uptime_s: float
    gc: GcSummary
    capacity: SlotsSnapshot | None = None  # with a `capacity:` profile
    lateness_wire: LatenessWire | None = None  # between workers only
    workers: int | None = None  # 1 when this is the whole answer


class StatsTotal(_Counts, kw_only=True):
    """`/_mock/stats` of a simulator with `--workers N`: the sums, and each worker's own."""

    pid: int
    profile: str
    workers: int
    per_worker: list[WorkerStats]


_SUM_KEYS = tuple(
    name
    for name, kind in zip(_Counts.__struct_fields__, msgspec.structs.fields(_Counts), strict=True)
    if kind.type in (int, float)
)
_BY_KEYS = ("faults", "runs_by_agent", "runs_by_user", "runs_by_channel")


def aggregate(wires: list[WorkerStats], pid: int, profile: str) -> StatsTotal:
    """Sum several workers' snapshots (each with its `lateness_wire`) into one stats answer."""
    hist = LatenessHistogram()
    sums: dict[str, float] = dict.fromkeys(_SUM_KEYS, 0)
    by: dict[str, dict[str, int]] = {key: {} for key in _BY_KEYS}
    for w in wires:
        for k in _SUM_KEYS:
            sums[k] += getattr(w, k)
        for key, counts in by.items():
            for name, c in getattr(w, key).items():
                counts[name] = counts.get(name, 0) + c
        if w.lateness_wire is not None:
            hist.merge_wire(w.lateness_wire)
    sums["runs_per_s"] = round(sums["runs_per_s"], 2)
    sums["cpu_s"] = round(sums["cpu_s"], 4)
    shown = [msgspec.structs.replace(w, lateness_wire=None) for w in wires]
    answer = {**sums, **by, "lateness_ms": hist.summary(), "pid": pid, "profile": profile,
              "workers": len(wires), "per_worker": shown}  # fmt: skip
    return msgspec.convert(answer, StatsTotal)
