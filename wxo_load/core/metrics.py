"""Every timing wxo-load measures, declared once: one row per metric in `METRICS`.

A row says where the metric comes from (a `RunRecord` or `ConversationRecord` field, or the
load generator itself), its name in summary.json, gates and compare (`key`), the Locust row it
is fired as, its title in the HTML report, and the kind of gate figure `KEY.STAT` is. Every
reader (records, stats, summary.json, gates, compare, live tab, Prometheus, report, Locust rows)
derives its names from this table, so adding a metric is adding one row here (plus, for a new
measurement, the record field that carries it).

Figure kinds (what a gate limit's unit means, and which way is worse) are declared here too.
Pure data: no imports beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- figure kinds ---------------------------------------------------------------------------

TIME = "time"  # milliseconds; higher is worse
RATE = "rate"  # fraction 0..1; higher is worse
COUNT = "count"  # plain number of things; no direction
PER_S = "per_s"  # throughput; lower is worse
PERCENT = "percent"  # percent points (cpu); higher is worse

WORSE: dict[str, int] = {TIME: 1, RATE: 1, COUNT: 0, PER_S: -1, PERCENT: 1}
"""Per kind: +1 when a higher value is worse, -1 when a lower one is, 0 when neither."""

STATS = ("p50", "p90", "p95", "p99", "p999", "min", "max", "mean", "count")
"""The statistics of a timing a gate or compare can name (`first_text.p95`): all TIME but count."""

# -- where a metric comes from ---------------------------------------------------------------

RUN = "run"  # a RunRecord field, one value per run; also kept per turn class
CONVERSATION = "conversation"  # a ConversationRecord field, one value per conversation
LOAD_GENERATOR = "load_generator"  # the load generator's own lateness (summary.json section)

FIRST = "first"
FOLLOW_UP = "follow_up"
TURN_CLASSES = (FIRST, FOLLOW_UP)
"""Run metrics are also kept per turn class: a conversation's first message, or a follow-up."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One timing. `key` names it in summary.json (`metrics.KEY`, or `load_generator.KEY`),
    gates (`KEY.STAT`) and compare; `field` is the record field it is read from (None: recorded
    directly, per event or per run, by the load generator); `locust` is the (request_type,
    name) of its Locust row; `title` its report card title; `kind` the gate kind of
    `KEY.STAT` for every STAT but count; `about` one sentence for help texts (Prometheus)."""

    key: str
    source: str
    field: str | None
    locust: tuple[str, str] | None
    title: str
    kind: str = TIME
    about: str = ""

    @property
    def section(self) -> str:
        """The summary.json section holding the metric's statistics."""
        return LOAD_GENERATOR if self.source == LOAD_GENERATOR else "metrics"


METRICS: tuple[Metric, ...] = (
    Metric(
        "thread_create",
        CONVERSATION,
        "thread_create_ms",
        ("POST", "/threads"),
        "Thread creation (POST /threads)",
    ),
    Metric(
        "run_started",
        RUN,
        "run_started_ms",
        ("STREAM", "run.started"),
        "Run started (run.started event)",
    ),
    Metric(
        "first_delta", RUN, "first_delta_ms", ("STREAM", "message.delta"), "First message.delta"
    ),
    Metric(
        "first_text",
        RUN,
        "first_text_ms",
        ("STREAM", "first text"),
        "First text (time to first token)",
    ),
    Metric(
        "message_created",
        RUN,
        "message_created_ms",
        ("STREAM", "message.created"),
        "Message created (full answer)",
    ),
    Metric("done", RUN, "done_ms", ("STREAM", "done"), "Done (stream complete)"),
    Metric(
        "conversation", CONVERSATION, "total_ms", ("CONV", "conversation"), "Whole conversation"
    ),
    Metric(
        "client_lag",
        LOAD_GENERATOR,
        None,
        None,
        "Client lag (per event)",
        about=("Per event: arrival minus the server's event timestamp (the client's reading lag)."),
    ),
    Metric(
        "schedule_lag",
        LOAD_GENERATOR,
        None,
        None,
        "Schedule lag (per run)",
        about=("Per run: how much later than scheduled a user began it."),
    ),
)

# -- derived views (read these; never list metric names elsewhere) ---------------------------

BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
SERVER_METRICS = tuple(m for m in METRICS if m.source != LOAD_GENERATOR)
"""The timings of the server, in summary.json `metrics` order."""
ALL_METRICS = tuple(m.key for m in SERVER_METRICS)
RUN_METRICS: dict[str, str] = {m.key: m.field for m in METRICS if m.source == RUN and m.field}
"""Run metric -> RunRecord field, in the order a run reaches them (done last)."""
CONVERSATION_METRICS: dict[str, str] = {
    m.key: m.field for m in METRICS if m.source == CONVERSATION and m.field
}
"""Conversation metric -> ConversationRecord field."""
LOAD_GENERATOR_METRICS = tuple(m.key for m in METRICS if m.source == LOAD_GENERATOR)
CLIENT_LAG, SCHEDULE_LAG = LOAD_GENERATOR_METRICS
LOCUST_NAMES: dict[str, tuple[str, str]] = {m.key: m.locust for m in METRICS if m.locust}
"""Metric -> (Locust request_type, Locust name)."""
LOCUST_RUN_ENTRIES: tuple[tuple[str, tuple[str, str]], ...] = tuple(
    (m.field, m.locust) for m in METRICS if m.source == RUN and m.field and m.locust
)
"""(RunRecord field, (request_type, name)) of each run metric's Locust row; `done` last."""
METRIC_TITLES: dict[str, str] = {m.key: m.title for m in METRICS}


__all__ = [
    "ALL_METRICS",
    "BY_KEY",
    "CLIENT_LAG",
    "CONVERSATION",
    "CONVERSATION_METRICS",
    "COUNT",
    "FIRST",
    "FOLLOW_UP",
    "LOAD_GENERATOR",
    "LOAD_GENERATOR_METRICS",
    "LOCUST_NAMES",
    "LOCUST_RUN_ENTRIES",
    "METRICS",
    "METRIC_TITLES",
    "PERCENT",
    "PER_S",
    "RATE",
    "RUN",
    "RUN_METRICS",
    "SCHEDULE_LAG",
    "SERVER_METRICS",
    "STATS",
    "TIME",
    "TURN_CLASSES",
    "WORSE",
    "Metric",
]
