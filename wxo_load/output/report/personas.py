"""The report's personas section: a table per persona and their timings side by side."""

from __future__ import annotations

from wxo_load.core.summary_model import Summary
from wxo_load.output.report.charts import grouped_bars
from wxo_load.output.report.page import card, section, table
from wxo_load.output.views import PERSONA_COLUMNS, persona_rows, stat

_BARS = (
    ("first_text", "p50", "#4a90d9"),
    ("first_text", "p95", "#1c5a99"),
    ("done", "p50", "#f5a04a"),
    ("done", "p95", "#c0620b"),
)


def personas_section(summary: Summary) -> str:
    """Runs, outcomes and timings of each persona; nothing for a test without personas."""
    personas = summary.personas or {}
    if not personas:
        return ""
    names = list(personas)

    def values(metric: str, key: str) -> list[float | None]:
        return [stat(personas[n].metrics, metric, key) for n in names]

    groups = [(f"{m} {s}", color, values(m, s)) for m, s, color in _BARS]
    chart = grouped_bars(names, groups, y_label="milliseconds", y_unit="ms")
    return section(
        "personas",
        "Personas",
        table(list(PERSONA_COLUMNS), persona_rows(summary), "wide")
        + card("Timing per persona (ms)", chart),
        "Each persona is a Locust user class with its own agent, prompts and data; its figures "
        "are exact percentiles over its own runs.",
    )
