"""Inline SVG charts: lines over time, stacked bars, a log-scale histogram, grouped bars."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from wxo_load.core.fmt import grouped
from wxo_load.output.report.svg import (
    LEFT,
    TOP,
    Frame,
    Series,
    Span,
    axes,
    empty_chart,
    log_ticks,
    nice_max,
    nice_ticks,
    path_coords,
    shaded,
    svg_open,
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
    shade: Sequence[Span] = (),
) -> str:
    values = [y for s in series for _, y in s.points]
    if not values:
        return empty_chart(empty)
    frame = Frame(x_range, (0.0, nice_max(max(values))))
    parts = svg_open(y_label)
    x_ticks = nice_ticks(*x_range, target=8)
    parts += axes(frame, x_ticks, nice_ticks(0, frame.y1), x_fmt, x_label, y_label)
    parts += shaded(frame, shade)
    for s in series:
        if not s.points:
            continue
        coords = path_coords(frame, s.points, step)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(
            f'<polyline fill="none" stroke="{s.color}" stroke-width="1.8"{dash} points="{coords}"/>'
        )
        parts += _hover_points(frame, s, x_fmt, y_unit, hide_zero_points)
    parts.append("</svg>")
    return "".join(parts)


def _hover_points(
    frame: Frame, s: Series, x_fmt: Callable[[float], str], y_unit: str, hide_zero: bool
) -> list[str]:
    """A dot with a tooltip per point; invisible (hover targets only) past 70 points."""
    parts = []
    radius, opacity = (2.6, 1) if len(s.points) <= 70 else (2.5, 0)
    for x, y in s.points:
        if y == 0 and hide_zero:
            continue
        parts.append(
            f'<circle class="pt" cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="{radius}" '
            f'fill="{s.color}" fill-opacity="{opacity}">'
            f"<title>{escape(s.label)} at {escape(x_fmt(x))}: "
            f"{escape(grouped(y))} {escape(y_unit)}</title></circle>"
        )
    return parts


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
    shade: Sequence[Span] = (),
) -> str:
    """Bars starting at each `bins` x (width `width`), one coloured segment per stack."""
    totals = [sum(values[i] for _, _, values in stacks) for i in range(len(bins))]
    if not totals or max(totals) <= 0:
        return empty_chart("no runs completed")
    frame = Frame(x_range, (0.0, nice_max(max(totals))))
    parts = svg_open(y_label)
    x_ticks = nice_ticks(*x_range, target=8)
    parts += axes(frame, x_ticks, nice_ticks(0, frame.y1), x_fmt, x_label, y_label)
    parts += shaded(frame, shade)
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
                f'<rect x="{frame.px(x):.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}" fill="{color}">'
                f"<title>{escape(label)} at {escape(x_fmt(x))}: "
                f"{escape(grouped(value))} {escape(y_unit)}</title></rect>"
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
    parts = svg_open(x_label)
    x_ticks = log_ticks(edges[0], edges[-1])
    parts += axes(frame, x_ticks, nice_ticks(0, frame.y1), grouped, x_label, "runs")
    for i, count in enumerate(counts):
        if not count:
            continue
        x0, x1 = frame.px(edges[i]), frame.px(edges[i + 1])
        top = frame.py(count)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0 - 0.5, 0.8):.1f}" '
            f'height="{frame.py(0) - top:.1f}" fill="{color}" fill-opacity="0.75">'
            f"<title>{escape(grouped(edges[i]))}–{escape(grouped(edges[i + 1]))} ms: "
            f"{count} samples</title></rect>"
        )
    parts += _markers(frame, markers)
    parts.append("</svg>")
    return "".join(parts)


def _markers(frame: Frame, markers: Sequence[tuple[str, float, str]]) -> list[str]:
    """Dashed vertical lines, each labelled, the labels stacked from the top."""
    parts = []
    for index, (label, x, marker_color) in enumerate(markers):
        px = frame.px(x)
        parts.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{TOP + frame.ph}" '
            f'stroke="{marker_color}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        anchor = "end" if px > LEFT + frame.pw * 0.8 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(
            f'<text class="marker" x="{px + dx:.1f}" y="{TOP + 12 + 13 * index}" '
            f'text-anchor="{anchor}" fill="{marker_color}">'
            f"{escape(label)} {escape(grouped(x))}</text>"
        )
    return parts


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
    parts = svg_open(y_label)
    parts += axes(frame, [], nice_ticks(0, frame.y1), str, "", y_label)
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
                f'height="{frame.py(0) - top:.1f}" fill="{color}">'
                f"<title>{escape(category)}, {escape(label)}: "
                f"{escape(grouped(value))} {escape(y_unit)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
