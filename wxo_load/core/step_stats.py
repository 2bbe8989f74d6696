"""Per-test figures of where the time goes: tools, steps and streaming cadence.

Recorded into the MetricsBook's own mergeable histograms (so they merge exactly across
workers), under these keys:

    tool/NAME            duration of each answered call of tool NAME (ms)
    tool_failed/NAME     calls of NAME that got no tool_response before the run ended (runs
                         `stopped` by the end of the test excepted)
    step/thinking        run.started -> first tool call or first text, per run
    step/intermediate    time between tools before the first text, outside any tool, per run
    step/handoff         time in hand-overs to collaborator agents, per run
    stream/inter_delta   every gap between two consecutive text deltas, all runs
    stream/chars_per_s   characters per second while streaming, per run (value, not ms)
    ended_without_done   runs that ended after run.completed without `done` (count only)

Tool names are dynamic: at most MAX_TOOL_NAMES distinct names are kept per book, later ones
are folded into `other`.

summary.json gains `tools` (per name: calls, failures and the duration statistics), `phases`
(thinking, intermediate, handoff) and `streaming` (inter_delta, chars_per_s). Gate figures:
`tools.NAME.STAT` (plus `tools.NAME.calls`, `tools.NAME.failures`), `steps.PHASE.STAT`,
`streaming.inter_delta.STAT`, `streaming.chars_per_s.STAT`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from wxo_load.core.hdr import Timing
from wxo_load.core.records import STOPPED, RunRecord
from wxo_load.core.summary_sections import Stat, ToolStat

if TYPE_CHECKING:
    from wxo_load.core.book import MetricsBook

MAX_TOOL_NAMES = 50
OTHER = "other"
TOOL = "tool/"
TOOL_FAILED = "tool_failed/"
STEP_PHASES = {
    "thinking": "thinking_ms",
    "intermediate": "intermediate_ms",
    "handoff": "handoff_ms",
}
INTER_DELTA = "stream/inter_delta"
CHARS_PER_S = "stream/chars_per_s"
ENDED_WITHOUT_DONE = "ended_without_done"
FIGURE_ROOTS = ("tools", "phases", "streaming")
STREAMING_FIGURES = {"inter_delta": INTER_DELTA, "chars_per_s": CHARS_PER_S}


def _tool_key(book: MetricsBook, prefix: str, name: str) -> str:
    key = prefix + name
    if key in book.timings or (TOOL + name) in book.timings or (TOOL_FAILED + name) in book.timings:
        return key
    names = {k.split("/", 1)[1] for k in book.timings if k.startswith((TOOL, TOOL_FAILED))}
    return key if len(names) < MAX_TOOL_NAMES else prefix + OTHER


def record_run_steps(book: MetricsBook, run: RunRecord) -> None:
    """Once per run, from its record (called by MetricsBook.record_run)."""
    timing = book._timing
    if run.tools:
        for name, _start, duration in run.tools:
            if duration is None:
                if run.outcome != STOPPED:  # the end of the test cut it off: not the tool's failure
                    timing(_tool_key(book, TOOL_FAILED, name)).record(run.total_ms or 0.0)
            else:
                timing(_tool_key(book, TOOL, name)).record(duration)
    for phase, field in STEP_PHASES.items():
        value = getattr(run, field)
        if value is not None:
            timing(f"step/{phase}").record(value)
    if run.delta_gaps_ms:
        timing(INTER_DELTA).record_many(run.delta_gaps_ms)
    if run.stream_chars_per_s is not None:
        timing(CHARS_PER_S).record(run.stream_chars_per_s)
    if run.ended_without_done:
        timing(ENDED_WITHOUT_DONE).record(run.total_ms or 0.0)


def _tool_names(book: MetricsBook) -> list[str]:
    names = {k.split("/", 1)[1] for k in book.timings if k.startswith((TOOL, TOOL_FAILED))}
    return sorted(names)


def _tool_summary(book: MetricsBook, names: list[str]) -> ToolStat:
    answered, failed = Timing(), Timing()
    for name in names:
        answered.merge(book.timing(TOOL + name))
        failed.merge(book.timing(TOOL_FAILED + name))
    times = answered.summary()
    return ToolStat(
        calls=answered.count + failed.count, failures=failed.count, count=times.count,
        min=times.min, max=times.max, mean=times.mean, p50=times.p50, p90=times.p90,
        p95=times.p95, p99=times.p99, p999=times.p999,
    )  # fmt: skip


class StepSections(NamedTuple):
    """summary.json's `tools`, `phases` and `streaming`."""

    tools: dict[str, ToolStat]
    phases: dict[str, Stat]
    streaming: dict[str, Stat]


def steps_summary(book: MetricsBook) -> StepSections:
    """The `tools`, `phases` and `streaming` sections of summary.json."""
    names = [n for n in _tool_names(book) if n != OTHER]
    names.sort(key=lambda n: -(book.timing(TOOL + n).count + book.timing(TOOL_FAILED + n).count))
    kept, rest = names[:MAX_TOOL_NAMES], names[MAX_TOOL_NAMES:]  # merged workers may bring more
    tools = {name: _tool_summary(book, [name]) for name in kept}
    if rest or (TOOL + OTHER) in book.timings or (TOOL_FAILED + OTHER) in book.timings:
        tools[OTHER] = _tool_summary(book, [*rest, OTHER])
    return StepSections(
        tools=tools,
        phases={phase: book.metric_summary(f"step/{phase}") for phase in STEP_PHASES},
        streaming={name: book.metric_summary(key) for name, key in STREAMING_FIGURES.items()},
    )


def ended_without_done(book: MetricsBook) -> int:
    return book.timing(ENDED_WITHOUT_DONE).count
