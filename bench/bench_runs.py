"""The processes a `python bench/vs_naive.py` phase runs and what it reads back: Locust generators
(wxo-load's and the reference's), their CPU seconds, the simulator and its event log, and the
per-run timing error against that log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wxo_load.core.errors import ConfigError
from wxo_load.core.hdr import nearest_rank_ms
from wxo_load.mock.process import SimulatorProcess

ASSETS = Path(__file__).resolve().parent / "assets"
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Generator:
    """One Locust load generator process and what it measured."""

    name: str
    proc: subprocess.Popen[str]
    results_dir: Path | None = None
    probe_out: Path | None = None
    cpu_window_s: float = 0.0
    output: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    """A process's user+sys CPU seconds so far (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sys_cpu_seconds(pid: int) -> float:
    """Of those, the seconds in the kernel (system calls: the sockets' reads and writes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_seconds(pid: int) -> float:
    """Seconds the process was runnable but had no CPU (/proc/PID/schedstat: others held it)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass(frozen=True)
class ProcSample:
    """What /proc says of a load generator at one time: the soak and the ceiling bench read it."""

    t: float  # time.time()
    cpu_s: float
    sys_s: float
    wait_s: float
    rss_kb: int
    fds: int

    @classmethod
    def take(cls, pid: int) -> ProcSample:
        return cls(time.time(), cpu_seconds(pid), sys_cpu_seconds(pid),
                   runqueue_wait_seconds(pid), rss_kb(pid), open_fds(pid))  # fmt: skip

    def cpu_percent_since(self, earlier: ProcSample) -> float:
        return 100.0 * (self.cpu_s - earlier.cpu_s) / max(self.t - earlier.t, 1e-9)

    def wait_percent_since(self, earlier: ProcSample) -> float:
        return 100.0 * (self.wait_s - earlier.wait_s) / max(self.t - earlier.t, 1e-9)


def prioritised(nice: int) -> int | None:
    """Run this bench (and the processes it starts) at `nice` on a shared machine.

    Linux groups processes by session (autogroup, `/proc/sys/kernel/sched_autogroup_enabled`)
    and shares the CPUs between the groups first: a niceness only counts inside its group, so
    `nice -n -10` alone does nothing against other sessions' work. So the bench runs itself
    again in a session of its own, whose group gets the niceness (`/proc/self/autogroup`; a
    negative one needs root). Returns that run's exit code, or None in the run itself (or when
    `nice` is 0): go on."""
    if not nice:
        return None
    if os.environ.get("WXO_BENCH_SESSION") != str(os.getppid()):
        env = {**os.environ, "WXO_BENCH_SESSION": str(os.getpid())}
        child = subprocess.Popen([sys.executable, *sys.argv], env=env, start_new_session=True)
        for sig in (signal.SIGTERM, signal.SIGINT):  # its own session gets no terminal signals
            signal.signal(sig, lambda signum, _: child.send_signal(signum))
        return child.wait()
    os.nice(nice)  # inherited by the processes it starts
    group_nice(os.getpid(), nice)
    return None


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXO_", "LOCUST_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_locust(
    locustfiles: str,
    host: str,
    users: int,
    run_time_s: float,
    extra: list[str],
    env: dict[str, str],
    nice: int | None = None,
) -> subprocess.Popen[str]:
    """`nice`: run it in a session of its own at that niceness (`group_nice`)."""
    cmd = [
        sys.executable, "-m", "locust", "-f", locustfiles, "--headless", "--only-summary",
        "-u", str(users), "-r", str(max(users, 1)), "-t", f"{int(run_time_s)}s",
        "--host", host, *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=nice is not None,
    )
    if nice is not None:
        group_nice(proc.pid, nice)
    return proc


def group_nice(pid: int, nice: int) -> None:
    """Give the scheduling group of `pid` (a process that leads its own session) a niceness:
    see `prioritised`. Two busy processes of one bench (Locust, its server) in two groups each
    compete with the machine's other sessions on their own weight."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError as exc:
        print(f"niceness {nice} only within the session of {pid}: {exc}")


def start_pair(
    sim: SimulatorProcess,
    work: Path,
    reference: Path,
    users: int,
    run_time_s: float,
    *,
    probe: bool,
) -> tuple[Generator, Generator]:
    harness_dir = work / "harness"
    harness = Generator(
        "wxo-load",
        start_locust(
            str(REPO / "locustfile.py"),
            sim.url,
            users,
            run_time_s,
            [
                "--scenario",
                str(ASSETS / "scenario.yaml"),
                "--results-dir",
                str(harness_dir),
                "--progress-interval",
                "0",
            ],
            clean_env(),
        ),
        results_dir=harness_dir,
    )
    env = clean_env()
    files = str(reference)
    probe_out = None
    if probe:
        probe_out = work / "reference-probe.jsonl"
        env["WXO_BENCH_PROBE_OUT"] = str(probe_out)
        files += f",{ASSETS / 'naive_probe.py'}"
    naive = Generator(
        "reference", start_locust(files, sim.url, users, run_time_s, [], env), probe_out=probe_out
    )
    return harness, naive


def finish(*generators: Generator) -> None:
    for gen in generators:
        try:
            gen.output, _ = gen.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            gen.proc.send_signal(signal.SIGTERM)
            gen.output, _ = gen.proc.communicate(timeout=30)


def read_event_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def harness_runs(results_dir: Path) -> list[dict[str, Any]]:
    path = results_dir / "runs.jsonl"
    if not path.exists():
        raise ConfigError(
            f"the harness wrote no results in {results_dir}: run `locust -f locustfile.py "
            "--headless -u 1 -t 5s` to see why."
        )
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class StampServerProcess:
    """A running `bench/paced_stamp_server.py` (its own process; see its docstring), with the
    simulator's `url`, `stats` and `reset_stats` so a bench drives either."""

    def __init__(self, log: Path | None, extra: list[str], timeout_s: float = 30.0) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve().parent / "paced_stamp_server.py"),
               "--port", "0", *(["--log", str(log)] if log else []), *extra]  # fmt: skip
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        self.pid = self._proc.pid
        self.tail: deque[str] = deque(maxlen=40)
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = ""
        while time.monotonic() < deadline and not line.startswith("listening on "):
            line = self._proc.stdout.readline()
            if not line:
                self.stop()
                raise ConfigError(f"the stamp server did not start: {' '.join(cmd)}")
        self.url = line.split()[-1]

    def stats(self, timeout_s: float = 5.0) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_stamp/stats", timeout=timeout_s) as resp:
            result: dict[str, Any] = json.loads(resp.read())
        return result

    def reset_stats(self, timeout_s: float = 5.0) -> None:
        req = urllib.request.Request(f"{self.url}/_stamp/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)  # it writes its log's last lines and ends
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> StampServerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_simulator(profile: str, framing: str, log: Path | None) -> SimulatorProcess:
    args = ["--accept-any-token", "--framing", framing]
    if log is not None:
        args += ["--event-log", str(log)]
    return SimulatorProcess.start(
        profile=str(ASSETS / profile), port=0, seed=1, extra_args=args, timeout_s=30
    )


_INTERVALS = (("first_delta", "message.delta"), ("done", "done"))


def server_writes(log: Path) -> dict[str, dict[str, float]]:
    written: dict[str, dict[str, float]] = defaultdict(dict)
    for line in read_event_log(log):
        # when the event's last byte was handed over (older logs: its first)
        written[line["run_id"]].setdefault(line["event"], line.get("t_sent", line["t_mono"]))
    return written


def errors_ms(
    client: dict[str, dict[str, float]], server: dict[str, dict[str, float]]
) -> list[float]:
    """|client interval - server interval| from run.started to each milestone, per run."""
    errors = []
    for run_id, seen in client.items():
        wrote = server.get(run_id, {})
        if "run.started" not in seen or "run.started" not in wrote:
            continue
        for _, event in _INTERVALS:
            if event in seen and event in wrote:
                errors.append(
                    abs((seen[event] - seen["run.started"]) - (wrote[event] - wrote["run.started"]))
                    * 1000.0
                )
    return errors


def quantiles(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": _r(nearest_rank_ms(values, 50)),
        "p99_ms": _r(nearest_rank_ms(values, 99)),
        "max_ms": _r(max(values) if values else None),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
