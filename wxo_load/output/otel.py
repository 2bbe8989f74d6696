"""wxo-load's records as OpenTelemetry metrics and traces (docs/over-time.md#opentelemetry).

The records one load generator measured (its measured window, as every other figure) become:

- histograms, in seconds, aggregated here (`otel_hist`: the SDK's own `record` costs ~10 µs a
  value) and exported through the SDK's reader: the GenAI client conventions
  `gen_ai.client.operation.duration` (every run that ended; `error.type` on a failed one) and
  `gen_ai.client.operation.time_to_first_chunk` (the first `message.delta`); wxo-load's
  milestones in `wxo_load.timing{metric}` (`run_started`, `first_text`, `done`), as
  Prometheus's `wxo_load_timing_seconds{metric}`; the run's worst `wxo_load.client_lag`;
- counters, cumulative, SDK observable counters read at each export from this module's counts:
  `wxo_load.runs{outcome}` (their sum is summary.json's `runs.total`),
  `wxo_load.conversations{outcome}`, `wxo_load.answers.checked`, `wxo_load.goodput.runs`,
  `wxo_load.answer.chars`;
- a trace per conversation (`otel_spans`), built when the conversation has ended; the sampler
  decides on the conversation span and its children follow (nothing more is built for a
  conversation not sampled).

Every metric carries `persona`, `channel`, `agent` and `outcome` (bounded: one agent per test,
the scenario's personas, the error classes); the GenAI ones also `gen_ai.operation.name`,
`gen_ai.provider.name` and `gen_ai.agent.id`. The providers, exporters and the drain task are
wxo_load.locust_plugin.otel's.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from wxo_load.core.records import LEFT_OUTCOMES, OK, STOPPED, ConversationRecord, RunRecord
from wxo_load.output.otel_hist import Histograms

PROVIDER = "ibm.watsonx.ai"
OPERATION = "invoke_agent"
NO_PERSONA = "none"
Key = tuple[str, str, str]  # (persona, outcome, channel): a series' attributes, bounded
# The GenAI conventions' advised buckets for durations in seconds
DURATION_BUCKETS_S = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
LAG_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
HISTOGRAMS = {  # name: (description, buckets)
    "gen_ai.client.operation.duration": (
        "GenAI operation duration: a run, request to end of stream", DURATION_BUCKETS_S),
    "gen_ai.client.operation.time_to_first_chunk": (
        "Time to the first message.delta of a streamed run", DURATION_BUCKETS_S),
    "wxo_load.timing": ("wxo-load's milestones of a run, by metric", DURATION_BUCKETS_S),
    "wxo_load.client_lag": ("The run's worst lateness of the load generator reading an event",
                            LAG_BUCKETS_S),
}  # fmt: skip
MILESTONES = (("run_started", "run_started_ms"), ("first_text", "first_text_ms"),
              ("done", "done_ms"))  # fmt: skip
COUNTERS = {  # name: (unit, description)
    "wxo_load.runs": ("{run}", "Runs ended, by outcome (ok, an error class, stopped)"),
    "wxo_load.conversations": ("{conversation}", "Conversations ended, by outcome"),
    "wxo_load.answers.checked": ("{run}", "Runs whose answer was checked"),
    "wxo_load.goodput.runs": ("{run}", "Runs ok, right and within the goodput limits"),
    "wxo_load.answer.chars": ("{char}", "Characters of answer text streamed"),
}


class OtelRecords:
    """One load generator's records into OpenTelemetry instruments and spans.

    `add_run` / `add_conversation` only queue (the recorder's hot path); `drain()` (a
    background task, and before every flush) records the queue into the instruments and builds
    the sampled traces."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.tracer: Any | None = None
        self._queue: list[RunRecord | ConversationRecord] = []
        self._open: dict[str, list[RunRecord]] = {}  # conversation id -> its runs, until it ends
        self._attrs: dict[Key, dict[str, str]] = {}
        # counter name -> attribute key (persona, outcome, channel) -> cumulative value
        self.counts: dict[str, dict[Key, int]] = {name: {} for name in COUNTERS}
        self.histograms = Histograms(HISTOGRAMS)  # exported by otel_hist.histogram_exporter

    def start(self, meter: Any, tracer: Any | None) -> None:
        """The counters into METER (read at each export); spans from TRACER (None: no traces)."""
        self.tracer = tracer
        for name, (unit, description) in COUNTERS.items():
            meter.create_observable_counter(
                name, callbacks=[self._observer(name)], unit=unit, description=description
            )

    def set_agent(self, agent: str) -> None:
        """A new test's agent (a web-UI session may change it between tests)."""
        if agent != self.agent:
            self.drain()  # the queued records belong to the old agent
            self.agent = agent
            self._attrs.clear()

    # -- the hot path: queue only -----------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        self._queue.append(run)

    def add_conversation(self, conv: ConversationRecord) -> None:
        self._queue.append(conv)

    # -- off the hot path ------------------------------------------------------------------

    def drain(self, limit: int | None = None) -> bool:
        """Record the queued records (at most `limit`); True when some are left."""
        queue = self._queue
        if limit is None or len(queue) <= limit:
            self._queue = []
        else:  # the oldest `limit`; the rest wait (a slice's copy is cheap next to the SDK work)
            queue, self._queue = queue[:limit], queue[limit:]
        for record in queue:
            if isinstance(record, RunRecord):
                self._record_run(record)
            else:
                self._record_conversation(record)
        return bool(self._queue)

    def close(self) -> None:
        """The end of a test: drain, then trace the conversations still open (their runs
        ended, the conversation record never came)."""
        self.drain()
        open_, self._open = self._open, {}
        for runs in open_.values():
            self._trace(None, runs)

    def _attributes(self, key: Key) -> dict[str, str]:
        attrs = self._attrs.get(key)
        if attrs is None:
            persona, outcome, channel = key
            attrs = self._attrs[key] = {
                "persona": persona, "channel": channel, "agent": self.agent, "outcome": outcome,
            }  # fmt: skip
        return attrs

    def _genai_attributes(self, key: Key) -> dict[str, str]:
        outcome = key[1]
        attrs = {
            **self._attributes(key),
            "gen_ai.operation.name": OPERATION,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.agent.id": self.agent,
        }
        if outcome != OK:
            attrs["error.type"] = outcome
        return attrs

    def _timing_attributes(self, key: Key, metric: str) -> dict[str, str]:
        return {**self._attributes(key), "metric": metric}

    def _count(self, name: str, key: Key, value: int = 1) -> None:
        counts = self.counts[name]
        counts[key] = counts.get(key, 0) + value

    def _record_run(self, run: RunRecord) -> None:
        outcome = run.outcome
        key = (run.persona or NO_PERSONA, outcome, run.channel)
        self._count("wxo_load.runs", key)
        if run.answer_chars:
            self._count("wxo_load.answer.chars", key, run.answer_chars)
        if run.checked:
            self._count("wxo_load.answers.checked", key)
        if run.good if run.good is not None else outcome == OK:
            self._count("wxo_load.goodput.runs", key)
        if self.tracer is not None:
            self._open.setdefault(run.conversation_id, []).append(run)
        if outcome in LEFT_OUTCOMES:
            return  # a person who left: counted, out of the timings (as the book)
        record = self.histograms.record
        genai = (*key, self.agent)
        if run.first_delta_ms is not None:
            record(
                "gen_ai.client.operation.time_to_first_chunk",
                genai,
                partial(self._genai_attributes, key),
                run.first_delta_ms / 1000.0,
            )
        for metric, field in MILESTONES:  # as the book records them: every value measured
            value = getattr(run, field)
            if value is not None:
                record("wxo_load.timing", (*genai, metric),
                       partial(self._timing_attributes, key, metric),
                       value / 1000.0)  # fmt: skip
        if outcome == STOPPED:
            return  # cut off by the end of the test: it has no duration
        total = run.done_ms if outcome == OK and run.done_ms is not None else run.total_ms
        if total is not None:
            record(
                "gen_ai.client.operation.duration",
                genai,
                partial(self._genai_attributes, key),
                total / 1000.0,
            )
        if run.client_lag_max_ms is not None:
            record("wxo_load.client_lag", genai, partial(self._attributes, key),
                   max(run.client_lag_max_ms, 0.0) / 1000.0)  # fmt: skip

    def _record_conversation(self, conv: ConversationRecord) -> None:
        key = (conv.persona or NO_PERSONA, conv.outcome, conv.channel)
        self._count("wxo_load.conversations", key)
        if self.tracer is not None:
            self._trace(conv, self._open.pop(conv.conversation_id, []))

    def _observer(self, name: str) -> Any:
        from opentelemetry.metrics import Observation

        def observe(_options: Any) -> Iterable[Any]:
            return [
                Observation(value, self._attributes(key))
                for key, value in list(self.counts[name].items())
            ]

        return observe

    # -- traces ------------------------------------------------------------------------------

    def _trace(self, conv: ConversationRecord | None, runs: list[RunRecord]) -> None:
        from wxo_load.output.otel_spans import trace_conversation

        if self.tracer is not None and (conv is not None or runs):
            trace_conversation(self.tracer, self.agent, conv, runs)
