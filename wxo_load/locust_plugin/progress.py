"""Progress and trust: CPU use, the timeline, the progress line. Imports no locust."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from wxo_load.core import fmt
from wxo_load.core.book import MetricsBook
from wxo_load.core.hdr import nearest_rank_ms
from wxo_load.core.records import NOT_FAILED
from wxo_load.core.summary_sections import TimelinePoint
from wxo_load.locust_plugin.state import TestState

LAG_ADVICE = " -- results are limited by the load generator: add workers (--processes N)"


class CpuMeter:
    """This process's CPU use: peak percent over short intervals, and seconds used since start."""

    INTERVAL_S = 2.0

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self._cpu0 = self._cpu_last = time.process_time()
        self._wall_last = time.monotonic()
        self.peak_percent = 0.0

    @property
    def used_s(self) -> float:
        return time.process_time() - self._cpu0

    def sample(self) -> None:
        cpu, wall = time.process_time(), time.monotonic()
        elapsed = wall - self._wall_last
        if elapsed >= 0.5:
            self.peak_percent = max(self.peak_percent, 100.0 * (cpu - self._cpu_last) / elapsed)
            self._cpu_last, self._wall_last = cpu, wall


def sample_timeline(test: TestState, runner: Any) -> None:
    """Append one timeline point: users now, runs and errors so far, the interval's figures."""
    users = int(getattr(runner, "user_count", 0) or 0)
    test.users_peak = max(test.users_peak, users)
    point = TimelinePoint(
        t_s=round(time.time() - (test.started_at or time.time()), 1),
        users=users,
        runs=test.total.runs_total,
        errors=test.total.runs_failed,
    )
    test.timeline.append(msgspec.structs.replace(point, **test.interval.take_figures()))


def load_generator_cpu(test: TestState, cpu: CpuMeter, master: bool) -> tuple[float, float]:
    """(peak CPU % of any load-generating process, CPU seconds they used in all)."""
    if master:
        values = list(test.worker_cpu.values())
        return max((v[0] for v in values), default=0.0), sum(v[1] for v in values)
    cpu.sample()
    return cpu.peak_percent, cpu.used_s


def take_progress(test: TestState, master: bool) -> tuple[float | None, float | None]:
    """(first text p95, client lag p99) since the last call, then start a new interval."""
    if master:
        interval, test.progress_book = test.progress_book, MetricsBook()
        return interval.percentile_ms("first_text", 95), interval.percentile_ms("client_lag", 99)
    p95 = nearest_rank_ms(test.progress_first_text_ms, 95)
    lag = nearest_rank_ms(test.progress_lag_ms, 99)
    test.progress_first_text_ms, test.progress_lag_ms = [], []
    return p95, lag


def progress_line(test: TestState, p95: float | None, lag: float | None) -> str:
    total = test.total
    failed = total.runs_failed
    outcomes = sorted(total.runs_by_outcome.items())
    classes = ", ".join(f"{k} {v}" for k, v in outcomes if k not in NOT_FAILED)
    return (
        f"wxo-load: {total.conversations_total} conversations, {total.runs_total} runs, "
        f"{failed} failed{f' ({classes})' if classes else ''}; first text p95 "
        f"{fmt.ms(p95, sep='')} (last interval); client lag p99 {fmt.ms(lag, sep='')}"
    )
