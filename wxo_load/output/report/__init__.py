"""wxo_load.output.report: the self-contained report.html, built from saved results.

Modules, bottom up: `svg` (formatting, ticks, plot frame, axes), `charts` (line, stacked-bar,
histogram and grouped-bar charts), `page` (escaping, sections, cards, tables, legends, CSS),
`collect` (one pass over the records, the time axis), the sections (`overview`, `metrics`,
`outcomes`, `load`, `waterfall`) and `html` (`build_report_html`, the page in order).
"""

from wxo_load.output.report.charts import grouped_bars, line_chart, log_histogram, stacked_bars
from wxo_load.output.report.collect import Collected, Timebase
from wxo_load.output.report.html import build_report_html
from wxo_load.output.report.load import load_section
from wxo_load.output.report.metrics import METRIC_TITLES
from wxo_load.output.report.page import CSS, card, legend, page, safe_text, section, table
from wxo_load.output.report.svg import (
    Frame,
    Point,
    Series,
    axes,
    empty_chart,
    fmt_num,
    fmt_time,
    log_ticks,
    nice_max,
    nice_step,
    nice_ticks,
    path_coords,
    svg_open,
)
from wxo_load.output.report.waterfall import WaterfallRuns, phases, section_html, waterfall_svg

__all__ = [
    "CSS",
    "METRIC_TITLES",
    "Collected",
    "Frame",
    "Point",
    "Series",
    "Timebase",
    "WaterfallRuns",
    "axes",
    "build_report_html",
    "card",
    "empty_chart",
    "fmt_num",
    "fmt_time",
    "grouped_bars",
    "legend",
    "line_chart",
    "load_section",
    "log_histogram",
    "log_ticks",
    "nice_max",
    "nice_step",
    "nice_ticks",
    "page",
    "path_coords",
    "phases",
    "safe_text",
    "section",
    "section_html",
    "stacked_bars",
    "svg_open",
    "table",
    "waterfall_svg",
]
