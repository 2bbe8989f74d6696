"""Inline SVG chart primitives: number and time formatting, nice ticks, the plot frame, axes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from wxo_load.core import fmt

WIDTH = 640
HEIGHT = 250
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 14, 42

Point = tuple[float, float]
Span = tuple[float, float, str]  # (x from, x to, label): a shaded stretch of the x axis
SHADE_COLOR = "#9e9e9e"


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: Sequence[Point]
    dashed: bool = False


def fmt_time(seconds: float, span_s: float) -> str:
    if span_s >= 180:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{fmt.grouped(seconds)} s"


def nice_step(span: float, target: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    magnitude: float = 10 ** math.floor(math.log10(raw))
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


def svg_open(label: str) -> list[str]:
    """The opening tag of a chart, as the first of its parts."""
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
    ]


def axes(
    frame: Frame,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    x_fmt: Callable[[float], str],
    x_label: str,
    y_label: str,
) -> list[str]:
    """Grid lines, ticks, both axes and their labels."""
    parts = []
    bottom = TOP + frame.ph
    right = LEFT + frame.pw
    for y in y_ticks:
        py = frame.py(y)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">'
            f"{escape(fmt.grouped(y))}</text>"
        )
    for x in x_ticks:
        px = frame.px(x)
        parts.append(
            f'<line class="axis" x1="{px:.1f}" x2="{px:.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
        )
        parts.append(
            f'<text class="tick" x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(x_fmt(x))}</text>"
        )
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>')
    parts.append(
        f'<text class="label" x="{LEFT + frame.pw / 2:.0f}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text class="label" transform="translate(14 {TOP + frame.ph / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    return parts


def shaded(frame: Frame, spans: Sequence[Span]) -> list[str]:
    """Grey bands over stretches of the x axis (the warm-up and cool-down left out of the
    figures), each with its label as a tooltip and a small caption at its top."""
    parts = []
    for x0, x1, label in spans:
        left, right = frame.px(max(x0, frame.x0)), frame.px(min(x1, frame.x1))
        if right - left < 0.5:
            continue
        parts.append(
            f'<rect class="excluded" x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" '
            f'height="{frame.ph}" fill="{SHADE_COLOR}" fill-opacity="0.18">'
            f"<title>{escape(label)}</title></rect>"
        )
        parts.append(
            f'<text class="tick" x="{left + 3:.1f}" y="{TOP + 11}">{escape(label.split(":")[0])}'
            "</text>"
        )
    return parts


def path_coords(frame: Frame, points: Sequence[Point], step: bool) -> str:
    """The `points` attribute of a polyline; `step` holds each value until the next point."""
    coords = []
    previous_y: float | None = None
    for x, y in points:
        if step and previous_y is not None:
            coords.append(f"{frame.px(x):.1f},{frame.py(previous_y):.1f}")
        coords.append(f"{frame.px(x):.1f},{frame.py(y):.1f}")
        previous_y = y
    return " ".join(coords)


def empty_chart(message: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{escape(message)}</text></svg>"
    )
