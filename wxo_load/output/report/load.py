"""The report's load section: per-stage figures, and a capacity search's steps against load.

Inline SVG like the rest of `report.html` (no scripts). For a search: latency percentiles
against load with the SLO's limit as a dashed line, throughput against load, the capacity (the
highest load that met the SLO) and the knee marked on both; then a table of every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from wxo_load.core.fmt import grouped
from wxo_load.core.metrics import TIME
from wxo_load.core.plan import Search
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_plan import Segment
from wxo_load.gates.figures import figure_kind
from wxo_load.gates.parse import Gate, parse_gate
from wxo_load.output.report.page import card, legend, section, table
from wxo_load.output.report.svg import (
    TOP,
    Frame,
    Series,
    axes,
    nice_max,
    nice_ticks,
    path_coords,
    svg_open,
)
from wxo_load.output.views import stat as stat_of

CAPACITY_COLOR = "#2e9d4b"
BROKE_COLOR = "#d62728"
KNEE_COLOR = "#6d4c41"
SLO_COLOR = "#d62728"
LINE_COLORS = ("#1f77b4", "#ff7f0e", "#8c3fbf", "#0097a7")


def load_section(summary: Summary) -> str:
    """The section for stages or a capacity search; "" for a plain test."""
    if summary.search_steps:
        return _search_section(summary, summary.search_steps)
    if summary.stages:
        return section("stages", "Stages", _stages_table(summary.stages),
                        "Each stage's own figures: runs are counted in the stage they started "
                        "in.")  # fmt: skip
    return ""


def _search(summary: Summary) -> Search | None:
    return summary.plan.search if summary.plan is not None else None


def _kind(summary: Summary) -> str:
    search = _search(summary)
    return search.kind if search is not None else "users"


def _slo_gates(summary: Summary) -> list[Gate]:
    search = _search(summary)
    texts = search.slo if search is not None else []
    found = []
    for text in texts:
        try:
            found.append(parse_gate(text))
        except Exception:  # noqa: BLE001 (an old or hand-edited summary: skip the line)
            continue
    return found


def _latency_series(
    summary: Summary, steps: list[Segment], kind: str
) -> tuple[list[Series], list[tuple[str, float]]]:
    """One line per time figure the SLO names (else first_text p50 / p95), and the SLO limits."""
    figures: list[str] = []
    limits: list[tuple[str, float]] = []
    for gate in _slo_gates(summary):
        parts = gate.figure.split(".")
        if len(parts) == 2 and figure_kind(gate.figure) == TIME and gate.op in ("<", "<="):
            figures.append(gate.figure)
            limits.append((gate.text, gate.limit))
    figures = list(dict.fromkeys(figures)) or ["first_text.p50", "first_text.p95"]
    series = []
    for color, figure in zip(LINE_COLORS, figures, strict=False):
        metric, stat = figure.split(".")
        points = [
            (_level(s, kind), float(v))
            for s in steps
            if (v := stat_of(s.metrics, metric, stat)) is not None
        ]
        series.append(Series(figure, color, points))
    return series, limits


def _level(segment: Segment, kind: str) -> float:
    return float(segment.load[kind] or 0)


def _markers(frame: Frame, summary: Summary, kind: str) -> list[str]:
    parts = []
    capacity, knee = summary.capacity, summary.knee
    broke_at = capacity.broke_at if capacity is not None else None
    marks = [
        (getattr(capacity, kind, None), CAPACITY_COLOR, "capacity", "", "end"),
        (
            (broke_at or {}).get(kind),
            BROKE_COLOR,
            "broke at",
            ' stroke-dasharray="5 3"',
            "start",
        ),
        (getattr(knee, kind, None), KNEE_COLOR, "knee", ' stroke-dasharray="2 3"', "end"),
    ]
    bottom = TOP + frame.ph
    for index, (value, color, label, dash, anchor) in enumerate(marks):
        if value is None:
            continue
        x = frame.px(float(value))
        text = f"{label} {grouped(float(value))}"
        shift = 4 if anchor == "start" else -4
        parts.append(
            f'<line class="load-mark {label.replace(" ", "-")}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{TOP}" y2="{bottom}" stroke="{color}" '
            f'stroke-width="2"{dash}><title>{escape(text)}</title></line>'
        )
        parts.append(
            f'<text class="marker" x="{x + shift:.1f}" y="{TOP + 12 + 14 * index}" '
            f'text-anchor="{anchor}" fill="{color}">{escape(text)}</text>'
        )
    return parts


def _chart(
    series: Sequence[Series],
    summary: Summary,
    kind: str,
    y_label: str,
    y_unit: str,
    limits: Sequence[tuple[str, float]] = (),
) -> str:
    loads = [x for s in series for x, _ in s.points]
    values = [y for s in series for _, y in s.points] + [limit for _, limit in limits]
    if not loads:
        return ""
    x_range = (0.0, nice_max(max(loads)))
    frame = Frame(x_range, (0.0, nice_max(max(values) * 1.05)))
    x_label = "users" if kind == "users" else "arrival rate (conversations/s)"
    parts = svg_open(y_label)
    parts += axes(
        frame, nice_ticks(*x_range, target=8), nice_ticks(0, frame.y1), grouped, x_label, y_label
    )
    for text, limit in limits:
        y = frame.py(limit)
        parts.append(
            f'<line class="slo" x1="{frame.px(x_range[0]):.1f}" x2="{frame.px(x_range[1]):.1f}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="{SLO_COLOR}" stroke-dasharray="6 4"><title>SLO '
            f"{escape(text)}</title></line>"
        )
    parts += _markers(frame, summary, kind)
    for s in series:
        points = sorted(s.points)
        parts.append(
            f'<polyline fill="none" stroke="{s.color}" stroke-width="1.8" '
            f'points="{path_coords(frame, points, False)}"/>'
        )
        for x, y in points:
            parts.append(
                f'<circle class="pt" cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="3" '
                f'fill="{s.color}"><title>{escape(s.label)} at {escape(grouped(x))}: '
                f"{escape(grouped(y))} {escape(y_unit)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _search_section(summary: Summary, search_steps: list[Segment]) -> str:
    kind = _kind(summary)
    steps = [s for s in search_steps if s.load.get(kind) is not None]
    latency, limits = _latency_series(summary, steps, kind)
    throughput = [
        Series(
            "runs/s",
            LINE_COLORS[0],
            [(_level(s, kind), s.throughput.runs_per_s) for s in steps],
        )
    ]
    key = legend(
        [(s.label, s.color) for s in latency]
        + [
            ("SLO limit", SLO_COLOR),
            ("capacity", CAPACITY_COLOR),
            ("broke at", BROKE_COLOR),
            ("knee", KNEE_COLOR),
        ]
    )
    charts = ('<div class="grid" id="capacity-chart">'
              + card("Latency against load (ms)",
                     _chart(latency, summary, kind, "ms", "ms", limits))
              + card("Throughput against load (runs/s)",
                     _chart(throughput, summary, kind, "runs/s", "runs/s"))
              + "</div>")  # fmt: skip
    return section("capacity", "Capacity search",
                   _headline(summary, kind) + key + charts + _steps_table(steps, kind),
                    "Each step held one load; only its measured part (after the warm-up) counts. "
                    "The capacity is the "
                    "highest load that met every SLO gate; the knee is the last load that still "
                    "added throughput.")  # fmt: skip


def _headline(summary: Summary, kind: str) -> str:
    capacity = summary.capacity
    unit = "users" if kind == "users" else "conversations/s"
    if not capacity:
        return (
            '<p class="capacity-none">No step met the SLO: the capacity is below the first '
            "load tried.</p>"
        )
    broke = (capacity.broke_at or {}).get(kind)
    tail = (
        f"; it broke at {grouped(float(broke))} {unit}"
        if broke is not None
        else " (the highest load tried)"
    )
    first_text = stat_of(capacity.metrics, "first_text", "p95")
    ft = f", first text p95 {grouped(float(first_text))} ms" if first_text is not None else ""
    return (f'<p class="capacity-found"><b>Capacity: '
            f"{escape(grouped(float(getattr(capacity, kind) or 0)))} {unit}</b>, "
            f"{escape(grouped(capacity.runs_per_s))} runs/s{escape(ft)}{escape(tail)}"
            ".</p>")  # fmt: skip


def _steps_table(steps: list[Segment], kind: str) -> str:
    rows = []
    for s in steps:
        rows.append([s.name, s.phase, s.load[kind], *_segment_cells(s), s.verdict])
    header = ["step", "phase", "load", *_SEGMENT_HEADER, "verdict"]
    return table(header, rows, "wide")


def _stages_table(stages: list[Segment]) -> str:
    rows = []
    for s in stages:
        load = s.load
        shown = (
            f"{load['users']} users"
            if "users" in load
            else f"{grouped(float(load.get('arrival_rate') or 0))}/s"
        )
        rows.append([s.name, shown, s.duration_s, *_segment_cells(s)])
    header = ["stage", "load", "duration (s)", *_SEGMENT_HEADER]
    return table(header, rows, "wide")


_SEGMENT_HEADER = ("runs", "runs/s", "first text p50", "first text p95", "done p95", "errors",
                   "dropped")  # fmt: skip


def _segment_cells(segment: Segment) -> list[Any]:
    """The cells a stage and a capacity-search step share, in `_SEGMENT_HEADER`'s order."""
    m = segment.metrics
    return [segment.runs.total, segment.throughput.runs_per_s,
            stat_of(m, "first_text", "p50"), stat_of(m, "first_text", "p95"),
            stat_of(m, "done", "p95"), f"{100 * segment.runs.error_rate:.2f} %",
            segment.arrivals.dropped if segment.arrivals is not None else None]  # fmt: skip
