"""A diagnostic locustfile add-on: why is the event loop late? (`bench/ab_client.py --probe`)

Loaded beside the harness's locustfile (`-f locustfile.py,hub_probe.py`) when
WXO_BENCH_HUB_PROBE_OUT names a file. A greenlet sleeps 1 ms in a loop and, whenever it wakes
more than 2 ms late, writes one JSON line: when (perf_counter, the clock the simulator's event
log uses), how late, and how much of that time this process spent waiting for a CPU (the
run-queue delay from /proc/self/schedstat: other processes held both cores). Every collection
of the cyclic garbage collector longer than 1 ms is written too. Each late wake-up is thus one
of: the OS did not run us (run-queue), the collector paused us (gc), or our own greenlets kept
the loop busy (the rest).
"""

from __future__ import annotations

import gc
import json
import os
import time

import gevent
from locust import events

_OUT = os.environ.get("WXO_BENCH_HUB_PROBE_OUT")
_perf = time.perf_counter
_lines: list[str] = []


def _run_queue_s() -> float:
    with open("/proc/self/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def _watch() -> None:
    tick = 0.001
    flushed = _perf()
    while True:
        if _perf() - flushed > 1.0:  # a process stopped by a signal still leaves its lines
            flushed = _perf()
            _flush()
        t0, q0 = _perf(), _run_queue_s()
        gevent.sleep(tick)
        late = _perf() - t0 - tick
        if late > 0.002:
            _lines.append(
                json.dumps(
                    {
                        "t": t0,
                        "kind": "late",
                        "late_ms": round(late * 1000, 3),
                        "run_queue_ms": round((_run_queue_s() - q0) * 1000, 3),
                    }
                )
            )


_gc_start = [0.0]
_gc_q0 = [0.0]


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_start[0] = _perf()
        if info.get("generation", 0) > 0:
            _gc_q0[0] = _run_queue_s()
        return
    took = _perf() - _gc_start[0]
    if took > 0.001:
        _lines.append(
            json.dumps(
                {
                    "t": _gc_start[0],
                    "kind": "gc",
                    "gen": info.get("generation"),
                    "ms": round(took * 1000, 3),
                    "collected": info.get("collected"),
                    "run_queue_ms": round((_run_queue_s() - _gc_q0[0]) * 1000, 3),
                }
            )
        )


if _OUT:

    @events.test_start.add_listener
    def _start(**_: object) -> None:
        thresholds = os.environ.get("WXO_BENCH_GC_THRESHOLDS")  # an experiment: "5000,10,1000"
        if thresholds:
            gc.set_threshold(*(int(x) for x in thresholds.split(",")))
        gc.callbacks.append(_on_gc)
        gevent.spawn(_watch)

    @events.quitting.add_listener
    def _on_quitting(**_: object) -> None:
        _flush()


def _flush() -> None:
    if _OUT and _lines:
        with open(_OUT, "a") as f:
            f.write("\n".join(_lines) + "\n")
        _lines.clear()
