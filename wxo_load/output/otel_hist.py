"""wxo-load's own cumulative explicit-bucket histograms, exported through the SDK's pipeline.

The SDK's `Histogram.record` cleans and hashes the attributes of every value: about 10 µs each
here, six values a run, more than 5 % of what a run costs the load generator. So the values go
into these histograms (a dict look-up and a bisect, under 1 µs), and `WithHistograms`, an SDK
`MetricExporter` wrapped around the OTLP one, adds them as ordinary cumulative `Histogram`
metrics to each export the SDK's periodic reader makes (with the counters, the resource and the
exporter's retries as the SDK does them).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import Any

SCOPE = "wxo_load"


class _Series:
    """One histogram series: buckets (value <= bound, OTel's explicit-bucket rule), count, sum,
    min, max since it began."""

    __slots__ = ("attributes", "counts", "count", "sum", "min", "max")

    def __init__(self, attributes: Mapping[str, Any], buckets: int) -> None:
        self.attributes = dict(attributes)
        self.counts = [0] * (buckets + 1)
        self.count = 0
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")


class Histograms:
    """Named histograms, each with fixed bounds, cumulative from this object's creation."""

    def __init__(self, declared: Mapping[str, tuple[str, tuple[float, ...]]]) -> None:
        self.declared = declared  # name -> (description, bounds in seconds)
        self.start_ns = time.time_ns()
        self._series: dict[str, dict[tuple[str, ...], _Series]] = {n: {} for n in declared}

    def record(
        self, name: str, key: tuple[str, ...], attributes: Callable[[], Mapping[str, Any]],
        value: float,
    ) -> None:  # fmt: skip
        """One value into NAME's series KEY (its attributes made on first use)."""
        series = self._series[name].get(key)
        bounds = self.declared[name][1]
        if series is None:
            series = self._series[name][key] = _Series(attributes(), len(bounds))
        series.counts[bisect_left(bounds, value)] += 1
        series.count += 1
        series.sum += value
        if value < series.min:
            series.min = value
        if value > series.max:
            series.max = value

    def metrics(self) -> list[Any]:
        """Every histogram as the SDK's `Metric` (cumulative points, now)."""
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Histogram,
            HistogramDataPoint,
            Metric,
        )

        now = time.time_ns()
        found = []
        for name, by_key in self._series.items():
            description, bounds = self.declared[name]
            points = [
                HistogramDataPoint(
                    attributes=s.attributes,
                    start_time_unix_nano=self.start_ns,
                    time_unix_nano=now,
                    count=s.count,
                    sum=s.sum,
                    bucket_counts=list(s.counts),
                    explicit_bounds=bounds,
                    min=s.min,
                    max=s.max,
                )  # fmt: skip
                for s in list(by_key.values())
            ]
            if points:
                data = Histogram(points, AggregationTemporality.CUMULATIVE)
                found.append(Metric(name=name, description=description, unit="s", data=data))
        return found


def with_histograms(metrics_data: Any, histograms: Histograms) -> Any:
    """METRICS_DATA (one resource, as a MeterProvider makes it) plus the histograms, in a scope
    of their own."""
    from opentelemetry.sdk.metrics.export import MetricsData, ResourceMetrics, ScopeMetrics
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    extra = histograms.metrics()
    if not extra or not metrics_data.resource_metrics:
        return metrics_data
    first, *rest = metrics_data.resource_metrics
    scope = ScopeMetrics(InstrumentationScope(f"{SCOPE}.histograms"), extra, "")
    merged = ResourceMetrics(first.resource, [*first.scope_metrics, scope], first.schema_url)
    return MetricsData([merged, *rest])


def histogram_exporter(inner: Any, histograms: Histograms) -> Any:
    """An SDK `MetricExporter` that exports through INNER with the histograms added."""
    from opentelemetry.sdk.metrics.export import MetricExporter

    class WithHistograms(MetricExporter):
        def __init__(self) -> None:
            super().__init__(
                preferred_temporality=inner._preferred_temporality,
                preferred_aggregation=inner._preferred_aggregation,
            )

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
            return inner.export(with_histograms(metrics_data, histograms), timeout_millis, **kw)

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return bool(inner.force_flush(timeout_millis))

        def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
            inner.shutdown(timeout_millis=timeout_millis, **kw)

    return WithHistograms()
