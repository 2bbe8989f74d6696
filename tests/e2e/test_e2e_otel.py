"""End to end: `--otel` exports to an OTLP receiver on loopback (built from opentelemetry-proto's
messages) from both workers of a `--processes 2` test, and what arrives adds up to summary.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from locust_runs import clean_env, processes_args, read_jsonl, run_locust, write_scenario
from otlp_receiver import OtlpReceiver, attributes

SCENARIO = """
name: otel-e2e
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 2, think_time_s: [0.1, 0.2], pause_between_s: 0.1}
prompts: {messages: ["where is my order 1234?"]}
simulator: {profile: tools}
"""


def test_otel_from_two_workers_adds_up_to_the_summary_and_run_spans_carry_the_ids(
    tmp_path: Path,
) -> None:
    scenario = write_scenario(tmp_path / "otel.yaml", SCENARIO)
    results = tmp_path / "results"
    with OtlpReceiver() as receiver:
        env = clean_env(
            tmp_path,
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            OTEL_METRIC_EXPORT_INTERVAL="2000",
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG="0.5",
        )
        proc = run_locust(
            ["-u", "6", "-r", "6", "-t", "8s", *processes_args(2), "--otel",
             "--scenario", str(scenario), "--results-dir", str(results)],
            home=tmp_path, env=env, timeout_s=90,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    summary = json.loads((results / "summary.json").read_text())
    runs = summary["runs"]
    assert runs["total"] > 0

    # metrics: each worker exports its own series (service.instance.id, wxo_load.worker) ...
    resources = receiver.resources("wxo_load.runs")
    assert {r["wxo_load.worker"] for r in resources} == {"worker-0", "worker-1"}
    assert len({r["service.instance.id"] for r in resources}) == 2
    # ... and they add up to the master's merge
    assert receiver.counter("wxo_load.runs") == runs["total"]
    for outcome, count in runs["by_outcome"].items():
        assert receiver.counter("wxo_load.runs", outcome=outcome) == count
    assert receiver.counter("wxo_load.conversations") == summary["conversations"]["total"]
    for metric in ("run_started", "first_text", "done"):
        count = receiver.histogram_count("wxo_load.timing", metric=metric)
        assert count == summary["metrics"][metric]["count"], metric
    ok_runs = runs["by_outcome"].get("ok", 0)
    assert receiver.histogram_count("gen_ai.client.operation.duration", outcome="ok") == ok_runs
    assert (
        receiver.histogram_count("gen_ai.client.operation.time_to_first_chunk")
        == summary["metrics"]["first_delta"]["count"]
    )

    # traces: sampled conversations, a run span per run with its ids, tool spans inside
    spans = [span for _, span in receiver.spans()]
    conversations = [s for s in spans if s.name == "conversation"]
    run_spans = [s for s in spans if s.name.startswith("invoke_agent ")]
    assert 0 < len(conversations) <= summary["conversations"]["total"]
    by_run_id = {r["run_id"]: r for r in read_jsonl(results / "runs.jsonl") if r["run_id"]}
    conversation_ids = {s.span_id for s in conversations}
    for span in run_spans:
        attrs = attributes(span.attributes)
        assert span.parent_span_id in conversation_ids
        if "wxo_load.run_id" not in attrs:  # stopped by the end of the test before run.started
            assert attrs["outcome"] != "ok"
            continue
        run = by_run_id[attrs["wxo_load.run_id"]]
        assert attrs["wxo_load.thread_id"] == run["thread_id"]
        if run["outcome"] == "ok":  # (a run stopped by the end of the test has no trace_id yet)
            assert run["trace_id"] is not None
            assert attrs["wxo_load.server_trace_id"] == run["trace_id"]
            assert [e.name for e in span.events] == ["run.started", "first_text", "done"]
    assert any(attributes(s.attributes)["outcome"] == "ok" for s in run_spans)
    tool_spans = [s for s in spans if s.name.startswith("execute_tool ")]
    assert {s.parent_span_id for s in tool_spans} <= {s.span_id for s in run_spans}
    assert {s.name for s in tool_spans} >= {"execute_tool lookup_order", "execute_tool search_kb"}
