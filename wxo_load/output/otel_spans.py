"""A conversation as an OpenTelemetry trace, built after it ended from its records.

    conversation                       (the conversation record's span; sampled or not, here)
    └─ invoke_agent <agent>            one per run: events run.started, first_text, done
       └─ execute_tool <tool name>     one per tool call the run streamed

Times come from the records (wall clock at the request plus the measured offsets), so the spans
sit exactly where the runs were. A run span carries `wxo_load.run_id`, `wxo_load.thread_id`
(also as `gen_ai.conversation.id`) and the server's `wxo_load.server_trace_id`, the id that
finds the same run in Orchestrate's own traces.
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.records import OK, ConversationRecord, RunRecord
from wxo_load.output.otel import NO_PERSONA, OPERATION, PROVIDER

EVENTS = (("run.started", "run_started_ms"), ("first_text", "first_text_ms"), ("done", "done_ms"))


def _ns(unix_s: float, offset_ms: float | None = 0.0) -> int:
    return int(unix_s * 1e9) + round((offset_ms or 0.0) * 1e6)


def trace_conversation(
    tracer: Any, agent: str, conv: ConversationRecord | None, runs: list[RunRecord]
) -> None:
    """Emit the conversation's spans (`conv` None: the test ended before the conversation did;
    its span then covers its runs)."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    first = runs[0] if runs else None
    if conv is not None:
        start_unix, total_ms = conv.started_at_unix, conv.total_ms
        outcome, persona, thread_id = conv.outcome, conv.persona, conv.thread_id
        conversation_id, channel = conv.conversation_id, conv.channel
    else:
        assert first is not None
        start_unix = first.started_at_unix
        end = max(r.started_at_unix + (r.total_ms or 0.0) / 1000.0 for r in runs)
        total_ms = (end - start_unix) * 1000.0
        outcome, persona, thread_id = "unfinished", first.persona, first.thread_id
        conversation_id, channel = first.conversation_id, first.channel
    attrs: dict[str, str | int] = {
        "persona": persona or NO_PERSONA, "agent": agent, "outcome": outcome,
        "channel": channel,
        "wxo_load.conversation_id": conversation_id, "wxo_load.runs": len(runs),
    }  # fmt: skip
    if thread_id is not None:
        attrs["wxo_load.thread_id"] = thread_id
        attrs["gen_ai.conversation.id"] = thread_id
    root = tracer.start_span("conversation", start_time=_ns(start_unix), attributes=attrs)
    if not root.is_recording():  # not sampled: nothing more to build
        root.end(end_time=_ns(start_unix, total_ms))
        return
    if outcome != OK:
        root.set_status(Status(StatusCode.ERROR, outcome))
    context = trace.set_span_in_context(root)
    for run in runs:
        _run_span(tracer, agent, run, context, SpanKind.CLIENT)
    root.end(end_time=_ns(start_unix, total_ms))


def _run_span(tracer: Any, agent: str, run: RunRecord, context: Any, kind: Any) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    attrs: dict[str, str | int] = {
        "persona": run.persona or NO_PERSONA, "channel": run.channel,
        "agent": agent,
        "outcome": run.outcome, "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": PROVIDER, "gen_ai.agent.id": agent,
        "wxo_load.turn_index": run.turn_index, "wxo_load.request_id": run.request_id,
        "wxo_load.worker": run.worker,
    }  # fmt: skip
    for key, value in (("wxo_load.run_id", run.run_id), ("wxo_load.thread_id", run.thread_id),
                       ("gen_ai.conversation.id", run.thread_id),
                       ("wxo_load.server_trace_id", run.trace_id)):  # fmt: skip
        if value is not None:
            attrs[key] = value
    t0 = run.started_at_unix
    span = tracer.start_span(f"{OPERATION} {agent}", context=context, kind=kind,
                             start_time=_ns(t0), attributes=attrs)  # fmt: skip
    for name, field in EVENTS:
        value = getattr(run, field)
        if value is not None:
            span.add_event(name, timestamp=_ns(t0, value))
    if run.outcome != OK:
        span.set_status(Status(StatusCode.ERROR, run.outcome))
        span.set_attribute("error.type", run.outcome)
    child = trace.set_span_in_context(span)
    for name, start_ms, duration_ms in run.tools or ():
        tool_attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": str(name)}
        tool = tracer.start_span(f"execute_tool {name}", context=child,
                                 start_time=_ns(t0, start_ms), attributes=tool_attrs)  # fmt: skip
        end_ms = start_ms + duration_ms if duration_ms is not None else run.total_ms
        tool.end(end_time=_ns(t0, end_ms))
    span.end(end_time=_ns(t0, run.total_ms))
