"""summary.json as typed data (schema wxo-load/summary/v2): `Summary`, made of the sections in
`summary_sections` and `summary_plan`.

Every reader of a summary (the report, summary.md, the gates, `compare`, the live tab,
Prometheus, baselines) takes a `Summary`, never a dict; `docs/summary.schema.json` is generated
from these types (`python -m wxo_load.output.schema`). Loading, dumping and the upgrade of
v1 files are in `summary_codec`. Pure: no I/O, no clock.
"""

from __future__ import annotations

from wxo_load.core.plan import LoadPlan
from wxo_load.core.summary_plan import Arrivals, Capacity, Knee, Segment
from wxo_load.core.summary_sections import (
    Answers,
    ChannelSummary,
    Goodput,
    LoadGenerator,
    Model,
    Options,
    Outcomes,
    Percentiles,
    PersonaSummary,
    Replay,
    ScenarioInfo,
    Stat,
    Throughput,
    TimelinePoint,
    Tool,
    ToolStat,
    TurnSummary,
    Users,
    Window,
    Workers,
)

SCHEMA = "wxo-load/summary/v2"


class Summary(Model, frozen=True, kw_only=True):
    """summary.json, schema wxo-load/summary/v2."""

    schema: str = SCHEMA
    tool: Tool
    scenario: ScenarioInfo
    options: Options
    host: str | None
    started_at: str | None
    ended_at: str | None
    duration_s: float | None
    users: Users
    percentiles: Percentiles | None = None
    metrics: dict[str, Stat]
    runs: Outcomes
    conversations: Outcomes
    window: Window | None = None
    throughput: Throughput
    answer_chars: int = 0
    by_turn: dict[str, TurnSummary] = {}
    personas: dict[str, PersonaSummary] | None = None
    channels: dict[str, ChannelSummary] | None = None
    tools: dict[str, ToolStat] = {}
    phases: dict[str, Stat] = {}
    streaming: dict[str, Stat] = {}
    answers: Answers | None = None
    goodput: Goodput | None = None
    replay: Replay | None = None
    workers: Workers = Workers()
    load_generator: LoadGenerator
    timeline: list[TimelinePoint] = []
    plan: LoadPlan | None = None
    stages: list[Segment] | None = None
    search_steps: list[Segment] | None = None
    capacity: Capacity | None = None
    knee: Knee | None = None
    arrivals: Arrivals | None = None
