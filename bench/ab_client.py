"""A/B the harness's client code of two checkouts on a shared machine: rounds of A then B.

    python bench/ab_client.py --a /work/main --b . --framings ndjson,sse,crlf-tiny --rounds 2

Each checkout runs its own locustfile with its own Python (`<checkout>/.venv/bin/python`) and
the bench scenario, alone, against a fresh simulator of *this* checkout (so `--framing` is
available and the server is the same for both) that logs when it wrote every event. Per run,
the interval from run.started to the first message.delta and to done as the client measured it
is compared with the interval between the server's writes of the same events (run by run, not
percentile against percentile); and the Locust process's CPU seconds (from /proc) over the
measured window are divided by the runs completed in it. Alternating A and B in rounds spreads
the noise of other processes over both. Not a test: it prints figures (and --json writes them),
ending with docs/measurements.md's table rows (framing, checkout, p50 / p99 / max, CPU ms per
run, runs, load average) and whether the target (p99 <= 2 ms, max <= 10 ms) is met.

`--scenario-a` / `--scenario-b` give each side its own scenario: `--a . --b . --scenario-b
bench/assets/scenario_persona.yaml` prices one persona against none, and
`--scenario-b bench/assets/scenario_checks.yaml` answer checks, canaries and goodput.

`--otel-b` runs B with `--otel`, exporting to an OTLP receiver on loopback (`--a . --b .
--otel-b --profile cost`: what the OpenTelemetry export costs per run).

`--profile cost` runs the bench's cost-phase runs (14 events in ~140 ms, `--users 50`) instead
of the ~3 s streams, to compare CPU per run; each round's figure is printed, so the spread
between rounds shows next to the difference between checkouts.

"Off by > 1 ms, shared stamp" counts the milestones whose error equals the gap to a later write
of the same run (within 0.5 ms): a read that took several events at once and stamped them all
with its time (user space) or with its newest bytes' arrival (kernel stamps).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(HERE), str(HERE / "bench")]  # wxo_load, and bench_runs

from bench_runs import (  # noqa: E402 - after the path set-up above
    ASSETS,
    clean_env,
    cpu_seconds,
    errors_ms,
    harness_runs,
    quantiles,
    read_event_log,
    server_writes,
)

from wxo_load.mock.process import SimulatorProcess  # noqa: E402

TARGET_P99_MS, TARGET_MAX_MS = 2.0, 10.0
PROFILES = {"long": "profile_long.yaml", "cost": "profile_14_events.yaml"}


def one(
    checkout: Path,
    framing: str,
    users: int,
    warmup_s: float,
    duration_s: float,
    work: Path,
    probe: bool = False,
    pin: bool = False,
    profile: str = "profile_long.yaml",
    scenario: Path = ASSETS / "scenario.yaml",
    otel: str | None = None,
) -> dict[str, Any]:
    log = work / "events.jsonl"
    results = work / "results"
    python = checkout / ".venv" / "bin" / "python"
    env = clean_env()
    if otel is not None:  # --otel-b: export to the bench's OTLP receiver, metrics every 5 s
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=otel, OTEL_METRIC_EXPORT_INTERVAL="5000")
    files = str(checkout / "locustfile.py")
    if probe:
        env["WXO_BENCH_HUB_PROBE_OUT"] = str(work / "probe.jsonl")
        files += f",{ASSETS / 'hub_probe.py'}"
    args = ["--accept-any-token", "--framing", framing, "--event-log", str(log)]
    with SimulatorProcess.start(
        profile=str(ASSETS / profile), port=0, seed=1, extra_args=args, timeout_s=30
    ) as sim:
        steady_from = time.perf_counter() + warmup_s
        cmd = [str(python), "-m", "locust", "-f", files, "--headless", "--only-summary",
               "-u", str(users), "-r", str(users),
               "-t", f"{int(warmup_s + duration_s + 2)}s", "--host", sim.url,
               "--scenario", str(scenario), "--results-dir", str(results),
               "--progress-interval", "0", *(["--otel"] if otel else [])]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            cwd=checkout,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        if pin:  # the simulator on CPU 0, the load generator on CPU 1: neither waits for the other
            _pin(sim.pid, 0)
            _pin(proc.pid, 1)
        time.sleep(warmup_s)
        t1, cpu1 = time.perf_counter(), cpu_seconds(proc.pid)
        time.sleep(duration_s)
        t2, cpu2 = time.perf_counter(), cpu_seconds(proc.pid)
        load = os.getloadavg()[0]
        proc.wait(timeout=120)
    done = sum(
        1 for line in read_event_log(log) if line["event"] == "done" and t1 <= line["t_mono"] <= t2
    )
    server = {
        run_id: w
        for run_id, w in server_writes(log).items()
        if w.get("run.started", 0) >= steady_from
    }
    measured = {
        r["run_id"]: {
            "run.started": r["run_started_ms"] / 1000.0,
            "message.delta": r["first_delta_ms"] / 1000.0,
            "done": r["done_ms"] / 1000.0,
        }
        for r in harness_runs(results)
        if r["outcome"] == "ok" and r["run_id"] and r["run_started_ms"] is not None
    }  # a channel without run.started (chat v1/v2): CPU per run only, no timing error
    errors = errors_ms(measured, server)
    causes = _outlier_causes(measured, server, work / "probe.jsonl") if probe else {}
    off, shared = _shared_stamps(measured, log)
    return {
        "errors": errors,
        "cpu_s": cpu2 - cpu1,
        "runs": done,
        "causes": causes,
        "off": off,
        "shared": shared,
        "load": [load],
    }


def _shared_stamps(
    measured: dict[str, dict[str, float]], log: Path, limit_ms: float = 1.0
) -> tuple[int, int]:
    """(milestones off by more than `limit_ms`, those of them whose error is the gap from the
    milestone's write, or run.started's, to a later write of the same run)."""
    writes: dict[str, list[float]] = defaultdict(list)
    for line in read_event_log(log):
        writes[line["run_id"]].append(line.get("t_sent", line["t_mono"]))
    server = server_writes(log)
    off = shared = 0
    for run_id, seen in measured.items():
        wrote = server.get(run_id, {})
        if "run.started" not in wrote:
            continue
        started = wrote["run.started"]
        for event in ("message.delta", "done"):
            if event not in wrote:
                continue
            error_ms = ((seen[event] - seen["run.started"]) - (wrote[event] - started)) * 1000
            if abs(error_ms) <= limit_ms:
                continue
            off += 1
            late_event = ((t - wrote[event]) * 1000 for t in writes[run_id] if t > wrote[event])
            late_start = ((t - started) * 1000 for t in writes[run_id] if t > started)
            if any(abs(error_ms - g) < 0.5 for g in late_event) or any(
                abs(error_ms + g) < 0.5 for g in late_start
            ):
                shared += 1
    return off, shared


def _pin(pid: int, cpu: int) -> None:
    """Pin a process and all its threads (uvicorn's and gevent's included) to one CPU."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpu})


def _outlier_causes(
    measured: dict[str, dict[str, float]],
    server: dict[str, dict[str, float]],
    probe: Path,
    limit_ms: float = 5.0,
) -> dict[str, int]:
    """For each run whose timing error exceeds `limit_ms`: what the probe saw while it streamed."""
    episodes = (
        [json.loads(x) for x in probe.read_text().splitlines() if x.strip()]
        if probe.exists()
        else []
    )
    causes: dict[str, int] = {}
    for run_id, seen in measured.items():
        wrote = server.get(run_id)
        if not wrote or "done" not in wrote or "run.started" not in wrote:
            continue
        worst = max(
            abs((seen[e] - seen["run.started"]) - (wrote[e] - wrote["run.started"])) * 1000
            for e in ("message.delta", "done")
            if e in wrote
        )
        if worst <= limit_ms:
            continue
        during = [
            e for e in episodes if wrote["run.started"] - 0.05 <= e["t"] <= wrote["done"] + 0.05
        ]
        if any(e["kind"] == "gc" and e["ms"] >= limit_ms / 2 for e in during):
            cause = "gc pause"
        elif any(
            e["kind"] == "late"
            and e["run_queue_ms"] >= 0.5 * e["late_ms"]
            and e["late_ms"] >= limit_ms / 2
            for e in during
        ):
            cause = "process waiting for a CPU (other processes)"
        elif any(e["kind"] == "late" and e["late_ms"] >= limit_ms / 2 for e in during):
            cause = "event loop busy in this process"
        else:
            cause = "no late wake-up seen"
        causes[cause] = causes.get(cause, 0) + 1
    return causes


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--a", type=Path, required=True, help="checkout A (e.g. /work/main), with its own .venv"
    )
    parser.add_argument("--b", type=Path, default=HERE, help="checkout B (default: this one)")
    parser.add_argument("--framings", default="ndjson,sse,crlf-tiny")
    parser.add_argument("--users", type=int, default=100, help="open streams (default 100)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also run B with a probe of late wake-ups and GC pauses, and say what each outlier "
        "(> 5 ms) coincided with",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the simulator to CPU 0 and the load generator to CPU 1 (Linux)",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="long",
        help="long: runs of ~3 s with jittered gaps (timing error; default); cost: the bench's "
        "cost phase, 14 events in ~140 ms (CPU per run)",
    )
    parser.add_argument(
        "--otel-b",
        action="store_true",
        help="run B with --otel, exporting to an OTLP/HTTP receiver on loopback (the default "
        "sampler: 1 conversation in 100; metrics every 5 s): the price of the export",
    )
    parser.add_argument("--json", type=Path, default=None)
    for side in ("a", "b"):  # e.g. B: the same conversation held by one persona
        parser.add_argument(
            f"--scenario-{side}", type=Path, default=ASSETS / "scenario.yaml",
            help=f"checkout {side.upper()}'s scenario (default: the bench's)",
        )  # fmt: skip
    args = parser.parse_args()
    report: dict[str, Any] = {}
    for framing in [f.strip() for f in args.framings.split(",") if f.strip()]:
        totals = _measure(framing, args)
        report[framing] = {
            name: _figures(totals[name], checkout)
            for name, checkout in (("A", args.a), ("B", args.b))
        }
        for name, figures in report[framing].items():
            print(
                f"{framing:10} {name} {figures['checkout']:24} "
                f"timing error p50 {figures['p50_ms']} "
                f"p99 {figures['p99_ms']} max {figures['max_ms']} ms (n={figures['n']}); "
                f"CPU {figures['cpu_ms_per_run']} ms/run over {figures['runs']} runs "
                f"(rounds {figures['cpu_ms_per_run_rounds']}); "
                f"off by > 1 ms: {figures['off_over_1ms']}, "
                f"shared stamp: {figures['shared_stamp']}; "
                f"load {figures['load_avg']}",
                flush=True,
            )
            if figures["outliers_over_5ms_by_cause"]:
                print(
                    f"{'':13} outliers > 5 ms: {figures['outliers_over_5ms_by_cause']}", flush=True
                )
    _print_table(report, args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _measure(framing: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Rounds of A then B for one framing; their figures added up per checkout."""
    keys = ("errors", "cpu_s", "runs", "off", "shared", "load")
    totals: dict[str, dict[str, Any]] = {
        n: {
            "errors": [],
            "cpu_s": 0.0,
            "runs": 0,
            "causes": {},
            "off": 0,
            "shared": 0,
            "load": [],
            "cpu_rounds": [],
        }
        for n in ("A", "B")
    }
    receiver = None
    if args.otel_b:
        sys.path.insert(0, str(HERE / "tests" / "helpers"))
        from otlp_receiver import OtlpReceiver

        receiver = OtlpReceiver().__enter__()
    for _ in range(args.rounds):
        for name, checkout, scenario in (
            ("A", args.a, args.scenario_a),
            ("B", args.b, args.scenario_b),
        ):
            with tempfile.TemporaryDirectory(prefix="wxo-ab-") as tmp:
                got = one(
                    checkout.resolve(),
                    framing,
                    args.users,
                    args.warmup,
                    args.duration,
                    Path(tmp),
                    probe=args.probe and name == "B",
                    pin=args.pin,
                    profile=PROFILES[args.profile],
                    scenario=scenario.resolve(),
                    otel=receiver.endpoint if receiver is not None and name == "B" else None,
                )
            totals[name]["cpu_rounds"].append(
                1000 * got["cpu_s"] / got["runs"] if got["runs"] else 0
            )
            for key in keys:
                totals[name][key] += got[key]
            for cause, n in got["causes"].items():
                totals[name]["causes"][cause] = totals[name]["causes"].get(cause, 0) + n
    if receiver is not None:
        print(f"OTLP receiver: {len(receiver.metrics)} metric and {len(receiver.traces)} trace "
              "exports", flush=True)  # fmt: skip
        receiver.__exit__()
    return totals


def _figures(t: dict[str, Any], checkout: Path) -> dict[str, Any]:
    q = quantiles(t["errors"])
    met = q["p99_ms"] is not None and q["p99_ms"] <= TARGET_P99_MS and q["max_ms"] <= TARGET_MAX_MS
    return {
        "checkout": str(checkout), **q, "runs": t["runs"],
        "cpu_ms_per_run": round(1000 * t["cpu_s"] / t["runs"], 3) if t["runs"] else None,
        "cpu_ms_per_run_rounds": [round(x, 3) for x in t["cpu_rounds"]],
        "cpu_ms_per_run_sd": round(statistics.stdev(t["cpu_rounds"]), 3)
        if len(t["cpu_rounds"]) > 1 else None,
        "off_over_1ms": t["off"], "shared_stamp": t["shared"],
        "load_avg": f"{min(t['load']):.1f}-{max(t['load']):.1f}" if t["load"] else None,
        "target_met": met, "outliers_over_5ms_by_cause": t["causes"],
    }  # fmt: skip


def _print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The rows of docs/measurements.md's table: one per framing and checkout."""
    print(
        f"\n{args.users} streams, {args.rounds} round(s) of A then B, "
        f"{args.duration:g} s measured each{', pinned' if args.pin else ''}:"
    )
    print(
        "| framing | checkout | timing error p50 / p99 / max | CPU ms/run | runs "
        "| off > 1 ms (shared stamp) | load avg | target |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for framing, pair in report.items():
        for name, f in pair.items():
            label = f"{name} ({Path(f['checkout']).resolve().name})"
            if args.otel_b and name == "B":
                label += " --otel"
            print(
                f"| {framing} | {label} | {f['p50_ms']} / {f['p99_ms']} / {f['max_ms']} ms "
                f"| {f['cpu_ms_per_run']} | {f['runs']} "
                f"| {f['off_over_1ms']} ({f['shared_stamp']}) "
                f"| {f['load_avg']} | {'met' if f['target_met'] else 'not met'} |"
            )


if __name__ == "__main__":
    sys.exit(main())
