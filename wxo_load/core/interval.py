"""First text and done of the runs measured since the last timeline point (the live tab's
and the report's percentiles over time). Pure: records in, figures out."""

from __future__ import annotations

from wxo_load.core.book import MetricsBook
from wxo_load.core.hdr import Timing
from wxo_load.core.metrics import RUN_METRICS
from wxo_load.core.records import RunRecord

INTERVAL_METRICS = ("first_text", "done")
INTERVAL_PERCENTILES = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))


class IntervalTimings:
    """First text and done of the runs measured since the last timeline point."""

    def __init__(self) -> None:
        self.timings = {metric: Timing() for metric in INTERVAL_METRICS}

    def record_run(self, run: RunRecord) -> None:
        for metric in INTERVAL_METRICS:
            value = getattr(run, RUN_METRICS[metric])
            if value is not None:
                self.timings[metric].record(value)

    def merge_book(self, book: MetricsBook) -> None:
        for metric in INTERVAL_METRICS:
            self.timings[metric].merge(book.timing(metric))

    def take_figures(self) -> dict[str, float | None]:
        """{"first_text_p50": ..., "done_p99": ...} of the interval, then start a new one."""
        figures: dict[str, float | None] = {}
        for metric, timing in self.timings.items():
            values = timing.percentiles_ms([p for _, p in INTERVAL_PERCENTILES])
            for (name, _), value in zip(INTERVAL_PERCENTILES, values, strict=True):
                figures[f"{metric}_{name}"] = None if value is None else round(value, 3)
        self.timings = {metric: Timing() for metric in INTERVAL_METRICS}
        return figures
