"""The report's "Where the time goes" section: run waterfalls, tools by p95, streaming cadence.

A waterfall draws one run's phases as bars on a shared millisecond axis: queue (request to
run.started), thinking (to the first tool call or text), each tool call (hand-overs to a
collaborator agent marked), streaming (first text to message.created) and finish (to done).
Shown for a typical run (the median `done` among a bounded sample of ok runs) and the slowest
ok runs. Inline SVG, no scripts, like the rest of the report.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from html import escape

from wxo_load.core.fmt import grouped
from wxo_load.core.records import RunRecord
from wxo_load.core.steps import is_handoff
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.charts import grouped_bars
from wxo_load.output.report.page import card, legend, section, table
from wxo_load.output.views import stat

SAMPLE_SIZE = 5000  # ok runs kept (reservoir) to find a typical one
SLOWEST = 3
ROW_H, LABEL_W, BAR_W, PAD = 22, 190, 560, 8
COLORS = {"queue": "#9e9e9e", "thinking": "#8c6bb1", "tool": "#1f77b4", "handoff": "#e6850e",
          "streaming": "#2e9d4b", "finish": "#5f6b7a"}  # fmt: skip


class WaterfallRuns:
    """Streams over runs once; keeps a bounded sample of ok runs and the slowest ones."""

    def __init__(self, seed: int = 7) -> None:
        self.sample: list[RunRecord] = []
        self.slowest: list[tuple[float, int, RunRecord]] = []
        self.seen = 0
        self._rng = random.Random(seed)

    def add(self, run: RunRecord) -> None:
        done = run.done_ms
        if run.outcome != "ok" or done is None:
            return
        compact = run
        self.seen += 1
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(compact)
        else:
            slot = self._rng.randrange(self.seen)
            if slot < SAMPLE_SIZE:
                self.sample[slot] = compact
        entry = (float(done), self.seen, compact)
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, entry)
        elif entry[0] > self.slowest[0][0]:
            heapq.heapreplace(self.slowest, entry)

    def typical(self) -> RunRecord | None:
        if not self.sample:
            return None
        ordered = sorted(self.sample, key=lambda r: r.done_ms or 0.0)
        return ordered[(len(ordered) + 1) // 2 - 1]

    def slowest_runs(self) -> list[RunRecord]:
        return [r for _, _, r in sorted(self.slowest, reverse=True)]


def phases(run: RunRecord) -> list[tuple[str, str, float, float]]:
    """(label, kind, start_ms, end_ms) of each bar of one run, in time order."""
    bars: list[tuple[str, str, float, float]] = []
    started = run.run_started_ms
    if started is not None:
        bars.append(("queue → run.started", "queue", 0.0, float(started)))
        thinking = run.thinking_ms
        if thinking is not None:
            bars.append(("thinking", "thinking", float(started), float(started) + thinking))
    for name, start, duration in run.tools or ():
        if duration is None:
            continue
        kind = "handoff" if is_handoff(str(name)) else "tool"
        label = f"{name} (hand-over)" if kind == "handoff" else str(name)
        bars.append((label, kind, float(start), float(start) + float(duration)))
    first, created, done = run.first_text_ms, run.message_created_ms, run.done_ms
    if first is not None and created is not None:
        bars.append(("streaming", "streaming", float(first), float(created)))
    if created is not None and done is not None:
        bars.append(("finish → done", "finish", float(created), float(done)))
    return bars


def waterfall_svg(run: RunRecord, title: str) -> str:
    bars = phases(run)
    total = max([float(run.done_ms or 0.0), *(end for *_, end in bars), 1.0])
    height = PAD * 2 + ROW_H * len(bars) + 18
    width = LABEL_W + BAR_W + PAD * 2
    parts = [
        f'<svg class="waterfall" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
        f'{height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    scale = BAR_W / total
    for i, (label, kind, start, end) in enumerate(bars):
        y = PAD + i * ROW_H
        x, w = LABEL_W + start * scale, max(1.0, (end - start) * scale)
        text = f"{label}: {grouped(end - start)} ms (from {grouped(start)} ms)"
        parts.append(
            f'<text class="tick" x="{LABEL_W - 6}" y="{y + 15}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect class="phase phase-{kind}" data-phase="{escape(label)}" x="{x:.1f}" '
            f'y="{y + 3}" '
            f'width="{w:.1f}" height="{ROW_H - 6}" '
            f'fill="{COLORS[kind]}"><title>{escape(text)}</title></rect>'
        )
        inside = x + w + 4 > width - 60  # no room right of the bar: write the figure inside it
        tx, anchor, fill = (
            (x + w - 4, "end", ' style="fill:#fff"') if inside else (x + w + 4, "start", "")
        )
        parts.append(
            f'<text class="tick" x="{tx:.1f}" y="{y + 15}" '
            f'text-anchor="{anchor}"{fill}>{escape(grouped(end - start))} ms</text>'
        )
    y_axis = PAD + ROW_H * len(bars) + 14
    parts.append(
        f'<text class="tick" x="{LABEL_W}" y="{y_axis}">0</text>'
        f'<text class="tick" x="{LABEL_W + BAR_W}" y="{y_axis}" '
        f'text-anchor="end">{escape(grouped(total))} ms</text></svg>'
    )
    return "".join(parts)


def _tools_table(summary: Summary) -> str:
    tools = summary.tools
    if not tools:
        return '<p class="note">No tool calls were seen (no run.step.delta tool steps).</p>'
    rows = sorted(tools.items(), key=lambda kv: -(kv[1].p95 or 0.0))
    keys = ("calls", "failures", "p50", "p95", "p99", "max")
    return table(
        ["tool (ms)", *keys],
        [[name, *(getattr(s, k) for k in keys)] for name, s in rows],
        "wide",
    )


def _inter_delta_chart(summary: Summary) -> str:
    labels: Sequence[str] = ("p50", "p90", "p95", "p99", "p999", "max")
    values = [stat(summary.streaming, "inter_delta", k) for k in labels]
    return grouped_bars(
        ["p50", "p90", "p95", "p99", "p99.9", "max"],
        [("gap", "#2e9d4b", values)],
        y_label="ms between text deltas",
        y_unit="ms",
    )


def _run_cards(runs: WaterfallRuns) -> list[str]:
    """A waterfall card for a typical run (when there is one), then one per slowest run."""
    cards: list[str] = []
    typical = runs.typical()
    if typical is not None:
        cards.append(
            card(
                f"A typical run (median done, {grouped(typical.done_ms or 0.0)} ms)",
                waterfall_svg(typical, "typical run"),
            )
        )
    for i, run in enumerate(runs.slowest_runs()):
        cards.append(
            card(
                f"Slowest run #{i + 1} (done {grouped(run.done_ms or 0.0)} ms)",
                waterfall_svg(run, f"slowest run {i + 1}"),
            )
        )
    return cards


def section_html(summary: Summary, runs: WaterfallRuns) -> str:
    """The whole section; an explanatory note when no run had phases to draw."""
    key = legend(
        [
            ("queue", COLORS["queue"]),
            ("thinking", COLORS["thinking"]),
            ("tool call", COLORS["tool"]),
            ("hand-over", COLORS["handoff"]),
            ("streaming", COLORS["streaming"]),
            ("finish", COLORS["finish"]),
        ]
    )
    cards = _run_cards(runs)
    cps = stat(summary.streaming, "chars_per_s", "p50")
    note = f"median {grouped(cps)} characters per second while streaming" if cps is not None else ""
    cards.append(card("Gaps between consecutive text deltas", _inter_delta_chart(summary), note))
    cards.append(card("Tools by p95", _tools_table(summary)))
    body = key + '<div class="grid" id="waterfall">' + "".join(cards) + "</div>"
    return section(
        "where-time-goes",
        "Where the time goes inside a run",
        body,
        "Each bar is a phase of one run, in ms from just before its request was written: the queue "
        "before run.started, the agent's thinking before its first tool call or text, each tool "
        "call "
        "(tool_call to its tool_response), hand-overs to collaborator agents, streaming (first "
        "text "
        "to message.created) and the finish to done. Gaps between bars are the model's own time.",
    )
