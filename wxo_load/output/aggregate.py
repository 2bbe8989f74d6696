"""A repeated run's `aggregate/`: aggregate.json (the typed `Aggregate`), aggregate.md (its
figures as Markdown: mean, standard deviation, coefficient of variation, the confidence
interval of the mean and the prediction interval of one more run, overall and per persona) and
report.html (output/report/repeated.py).
Pure but for `write_aggregate`, the one writer of the directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from wxo_load.core import fmt
from wxo_load.core.aggregate_model import Aggregate, FigureStats, Interval, dump_aggregate
from wxo_load.core.metrics import COUNT
from wxo_load.edge.results import AGGREGATE_FILE, REPORT_FILE
from wxo_load.output.report.repeated import aggregate_report_html

AGGREGATE_MD_FILE = "aggregate.md"
HEADER = ("figure", "runs", "mean", "stdev", "CV", "CI of the mean", "PI of one run", "values")


def _interval(interval: Interval | None, kind: str) -> str:
    if interval is None:
        return "–"
    return f"{fmt.value(interval.low, kind)} – {fmt.value(interval.high, kind)}"


def _row(figure: str, stats: FigureStats) -> str:
    kind = stats.kind
    values = ", ".join("–" if v is None else fmt.value(v, kind) for v in stats.values)
    cells = (
        f"`{figure}`",
        str(stats.n),
        "–" if stats.mean is None else fmt.value(stats.mean, kind),
        "–" if stats.stdev is None else fmt.value(stats.stdev, kind),
        "–" if stats.cv is None else f"{fmt.num(stats.cv * 100)}%",
        _interval(stats.ci, kind),
        _interval(stats.pi, kind),
        values,
    )
    return "| " + " | ".join(cells) + " |"


def _table(rows: Iterable[tuple[str, FigureStats]]) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |", "| --- |" + " ---: |" * (len(HEADER) - 2) + " --- |"]
    lines += [_row(figure, stats) for figure, stats in rows if stats.n]
    return lines


def aggregate_markdown(aggregate: Aggregate) -> str:
    """aggregate.md: what was repeated, each run's exit code, then the figures."""
    level = f"{fmt.num(aggregate.confidence * 100)}%"
    lines = [
        f"## wxo-load repeat: {aggregate.n} of {len(aggregate.runs)} runs"
        + (f" of {aggregate.scenario}" if aggregate.scenario else ""),
        "",
        f"Intervals at {level}, t-based (Student's t, n - 1 degrees of freedom): the confidence "
        "interval (CI) of the mean, and the prediction interval (PI) where one more run of the "
        "same build falls. One run gives a mean and nothing else.",
        "",
        "| run | results | exit code |",
        "| ---: | --- | ---: |",
        *(f"| {r.index} | `{r.results_dir}` | {r.exit_code} |" for r in aggregate.runs),
        "",
        "### Figures",
        "",
        *_table((f, s) for f, s in aggregate.figures.items() if s.kind != COUNT or f == "runs"),
    ]
    for name, table in (aggregate.personas or {}).items():
        lines += ["", f"### Persona {name}", "", *_table(table.items())]
    return "\n".join(lines) + "\n"


def write_aggregate(directory: Path, aggregate: Aggregate) -> list[Path]:
    """Write aggregate.json, aggregate.md and report.html into `directory` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        (AGGREGATE_FILE, dump_aggregate(aggregate)),
        (AGGREGATE_MD_FILE, aggregate_markdown(aggregate).encode("utf-8")),
        (REPORT_FILE, aggregate_report_html(aggregate).encode("utf-8")),
    ):
        path = directory / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        written.append(path)
    return written


__all__ = ["AGGREGATE_MD_FILE", "aggregate_markdown", "write_aggregate"]
