"""`python bench/vs_naive.py`: the harness against the hand-written reference locustfile, on one
server (a development tool, run from the repository; it is not in the wheel).

Three phases, each against a fresh built-in simulator that logs when it wrote every event
(perf_counter, the clock every process on this host shares):

1. cost: the harness and the reference (../shared/bench/naive_locustfile.py) side by side, the
   same number of users each, 14-event runs back to back. CPU seconds of each Locust process
   (from /proc) over a steady window, divided by the runs each completed in that window (from
   the simulator's record) -> CPU ms per completed run, and runs per second.
2. timing error: both side by side again at 100 concurrent streams (~3 s runs). For every run,
   the interval from run.started to the first message.delta and to done as each client measured
   it, against the interval between the server's writes of the same events. The reference is
   observed through a probe that stamps the moment it parses each line (its code is unchanged).
3. concurrency: the harness alone, one process, with more and more open streams; the client
   lag p99 of each steady interval (arrival minus the server's timestamp in the event id). The
   most streams held with lag p99 under 10 ms is reported.

Not a test: it prints figures (and writes them as JSON with --json) for docs/measurements.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench_runs import (
    ASSETS,
    REPO,
    Generator,
    clean_env,
    cpu_seconds,
    errors_ms,
    finish,
    harness_runs,
    quantiles,
    read_event_log,
    server_writes,
    start_locust,
    start_pair,
    start_simulator,
)

from wxo_load.core.errors import ConfigError
from wxo_load.mock.framing import FRAMINGS

DEFAULT_REFERENCE = REPO.parent / "shared" / "bench" / "naive_locustfile.py"
LAG_LIMIT_MS = 10.0


BENCH_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--reference",
        dict(
            type=Path,
            default=None,
            help=f"the hand-written locustfile to compare with (default {DEFAULT_REFERENCE})",
        ),
    ),
    (
        "--users",
        dict(
            type=int,
            default=50,
            help="users of each load generator in the cost phase (default 50: the simulator "
            "stays below saturation)",
        ),
    ),
    (
        "--duration",
        dict(
            type=float,
            default=20.0,
            help="seconds measured in each phase, after warm-up (default 20)",
        ),
    ),
    ("--warmup", dict(type=float, default=6.0, help="seconds before measuring (default 6)")),
    (
        "--streams",
        dict(
            default="100,250,500,750,1000",
            help="open-stream steps of the concurrency phase (default 100,250,500,750,1000)",
        ),
    ),
    (
        "--phases",
        dict(default="cost,timing,concurrency", help="which phases to run (default all three)"),
    ),
    (
        "--framing",
        dict(
            default="ndjson",
            choices=FRAMINGS,
            help="how the simulator frames events in every phase: ndjson (default), sse, crlf-tiny",
        ),
    ),
    ("--json", dict(type=Path, default=None, help="also write the figures to this JSON file")),
)
"""The bench's options, in the order --help lists them: (flag, add_argument keywords)."""


def configure_bench(parser: argparse.ArgumentParser) -> None:
    for flag, settings in BENCH_OPTIONS:
        parser.add_argument(flag, **settings)


# -- phase 1 ------------------------------------------------------------------------------------


def phase_cost(
    reference: Path,
    users: int,
    warmup_s: float,
    duration_s: float,
    work: Path,
    framing: str = "ndjson",
) -> dict[str, Any]:
    log = work / "cost-events.jsonl"
    with start_simulator("profile_14_events.yaml", framing, log) as sim:
        harness, naive = start_pair(
            sim, work / "cost", reference, users, warmup_s + duration_s + 4, probe=False
        )
        time.sleep(warmup_s)
        t1, cpu1 = time.perf_counter(), {g.name: cpu_seconds(g.proc.pid) for g in (harness, naive)}
        time.sleep(duration_s)
        t2, cpu2 = time.perf_counter(), {g.name: cpu_seconds(g.proc.pid) for g in (harness, naive)}
        finish(harness, naive)
        sim_stats = sim.stats()
    assert harness.results_dir is not None
    harness_threads = {r["thread_id"] for r in harness_runs(harness.results_dir)}
    done, events = _count_in_window(log, harness_threads, t1, t2)
    figures: dict[str, Any] = {
        "users_each": users,
        "window_s": round(t2 - t1, 2),
        "simulator_lateness_ms": sim_stats.get("lateness_ms"),
    }
    for gen in (harness, naive):
        runs = done[gen.name]
        cpu_s = cpu2[gen.name] - cpu1[gen.name]
        figures[gen.name] = {
            "runs": runs,
            "runs_per_s": round(runs / (t2 - t1), 1),
            "events_per_run": round(events[gen.name] / runs, 1) if runs else None,
            "cpu_percent": round(100 * cpu_s / (t2 - t1), 1),
            "cpu_ms_per_run": round(1000 * cpu_s / runs, 3) if runs else None,
        }
    h, n = figures["wxo-load"]["cpu_ms_per_run"], figures["reference"]["cpu_ms_per_run"]
    figures["cpu_ratio"] = round(h / n, 3) if h and n else None
    return figures


def _count_in_window(
    log: Path, harness_threads: set[str], t1: float, t2: float
) -> tuple[dict[str, int], dict[str, int]]:
    """Runs done and events written between t1 and t2, per generator ("wxo-load" owns the
    harness's threads, "reference" every other thread)."""
    done: dict[str, int] = defaultdict(int)
    events: dict[str, int] = defaultdict(int)
    for line in read_event_log(log):
        owner = "wxo-load" if line["thread_id"] in harness_threads else "reference"
        if t1 <= line["t_mono"] <= t2:
            events[owner] += 1
            if line["event"] == "done":
                done[owner] += 1
    return done, events


# -- phase 2 ------------------------------------------------------------------------------------


def phase_timing(
    reference: Path,
    warmup_s: float,
    duration_s: float,
    work: Path,
    streams: int = 100,
    framing: str = "ndjson",
) -> dict[str, Any]:
    log = work / "timing-events.jsonl"
    with start_simulator("profile_long.yaml", framing, log) as sim:
        steady_from = (
            time.perf_counter() + warmup_s
        )  # runs started during the spawn burst are left out
        harness, naive = start_pair(
            sim, work / "timing", reference, streams, warmup_s + duration_s, probe=True
        )
        finish(harness, naive)
    server = {
        run_id: wrote
        for run_id, wrote in server_writes(log).items()
        if wrote.get("run.started", 0) >= steady_from
    }
    assert harness.results_dir is not None and naive.probe_out is not None
    measured: dict[str, dict[str, float]] = {}
    for run in harness_runs(harness.results_dir):
        if run["outcome"] == "ok" and run["run_id"]:
            seen = {"run.started": run["run_started_ms"] / 1000.0}
            seen["message.delta"] = run["first_delta_ms"] / 1000.0
            seen["done"] = run["done_ms"] / 1000.0
            measured[run["run_id"]] = seen
    reference_seen: dict[str, dict[str, float]] = defaultdict(dict)
    if naive.probe_out.exists():
        for line in naive.probe_out.read_text().splitlines():
            t, name, run_id = json.loads(line)
            if run_id:
                reference_seen[run_id].setdefault(name, t)
    return {
        "streams_each": streams,
        "wxo-load": quantiles(errors_ms(measured, server)),
        "reference": quantiles(errors_ms(reference_seen, server)),
    }


# -- phase 3 ------------------------------------------------------------------------------------

_PROGRESS_LAG = re.compile(r"client lag p99 (\d+(?:\.\d+)?) ms")


def phase_concurrency(
    steps: list[int], warmup_s: float, duration_s: float, work: Path, framing: str = "ndjson"
) -> dict[str, Any]:
    rows = []
    best = 0
    for streams in steps:
        row = _concurrency_step(streams, warmup_s, duration_s, work, framing)
        rows.append(row)
        worst = row["client_lag_p99_ms_steady_worst"]
        if worst is not None and worst < LAG_LIMIT_MS and not row["failed"]:
            best = max(best, streams)
    return {"steps": rows, "most_streams_with_lag_p99_under_10ms": best}


def _concurrency_step(
    streams: int, warmup_s: float, duration_s: float, work: Path, framing: str
) -> dict[str, Any]:
    """One step: the harness alone holding `streams` open streams against a fresh simulator."""
    with start_simulator("profile_long.yaml", framing, None) as sim:
        results = work / f"concurrency-{streams}"
        proc = _start_harness_alone(sim.url, streams, warmup_s + duration_s, results)
        gen = Generator("wxo-load", proc, results_dir=results)
        time.sleep(warmup_s)
        cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(max(duration_s - 2, 1))
        cpu2, t2 = cpu_seconds(proc.pid), time.perf_counter()
        finish(gen)
        open_max = sim.stats().get("streams_open_max")
    lags = [float(x) for x in _PROGRESS_LAG.findall(gen.output)]
    steady = lags[int(warmup_s // 5) :] or lags
    summary = json.loads((results / "summary.json").read_text())
    return {
        "streams": streams,
        "simulator_streams_open_max": open_max,
        "client_lag_p99_ms_steady_worst": max(steady) if steady else None,
        "client_lag_p99_ms_whole_run": summary["load_generator"]["client_lag"]["p99"],
        "runs_per_s": summary["throughput"]["runs_per_s"],
        "cpu_percent": round(100 * (cpu2 - cpu1) / (t2 - t1), 1),
        "failed": summary["runs"]["failed"],
    }


def _start_harness_alone(
    url: str, streams: int, run_time_s: float, results: Path
) -> subprocess.Popen[str]:
    """The harness's Locust process with `streams` users, progress lines every 5 s."""
    return start_locust(
        str(REPO / "locustfile.py"),
        url,
        streams,
        run_time_s,
        [
            "--scenario",
            str(ASSETS / "scenario.yaml"),
            "--results-dir",
            str(results),
            "--progress-interval",
            "5",
        ],
        clean_env(),
    )


# -- entry point --------------------------------------------------------------------------------


def run_bench(args: argparse.Namespace) -> int:
    reference = _reference_path(args.reference)
    phases = _parse_phases(args.phases)
    steps = [int(x) for x in args.streams.split(",") if x.strip()]
    report: dict[str, Any] = {
        "machine": _machine(),
        "reference": str(reference),
        "framing": args.framing,
    }
    with tempfile.TemporaryDirectory(prefix="wxo-bench-") as tmp:
        work = Path(tmp)
        if "cost" in phases:
            print(
                f"cost: {args.users} users each, side by side, {args.duration:g} s measured ...",
                flush=True,
            )
            report["cost"] = phase_cost(
                reference, args.users, args.warmup, args.duration, work, args.framing
            )
            _print_cost(report["cost"])
        if "timing" in phases:
            print("timing error: 100 streams each, side by side ...", flush=True)
            report["timing"] = phase_timing(
                reference, args.warmup, args.duration, work, framing=args.framing
            )
            _print_timing(report["timing"])
        if "concurrency" in phases:
            print(
                f"concurrency: the harness alone, {', '.join(map(str, steps))} streams ...",
                flush=True,
            )
            report["concurrency"] = phase_concurrency(
                steps, args.warmup, args.duration, work, args.framing
            )
            _print_concurrency(report["concurrency"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _reference_path(given: Path | None) -> Path:
    """--reference (or the default beside this repository), resolved; it must exist."""
    reference = (given or DEFAULT_REFERENCE).resolve()
    if not reference.is_file():
        raise ConfigError(
            f"reference locustfile {reference} not found: pass --reference "
            "PATH/naive_locustfile.py (it ships in ../shared/bench/ beside this repository)."
        )
    return reference


def _parse_phases(text: str) -> set[str]:
    """--phases as a set of known phase names."""
    phases = {p.strip() for p in text.split(",") if p.strip()}
    unknown = phases - {"cost", "timing", "concurrency"}
    if unknown:
        raise ConfigError(
            f"--phases: unknown {', '.join(sorted(unknown))}; "
            "choose from cost, timing, concurrency."
        )
    return phases


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def _print_cost(c: dict[str, Any]) -> None:
    print(f"  {'':10} {'runs/s':>8} {'CPU ms/run':>11} {'CPU %':>6} {'events/run':>10}")
    for name in ("wxo-load", "reference"):
        f = c[name]
        print(
            f"  {name:10} {f['runs_per_s']:>8} {f['cpu_ms_per_run']!s:>11} {f['cpu_percent']:>6} "
            f"{f['events_per_run']!s:>10}"
        )
    print(f"  wxo-load costs {c['cpu_ratio']}x the reference's CPU per run")


def _print_timing(t: dict[str, Any]) -> None:
    for name in ("wxo-load", "reference"):
        f = t[name]
        print(
            f"  {name:10} timing error p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max "
            f"{f['max_ms']} ms over {f['n']} intervals"
        )


def _print_concurrency(c: dict[str, Any]) -> None:
    print(
        f"  {'streams':>8} {'open max':>9} {'lag p99 (steady)':>17} {'runs/s':>7} {'CPU %':>6} "
        f"{'failed':>6}"
    )
    for row in c["steps"]:
        print(
            f"  {row['streams']:>8} {row['simulator_streams_open_max']!s:>9} "
            f"{row['client_lag_p99_ms_steady_worst']!s:>17} {row['runs_per_s']:>7} "
            f"{row['cpu_percent']:>6} {row['failed']:>6}"
        )
    print(
        f"  most streams one process holds with client lag p99 under {LAG_LIMIT_MS:g} ms: "
        f"{c['most_streams_with_lag_p99_under_10ms']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/vs_naive.py",
        description="measure the harness against the hand-written reference locustfile "
        "(a development tool: run it from the repository)",
    )
    configure_bench(parser)
    args = parser.parse_args(argv)
    try:
        return run_bench(args)
    except ConfigError as exc:
        print(f"vs_naive: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
