"""The processes a `python bench/vs_naive.py` phase runs and what it reads back: Locust generators
(wxo-load's and the reference's), their CPU seconds, the simulator and its event log, and the
per-run timing error against that log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
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
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable, "-m", "locust", "-f", locustfiles, "--headless", "--only-summary",
        "-u", str(users), "-r", str(max(users, 1)), "-t", f"{int(run_time_s)}s",
        "--host", host, *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


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
