"""What a summary says about its test besides the book's figures: `SummaryMeta`, typed, made by
its producers (the Locust layer's `finish.meta`, `wxo-load report`'s rebuild, a load plan's
segment) and read by `summary.build_summary`. Pure: no I/O, no clock."""

from __future__ import annotations

import msgspec

from wxo_load.core.summary_sections import Options, ScenarioInfo, TimelinePoint, Workers
from wxo_load.core.window import MeasuredWindow


class LoadGeneratorExtras(msgspec.Struct, frozen=True, kw_only=True):
    """The load generator's own figures and limits, measured by the runner (not in the book):
    its CPU, and the limits over which the results are flagged untrustworthy; `warnings` the
    runner already gives (the summary adds those of the lags, the CPU and lost workers)."""

    cpu_percent_max: float | None = None
    cpu_s: float | None = None
    cpu_ms_per_run: float | None = None
    cpu_percent_limit: float | None = None
    client_lag_p99_limit_ms: float | None = None
    schedule_lag_p99_limit_ms: float | None = None
    warnings: list[str] = []


class SummaryMeta(msgspec.Struct, frozen=True, kw_only=True):
    """The test a summary describes: the scenario (already free of secrets), options, host,
    start and end (unix seconds; None: the book's first start and last end), peak users, the
    timeline, the load-generating processes seen and lost, the load generator's extras, and the
    measured window the book's records were classified by (None: the whole test; throughput is
    per second of it)."""

    scenario: ScenarioInfo = ScenarioInfo()
    options: Options = Options()
    host: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    users_peak: int | None = None
    timeline: list[TimelinePoint] = []
    workers: Workers = Workers()
    load_generator: LoadGeneratorExtras = LoadGeneratorExtras()
    window: MeasuredWindow | None = None
