"""Run the two signal tests of `--processes` masters many times, several at a time (issue #32).

    python bench/signal_repeat.py                          # 200 repetitions, 4 at a time
    python bench/signal_repeat.py --repeat 20 --parallel 4 --keep /tmp/sig

One repetition is one pytest process running both tests
(`test_a_signal_to_a_processes_2_master_mid_test_writes_results_and_ends_every_process`, its
`sigterm` and `sigint` cases) with its own `--basetemp`. Every process a test starts names that
directory in its command line (the scenario file lives there; the `--processes` workers are forks
of the master), so the watcher finds them by it: any such process still alive `--dump-after`
seconds after it started (a test signals its master 5-15 s in and expects the end within 15 s)
gets its stacks taken with `py-spy dump` (if py-spy is installed in this venv) and the process
tree with states written beside the repetition's output, `rep-N.stacks.txt`.

The first `--parallel` repetitions start `STAGGER_S` apart. Started at the same instant on a
machine already at load average 15, the four tests' 16 processes import at once, and a worker
that gets no CPU for 3 s misses Locust's heartbeat liveness (3 one-second heartbeats, a Locust
constant): its master marks it missing and ends the test with no run (seen in the first four
repetitions of three runs, and never in the staggered ones after them).

It prints one line per failed repetition and at the end `failures/total` (tests and
repetitions), the wall time and the load average before and after. Exit code 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
TEST = "tests/e2e/test_e2e_workers_end.py"
SELECT = "signal_to_a_processes_2_master and ({})"
CASES = "sigterm,sigint"  # the two; `ctrl-c-to-the-group` signals the process group
STAGGER_S = 5.0
PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="pytest runs of the pair")
    parser.add_argument("--parallel", type=int, default=4, help="runs at a time")
    parser.add_argument("--cases", default=CASES, help=f"test ids to run (default {CASES})")
    parser.add_argument(
        "--dump-after",
        type=float,
        default=40.0,
        help="take the stacks of a test's process alive this long (s)",
    )
    parser.add_argument("--keep", type=Path, default=None,
                        help="directory for outputs and stacks (default: a temporary one, "
                             "kept only if something failed)")  # fmt: skip
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="signal-repeat-"))
    work.mkdir(parents=True, exist_ok=True)
    active: dict[int, Path] = {}
    lock = threading.Lock()
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(active, lock, stop, args.dump_after, work), daemon=True
    )
    watcher.start()
    select = SELECT.format(" or ".join(args.cases.split(",")))
    expected = len(args.cases.split(","))
    load_before = os.getloadavg()
    started = time.monotonic()
    tests_run = tests_failed = reps_failed = 0

    def one(rep: int) -> tuple[int, int, int, str]:
        if rep < args.parallel:  # staggered, as the later ones are (see the module docstring)
            time.sleep(STAGGER_S * rep)
        base = work / f"rep-{rep}"
        with lock:
            active[rep] = base
        try:
            return (rep, *_run(base, work / f"rep-{rep}.log", select))
        finally:
            with lock:
                del active[rep]

    with ThreadPoolExecutor(args.parallel) as pool:
        for rep, passed, failed, tail in pool.map(one, range(args.repeat)):
            tests_run += passed + failed
            tests_failed += failed
            if failed or passed != expected:
                reps_failed += 1
                print(f"rep {rep}: {passed} passed, {failed} failed ({tail}); "
                      f"output {work / f'rep-{rep}.log'}", flush=True)  # fmt: skip
            else:
                shutil.rmtree(work / f"rep-{rep}", ignore_errors=True)  # kept if it failed
            if (rep + 1) % 20 == 0:
                print(f"... {rep + 1} repetitions, {reps_failed} failed", flush=True)
    stop.set()
    watcher.join()
    elapsed = time.monotonic() - started
    print(f"tests failed/total: {tests_failed}/{tests_run}; repetitions failed/total: "
          f"{reps_failed}/{args.repeat}; {args.parallel} at a time; {elapsed:.0f} s")  # fmt: skip
    print(f"load average before {_load(load_before)}, after {_load(os.getloadavg())}")
    if reps_failed == 0 and args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"outputs and stacks in {work}")
    return 1 if reps_failed else 0


def _run(base: Path, log: Path, select: str) -> tuple[int, int, str]:
    """One pytest process of the cases: (passed, failed, its summary line)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
           "--basetemp", str(base), TEST, "-k", select]  # fmt: skip
    with log.open("w") as out:
        done = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=600)
    text = log.read_text(errors="replace")
    lines = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = lines[-1] if lines else f"exit code {done.returncode}"
    passed = _count(summary, "passed")
    failed = _count(summary, "failed") + _count(summary, "error")
    if done.returncode != 0 and failed == 0:
        failed = 1
    return passed, failed, summary.strip("= ")


def _count(summary: str, word: str) -> int:
    found = re.search(rf"(\d+) {word}", summary)
    return int(found.group(1)) if found else 0


def _watch(
    active: dict[int, Path],
    lock: threading.Lock,
    stop: threading.Event,
    after_s: float,
    work: Path,
) -> None:
    """Every second: the stacks of any test process alive longer than `after_s`, and again 15 s
    later (is it stuck, or slow?)."""
    dumped: dict[int, int] = {}
    while not stop.wait(1.0):
        with lock:
            reps = dict(active)
        if not reps:
            continue
        now = time.time()
        for proc in psutil.process_iter(["pid", "cmdline", "create_time", "status"]):
            cmdline = " ".join(proc.info["cmdline"] or ())
            for rep, base in reps.items():
                times = dumped.get(proc.info["pid"], 0)
                if str(base) not in cmdline or "pytest" in cmdline or times >= 2:
                    continue
                if now - proc.info["create_time"] < after_s + 15 * times:
                    continue
                dumped[proc.info["pid"]] = times + 1
                _dump(proc, work / f"rep-{rep}.stacks.txt", now)


def _dump(proc: psutil.Process, path: Path, now: float) -> None:
    at = time.strftime("%H:%M:%S", time.gmtime(now))
    age = now - proc.info["create_time"]
    lines = [f"=== pid {proc.pid} at {at} UTC, age {age:.0f} s, status {proc.info['status']}"]
    try:
        parent = proc.parent()
        lines.append(f"parent: {parent.pid if parent else None}; children: "
                     f"{[c.pid for c in proc.children()]}")  # fmt: skip
        lines.append("cmdline: " + " ".join(proc.cmdline()))
        lines.append("connections: " + "; ".join(
            f"{c.laddr}->{c.raddr} {c.status}" for c in proc.net_connections("tcp")))  # fmt: skip
    except psutil.Error as exc:
        lines.append(f"({exc})")
    if PY_SPY:
        spy = subprocess.run([PY_SPY, "dump", "--pid", str(proc.pid)], capture_output=True,
                             text=True, timeout=30)  # fmt: skip
        lines.append(spy.stdout + spy.stderr)
    with path.open("a") as out:
        out.write("\n".join(lines) + "\n")


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
