"""wxo_load.output.otel: records into OpenTelemetry instruments and spans (in-memory SDK)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.output.otel import OtelRecords
from wxo_load.output.otel_hist import histogram_exporter


def _run(conversation: str, turn: int, outcome: str = "ok", **extra: Any) -> RunRecord:
    run = RunRecord(started_at_unix=1.7e9 + turn, user_id="u", conversation_id=conversation,
                    turn_index=turn, request_id=f"req-{turn}", thread_id=f"thread-{conversation}",
                    run_id=f"run-{conversation}-{turn}", outcome=outcome, trace_id="ab" * 16,
                    run_started_ms=5.0, first_delta_ms=40.0, first_text_ms=50.0, total_ms=300.0,
                    client_lag_max_ms=1.0, answer_chars=10, persona="shopper", **extra)  # fmt: skip
    if outcome == "ok":
        run.done_ms = 300.0
    return run


def _conversation(conversation: str, runs: int) -> ConversationRecord:
    return ConversationRecord(started_at_unix=1_700_000_000.0, user_id="u",
                              conversation_id=conversation, thread_id=f"thread-{conversation}",
                              runs=runs, total_ms=2500.0, persona="shopper")  # fmt: skip


class _Capture(MetricExporter):
    """What the SDK's reader exported, kept."""

    def __init__(self) -> None:
        super().__init__()
        self.exported: list[Any] = []

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **_: Any) -> Any:
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **_: Any) -> None:
        pass


class _Setup:
    def __init__(self, sampler: Any) -> None:
        self.records = OtelRecords("agent-1")
        self.capture, self.spans = _Capture(), InMemorySpanExporter()
        exporter = histogram_exporter(self.capture, self.records.histograms)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        self.meters = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        tracer_provider = TracerProvider(sampler=sampler, shutdown_on_exit=False)
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.records.start(self.meters.get_meter("test"), tracer_provider.get_tracer("test"))

    def points(self, name: str) -> list[Any]:
        """NAME's points in an export made now, through the wrapped exporter."""
        self.meters.force_flush()
        if not self.capture.exported:
            return []
        return [
            point
            for resource in self.capture.exported[-1].resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


def test_runs_are_queued_until_drained_then_counted_with_bounded_attributes() -> None:
    setup = _Setup(ALWAYS_ON)
    records = setup.records
    records.add_run(_run("c1", 0))
    records.add_run(_run("c1", 1, outcome="http_503"))
    assert setup.points("wxo_load.runs") == []  # the hot path only queued them
    records.drain()
    runs = {p.attributes["outcome"]: p.value for p in setup.points("wxo_load.runs")}
    assert runs == {"ok": 1, "http_503": 1}
    point = setup.points("wxo_load.runs")[0]
    assert set(point.attributes) == {"persona", "channel", "agent", "outcome"}
    assert point.attributes["channel"] == "runs-stream" and point.attributes["agent"] == "agent-1"
    durations = {
        p.attributes.get("error.type"): p.count
        for p in setup.points("gen_ai.client.operation.duration")
    }
    assert durations == {None: 1, "http_503": 1}
    timing = {p.attributes["metric"]: 0 for p in setup.points("wxo_load.timing")}
    for p in setup.points("wxo_load.timing"):
        timing[p.attributes["metric"]] += p.count
    assert timing == {"run_started": 2, "first_text": 2, "done": 1}
    (first_text,) = [
        p
        for p in setup.points("wxo_load.timing")
        if p.attributes["metric"] == "first_text" and p.attributes["outcome"] == "ok"
    ]
    assert first_text.sum == 0.05 and first_text.bucket_counts[first_text.explicit_bounds.index(
        0.08)] == 1  # 50 ms falls in (40 ms, 80 ms]  # fmt: skip


def test_a_sampled_conversation_is_a_trace_of_runs_with_their_ids_events_and_tools() -> None:
    setup = _Setup(ALWAYS_ON)
    records, spans = setup.records, setup.spans
    records.add_run(
        _run("c1", 0, tools=[["lookup_order", 60.0, 100.0], ["search_kb", 170.0, None]])
    )
    records.add_conversation(_conversation("c1", 1))
    records.drain()
    by_name = {s.name: s for s in spans.get_finished_spans()}
    assert set(by_name) == {"conversation", "invoke_agent agent-1", "execute_tool lookup_order",
                            "execute_tool search_kb"}  # fmt: skip
    run = by_name["invoke_agent agent-1"]
    assert run.parent is not None and run.parent.span_id == by_name["conversation"].context.span_id
    assert run.attributes is not None
    assert run.attributes["wxo_load.run_id"] == "run-c1-0"
    assert run.attributes["wxo_load.server_trace_id"] == "ab" * 16
    assert [e.name for e in run.events] == ["run.started", "first_text", "done"]
    assert run.events[1].timestamp - run.start_time == 50_000_000  # first text at 50 ms
    tool = by_name["execute_tool lookup_order"]
    assert tool.parent is not None and tool.parent.span_id == run.context.span_id
    assert (tool.start_time - run.start_time, tool.end_time - tool.start_time) == (
        60_000_000, 100_000_000)  # fmt: skip


def test_an_unsampled_conversation_builds_no_spans_and_a_test_end_traces_open_ones() -> None:
    setup = _Setup(ALWAYS_OFF)
    setup.records.add_run(_run("c1", 0))
    setup.records.add_conversation(_conversation("c1", 1))
    setup.records.drain()
    assert setup.spans.get_finished_spans() == ()
    assert sum(p.value for p in setup.points("wxo_load.conversations")) == 1
    setup = _Setup(ALWAYS_ON)
    records, spans = setup.records, setup.spans
    records.add_run(_run("c2", 0))
    records.close()  # the conversation record never came
    names = sorted(s.name for s in spans.get_finished_spans())
    assert names == ["conversation", "invoke_agent agent-1"]
