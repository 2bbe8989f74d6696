"""How many concurrent streams one worker process holds: raise them step by step (issue #29).

    python bench/ceiling.py --nice -10               # bare, then realistic: about 20 minutes
    python bench/ceiling.py --cases bare --steps 2000,4000 --step-s 30 --json ceiling.json

One Locust process (wxo-load's locustfile, headless, no `--processes`: what one worker holds)
against a server on 127.0.0.1 in a process of its own, whose answers take about 20 s:

- `--server stamp` (the default): `paced_stamp_server.py`, an independent server sharing no
  code with wxo-load, cheap per event (one epoll loop), an event every 0.4-0.6 s (the server
  issue #29 quotes; `--quick-gaps`: 5-20 ms between the events around the text). It logs each
  run's write times of run.started, the first delta and done;
- `--server simulator`: wxo-load's simulator (`assets/profile_paced_20s.yaml`), whose own cost
  per event and collector pauses made it, not the worker, the limit at 2,500-5,000 streams.

The load plan is one stage per step (`load.stages`; no think time, so users = open streams).
`bare` is the bench scenario (`assets/scenario.yaml`); `realistic` has two weighted personas, a
data row per conversation, answer checks, canaries and goodput (`assets/scenario_realistic.yaml`).
On the stamp server its answers quote the conversation's first message (its canary), and every
`--faults-every` runs one quotes another conversation's (cross-talk) and one answers "I'm
sorry" (a failed check): the bench checks, run by run, that the worker found each and no other.

Per step, over its steady part (from `--settle-s` after the step's users are spawned):

- streams: the server's open streams at the end; events/s: the server's own count;
- CPU: the Locust process's user+sys (/proc) per event written, and as % of one core; run-queue
  wait: the share of the window it was runnable but had no CPU (/proc/PID/schedstat: other
  processes held both cores);
- client lag p99: the harness's own (its progress line, worst 5 s interval of the window);
- timing error p50 / p99: per run, the client's interval from run.started to the first delta
  and to done against the server's own write times of those events (`bench_runs.errors_ms`, as
  `ab_client.py` compares them), for the runs that started and ended within the step;
- failed runs; the server's CPU and lateness p99 (its writes behind its own schedule);
- with `--probe`: the worker's collector pauses and event-loop wake-ups over 2 ms late.

It stops raising at the first step where runs fail, the worker's CPU reaches 95 % of a core, the
server saturates (its CPU at 90 % of a core, or lateness p99 over 50 ms), the worker falls a
second behind (client lag p99), or the next step would not fit the open-file limit (a socket per
stream). The timing error is computed after the run (parsing the logs would take CPU from the
processes measured): the ceiling is the last step before the first one with error p99 >= 10 ms,
a failed run or a saturated server or machine. Figures are printed as a Markdown table
(docs/measurements.md) with the load average.

On a shared machine, `--nice -10` (root) runs the bench with its server in a session of its own
at that niceness, and the worker in another: Linux shares the CPUs between sessions first
(autogroups), so a plain `nice` would count only against the bench's own processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # wxo_load, and bench_runs beside this file

from bench_runs import (  # noqa: E402 - after the path set-up above
    ASSETS,
    REPO,
    ProcSample,
    StampServerProcess,
    clean_env,
    errors_ms,
    prioritised,
    quantiles,
    start_locust,
    start_simulator,
)

PROFILE = "profile_paced_20s.yaml"
SCENARIOS = {"bare": "scenario.yaml", "realistic": "scenario_realistic.yaml"}
STAGE = re.compile(r"Shape test updating to (\d+) users")
PROGRESS = re.compile(r"(\d+) runs, (\d+) failed(?: \(([^)]*)\))?;.*client lag p99 ([\d.]+|-)")
ANSWER_CLASSES = ("cross_talk", "wrong_answer")  # the stamp server's faults: found, not failed
ERROR_LIMIT_MS, CPU_LIMIT, SERVER_CPU_LIMIT, LATENESS_LIMIT_MS = 10.0, 0.95, 0.90, 50.0
LAG_LIMIT_MS = 1000.0  # two event gaps behind: the worker is not keeping up with the streams
FD_MARGIN = 200  # fds a worker holds besides its streams (Locust, logs, results files)


class Output:
    """The Locust process's merged output, read in a thread: stage starts and progress lines,
    each with the wall-clock time it was read."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.stages: list[tuple[float, int]] = []
        self.progress: list[tuple[float, int, float | None]] = []  # (t, failed, lag p99 ms)
        self.tail: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.time()
            self.tail = [*self.tail[-40:], line.rstrip()]
            if match := STAGE.search(line):
                self.stages.append((now, int(match.group(1))))
            elif match := PROGRESS.search(line):
                lag = None if match.group(4) == "-" else float(match.group(4))
                classes = dict(_class(x) for x in (match.group(3) or "").split(", ") if x)
                judged = sum(classes.get(k, 0) for k in ANSWER_CLASSES)
                self.progress.append((now, int(match.group(2)) - judged, lag))

    def failed(self) -> int:
        return self.progress[-1][1] if self.progress else 0


def _class(text: str) -> tuple[str, int]:
    name, _, n = text.rpartition(" ")
    return name, int(n) if n.isdigit() else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="bare,realistic", help="bare, realistic or both")
    parser.add_argument("--steps", default="2500,5000,7500,10000,12500,15000,17500",
                        help="open streams of each step")  # fmt: skip
    parser.add_argument("--step-s", type=float, default=35.0, help="seconds per step")
    parser.add_argument("--spawn-rate", type=float, default=500.0, help="users started per s")
    parser.add_argument("--settle-s", type=float, default=3.0, help="after a step's spawn")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--server", choices=("stamp", "simulator"), default="stamp",
                        help="stamp: bench/paced_stamp_server.py, a server cheap enough that the "
                        "worker is what gives (default); simulator: wxo-load's own")  # fmt: skip
    parser.add_argument("--quick-gaps", action="store_true",
                        help="stamp server: 5-20 ms between the events around the text (see "
                        "paced_stamp_server.py), not 0.4-0.6 s between all")  # fmt: skip
    parser.add_argument("--probe", action="store_true",
                        help="load assets/hub_probe.py beside the locustfile: per step, the "
                        "worker's collector pauses and late event-loop wake-ups, and how much "
                        "of them was waiting for a CPU")  # fmt: skip
    parser.add_argument(
        "--gc-thresholds",
        default=None,
        metavar="A,B,C",
        help="with --probe: the worker's gc.set_threshold (an experiment)",
    )
    parser.add_argument("--faults-every", type=int, default=500, metavar="N",
                        help="realistic case on the stamp server: every Nth run's answer quotes "
                        "another conversation's canary, and every Nth a wrong answer; the bench "
                        "checks the worker found each (0: none)")  # fmt: skip
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of this bench, the simulator and Locust (-10 as root on a shared machine)",
    )
    args = parser.parse_args()
    if (rc := prioritised(args.nice)) is not None:
        return rc
    steps = [int(x) for x in args.steps.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the children inherit it
    print(f"open-file limit {hard} (soft raised from {soft}); nice {args.nice}; load average "
          f"{_load()}", flush=True)  # fmt: skip
    report: dict[str, Any] = {"nofile": hard, "nice": args.nice, "server": args.server,
                              "cases": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
        for case in args.cases.split(","):
            rows = run_case(case, steps, args, Path(tmp), hard)
            report["cases"][case] = rows
            print_table(case, rows)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def run_case(case: str, steps: list[int], args: argparse.Namespace, work: Path, nofile: int
             ) -> list[dict[str, Any]]:  # fmt: skip
    log, results = work / f"{case}-events.jsonl", work / f"{case}-results"
    _open[0] = 0  # a fresh simulator
    scenario = _scenario(case, steps, args.step_s, args.spawn_rate, work)
    print(f"\n{case}: steps {steps}, {args.step_s:g} s each ...", flush=True)
    rows: list[dict[str, Any]] = []
    faults = args.faults_every if case == "realistic" and args.server == "stamp" else 0
    run_time = len(steps) * args.step_s + 30
    with _start_server(args.server, log, faults, args.quick_gaps, run_time) as sim:
        extra = ["--scenario", str(scenario), "--results-dir", str(results),
                 "--progress-interval", "5"]  # fmt: skip
        files, env = str(REPO / "locustfile.py"), clean_env()
        if args.probe:
            files += f",{ASSETS / 'hub_probe.py'}"
            env["WXO_BENCH_HUB_PROBE_OUT"] = str(work / f"{case}-probe.jsonl")
            if args.gc_thresholds:
                env["WXO_BENCH_GC_THRESHOLDS"] = args.gc_thresholds
        proc = start_locust(files, sim.url, steps[0], run_time, extra, env,
                            nice=args.nice or None)  # fmt: skip
        out = Output(proc)
        try:
            previous = 0
            for k, streams in enumerate(steps):
                row = _step(k, streams, previous, proc, sim, out, args)
                if row is None:
                    break
                rows.append(row)
                previous = streams
                print(_row_text(row), flush=True)
                nxt = steps[k + 1] if k + 1 < len(steps) else None
                row["stop"] = _stop_reason(row, nxt, nofile)
                if row["stop"]:
                    print(f"stopped: {row['stop']}", flush=True)
                    break
        finally:
            proc.terminate()  # SIGTERM: Locust stops its users and writes the results
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if args.probe:
        _add_probe(rows, work / f"{case}-probe.jsonl")
    runs = _read_runs(results / "runs.jsonl")
    server = _stamp_milestones(log) if args.server == "stamp" else _server_milestones(log)
    _add_errors(rows, runs, server)
    if faults and rows:
        rows[-1]["answers"] = _answers_found(runs, server)
        print(f"answers: {rows[-1]['answers']}", flush=True)
    return rows


def _start_server(kind: str, log: Path, faults_every: int, quick: bool, run_time_s: float
                  ) -> Any:  # fmt: skip
    """The server, in the bench's session (at its niceness: the bench itself is mostly idle)."""
    if kind == "simulator":
        return start_simulator(PROFILE, "ndjson", log)
    extra = ["--cross-talk-every", str(faults_every), "--wrong-every", str(faults_every + 1)]
    extra = (extra if faults_every else []) + (["--quick-gaps"] if quick else [])
    extra += ["--stop-after-s", str(run_time_s + 300)]  # it ends by itself, whatever happens
    return StampServerProcess(log, extra)


def _add_probe(rows: list[dict[str, Any]], path: Path) -> None:
    """Per step window: the worker's collector pauses and event-loop wake-ups over 2 ms late."""
    lines = [json.loads(x) for x in path.read_text().splitlines() if x] if path.exists() else []
    offset = time.time() - time.perf_counter()  # the probe stamps perf_counter()
    for row in rows:
        a, b = row["window"]
        inside = [x for x in lines if a <= x["t"] + offset <= b]
        gcs = [x for x in inside if x["kind"] == "gc"]
        late = [x for x in inside if x["kind"] == "late"]
        row["probe"] = {
            "gc_pauses": len(gcs),
            "gc_ms_max": max((x["ms"] for x in gcs), default=0),
            "gc_ms_max_by_generation": {
                g: max(x["ms"] for x in gcs if x["gen"] == g)
                for g in sorted({x["gen"] for x in gcs})
            },
            "gc_ms_total": round(sum(x["ms"] for x in gcs), 1),
            "late_wakeups": len(late),
            "late_ms_max": max((x["late_ms"] for x in late), default=0),
            "late_ms_total": round(sum(x["late_ms"] for x in late), 1),
            "late_run_queue_ms_total": round(sum(x["run_queue_ms"] for x in late), 1),
        }
        print(f"{row['streams']:,} streams, worker: {row['probe']}", flush=True)


def _read_runs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _answers_found(runs: list[dict[str, Any]], server: dict[str, dict[str, Any]]
                   ) -> dict[str, Any]:  # fmt: skip
    """The stamp server's wrong and cross-talk answers against the worker's verdicts, run by
    run (the checks and canaries did their work only if each fault was found, and no other)."""
    by_run = {r["run_id"]: r["outcome"] for r in runs if r.get("run_id")}
    want = {"cross_talk": "cross_talk", "wrong": "wrong_answer"}
    out: dict[str, Any] = {"checked": sum(1 for r in runs if r.get("checked"))}
    for fault, outcome in want.items():
        sent = [rid for rid, m in server.items() if m.get("fault") == fault and rid in by_run]
        out[f"{fault}_sent"] = len(sent)
        out[f"{fault}_found"] = sum(1 for rid in sent if by_run[rid] == outcome)
        out[f"{outcome}_unexpected"] = sum(
            1
            for rid, o in by_run.items()
            if o == outcome and server.get(rid, {}).get("fault") != fault
        )
    return out


def _scenario(case: str, steps: list[int], step_s: float, rate: float, work: Path) -> Path:
    """The case's scenario with one stage per step, its data files' paths made absolute."""
    source = ASSETS / SCENARIOS[case]
    data = yaml.safe_load(source.read_text())
    for persona in data.get("personas", []):
        if "data" in persona:
            persona["data"]["file"] = str((source.parent / persona["data"]["file"]).resolve())
    data["load"] = {"stages": [
        {"name": f"{n} streams", "duration": f"{step_s:g}s", "users": n, "spawn_rate": rate}
        for n in steps
    ]}  # fmt: skip
    path = work / f"{case}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _step(k: int, streams: int, previous: int, proc: subprocess.Popen[str], sim: Any,
          out: Output, args: argparse.Namespace) -> dict[str, Any] | None:  # fmt: skip
    """Wait for stage k, measure its steady window; None if Locust ended first."""
    deadline = time.time() + args.step_s + 90
    while len(out.stages) <= k:
        if proc.poll() is not None or time.time() > deadline:
            print("Locust ended or no stage started:\n" + "\n".join(out.tail[-15:]), flush=True)
            return None
        time.sleep(0.2)
    started = out.stages[k][0]
    begin = started + abs(streams - previous) / args.spawn_rate + args.settle_s
    end = started + args.step_s - 1.0
    _sleep_until(begin)
    opened = _reset_server(sim)
    a = ProcSample.take(proc.pid)
    failed_a = out.failed()
    _sleep_until(end)
    b = ProcSample.take(proc.pid)
    server = sim.stats(timeout_s=60)
    seconds = b.t - a.t
    events = server["events_written"]
    lags = [lag for t, _, lag in out.progress if begin + 5 <= t <= end + 1 and lag is not None]
    lateness = server.get("lateness_ms") or {}
    return {
        "streams_planned": streams,
        "streams": opened + server["streams_open"],  # counts since the last reset
        "started": started,
        "window": [a.t, b.t],
        "events_per_s": round(events / seconds),
        "cpu_percent": round(b.cpu_percent_since(a), 1),
        "cpu_us_per_event": round(1e6 * (b.cpu_s - a.cpu_s) / events, 1) if events else None,
        "runqueue_wait_percent": round(b.wait_percent_since(a), 1),
        "sys_percent": round(100 * (b.sys_s - a.sys_s) / seconds, 1),
        "client_lag_p99_ms": max(lags) if lags else None,
        "failed": out.failed() - failed_a,
        "fds": b.fds,
        "rss_mb": round(b.rss_kb / 1024),
        "server_cpu_percent": round(100 * server["cpu_s"] / seconds, 1),
        "server_cpu_us_per_event": round(1e6 * server["cpu_s"] / events, 1) if events else None,
        "server_sys_percent": round(100 * server.get("cpu_sys_s", 0.0) / seconds, 1),
        "server_lateness_p99_ms": lateness.get("p99"),
        "server_gc_pause_max_ms": (server.get("gc") or {}).get("pause_ms_max"),
        "load_average": _load(),
    }


_open = [0]  # the simulator's open streams at its last stats reset (a reset zeroes its count)


def _reset_server(sim: Any) -> int:
    """Zero the server's figures; the streams it counted open before (its count restarts)."""
    if isinstance(sim, StampServerProcess):
        sim.reset_stats(timeout_s=60)  # it counts the streams open now, not since a reset
        return 0
    # a busy simulator answers late: wait for it rather than fail the step
    _open[0] += sim.stats(timeout_s=60)["streams_open"]
    sim.reset_stats(timeout_s=60)
    return _open[0]


def _stop_reason(row: dict[str, Any], next_streams: int | None, nofile: int) -> str | None:
    """Why not raise further (None: go on). A step whose stop names the worker's CPU or the
    open-file limit still counts as held; the others do not."""
    lag, late = row["client_lag_p99_ms"] or 0, row["server_lateness_p99_ms"] or 0
    if row["failed"]:
        return f"runs failed ({row['failed']})"
    if row["cpu_percent"] >= 100 * CPU_LIMIT:
        return f"the worker's CPU ({row['cpu_percent']} % of a core)"
    if row["server_cpu_percent"] >= 100 * SERVER_CPU_LIMIT:
        return f"the server ({row['server_cpu_percent']} % of a core, lateness p99 {late} ms)"
    if (lag > LAG_LIMIT_MS or late > LATENESS_LIMIT_MS) and row["runqueue_wait_percent"] >= 20:
        return (f"the machine (the worker waited {row['runqueue_wait_percent']} % of the step for "
                f"a CPU, load average {row['load_average']}; client lag p99 {lag} ms, server "
                f"lateness p99 {late} ms)")  # fmt: skip
    if late > LATENESS_LIMIT_MS:
        return f"the server (lateness p99 {late} ms)"
    if lag > LAG_LIMIT_MS:
        return f"the worker's event loop (client lag p99 {lag} ms)"
    if next_streams is not None and next_streams + FD_MARGIN > nofile:
        return f"the open-file limit ({nofile}: {next_streams} streams would not fit)"
    return None


def _add_errors(rows: list[dict[str, Any]], runs: list[dict[str, Any]],
                server: dict[str, dict[str, Any]]) -> None:  # fmt: skip
    """Each step's timing error, from the runs that started and ended within it."""
    for row, nxt in zip(rows, [*rows[1:], None], strict=False):
        first = row["started"]
        last = nxt["started"] if nxt else row["window"][1]
        inside = {
            r["run_id"]: {
                "run.started": r["run_started_ms"] / 1000.0,
                "message.delta": r["first_delta_ms"] / 1000.0,
                "done": r["done_ms"] / 1000.0,
            }  # fmt: skip
            for r in runs
            if r["outcome"] == "ok"
            and r.get("run_id")
            and r.get("first_delta_ms") is not None
            and first <= r["started_at_unix"]
            and r["started_at_unix"] + r["done_ms"] / 1e3 <= last
        }
        q = quantiles(errors_ms(inside, server))
        row.update(runs_measured=len(inside), error_p50_ms=q["p50_ms"], error_p99_ms=q["p99_ms"],
                   error_max_ms=q["max_ms"])  # fmt: skip


def _stamp_milestones(log: Path) -> dict[str, dict[str, Any]]:
    """run id -> {run.started, message.delta, done: when sent, fault}: the stamp server's log."""
    written: dict[str, dict[str, Any]] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            written[entry.pop("run_id")] = entry
    return written


def _server_milestones(log: Path) -> dict[str, dict[str, Any]]:
    """run id -> {run.started, the first message.delta, done: t_sent}, read line by line
    (millions of lines: only the three milestones are decoded)."""
    written: dict[str, dict[str, Any]] = defaultdict(dict)
    with log.open() as lines:
        for line in lines:
            if '"run.started"' in line or '"done"' in line:
                entry = json.loads(line)
                written[entry["run_id"]][entry["event"]] = entry["t_sent"]
            elif '"message.delta"' in line:
                run_id = line.split('"', 4)[3]
                if "message.delta" not in written[run_id]:
                    written[run_id]["message.delta"] = json.loads(line)["t_sent"]
    return written


def print_table(case: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{case}:\n| streams | events/s | CPU µs per event | CPU of one core | run-queue wait "
          "| client lag p99 | error p50 / p99 | runs measured | failed | server CPU / lateness "
          "p99 | load avg |\n" + "| --- " * 11 + "|")  # fmt: skip
    for r in rows:
        cells = [f"{r['streams']:,}", f"{r['events_per_s']:,}", r["cpu_us_per_event"],
                 f"{r['cpu_percent']} %", f"{r['runqueue_wait_percent']} %",
                 f"{r['client_lag_p99_ms']} ms",
                 f"{r.get('error_p50_ms')} / {r.get('error_p99_ms')} ms", r.get("runs_measured"),
                 r["failed"], f"{r['server_cpu_percent']} % / {r['server_lateness_p99_ms']} ms",
                 r["load_average"]]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")
    held = _ceiling(rows)
    print(f"held: {held[0]:,} streams{held[1]}" if held[0] else "held: none of the steps")


def _ceiling(rows: list[dict[str, Any]]) -> tuple[int, str]:
    """The most streams held (error p99 under 10 ms, no failed run, neither the server nor the
    machine in the way) before the first step that was not, and what stopped it."""
    held = 0
    for r in rows:
        stop, error = r["stop"] or "", r.get("error_p99_ms") or 0
        late = error >= ERROR_LIMIT_MS
        if late or (stop and not stop.startswith(("the worker's CPU", "the open-file limit"))):
            why = "; ".join(x for x in (f"timing error p99 {error} ms" if late else "", stop) if x)
            return held, f"; then {r['streams']:,}: {why}"
        held = r["streams"]
        if stop:
            return held, f"; stopped by {stop}"
    return held, " (every step held)"


def _row_text(r: dict[str, Any]) -> str:
    return (
        f"{r['streams']:,} streams: {r['events_per_s']:,} events/s, CPU {r['cpu_percent']} % "
        f"(sys {r['sys_percent']} %) "
        f"({r['cpu_us_per_event']} µs/event), run-queue wait {r['runqueue_wait_percent']} %, "
        f"lag p99 {r['client_lag_p99_ms']} ms, failed {r['failed']}, server CPU "
        f"{r['server_cpu_percent']} % (sys {r['server_sys_percent']} %, "
        f"{r['server_cpu_us_per_event']} µs/event), lateness p99 {r['server_lateness_p99_ms']} "
        f"ms, GC max {r['server_gc_pause_max_ms']} ms; fds {r['fds']}, RSS {r['rss_mb']} MB, "
        f"load {r['load_average']}"
    )


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
