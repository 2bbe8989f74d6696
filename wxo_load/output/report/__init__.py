"""wxo_load.output.report: the self-contained report.html, built from saved results.

Modules, bottom up: `svg` (formatting, ticks, plot frame, axes), `charts` (line, stacked-bar,
histogram and grouped-bar charts), `page` (escaping, sections, cards, tables, legends, CSS),
`collect` (one pass over the records, the time axis), the sections (`overview`, `metrics`,
`outcomes`, `load`, `waterfall`) and `html` (`build_report_html`, the page in order).

This package imports none of its modules: import a name from the module that defines it.
"""
