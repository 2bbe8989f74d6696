"""report.html: one self-contained page of tables and inline-SVG charts from saved results.

No JavaScript, no external files, no network: the page opens anywhere, including a CI artifact
viewer. Records are streamed once into compact arrays and binned in time (at most 120 bins), so
100k+ runs produce the same small page. All text is escaped and passed through `redact`.

This module puts the sections in order; each lives in its own module of this package.
"""

from __future__ import annotations

from collections.abc import Iterable

from wxo_load.core.json_value import Json
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.answers import AnswerSamples, answers_section
from wxo_load.output.report.collect import Collected, Timebase, in_window
from wxo_load.output.report.load import load_section
from wxo_load.output.report.metrics import (
    distributions_section,
    over_time_section,
    timings_section,
    turns_section,
)
from wxo_load.output.report.outcomes import errors_section, throughput_section
from wxo_load.output.report.overview import (
    footer,
    header,
    kpis,
    load_generator_section,
    trust_banner,
)
from wxo_load.output.report.page import page
from wxo_load.output.report.personas import channels_section, personas_section
from wxo_load.output.report.replay import replay_section
from wxo_load.output.report.waterfall import WaterfallRuns, section_html


def build_report_html(
    summary: Summary,
    runs: Iterable[dict[str, Json]],
    conversations: Iterable[dict[str, Json]],
) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts, no network), from the
    summary and the record files' lines (read as the typed `RunRecord`, `ConversationRecord`)."""
    collected = Collected()
    waterfalls = WaterfallRuns()
    samples = AnswerSamples()
    for run in filter(in_window, map(RunRecord.from_dict, runs)):  # no warm-up or cool-down run
        collected.add_run(run)
        waterfalls.add(run)
        samples.add(run)
    for conv in filter(in_window, map(ConversationRecord.from_dict, conversations)):
        collected.add_conversation(conv)
    tb = Timebase.of(summary, collected)
    body = "".join(
        [
            header(summary),
            trust_banner(summary),
            kpis(summary),
            replay_section(summary),
            load_section(summary),
            timings_section(summary),
            personas_section(summary),
            channels_section(summary),
            section_html(summary, waterfalls),
            throughput_section(summary, collected, tb),
            over_time_section(collected, tb),
            distributions_section(collected, summary),
            errors_section(collected),
            answers_section(summary, samples),
            turns_section(summary),
            load_generator_section(summary),
            footer(summary),
        ]
    )
    title = f"wxo-load report: {summary.scenario.name or 'test'}"
    return page(title, body)
