"""Benchmark of the built-in simulator: can one process stay off the critical path of a test?

Starts `python -m wxo_load.mock` (one process unless --workers) with a benchmark profile whose
runs last about 2 s and carry 18 events each, logs in as the ADK does, then drives it from a
separate lean load-generator process (uvloop + raw asyncio protocols, no HTTP library, no JSON
parsing: it only frames the chunked body) at a fixed open-loop arrival rate. At the end it
prints what the simulator reports about itself (`/_mock/stats`) and what the load generator saw:

    streams served, runs per second, simulator CPU per run, event write lateness p50/p99/max,
    max concurrently open streams, and the load generator's own CPU and schedule lag (so you
    can tell whether the load generator, not the simulator, was the limit).

Usage (2-core box: the simulator gets one core, the load generator the other):

    python bench/simulator_bench.py                      # 500 runs/s for 20 s, ~1,000 open streams
    python bench/simulator_bench.py --rate 700 --duration 30 --json out.json

Not a test: it takes ~30 s and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from wxo_load.mock.process import SimulatorProcess  # noqa: E402

AGENT_ID = "0c191f04-78cd-45e3-a99a-988cfb29434d"

# Runs of ~2 s with the captured shape: 6 steps, a think, 3 deltas, the closing events (18 events).
BENCH_PROFILE = """\
name: bench
description: benchmark profile, ~2 s runs of 18 events
timing:
  run_started_ms: 10
  message_started_ms: 5
  steps: 6
  step_gap_ms: {uniform: [1, 5]}
  think_ms: {uniform: [1500, 1700]}
  first_delta_ms: 2
  delta_gap_ms: {uniform: [40, 60]}
  finish_gap_ms: {uniform: [2, 8]}
answer:
  chars: 90
  chars_per_delta: 30
"""


# ----------------------------------------------------------------------------- login


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(
        urllib.request.Request(url, data=data, method="POST"), timeout=10
    ) as r:
        result: dict[str, Any] = json.loads(r.read())
    return result


def tenant_token(base: str) -> str:
    form = {"username": "wxo.archer@ibm.com", "password": "watsonx"}
    user_token = _post_form(f"{base}/api/v1/auth/token", form)["access_token"]
    req = urllib.request.Request(
        f"{base}/api/v1/tenants", headers={"Authorization": f"Bearer {user_token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        tenants = json.loads(r.read())
    tenant_id = next(t["id"] for t in tenants if t["name"] == "wxo-dev")
    return str(_post_form(f"{base}/api/v1/auth/token?tenant_id={tenant_id}", form)["access_token"])


# ----------------------------------------------------------------------------- load generator


class RunProtocol(asyncio.Protocol):
    """One keep-alive connection; frames one chunked response at a time by its terminator."""

    def __init__(self, gen: LoadGen) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.busy = False
        self.t_start = 0.0
        self.first = 0.0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> None:
        self.busy = True
        self.buf.clear()
        self.t_start = time.perf_counter()
        self.first = 0.0
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        if not self.first:
            self.first = time.perf_counter()
        self.buf += data
        if self.buf.endswith(b"\r\n0\r\n\r\n"):
            ok = self.buf.startswith(b"HTTP/1.1 200")
            events = self.buf.count(b"\n{")  # each event line starts a chunk
            self.busy = False
            self.gen.finished(self, ok, events)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.busy:
            self.busy = False
            self.gen.finished(self, False, 0)


class LoadGen:
    def __init__(self, host: str, port: int, token: str, threads: list[str]) -> None:
        self.host, self.port = host, port
        self.token = token
        self.threads = threads
        self.idle: list[RunProtocol] = []
        self.open = 0
        self.open_max = 0
        self.ok = 0
        self.failed = 0
        self.events = 0
        self.schedule_lag: list[float] = []
        self.first_event_ms: list[float] = []
        self.run_ms: list[float] = []
        self.all_done = asyncio.Event()
        self.pending = 0

    def request(self, i: int) -> bytes:
        body = json.dumps(
            {
                "message": {"role": "user", "content": "hello"},
                "additional_properties": {},
                "context": {},
                "agent_id": AGENT_ID,
                "thread_id": self.threads[i % len(self.threads)],
                "environment_id": "",
            }
        ).encode()
        head = (
            "POST /api/v1/orchestrate/runs?stream=true&stream_timeout=120000"
            "&multiple_content=true HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nAccept: */*\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        return head + body

    async def start_run(self, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        proto = None
        while self.idle:
            candidate = self.idle.pop()
            if not candidate.closed:
                proto = candidate
                break
        if proto is None:
            _, proto = await loop.create_connection(lambda: RunProtocol(self), self.host, self.port)
        self.open += 1
        self.open_max = max(self.open_max, self.open)
        proto.send(request)

    def finished(self, proto: RunProtocol, ok: bool, events: int) -> None:
        now = time.perf_counter()
        self.open -= 1
        self.pending -= 1
        if ok:
            self.ok += 1
            self.events += events
            self.run_ms.append((now - proto.t_start) * 1000)
            if proto.first:
                self.first_event_ms.append((proto.first - proto.t_start) * 1000)
            self.idle.append(proto)
        else:
            self.failed += 1
        if self.pending <= 0:
            self.all_done.set()

    async def drive(self, rate: float, duration_s: float) -> None:
        requests = [self.request(i) for i in range(len(self.threads))]
        total = int(rate * duration_s)
        self.pending = total
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        for i in range(total):
            target = t0 + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.schedule_lag.append((time.perf_counter() - target) * 1000)
            loop.create_task(self.start_run(requests[i % len(requests)]))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.all_done.wait(), timeout=60)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)


def _create_threads(base: str, token: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        req = urllib.request.Request(
            f"{base}/api/v1/threads",
            data=json.dumps({"title": "bench", "agent_id": AGENT_ID}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            out.append(json.loads(r.read())["thread_id"])
    return out


def load_generator_main(base: str, rate: float, duration_s: float, result: Any, pin: bool) -> None:
    import uvloop

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if pin:
        os.sched_setaffinity(0, {1})
    token = tenant_token(base)
    threads = _create_threads(base, token, 200)
    parsed = urllib.parse.urlparse(base)
    gen = LoadGen(parsed.hostname or "127.0.0.1", parsed.port or 80, token, threads)
    # Leave the login and the thread creation out of the simulator's figures.
    reset = urllib.request.Request(f"{base}/_mock/reset-stats", data=b"", method="POST")
    urllib.request.urlopen(reset, timeout=10).read()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    uvloop.run(gen.drive(rate, duration_s))
    wall = time.perf_counter() - wall0
    result.put(
        {
            "runs_ok": gen.ok,
            "runs_failed": gen.failed,
            "events": gen.events,
            "open_max": gen.open_max,
            "wall_s": round(wall, 2),
            "cpu_s": round(time.process_time() - cpu0, 2),
            "schedule_lag_ms": {
                "p50": _pct(gen.schedule_lag, 50),
                "p99": _pct(gen.schedule_lag, 99),
            },
            "first_event_ms": {
                "p50": _pct(gen.first_event_ms, 50),
                "p99": _pct(gen.first_event_ms, 99),
            },
            "run_ms": {"p50": _pct(gen.run_ms, 50), "p99": _pct(gen.run_ms, 99)},
        }
    )


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rate", type=float, default=500.0, help="runs started per second (default 500)"
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds of arrivals (default 20)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="simulator worker processes (default 1)"
    )
    parser.add_argument(
        "--profile", default=None, help="simulator profile (default: the ~2 s bench profile)"
    )
    parser.add_argument(
        "--event-log", type=Path, default=None, help="pass --event-log FILE to the simulator"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the simulator to CPU 0 and the load generator to CPU 1",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        profile = args.profile
        if profile is None:
            profile = str(Path(tmp) / "bench.yaml")
            Path(profile).write_text(BENCH_PROFILE)
        extra = ["--workers", str(args.workers)]
        if args.event_log:
            extra += ["--event-log", str(args.event_log)]
        with SimulatorProcess.start(profile=profile, seed=1, extra_args=extra) as sim:
            pin = args.pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2
            if pin and args.workers == 1:
                os.sched_setaffinity(sim.pid, {0})
            sim.reset_stats()
            result: Any = mp.get_context("spawn").Queue()
            gen = mp.get_context("spawn").Process(
                target=load_generator_main, args=(sim.url, args.rate, args.duration, result, pin)
            )
            gen.start()
            client = result.get(timeout=args.duration + 120)
            gen.join(timeout=10)
            if not sim.running:
                print(
                    f"the simulator stopped during the benchmark: {sim.stderr_tail()}",
                    file=sys.stderr,
                )
                return 1
            stats = sim.stats()

    runs = stats["streams_served"]
    cpu_ms_per_run = round(stats["cpu_s"] * 1000 / runs, 3) if runs else None
    achieved_rate = round(client["runs_ok"] / args.duration, 1)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "target_rate": args.rate,
        "duration_s": args.duration,
        "simulator_workers": args.workers,
        "simulator": {
            "streams_served": runs,
            "runs_started": stats["runs_started"],
            "streams_open_max": stats["streams_open_max"],
            "events_written": stats["events_written"],
            "lateness_ms": stats["lateness_ms"],
            "cpu_s": stats["cpu_s"],
            "cpu_ms_per_run": cpu_ms_per_run,
            "gc": stats.get("gc"),
            "cpu_percent_of_one_core": round(100 * stats["cpu_s"] / max(client["wall_s"], 1e-9), 1),
        },
        "load_generator": client,
        "runs_per_s": achieved_rate,
    }
    lat = stats["lateness_ms"]
    print(f"machine:                 {report['machine']}")
    print(
        f"offered load:            {args.rate:g} runs/s for {args.duration:g} s, "
        f"simulator workers: {args.workers}"
    )
    print(f"streams served:          {runs} ({client['runs_failed']} failed at the client)")
    print(f"runs per second:         {achieved_rate}")
    print(f"max open streams:        {stats['streams_open_max']} (client saw {client['open_max']})")
    print(f"events written:          {stats['events_written']}")
    print(
        f"simulator CPU per run:   {cpu_ms_per_run} ms "
        f"({report['simulator']['cpu_percent_of_one_core']} % of one core)"
    )
    print(
        f"lateness p50/p99/max:    {lat['p50']} / {lat['p99']} / {lat['max']} ms "
        "(event written - scheduled)"
    )
    print(
        f"load generator:          CPU {client['cpu_s']} s over {client['wall_s']} s, "
        f"schedule lag p99 {client['schedule_lag_ms']['p99']} ms, "
        f"first event p50 {client['first_event_ms']['p50']} ms, "
        f"run p50/p99 {client['run_ms']['p50']}/{client['run_ms']['p99']} ms"
    )
    gc_info = stats.get("gc") or {}
    print(
        f"simulator GC pauses:     {gc_info.get('collections')} collections, "
        f"max {gc_info.get('pause_ms_max')} ms, "
        f"total {gc_info.get('pause_ms_total')} ms"
    )
    print(f"box load average:        {os.getloadavg()[0]:.2f} (1 min, includes this benchmark)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
