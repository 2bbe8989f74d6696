"""The report's personas and channels sections: a table row per persona (channel) and their
timings side by side."""

from __future__ import annotations

from wxo_load.core.summary_model import Summary
from wxo_load.output.report.charts import grouped_bars
from wxo_load.output.report.page import card, section, table
from wxo_load.output.views import (
    CHANNEL_COLUMNS,
    NOT_OBSERVABLE,
    PERSONA_COLUMNS,
    channel_rows,
    persona_rows,
    shows_channels,
    stat,
)

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


def channels_section(summary: Summary) -> str:
    """Runs, outcomes and timings of each channel (a timing one cannot observe says so);
    nothing for a test on the widget's channel alone."""
    if not shows_channels(summary):
        return ""
    channels = summary.channels or {}
    names = list(channels)

    def values(metric: str, key: str) -> list[float | None]:
        out: list[float | None] = []
        for n in names:
            value = stat(channels[n].metrics, metric, key)
            out.append(None if metric in channels[n].not_observable else value)
        return out

    groups = [(f"{m} {s}", color, values(m, s)) for m, s, color in _BARS]
    chart = grouped_bars(names, groups, y_label="milliseconds", y_unit="ms")
    unseen = "; ".join(
        f"{n}: {', '.join(c.not_observable)}" for n, c in channels.items() if c.not_observable
    )
    return section(
        "channels",
        "Channels",
        table(list(CHANNEL_COLUMNS), channel_rows(summary), "wide")
        + card("Timing per channel (ms)", chart),
        "Each channel is a way of talking to the agent (docs/channels.md); its figures are exact "
        "percentiles over its own runs. A timing a channel cannot observe is left empty, never "
        f"estimated ({NOT_OBSERVABLE}: {unseen or 'none'}).",
    )
