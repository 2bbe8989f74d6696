"""A soak of the load generator: N minutes of load against the simulator, watched every 10 s.

    python bench/soak.py --minutes 30 --users 60 --json soak.json

A development tool run from the repository (not part of the wheel). It starts the built-in
simulator on 127.0.0.1 (the bench's ~3 s streams of 14 events) and one headless Locust process
running the harness with the bench scenario (three runs per conversation, no think time), and
samples, every `--interval` seconds:

- from /proc/<pid> of the Locust process: RSS (VmRSS), open fds, CPU seconds (utime + stime);
- from the harness's own progress line (`--progress-interval`): client lag p99 of the interval
  (`--no-progress-line` runs without it, as the web UI does: no lag figures then);
- from `soak_probe.py`, loaded beside the locustfile: greenlets alive;
- from the simulator's stats: runs completed (the server's count, not the client's);
- the machine's 1-minute load average (the machine may be shared: read the figures with it).

At the end it fits RSS against runs by least squares over the samples after `--warmup` seconds
and prints the slope in KB per 1,000 runs (with its standard error), the fd and greenlet counts
first and last, client lag p99 per sample and CPU ms per run. It exits 1 when memory is not
flat (slope over `--max-kb-per-1000-runs`) or fds or greenlets grew, 2 when the soak could not
run. Locust ends by itself (`-t`); the soak kills nothing but the processes it started.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # wxo_load, and bench_runs beside this file

from bench_runs import (  # noqa: E402 - after the path set-up above
    ASSETS,
    REPO,
    ProcSample,
    clean_env,
    start_locust,
    start_simulator,
)

PROGRESS = re.compile(r"wxo-load: \d+ conversations, (\d+) runs.*client lag p99 ([\d.]+) ms")
PROBE = re.compile(r"wxo-soak-probe: greenlets (\d+) scan_ms ([\d.]+)")
STOP_GRACE_S = 60.0


@dataclass
class Sample:
    t_s: float
    runs: int  # completed, by the simulator's count
    rss_kb: int
    fds: int
    greenlets: int | None
    client_lag_p99_ms: float | None
    cpu_s: float
    cpu_ms_per_run: float | None  # over the interval since the previous sample
    load1: float


class Watch:
    """The Locust process's output, read in a thread: the latest lag and greenlet figures."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lag_ms: float | None = None
        self.greenlets: int | None = None
        self.scan_ms_max = 0.0
        self.tail: deque[str] = deque(maxlen=60)
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.tail.append(line.rstrip("\n"))
            if match := PROGRESS.search(line):
                self.lag_ms = float(match.group(2))
            elif match := PROBE.search(line):
                self.greenlets = int(match.group(1))
                self.scan_ms_max = max(self.scan_ms_max, float(match.group(2)))

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares slope of y on x and its standard error; None with fewer than 3 points."""
    n = len(points)
    if n < 3:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in points)
    return slope, math.sqrt(residual / (n - 2) / sxx)


def verdict(samples: list[Sample], warmup_s: float, max_kb_per_1000: float) -> dict[str, Any]:
    """Whether memory, fds and greenlets stayed flat after the warm-up."""
    kept = [s for s in samples if s.t_s >= warmup_s]
    line = fit([(s.runs / 1000.0, float(s.rss_kb)) for s in kept])
    slope, stderr = line if line is not None else (None, None)
    fds = [s.fds for s in kept]
    greenlets = [s.greenlets for s in kept if s.greenlets is not None]
    lags = [s.client_lag_p99_ms for s in kept if s.client_lag_p99_ms is not None]
    per_run = [s.cpu_ms_per_run for s in kept if s.cpu_ms_per_run is not None]
    problems = []
    if slope is None:
        problems.append("too few samples after the warm-up to fit a slope")
    elif slope > max_kb_per_1000:
        problems.append(f"RSS grows {slope:.1f} KB per 1,000 runs (limit {max_kb_per_1000:g})")
    if fds and max(fds[len(fds) // 2 :]) > max(fds[: len(fds) // 2 + 1]) + 5:
        problems.append(f"open fds grew from {fds[0]} to {fds[-1]}")
    if (
        greenlets
        and max(greenlets[len(greenlets) // 2 :]) > max(greenlets[: len(greenlets) // 2 + 1]) + 20
    ):
        problems.append(f"greenlets grew from {greenlets[0]} to {greenlets[-1]}")
    return {
        "samples_fitted": len(kept),
        "runs_fitted": (kept[-1].runs - kept[0].runs) if kept else 0,
        "rss_kb_per_1000_runs": _r(slope),
        "rss_kb_per_1000_runs_stderr": _r(stderr),
        "rss_mb_first_last": [_r(kept[0].rss_kb / 1024), _r(kept[-1].rss_kb / 1024)]
        if kept
        else [],
        "fds_min_max": [min(fds), max(fds)] if fds else [],
        "greenlets_min_max": [min(greenlets), max(greenlets)] if greenlets else [],
        "client_lag_p99_ms_max": max(lags) if lags else None,
        "cpu_ms_per_run_median": _r(sorted(per_run)[len(per_run) // 2]) if per_run else None,
        "flat": not problems,
        "problems": problems,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def run_soak(args: argparse.Namespace, work: Path) -> tuple[list[Sample], Watch | None, int]:
    """Run the simulator and Locust, sampling until Locust ends; (samples, watch, Locust's rc)."""
    duration_s = float(args.minutes) * 60.0
    env = clean_env()
    env["WXO_SOAK_PROBE_INTERVAL_S"] = str(args.interval)
    sim = start_simulator("profile_long.yaml", "ndjson", None)
    try:
        proc = start_locust(
            f"{REPO / 'locustfile.py'},{HERE / 'soak_probe.py'}", sim.url, args.users, duration_s,
            ["--scenario", str(ASSETS / "scenario.yaml"), "--results-dir", str(work / "results"),
             "--progress-interval", str(0 if args.no_progress_line else args.interval),
             "--stop-timeout", "10"],
            env,
        )  # fmt: skip
        watch = Watch(proc)
        samples = _sample_until_exit(proc, sim, watch, args.interval, duration_s)
        try:
            rc = proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
        watch.join(5)
        return samples, watch, rc
    finally:
        sim.stop()


def _sample_until_exit(
    proc: subprocess.Popen[str], sim: Any, watch: Watch, interval_s: float, duration_s: float
) -> list[Sample]:
    samples: list[Sample] = []
    t0 = time.monotonic()
    end = t0 + duration_s
    last: Sample | None = None
    while proc.poll() is None and time.monotonic() < end:
        time.sleep(min(interval_s, max(0.1, end - time.monotonic())))
        if proc.poll() is not None or time.monotonic() >= end:
            break  # the last seconds are the stop, not the soak
        try:
            now = ProcSample.take(proc.pid)
            rss, fds, cpu = now.rss_kb, now.fds, now.cpu_s
            runs = int(sim.stats()["runs_completed"])
        except (OSError, KeyError, ValueError):
            break
        per_run = None
        if last is not None and runs > last.runs:
            per_run = round((cpu - last.cpu_s) * 1000.0 / (runs - last.runs), 3)
        last = Sample(
            round(time.monotonic() - t0, 1), runs, rss, fds, watch.greenlets, watch.lag_ms,
            round(cpu, 2), per_run, os.getloadavg()[0],
        )  # fmt: skip
        samples.append(last)
        print(_row(last), flush=True)
    return samples


HEADER = "   t_s     runs  rss_MB  fds  greenlets  lag_p99_ms  cpu_ms/run  load1"


def _row(s: Sample) -> str:
    lag = "-" if s.client_lag_p99_ms is None else f"{s.client_lag_p99_ms:.1f}"
    per_run = "-" if s.cpu_ms_per_run is None else f"{s.cpu_ms_per_run:.2f}"
    greenlets = "-" if s.greenlets is None else str(s.greenlets)
    return (
        f"{s.t_s:6.0f} {s.runs:8d} {s.rss_kb / 1024:7.1f} {s.fds:4d} {greenlets:>10} "
        f"{lag:>11} {per_run:>11} {s.load1:6.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=120.0, help="seconds left out of the fit")
    parser.add_argument("--max-kb-per-1000-runs", type=float, default=50.0)
    parser.add_argument("--json", type=Path, help="write the samples and the verdict here")
    parser.add_argument(
        "--no-progress-line", action="store_true",
        help="run as the web UI does, with no progress line (no client lag figures then)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    print(f"soak: {args.minutes:g} min, {args.users} users, a sample every {args.interval:g} s")
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="wxo-soak-") as tmp:
        samples, watch, rc = run_soak(args, Path(tmp))
    result = verdict(samples, args.warmup, args.max_kb_per_1000_runs)
    result["probe_scan_ms_max"] = watch.scan_ms_max if watch else None
    result["locust_exit_code"] = rc
    print(json.dumps(result, indent=2))
    if args.json:
        body = {"args": {k: str(v) for k, v in vars(args).items()}, "verdict": result,
                "samples": [asdict(s) for s in samples]}  # fmt: skip
        args.json.write_text(json.dumps(body, indent=2) + "\n")
    if not samples:
        tail = "\n".join(watch.tail) if watch else ""
        print(f"soak: no samples; Locust said:\n{tail}", file=sys.stderr)
        return 2
    print(
        "soak: memory flat"
        if result["flat"]
        else "soak: NOT flat: " + "; ".join(result["problems"])
    )
    return 0 if result["flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
