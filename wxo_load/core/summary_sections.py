"""summary.json's sections as typed data: frozen msgspec Structs (schema wxo-load/summary/v2).

Every reader of a summary (the report, summary.md, the gates, `compare`, the live tab,
Prometheus, baselines) takes a `Summary`, never a dict; `docs/summary.schema.json` is generated
from these types (`python -m wxo_load.output.schema`). Loading, dumping and the upgrade of
v1 files are in `summary_codec`. Pure: no I/O, no clock.

msgspec rather than pydantic or dataclasses: its typed decode is the validation (a wrong type is
an error naming the path), it generates the JSON Schema, and it encodes and decodes a summary in
tens of microseconds, so the live tab can rebuild one every refresh.
"""

from __future__ import annotations

import msgspec

from wxo_load.core.json_value import Json


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The base of every section: frozen and keyword-built; an absent optional part is null; a
    key that is not a field is an error (a producer's misspelt key fails instead of vanishing)."""


class Stat(Model, frozen=True, kw_only=True):
    """One figure's distribution: exact count, min, max, mean; HDR nearest-rank percentiles.
    Milliseconds for times; None (with count 0) when nothing was measured."""

    count: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None


class ToolStat(Stat, frozen=True, kw_only=True):
    """One tool's call time, with how often it was called and failed."""

    calls: int = 0
    failures: int = 0


class Outcomes(Model, frozen=True, kw_only=True):
    """Runs or conversations by outcome (`ok`, `http_503`, `timeout`, ...)."""

    total: int
    ok: int
    failed: int
    stopped: int = 0
    left: int = 0  # a person left mid-answer: abandoned, cancelled, interrupted (never failed)
    error_rate: float = 0.0
    by_outcome: dict[str, int] = {}
    ended_without_done: int | None = None  # runs only: finished at run.completed, no `done`


class Throughput(Model, frozen=True, kw_only=True):
    """Per second of the measured window."""

    runs_per_s: float = 0.0
    ok_runs_per_s: float = 0.0
    conversations_per_s: float = 0.0
    answer_chars_per_s: float = 0.0


class TurnSummary(Model, frozen=True, kw_only=True):
    """First turns or follow-ups: their outcomes and timings."""

    runs: int
    ok: int = 0
    failed: int = 0
    by_outcome: dict[str, int] = {}
    metrics: dict[str, Stat] = {}


class PersonaSummary(Model, frozen=True, kw_only=True):
    """One persona's figures, shaped as the top level (gates read `personas.NAME.FIGURE`)."""

    runs: Outcomes
    conversations: Outcomes
    throughput: Throughput
    metrics: dict[str, Stat]
    by_turn: dict[str, TurnSummary]


class ChannelSummary(PersonaSummary, frozen=True, kw_only=True):
    """One channel's figures, shaped as a persona's (gates read `channels.NAME.FIGURE`), and the
    milestones it could not observe (wxo_load.core.channels: never a made-up number)."""

    not_observable: list[str] = []


class CrossTalk(Model, frozen=True, kw_only=True):
    """A run whose answer carried another conversation's canary."""

    run_id: str | None = None
    thread_id: str | None = None
    owner_thread_id: str | None = None
    canary: str


class Answers(Model, frozen=True, kw_only=True):
    """What the answer checks and canaries found."""

    checked: int
    wrong: int
    wrong_rate: float
    by_check: dict[str, int]
    cross_talk: int
    cross_talk_rate: float
    cross_talks: list[CrossTalk] = []


class Goodput(Model, frozen=True, kw_only=True):
    """Runs that were ok, answered right and within the goodput limits."""

    runs: int
    runs_per_s: float
    share: float


class Workers(Model, frozen=True, kw_only=True):
    """Load-generating processes seen, and those lost mid-test."""

    seen: int = 1
    lost: int = 0
    lost_ids: list[str] = []


class Excluded(Model, frozen=True, kw_only=True):
    """Records left out of every figure, by the part of the test they ended in."""

    warmup: int = 0
    cooldown: int = 0


class Window(Model, frozen=True, kw_only=True):
    """The measured window: warm-up and cool-down are left out of every figure."""

    start_unix: float | None
    end_unix: float | None
    duration_s: float | None
    warmup_s: float = 0.0
    cooldown_s: float = 0.0
    load_start_unix: float | None = None
    planned_end_unix: float | None = None
    cooldown_applied: bool = False
    excluded: dict[str, Excluded] = {}


class WorkerRuns(Model, frozen=True, kw_only=True):
    runs: int
    failed: int


class LoadGenerator(Model, frozen=True, kw_only=True):
    """The load generator's own lateness and CPU, and whether its timings can be trusted."""

    client_lag: Stat = msgspec.field(default_factory=lambda: Stat(count=0))
    schedule_lag: Stat = msgspec.field(default_factory=lambda: Stat(count=0))
    cpu_percent_max: float | None = None
    trustworthy: bool = True
    warnings: list[str] = []
    workers: dict[str, WorkerRuns] = {}
    cpu_s: float | None = None
    cpu_ms_per_run: float | None = None
    cpu_percent_limit: float | None = None
    client_lag_p99_limit_ms: float | None = None
    schedule_lag_p99_limit_ms: float | None = None


class TimelinePoint(Model, frozen=True, kw_only=True):
    """One interval of the test: users, runs, errors and the interval's percentiles."""

    t_s: float
    users: int
    runs: int
    errors: int
    first_text_p50: float | None = None
    first_text_p95: float | None = None
    first_text_p99: float | None = None
    done_p50: float | None = None
    done_p95: float | None = None
    done_p99: float | None = None


class Tool(Model, frozen=True, kw_only=True):
    name: str
    version: str


class ScenarioInfo(Model, frozen=True, kw_only=True):
    """The scenario's name, file and settings (secrets already removed)."""

    name: str | None = None
    file: str | None = None
    config: dict[str, Json] | None = None  # JSON we pass through: the scenario as written


class Options(Model, frozen=True, kw_only=True):
    """The options the test ran with."""

    users: int | None = None
    spawn_rate: int | float | None = None
    run_time_s: int | float | None = None
    processes: int | None = None
    workers: int | None = None
    stop_timeout_s: float | None = None
    gates: list[str] = []
    baseline: str | None = None


class Percentiles(Model, frozen=True, kw_only=True):
    method: str
    resolution: str
    unit: str


class Users(Model, frozen=True, kw_only=True):
    peak: int | None = None


class Quantiles(Model, frozen=True, kw_only=True):
    p50: float | None = None
    p95: float | None = None


class ReplayedConversation(Model, frozen=True, kw_only=True):
    id: str
    turns: int
    recorded_ms: float
    measured_ms: float
    ratio: float | None = None


class Replay(Model, frozen=True, kw_only=True):
    """Then versus now: the agent time recorded at capture against the time measured."""

    conversations: int
    turns: int
    recorded_agent_ms: Quantiles
    measured_agent_ms: Quantiles
    ratio_p50: float | None = None
    ratio_p95: float | None = None
    per_conversation: list[ReplayedConversation] = []
