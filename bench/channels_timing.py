"""How exact the runs-poll and async channels are, and what an async answer costs in CPU.

    python bench/channels_timing.py --channel async --users 5 --seconds 20
    python bench/channels_timing.py --channel async --client python-socketio --users 5
    python bench/channels_timing.py --channel runs-poll --poll-interval 0.5 --users 10

Runs N people under gevent (as Locust does) in this process against a fresh simulator that logs
when it wrote every event (`--event-log`), for a bounded time. Prints:

- async: per run, the error of each milestone's interval from run.started (first_delta,
  message_created, done) against the interval between the server's writes of the same socket
  events: p50 / p99 / max; and this process's CPU (user+sys) per answer.
- runs-poll: per run, how late completion was seen (the arrival of the poll that saw
  `completed` minus the simulator's `run.completed` write): min / p50 / p99 / max, against one
  poll interval + 5 ms.

`--client python-socketio` receives the async answers with python-socketio's sync client
(websocket-client, patched by gevent; events stamped when its handler runs) instead of wxo-load's
own Engine.IO client, for the comparison in docs/channels.md. Not a test: it prints figures.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(HERE), str(HERE / "bench")]

from bench_runs import quantiles, read_event_log  # noqa: E402

from wxo_load.config.model import ChannelSettings, Prompts, RequestSettings, Scenario  # noqa: E402
from wxo_load.core.records import RunRecord  # noqa: E402
from wxo_load.edge.auth.resolve import resolve_auth  # noqa: E402
from wxo_load.edge.auth.settings import AuthSettings  # noqa: E402
from wxo_load.edge.channels import open_channel  # noqa: E402
from wxo_load.edge.endpoint import request_id  # noqa: E402
from wxo_load.mock.process import SimulatorProcess  # noqa: E402

AGENT = "0c191f04-78cd-45e3-a99a-988cfb29434d"
MILESTONES = {"first_delta_ms": "message.delta", "message_created_ms": "message.created",
              "done_ms": "done"}  # fmt: skip


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _person(channel: Any, until: float, runs: list[tuple[float, RunRecord]]) -> None:
    while time.perf_counter() < until:
        channel.open_conversation("hello")
        thread_id = None
        for turn in range(3):
            record = RunRecord(time.time(), "u", "c", turn, request_id(), thread_id=thread_id)
            result = channel.send(record, "hello")
            runs.append((result.t0, result.record))
            thread_id = result.record.thread_id
            gevent.sleep(0.2)


def _async_errors(runs: list[tuple[float, RunRecord]], log: Path) -> dict[str, Any]:
    written: dict[str, dict[str, float]] = {}
    for line in read_event_log(log):
        if line.get("seq", -1) >= 0:  # socket deliveries (-1: the HTTP run's own changes)
            written.setdefault(line["run_id"], {}).setdefault(line["event"], line["t_mono"])
    errors: list[float] = []
    for _t0, rec in runs:
        server = written.get(rec.run_id or "")
        if rec.outcome != "ok" or not server or rec.run_started_ms is None:
            continue
        for field, event in MILESTONES.items():
            value = getattr(rec, field)
            if value is None or event not in server:
                continue
            client_ms = value - rec.run_started_ms
            server_ms = (server[event] - server["run.started"]) * 1000.0
            errors.append(abs(client_ms - server_ms))
    return quantiles(errors)


def _poll_lateness(runs: list[tuple[float, RunRecord]], log: Path) -> dict[str, Any]:
    completed = {
        line["run_id"]: line["t_mono"]
        for line in read_event_log(log)
        if line.get("event") == "run.completed" and line.get("seq", 0) < 0
    }
    late = [
        (t0 + rec.done_ms / 1000.0 - completed[rec.run_id]) * 1000.0
        for t0, rec in runs
        if rec.outcome == "ok" and rec.done_ms is not None and rec.run_id in completed
    ]
    figures = quantiles(late)
    figures["min_ms"] = round(min(late), 3) if late else None
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", choices=("async", "runs-poll"), default="async")
    parser.add_argument("--client", choices=("wxo-load", "python-socketio"), default="wxo-load")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--profile", default=None, help="default: async, or default for runs-poll")
    args = parser.parse_args()
    profile = args.profile or ("async" if args.channel == "async" else "default")
    log = Path(tempfile.mkdtemp(prefix="wxo-channels-")) / "events.jsonl"
    with SimulatorProcess.start(
        profile=profile, port=0, seed=1, extra_args=["--event-log", str(log)]
    ) as sim:
        tokens, _ = resolve_auth(AuthSettings(), sim.url)
        scenario = Scenario(
            name="bench", agent_id=AGENT, prompts=Prompts("script", ("hello",)),
            request=RequestSettings(stall_timeout_s=20, stream_timeout_s=60),
            channel=ChannelSettings(name=args.channel, poll_interval_s=args.poll_interval),
        )  # fmt: skip
        channels = [open_channel(sim.url, scenario, tokens) for _ in range(args.users)]
        if args.client == "python-socketio":
            from socketio_client import with_python_socketio

            channels = [with_python_socketio(c) for c in channels]
        runs: list[tuple[float, RunRecord]] = []
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        until = wall0 + args.seconds
        gevent.joinall([gevent.spawn(_person, c, until, runs) for c in channels])
        cpu_s, wall_s = _cpu_s() - cpu0, time.perf_counter() - wall0
        for channel in channels:
            channel.close()
    time.sleep(0.5)  # the simulator flushes its event log every 0.25 s and at exit
    ok = sum(1 for _, r in runs if r.outcome == "ok")
    outcomes: dict[str, int] = {}
    for _, rec in runs:
        outcomes[rec.outcome] = outcomes.get(rec.outcome, 0) + 1
    load = os.getloadavg()
    print(f"{args.channel} ({args.client}), {args.users} users, {wall_s:.1f} s: runs {outcomes}")
    print(f"  CPU of this process: {cpu_s * 1000 / max(ok, 1):.3f} ms per answer")
    if args.channel == "async":
        print(f"  interval error vs the simulator's socket writes: {_async_errors(runs, log)}")
    else:
        print(f"  completion seen after the simulator's: {_poll_lateness(runs, log)} "
              f"(limit: one interval + 5 ms = {args.poll_interval * 1000 + 5:.0f} ms)")  # fmt: skip
    print(f"  load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
