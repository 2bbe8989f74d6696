"""report.html: one self-contained page of tables and inline-SVG charts from saved results.

No JavaScript, no external files, no network: the page opens anywhere, including a CI artifact
viewer. Records are streamed once into compact arrays and binned in time (at most 120 bins), so
100k+ runs produce the same small page. All text is escaped and passed through `redact`.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from wxo_load.core import fmt
from wxo_load.core.metrics import METRIC_TITLES
from wxo_load.core.records import ALL_METRICS, CONVERSATION_METRICS, OK, RUN_METRICS, STOPPED
from wxo_load.core.redact import redact
from wxo_load.core.stats import nearest_rank

# -- inline SVG chart primitives ---------------------------------------------------------------
WIDTH = 640
HEIGHT = 250
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 14, 42

Point = tuple[float, float]


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: Sequence[Point]
    dashed: bool = False


def fmt_num(value: float) -> str:
    """Compact, readable numbers for axes and tables: 0.042, 3.5, 12.3, 1,234."""
    return fmt.num(value, sep=",")


def fmt_time(seconds: float, span_s: float) -> str:
    if span_s >= 180:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{fmt_num(seconds)} s"


def nice_step(span: float, target: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    step = nice_step(high - low, target)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def nice_max(high: float) -> float:
    if high <= 0:
        return 1.0
    step = nice_step(high)
    return math.ceil(high / step - 1e-9) * step


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks between low and high (positive), thinned to at most ~8."""
    for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [
            m * 10.0**e
            for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
            for m in mantissas
            if low <= m * 10.0**e <= high
        ]
        if len(ticks) >= 4:
            break
    while len(ticks) > 9:
        ticks = ticks[::2]
    return ticks


class Frame:
    """Plot area and the mapping of data to pixels."""

    def __init__(
        self, x_range: tuple[float, float], y_range: tuple[float, float], *, x_log: bool = False
    ) -> None:
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.x_log = x_log
        self.pw = WIDTH - LEFT - RIGHT
        self.ph = HEIGHT - TOP - BOTTOM

    def px(self, x: float) -> float:
        if self.x_log:
            lo, hi, x = math.log10(self.x0), math.log10(self.x1), math.log10(max(x, self.x0))
        else:
            lo, hi = self.x0, self.x1
        span = (hi - lo) or 1.0
        return LEFT + (x - lo) / span * self.pw

    def py(self, y: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return TOP + self.ph - (y - self.y0) / span * self.ph


def _open(label: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
    ]


def _axes(
    frame: Frame,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    x_fmt: Callable[[float], str],
    x_label: str,
    y_label: str,
) -> list[str]:
    parts = []
    bottom = TOP + frame.ph
    for y in y_ticks:
        py = frame.py(y)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + frame.pw}" y1="{py:.1f}" y2="{py:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">{escape(fmt_num(y))}</text>')
    for x in x_ticks:
        px = frame.px(x)
        parts.append(f'<line class="axis" x1="{px:.1f}" x2="{px:.1f}" y1="{bottom}" y2="{bottom + 4}"/>')
        parts.append(f'<text class="tick" x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(x_fmt(x))}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + frame.pw}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>')
    parts.append(
        f'<text class="label" x="{LEFT + frame.pw / 2:.0f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text class="label" transform="translate(14 {TOP + frame.ph / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    return parts


def empty_chart(message: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(message)}</text></svg>'
    )


def line_chart(
    series: Sequence[Series],
    *,
    x_range: tuple[float, float],
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str],
    y_unit: str,
    step: bool = False,
    empty: str = "no data",
    hide_zero_points: bool = False,
) -> str:
    values = [y for s in series for _, y in s.points]
    if not values:
        return empty_chart(empty)
    frame = Frame(x_range, (0.0, nice_max(max(values))))
    parts = _open(y_label)
    parts += _axes(frame, nice_ticks(*x_range, target=8), nice_ticks(0, frame.y1), x_fmt, x_label, y_label)
    for s in series:
        if not s.points:
            continue
        coords = _path_coords(frame, s.points, step)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(f'<polyline fill="none" stroke="{s.color}" stroke-width="1.8"{dash} points="{coords}"/>')
        radius, opacity = (2.6, 1) if len(s.points) <= 70 else (2.5, 0)  # hover targets only
        for x, y in s.points:
            if y == 0 and hide_zero_points:
                continue
            parts.append(
                f'<circle class="pt" cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="{radius}" '
                f'fill="{s.color}" fill-opacity="{opacity}">'
                f"<title>{escape(s.label)} at {escape(x_fmt(x))}: {escape(fmt_num(y))} {escape(y_unit)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _path_coords(frame: Frame, points: Sequence[Point], step: bool) -> str:
    coords = []
    previous_y: float | None = None
    for x, y in points:
        if step and previous_y is not None:
            coords.append(f"{frame.px(x):.1f},{frame.py(previous_y):.1f}")
        coords.append(f"{frame.px(x):.1f},{frame.py(y):.1f}")
        previous_y = y
    return " ".join(coords)


def stacked_bars(
    bins: Sequence[float],
    width: float,
    stacks: Sequence[tuple[str, str, Sequence[float]]],
    *,
    x_range: tuple[float, float],
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str],
    y_unit: str,
) -> str:
    """Bars starting at each `bins` x (width `width`), one coloured segment per stack."""
    totals = [sum(values[i] for _, _, values in stacks) for i in range(len(bins))]
    if not totals or max(totals) <= 0:
        return empty_chart("no runs completed")
    frame = Frame(x_range, (0.0, nice_max(max(totals))))
    parts = _open(y_label)
    parts += _axes(frame, nice_ticks(*x_range, target=8), nice_ticks(0, frame.y1), x_fmt, x_label, y_label)
    bar_w = max(frame.px(x_range[0] + width) - frame.px(x_range[0]) - 1, 1)
    for i, x in enumerate(bins):
        base = 0.0
        for label, color, values in stacks:
            value = values[i]
            if value <= 0:
                continue
            top = frame.py(base + value)
            height = frame.py(base) - top
            parts.append(
                f'<rect x="{frame.px(x):.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{color}">'
                f"<title>{escape(label)} at {escape(x_fmt(x))}: {escape(fmt_num(value))} {escape(y_unit)}</title></rect>"
            )
            base += value
    parts.append("</svg>")
    return "".join(parts)


def log_histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    markers: Sequence[tuple[str, float, str]],
    *,
    x_label: str,
    color: str,
) -> str:
    """Bars between consecutive `edges` on a log x axis, with labelled vertical markers."""
    if not counts or max(counts) <= 0:
        return empty_chart("no samples")
    frame = Frame((edges[0], edges[-1]), (0.0, nice_max(max(counts))), x_log=True)
    parts = _open(x_label)
    parts += _axes(frame, log_ticks(edges[0], edges[-1]), nice_ticks(0, frame.y1), fmt_num, x_label, "runs")
    for i, count in enumerate(counts):
        if not count:
            continue
        x0, x1 = frame.px(edges[i]), frame.px(edges[i + 1])
        top = frame.py(count)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0 - 0.5, 0.8):.1f}" height="{frame.py(0) - top:.1f}" '
            f'fill="{color}" fill-opacity="0.75"><title>{escape(fmt_num(edges[i]))}–{escape(fmt_num(edges[i + 1]))} ms: '
            f"{count} samples</title></rect>"
        )
    for index, (label, x, marker_color) in enumerate(markers):
        px = frame.px(x)
        parts.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{TOP + frame.ph}" stroke="{marker_color}" '
            'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        anchor = "end" if px > LEFT + frame.pw * 0.8 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(
            f'<text class="marker" x="{px + dx:.1f}" y="{TOP + 12 + 13 * index}" text-anchor="{anchor}" '
            f'fill="{marker_color}">{escape(label)} {escape(fmt_num(x))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(
    categories: Sequence[str],
    groups: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    y_label: str,
    y_unit: str,
) -> str:
    values = [v for _, _, vs in groups for v in vs if v is not None]
    if not values:
        return empty_chart("no samples")
    frame = Frame((0.0, float(len(categories))), (0.0, nice_max(max(values))))
    parts = _open(y_label)
    parts += _axes(frame, [], nice_ticks(0, frame.y1), str, "", y_label)
    slot = frame.pw / len(categories)
    bar_w = slot * 0.8 / len(groups)
    for ci, category in enumerate(categories):
        x_start = LEFT + ci * slot + slot * 0.1
        parts.append(
            f'<text class="tick" x="{LEFT + (ci + 0.5) * slot:.1f}" y="{TOP + frame.ph + 16}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
        for gi, (label, color, vs) in enumerate(groups):
            value = vs[ci]
            if value is None:
                continue
            top = frame.py(value)
            parts.append(
                f'<rect x="{x_start + gi * bar_w:.1f}" y="{top:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{frame.py(0) - top:.1f}" fill="{color}"><title>{escape(category)}, {escape(label)}: '
                f"{escape(fmt_num(value))} {escape(y_unit)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


# -- the report --------------------------------------------------------------------------------

P_COLORS = {"p50": "#1f77b4", "p95": "#ff7f0e", "p99": "#d62728"}
OK_COLOR = "#2e9d4b"
STOPPED_COLOR = "#9e9e9e"
ERROR_COLORS = ("#d62728", "#8c3fbf", "#e6850e", "#c2185b", "#6d4c41", "#0097a7", "#b0a300", "#455a64")
FIRST_COLORS = ("#4a90d9", "#1c5a99")
FOLLOW_COLORS = ("#f5a04a", "#c0620b")
MAX_BINS = 120
NICE_BIN_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
MAX_ERROR_DETAILS = 2000
DETAIL_CHARS = 160
# ids, timestamps and numbers that make every detail unique; blanked to group alike errors
_DETAIL_VARIABLE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d[\d.:-]{2,}\d|\d{2,}"
)


def _placeholder(match: re.Match[str]) -> str:
    return "<id>" if "-" in match.group(0) and len(match.group(0)) == 36 else "<n>"
MIN_SAMPLES_PER_BIN = 40  # percentiles over time: fewer samples per bin make p99 mere noise


def _text(value: Any) -> str:
    """Escaped, redacted text for any value that reaches the page."""
    return escape(redact(str(value)))


def _unix_of(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _bin_width(span_s: float) -> float:
    for width in NICE_BIN_WIDTHS:
        if span_s / width <= MAX_BINS:
            return float(width)
    return math.ceil(span_s / MAX_BINS)


def _sample_percentiles(values: list[float]) -> tuple[float, float, float]:
    values.sort()
    n = len(values)
    return tuple(values[nearest_rank(n, p) - 1] for p in (50.0, 95.0, 99.0))  # type: ignore[return-value]


class _Collected:
    """One pass over the records: compact arrays, binned later once the time span is known."""

    def __init__(self) -> None:
        self.times: dict[str, array[float]] = {m: array("d") for m in ALL_METRICS}
        self.values: dict[str, array[float]] = {m: array("d") for m in ALL_METRICS}
        self.ends: dict[str, array[float]] = {}
        self.details: Counter[tuple[str, str]] = Counter()  # (class, detail with ids blanked)
        self.examples: dict[tuple[str, str], str] = {}  # the first detail seen of each
        self.first_start: float | None = None
        self.last_end: float | None = None

    def _add_timings(self, record: dict[str, Any], metrics: dict[str, str], start: float) -> None:
        for metric, field_name in metrics.items():
            value = record.get(field_name)
            if value is not None:
                self.times[metric].append(start + value / 1000.0)
                self.values[metric].append(float(value))

    def add_run(self, run: dict[str, Any]) -> None:
        start = float(run.get("started_at_unix") or 0.0)
        self._add_timings(run, RUN_METRICS, start)
        end = start + float(run.get("total_ms") or 0.0) / 1000.0
        outcome = str(run.get("outcome") or OK)
        self.ends.setdefault(outcome, array("d")).append(end)
        if outcome != OK and outcome != STOPPED:
            detail = str(run.get("error_detail") or "")
            key = (outcome, _DETAIL_VARIABLE.sub(_placeholder, detail)[:DETAIL_CHARS])
            if key in self.details or len(self.details) < MAX_ERROR_DETAILS:
                self.details[key] += 1
                self.examples.setdefault(key, detail[:DETAIL_CHARS])
            else:
                self.details[(outcome, "(other details)")] += 1
        self._span(start, end)

    def add_conversation(self, conv: dict[str, Any]) -> None:
        start = float(conv.get("started_at_unix") or 0.0)
        self._add_timings(conv, CONVERSATION_METRICS, start)
        self._span(start, start + float(conv.get("total_ms") or 0.0) / 1000.0)

    def _span(self, start: float, end: float) -> None:
        if self.first_start is None or start < self.first_start:
            self.first_start = start
        if self.last_end is None or end > self.last_end:
            self.last_end = end


class _Timebase:
    """Seconds since the test started, cut into at most MAX_BINS bins of a round width."""

    def __init__(self, t0: float, span: float, width: float | None = None) -> None:
        self.t0 = t0
        self.span = max(span, 1.0)
        self.width = width or _bin_width(self.span)
        self.count = max(1, math.ceil(self.span / self.width))

    @classmethod
    def of(cls, summary: dict[str, Any], collected: _Collected) -> _Timebase:
        t0 = _unix_of(summary.get("started_at")) or collected.first_start or 0.0
        end = _unix_of(summary.get("ended_at")) or collected.last_end or t0
        if collected.last_end is not None:
            end = max(end, collected.last_end)
        return cls(t0, end - t0)

    def coarser(self, samples: int, per_bin: int = MIN_SAMPLES_PER_BIN, max_bins: int = MAX_BINS) -> _Timebase:
        """The same time axis with bins wide enough to hold `per_bin` samples on average
        (and at most `max_bins` of them), but at least 4 bins."""
        for width in (*NICE_BIN_WIDTHS, math.inf):
            if width < self.width or self.span / width > max_bins:
                continue
            if samples * width / self.span >= per_bin or width * 4 >= self.span:
                return _Timebase(self.t0, self.span, min(width, self.span / 4))
        return self

    def index(self, unix: float) -> int:
        return min(max(int((unix - self.t0) // self.width), 0), self.count - 1)

    def fmt(self, seconds: float) -> str:
        return fmt_time(seconds, self.span)

    @property
    def x_range(self) -> tuple[float, float]:
        return (0.0, self.count * self.width)

    @property
    def x_label(self) -> str:
        unit = "min:s" if self.span >= 180 else "s"
        return f"time since start ({unit}); {fmt_num(self.width)} s bins"


def _percentile_chart(metric: str, collected: _Collected, tb: _Timebase) -> str:
    tb = tb.coarser(len(collected.values[metric]))
    per_bin: dict[int, list[float]] = {}
    for t, v in zip(collected.times[metric], collected.values[metric], strict=True):
        per_bin.setdefault(tb.index(t), []).append(v)
    lines: dict[str, list[Point]] = {"p50": [], "p95": [], "p99": []}
    for index in sorted(per_bin):
        x = (index + 0.5) * tb.width
        p50, p95, p99 = _sample_percentiles(per_bin[index])
        lines["p50"].append((x, p50))
        lines["p95"].append((x, p95))
        lines["p99"].append((x, p99))
    series = [Series(name, P_COLORS[name], pts) for name, pts in lines.items()]
    return line_chart(
        series, x_range=tb.x_range, x_label=tb.x_label, y_label="milliseconds",
        x_fmt=tb.fmt, y_unit="ms", empty="no samples",
    )


def _distribution_chart(metric: str, collected: _Collected, summary: dict[str, Any]) -> str:
    values = collected.values[metric]
    positive = [v for v in values if v > 0]
    if not positive:
        return empty_chart("no samples")
    low, high = min(positive), max(positive)
    if high <= low * 1.001:
        low, high = low * 0.95, high * 1.05
    bins = 48
    ratio = math.log(high / low)
    edges = [low * math.exp(ratio * i / bins) for i in range(bins + 1)]
    counts = [0] * bins
    for v in positive:
        counts[min(int(math.log(v / low) / ratio * bins), bins - 1)] += 1
    stats = (summary.get("metrics") or {}).get(metric) or {}
    markers = [(name, float(stats[name]), P_COLORS[name]) for name in ("p50", "p95", "p99") if stats.get(name)]
    return log_histogram(edges, counts, markers, x_label="milliseconds (log scale)", color="#5b7fa6")


def _outcome_colors(outcomes: Iterable[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    errors = sorted(o for o in outcomes if o not in (OK, STOPPED))
    for i, outcome in enumerate(errors):
        colors[outcome] = ERROR_COLORS[i % len(ERROR_COLORS)]
    return colors


def _per_second(ends: Iterable[float], tb: _Timebase) -> list[float]:
    counts = [0.0] * tb.count
    for end in ends:
        counts[tb.index(end)] += 1
    return [c / tb.width for c in counts]


def _rate_charts(collected: _Collected, tb: _Timebase) -> tuple[str, str, dict[str, str]]:
    """Runs per second by outcome (up to 60 bars) and errors per second by class (up to 40)."""
    colors = _outcome_colors(collected.ends)
    colors[OK] = OK_COLOR
    colors[STOPPED] = STOPPED_COLOR
    errors = sorted(k for k in collected.ends if k not in (OK, STOPPED))
    order = [o for o in (OK, *errors, STOPPED) if o in collected.ends]
    runs_tb = tb.coarser(0, per_bin=0, max_bins=60)
    runs_chart = stacked_bars(
        [i * runs_tb.width for i in range(runs_tb.count)], runs_tb.width,
        [(o, colors[o], _per_second(collected.ends[o], runs_tb)) for o in order],
        x_range=runs_tb.x_range, x_label=runs_tb.x_label, y_label="runs per second",
        x_fmt=runs_tb.fmt, y_unit="runs/s",
    )
    if not errors:
        return runs_chart, empty_chart("no errors"), {o: colors[o] for o in order}
    err_tb = tb.coarser(sum(len(collected.ends[o]) for o in errors), per_bin=6, max_bins=40)
    errors_chart = stacked_bars(
        [i * err_tb.width for i in range(err_tb.count)], err_tb.width,
        [(o, colors[o], _per_second(collected.ends[o], err_tb)) for o in errors],
        x_range=err_tb.x_range, x_label=err_tb.x_label, y_label="errors per second",
        x_fmt=err_tb.fmt, y_unit="errors/s",
    )
    return runs_chart, errors_chart, {o: colors[o] for o in order}


def _users_chart(summary: dict[str, Any], tb: _Timebase) -> str:
    timeline = summary.get("timeline") or []
    points = [(float(p["t_s"]), float(p.get("users") or 0)) for p in timeline if isinstance(p, dict) and "t_s" in p]
    if not points:
        return empty_chart("no timeline recorded")
    x_high = max(tb.x_range[1], points[-1][0])
    return line_chart(
        [Series("users", "#3f51b5", points)], x_range=(0.0, x_high), x_label=tb.x_label,
        y_label="users", x_fmt=tb.fmt, y_unit="users", step=True,
    )


def _turn_chart(summary: dict[str, Any]) -> str:
    by_turn = summary.get("by_turn") or {}

    def values(turn: str, p: str) -> list[float | None]:
        metrics = (by_turn.get(turn) or {}).get("metrics") or {}
        return [(metrics.get(m) or {}).get(p) for m in RUN_METRICS]

    groups = [
        ("first turn p50", FIRST_COLORS[0], values("first", "p50")),
        ("first turn p95", FIRST_COLORS[1], values("first", "p95")),
        ("follow-ups p50", FOLLOW_COLORS[0], values("follow_up", "p50")),
        ("follow-ups p95", FOLLOW_COLORS[1], values("follow_up", "p95")),
    ]
    return grouped_bars(list(RUN_METRICS), groups, y_label="milliseconds", y_unit="ms")


# -- HTML pieces ---------------------------------------------------------------------------------


def _legend(items: Iterable[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{color}"></i>{_text(label)}</span>' for label, color in items
    ) + "</div>"


def _card(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<figure class="card"><figcaption>{_text(title)}</figcaption>{body}{note_html}</figure>'


def _fmt_cell(value: Any) -> str:
    if value is None:
        return '<td class="na">–</td>'
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{escape(fmt_num(float(value)) if isinstance(value, float) else f"{value:,}")}</td>'
    return f"<td>{_text(value)}</td>"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], css: str = "") -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_fmt_cell(c) for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _metrics_table(summary: dict[str, Any]) -> str:
    metrics = summary.get("metrics") or {}
    keys = ("count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max")
    rows = [[m, *((metrics.get(m) or {}).get(k) for k in keys)] for m in ALL_METRICS]
    return _table(["metric (ms)", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"], rows, "wide")


def _outcomes_table(summary: dict[str, Any], colors: dict[str, str]) -> str:
    runs = (summary.get("runs") or {}).get("by_outcome") or {}
    convs = (summary.get("conversations") or {}).get("by_outcome") or {}
    total = sum(runs.values()) or 1
    names = list(runs) + [n for n in convs if n not in runs]
    rows = []
    for name in names:
        swatch = f'<i class="sw" style="background:{colors.get(name, OK_COLOR if name == OK else STOPPED_COLOR)}"></i>'
        rows.append(
            f"<tr><td>{swatch}{_text(name)}</td><td class='num'>{runs.get(name, 0):,}</td>"
            f"<td class='num'>{100 * runs.get(name, 0) / total:.2f} %</td><td class='num'>{convs.get(name, 0):,}</td></tr>"
        )
    return (
        "<table><thead><tr><th>outcome</th><th>runs</th><th>share of runs</th><th>conversations</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _details_table(collected: _Collected) -> str:
    if not collected.details:
        return '<p class="note">No failed runs.</p>'
    rows = [
        [outcome, collected.examples.get((outcome, shape), shape) or "(no detail)", count]
        for (outcome, shape), count in collected.details.most_common(15)
    ]
    return _table(["error class", f"example detail (first {DETAIL_CHARS} characters)", "runs"], rows)


def _turn_table(summary: dict[str, Any]) -> str:
    by_turn = summary.get("by_turn") or {}
    rows = []
    for metric in RUN_METRICS:
        for turn, label in (("first", "first turn"), ("follow_up", "follow-ups")):
            m = ((by_turn.get(turn) or {}).get("metrics") or {}).get(metric) or {}
            rows.append([metric, label, m.get("count"), m.get("p50"), m.get("p95"), m.get("p99"), m.get("max")])
    runs_row = " · ".join(
        f"{label}: {(by_turn.get(turn) or {}).get('runs', 0):,} runs, {(by_turn.get(turn) or {}).get('failed', 0):,} failed"
        for turn, label in (("first", "first turn"), ("follow_up", "follow-ups"))
    )
    return f'<p class="note">{_text(runs_row)}</p>' + _table(
        ["metric (ms)", "turn", "count", "p50", "p95", "p99", "max"], rows
    )


def _trust_banner(summary: dict[str, Any]) -> str:
    lg = summary.get("load_generator") or {}
    warnings = lg.get("warnings") or []
    lag = (lg.get("client_lag") or {}).get("p99")
    sched = (lg.get("schedule_lag") or {}).get("p99")
    cpu = lg.get("cpu_percent_max")
    facts = " · ".join(
        part for part in (
            f"client lag p99 {fmt_num(lag)} ms" if lag is not None else "client lag not measured",
            f"schedule lag p99 {fmt_num(sched)} ms" if sched is not None else "",
            f"CPU max {cpu:.0f} %" if isinstance(cpu, (int, float)) else "",
        ) if part
    )
    if lg.get("trustworthy", True) and not warnings:
        return f'<div class="banner good" id="trust"><b>Load generator kept up.</b> {_text(facts)}</div>'
    items = "".join(f"<li>{_text(w)}</li>" for w in warnings)
    return (
        '<div class="banner bad" id="trust"><b>⚠ Load generator warnings — server timings in this report may be '
        f"overstated.</b> {_text(facts)}<ul>{items}</ul></div>"
    )


def _kpis(summary: dict[str, Any]) -> str:
    runs = summary.get("runs") or {}
    metrics = summary.get("metrics") or {}
    throughput = summary.get("throughput") or {}

    def ms(metric: str, p: str) -> str:
        value = (metrics.get(metric) or {}).get(p)
        return "–" if value is None else f"{fmt_num(value)} ms"

    tiles = [
        ("runs", f"{runs.get('total', 0):,}", f"{runs.get('ok', 0):,} ok"),
        ("error rate", f"{100 * (runs.get('error_rate') or 0):.2f} %", f"{runs.get('failed', 0):,} failed"),
        ("throughput", f"{fmt_num(throughput.get('runs_per_s') or 0)} runs/s",
         f"{fmt_num(throughput.get('answer_chars_per_s') or 0)} chars/s"),
        ("first text p95", ms("first_text", "p95"), f"p50 {ms('first_text', 'p50')}"),
        ("done p95", ms("done", "p95"), f"p50 {ms('done', 'p50')}"),
        ("conversations", f"{(summary.get('conversations') or {}).get('total', 0):,}",
         f"{fmt_num(throughput.get('conversations_per_s') or 0)} /s"),
    ]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><span>{_text(t)}</span><b>{_text(v)}</b><small>{_text(s)}</small></div>' for t, v, s in tiles
    ) + "</div>"


def _header(summary: dict[str, Any]) -> str:
    scenario = summary.get("scenario") or {}
    name = scenario.get("name") or "test"
    users = (summary.get("users") or {}).get("peak")
    facts = [
        ("target", summary.get("host") or "–"),
        ("started", summary.get("started_at") or "–"),
        ("duration", f"{fmt_num(summary.get('duration_s') or 0)} s"),
        ("peak users", users if users is not None else "–"),
        ("scenario file", scenario.get("file") or "–"),
    ]
    dl = "".join(f"<div><dt>{_text(k)}</dt><dd>{_text(v)}</dd></div>" for k, v in facts)
    return f'<header><h1>wxo-load report: <span id="scenario-name">{_text(name)}</span></h1><dl>{dl}</dl></header>'


def _config_details(summary: dict[str, Any]) -> str:
    config = {
        "scenario": summary.get("scenario") or {},
        "options": summary.get("options") or {},
        "tool": summary.get("tool") or {},
    }
    text = json.dumps(config, indent=2, sort_keys=True, default=str)
    return f"<details><summary>Scenario and options</summary><pre>{_text(text)}</pre></details>"


def _load_generator_section(summary: dict[str, Any]) -> str:
    lg = summary.get("load_generator") or {}
    keys = ("count", "p50", "p99", "max")
    rows = [[name, *((lg.get(name) or {}).get(k) for k in keys)] for name in ("client_lag", "schedule_lag")]
    lag = _table(["measure (ms)", "count", "p50", "p99", "max"], rows)
    workers = lg.get("workers") or {}
    worker_table = _table(
        ["load-generator process", "runs", "failed"],
        ([w, c.get("runs", 0), c.get("failed", 0)] for w, c in workers.items()),
    ) if workers else ""
    note = (
        "client lag: arrival of each event minus the server's timestamp in its id (how far behind the "
        "harness read). schedule lag: how much later than planned a user began each run."
    )
    return lag + worker_table + f'<p class="note">{_text(note)}</p>'


def _section(section_id: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{_text(intro)}</p>' if intro else ""
    return f'<section id="{section_id}"><h2>{_text(title)}</h2>{intro_html}{body}</section>'


def build_report_html(
    summary: dict[str, Any], runs: Iterable[dict[str, Any]], conversations: Iterable[dict[str, Any]]
) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts, no network)."""
    from wxo_load.edge.report.load import load_section  # stages and capacity search (it builds on this module)
    from wxo_load.edge.report.waterfall import WaterfallRuns, section_html

    collected = _Collected()
    waterfalls = WaterfallRuns()
    for run in runs:
        collected.add_run(run)
        waterfalls.add(run)
    for conv in conversations:
        collected.add_conversation(conv)
    tb = _Timebase.of(summary, collected)
    p_legend = _legend((name, color) for name, color in P_COLORS.items())
    over_time = "".join(
        _card(METRIC_TITLES[m], _percentile_chart(m, collected, tb)) for m in ALL_METRICS
    )
    distributions = "".join(
        _card(METRIC_TITLES[m], _distribution_chart(m, collected, summary)) for m in ALL_METRICS
    )
    runs_chart, errors_chart, colors = _rate_charts(collected, tb)
    outcome_legend = _legend(colors.items())
    turn_legend = _legend([
        ("first turn p50", FIRST_COLORS[0]), ("first turn p95", FIRST_COLORS[1]),
        ("follow-ups p50", FOLLOW_COLORS[0]), ("follow-ups p95", FOLLOW_COLORS[1]),
    ])
    body = "".join([
        _header(summary),
        _trust_banner(summary),
        _kpis(summary),
        load_section(summary),
        _section("timings", "Timings", _metrics_table(summary) + _config_details(summary),
                 "Milliseconds from just before the request was written. Percentiles are nearest-rank over "
                 "HDR histograms merged from every load-generator process (3 significant digits); min, mean "
                 "and max are exact."),
        section_html(summary, waterfalls),
        _section("throughput", "Runs, errors and users over time", outcome_legend + '<div class="grid">'
                 + _card("Runs completed per second, by outcome", runs_chart)
                 + _card("Errors per second, by class", errors_chart)
                 + _card("Users over time", _users_chart(summary, tb))
                 + _card("Outcomes", _outcomes_table(summary, colors))
                 + "</div>"),
        _section("over-time", "Percentiles over time", p_legend + f'<div class="grid">{over_time}</div>',
                 "p50, p95 and p99 of each timing per time bin, placed at the moment the event arrived."),
        _section("distributions", "Distributions", f'<div class="grid">{distributions}</div>',
                 "How many samples fell in each latency band (log scale); dashed lines mark the run's "
                 "overall p50, p95 and p99."),
        _section("errors", "Error details", _details_table(collected),
                 "The most frequent error details (server messages, redacted), grouped with ids and numbers "
                 "ignored; one example of each."),
        _section("turns", "First turn vs follow-ups", turn_legend + '<div class="grid">'
                 + _card("p50 and p95 by turn (ms)", _turn_chart(summary)) + _card("By turn", _turn_table(summary))
                 + "</div>",
                 "A conversation's first message often costs more (cold thread, agent routing) than the "
                 "follow-ups."),
        _section("load-generator", "Load generator", _load_generator_section(summary)),
        f'<footer>Generated by wxo-load {_text((summary.get("tool") or {}).get("version", ""))} from '
        f'summary.json ({_text(summary.get("schema", ""))}), runs.jsonl and conversations.jsonl. '
        "This page needs no network and no JavaScript.</footer>",
    ])
    title = f"wxo-load report: {(summary.get('scenario') or {}).get('name') or 'test'}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_text(title)}</title><style>{CSS}</style></head>"
        f'<body data-report-ready="1"><main>{body}</main></body></html>\n'
    )


CSS = """
:root{--fg:#1d2733;--muted:#5f6b7a;--line:#dde3ea;--bg:#f5f7fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1360px;margin:0 auto;padding:20px 24px 40px}
header h1{font-size:22px;margin:0 0 8px}
header dl{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0 0 14px}
header dt{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
header dd{margin:0;font-weight:600;word-break:break-all}
h2{font-size:17px;margin:26px 0 6px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.intro,.note{color:var(--muted);margin:4px 0 10px;font-size:13px}
.banner{border-radius:6px;padding:10px 14px;margin:8px 0 14px;border:1px solid}
.banner.good{background:#e9f6ec;border-color:#9fd3ab}
.banner.bad{background:#fdecea;border-color:#f0a39b;font-size:15px}
.banner ul{margin:6px 0 0 18px;padding:0}
.kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:10px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.kpi span{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.kpi b{display:block;font-size:21px;margin:2px 0}
.kpi small{color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0;padding:10px 12px;overflow-x:auto}
figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#eef1f4;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg text{font-family:inherit}
svg .tick{font-size:11px;fill:#4a5563}
svg .label{font-size:12px;fill:#4a5563}
svg .marker{font-size:11px;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg .empty{font-size:14px;fill:#8a96a3}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 8px;font-size:13px}
.legend i,.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;background:var(--card);margin:4px 0 10px;font-size:13px}
table.wide{width:100%}
th,td{border:1px solid var(--line);padding:4px 9px;text-align:left}
th{background:#eef2f6;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.na{text-align:center;color:#a0a9b4}
details{margin:6px 0}
pre{background:var(--card);border:1px solid var(--line);padding:8px;overflow:auto;max-height:320px;font-size:12px}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media (max-width:900px){.grid{grid-template-columns:1fr}.kpis{grid-template-columns:repeat(2,1fr)}}
"""
