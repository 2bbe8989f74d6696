"""aggregate.json as typed data (schema wxo-load/aggregate/v1): the figures of one test run N
times (`wxo-load repeat N`), each as its values, mean, spread and t-based intervals.

The twin of `summary_model.Summary` for repeated runs: every reader (the noise-aware regression
gates, `compare`, aggregate.md, the report's section) takes an `Aggregate`, never a dict;
`docs/aggregate.schema.json` is generated from these types (`python -m wxo_load.output.schema`).
A figure from fewer than two runs has a mean and nothing else: one sample says nothing about
its spread. Pure: no I/O, no clock.
"""

from __future__ import annotations

import msgspec
import orjson

from wxo_load.core.summary_sections import Model, Tool

AGGREGATE_SCHEMA = "wxo-load/aggregate/v1"


class Interval(Model, frozen=True, kw_only=True):
    """A two-sided interval at the aggregate's `confidence` level."""

    low: float
    high: float


class FigureStats(Model, frozen=True, kw_only=True):
    """One figure (a gate figure: `first_text.p95`, `error_rate`, `runs_per_s`...) over the runs.

    `values` has one entry per run of `Aggregate.runs` (null where that run lacks the figure or
    wrote no summary); `n` counts the numbers among them. `stdev` is the sample standard
    deviation (n - 1), `cv` the coefficient of variation (stdev / |mean|). `ci` is the
    confidence interval of the mean (mean ± t·s/√n): where the true mean lies. `pi` is the
    prediction interval of one more run (mean ± t·s·√(1 + 1/n)): where a single new run of the
    same build falls, at the confidence level. Both need n >= 2."""

    kind: str
    values: list[float | None]
    n: int
    mean: float | None = None
    stdev: float | None = None
    cv: float | None = None
    ci: Interval | None = None
    pi: Interval | None = None


class RepeatedRun(Model, frozen=True, kw_only=True):
    """One run of the repeated test: its results directory (for `wxo-load repeat` relative to the
    repeat's directory, for `wxo-load aggregate` as given), its exit code and whether it wrote a
    summary.json."""

    index: int
    results_dir: str
    exit_code: int
    summary: bool
    duration_s: float | None = None


class Aggregate(Model, frozen=True, kw_only=True):
    """aggregate.json, schema wxo-load/aggregate/v1."""

    schema: str = AGGREGATE_SCHEMA
    tool: Tool
    scenario: str | None = None
    host: str | None = None
    confidence: float
    runs: list[RepeatedRun]
    n: int
    figures: dict[str, FigureStats]
    personas: dict[str, dict[str, FigureStats]] | None = None

    def stats(self, figure: str) -> FigureStats | None:
        """A figure's statistics; `personas.NAME.FIGURE` looks in that persona's table."""
        parts = figure.split(".", 2)
        if len(parts) == 3 and parts[0] == "personas":
            return (self.personas or {}).get(parts[1], {}).get(parts[2])
        return self.figures.get(figure)


class AggregateFormatError(ValueError):
    """Bytes that are not an aggregate.json this version reads; the message says why."""


def aggregate_from_bytes(data: bytes) -> Aggregate:
    """aggregate.json's bytes as an `Aggregate` (AggregateFormatError when they are not one)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise AggregateFormatError(f"not valid JSON: {exc}") from None
    found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
    if found != AGGREGATE_SCHEMA:
        raise AggregateFormatError(
            f"not a wxo-load aggregate (schema {found!r}, expected {AGGREGATE_SCHEMA!r})"
        )
    try:
        return msgspec.convert(raw, Aggregate)
    except msgspec.ValidationError as exc:
        raise AggregateFormatError(f"not a valid {AGGREGATE_SCHEMA} aggregate: {exc}") from None


def dump_aggregate(aggregate: Aggregate) -> bytes:
    """aggregate.json bytes: indented, keys in the model's order, newline-terminated."""
    return orjson.dumps(msgspec.to_builtins(aggregate), option=orjson.OPT_INDENT_2) + b"\n"


__all__ = [
    "AGGREGATE_SCHEMA",
    "Aggregate",
    "AggregateFormatError",
    "FigureStats",
    "Interval",
    "RepeatedRun",
    "aggregate_from_bytes",
    "dump_aggregate",
]
