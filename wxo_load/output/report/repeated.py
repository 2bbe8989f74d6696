"""aggregate/report.html: the report of a repeated run (`wxo-load repeat`), one self-contained
page in report.html's style. Its section "Repeated runs" draws, per headline figure, each run's
value as a dot over the confidence interval of the mean (dark band) and the prediction interval
of one more run (light band), then the whole table of aggregate.md. Pure: an `Aggregate` in,
HTML out.
"""

from __future__ import annotations

from html import escape

from wxo_load.core import fmt
from wxo_load.core.aggregate_model import Aggregate, FigureStats, Interval
from wxo_load.core.metrics import COUNT
from wxo_load.output.report.page import card, page, safe_text, section, table

HEADLINE = ("first_text.p50", "first_text.p95", "done.p95", "run_started.p95", "error_rate",
            "runs_per_s")  # fmt: skip
WIDTH, ROW, LEFT, RIGHT = 640, 46, 150, 90


def _cell(interval: Interval | None, kind: str) -> str:
    if interval is None:
        return "–"
    return f"{fmt.value(interval.low, kind)} – {fmt.value(interval.high, kind)}"


def _strip(y: int, figure: str, stats: FigureStats) -> str:
    """One figure's row: its runs as dots over its CI and PI, on its own scale."""
    values = [v for v in stats.values if v is not None]
    bounds = [*values, *(b for i in (stats.ci, stats.pi) if i for b in (i.low, i.high))]
    low, high = min(bounds), max(bounds)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.05, high + span * 0.05

    def x(value: float) -> float:
        return LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT)

    parts = [f'<text class="label" x="4" y="{y + 21}">{escape(figure)}</text>']
    for interval, color in ((stats.pi, "#d6e6f7"), (stats.ci, "#8fb8e3")):
        if interval is not None:
            x0, x1 = x(interval.low), x(interval.high)
            parts.append(f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(x1 - x0, 1):.1f}" '
                         f'height="18" fill="{color}"/>')  # fmt: skip
    if stats.mean is not None:
        xm = x(stats.mean)
        parts.append(f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{y + 4}" y2="{y + 30}" '
                     'stroke="#1c5a99" stroke-width="2"/>')  # fmt: skip
    parts += [f'<circle cx="{x(v):.1f}" cy="{y + 17}" r="4" fill="#c0620b"/>' for v in values]
    for value, anchor in ((low, "start"), (high, "end")):
        parts.append(f'<text class="tick" x="{x(value):.1f}" y="{y + 40}" text-anchor="{anchor}">'
                     f"{escape(fmt.value(value, stats.kind))}</text>")  # fmt: skip
    shown = escape(fmt.value(stats.mean, stats.kind)) if stats.mean is not None else "–"
    parts.append(f'<text class="tick" x="{WIDTH - RIGHT + 6}" y="{y + 21}">mean {shown}</text>')
    return "".join(parts)


def _chart(rows: list[tuple[str, FigureStats]]) -> str:
    height = ROW * len(rows) + 6
    strips = "".join(_strip(6 + i * ROW, f, s) for i, (f, s) in enumerate(rows))
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="runs and intervals">{strips}</svg>')  # fmt: skip


def repeated_section(aggregate: Aggregate) -> str:
    level = f"{fmt.num(aggregate.confidence * 100)}%"
    headline = [(f, s) for f in HEADLINE if (s := aggregate.figures.get(f)) and s.stdev]
    rows = [
        (f"{f}", s.n, _show(s.mean, s), _show(s.stdev, s),
         "–" if s.cv is None else f"{fmt.num(s.cv * 100)}%", _cell(s.ci, s.kind),
         _cell(s.pi, s.kind))
        for f, s in aggregate.figures.items() if s.n and (s.kind != COUNT or f == "runs")
    ]  # fmt: skip
    legend_note = (f"Dots: each run. Dark band: the {level} confidence interval of the mean; "
                   f"light band: the {level} prediction interval of one more run; line: the mean. "
                   "Each figure on its own scale.")  # fmt: skip
    body = card("Runs and intervals", _chart(headline), safe_text(legend_note)) if headline else ""
    body += table(("figure", "runs", "mean", "stdev", "CV", f"CI {level}", f"PI {level}"),
                  rows, "wide")  # fmt: skip
    return section(
        "repeated",
        "Repeated runs",
        body,
        f"{aggregate.n} of {len(aggregate.runs)} runs with a summary. One run gives a mean and "
        "nothing else: its spread and intervals need two or more.",
    )


def _show(value: float | None, stats: FigureStats) -> str:
    return "–" if value is None else fmt.value(value, stats.kind)


def aggregate_report_html(aggregate: Aggregate) -> str:
    name = aggregate.scenario or "test"
    runs = table(("run", "results", "exit code"),
                 [(r.index, r.results_dir, r.exit_code) for r in aggregate.runs])  # fmt: skip
    header = (f'<header><h1>wxo-load repeat: {safe_text(name)}</h1><dl><div><dt>target</dt>'
              f"<dd>{safe_text(aggregate.host or '–')}</dd></div><div><dt>runs</dt>"
              f"<dd>{len(aggregate.runs)}</dd></div></dl></header>")  # fmt: skip
    return page(f"wxo-load repeat: {name}", header + runs + repeated_section(aggregate))


__all__ = ["aggregate_report_html", "repeated_section"]
