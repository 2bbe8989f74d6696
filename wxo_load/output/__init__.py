"""Layer 2b, the outputs: every file and text a test's results become, one module a format, each a
function of the typed `Summary` (and, for the report, the record files). No module outside this
package writes a result file (tests/unit/test_house.py checks it); numbers are written through
`wxo_load.core.fmt`. A new format is one module and one row of FORMATS.

This package imports none of its modules (import the one you use).
"""

from __future__ import annotations

from typing import NamedTuple


class Format(NamedTuple):
    name: str  # what people call it
    module: str  # wxo_load.output.<module>: the function of the model that makes it
    writes: str  # where it goes
    what: str


FORMATS: tuple[Format, ...] = (
    Format("summary.json", "files", "results dir", "the typed Summary (core.summary_codec)"),
    Format("runs.jsonl, conversations.jsonl", "files", "results dir",
           "one record per line, appended as runs end"),
    Format("summary.md", "markdown", "results dir", "short Markdown tables for a CI summary"),
    Format("report.html", "report", "results dir", "one self-contained page of charts"),
    Format("gates.json, junit.xml, $GITHUB_STEP_SUMMARY, the verdict table", "gates",
           "results dir, stdout", "the gates' verdicts and the exit code"),
    Format("aggregate.json, aggregate.md, report.html", "aggregate", "a repeated run's aggregate/",
           "the typed Aggregate of `wxo-load repeat`: means, spread, intervals (report.repeated)"),
    Format("aggregate.schema.json, aggregate-schema.md", "schema", "docs/",
           "the aggregate's schema, generated from its model"),
    Format("Prometheus text", "prometheus", "/wxo/metrics", "live counters and timings"),
    Format("live tables", "live", "Locust's web UI", "the wxo-load tabs' rows"),
    Format("OpenTelemetry metrics and traces", "otel", "an OTLP collector (--otel)",
           "each load generator's records (otel_hist, otel_spans)"),
    Format("summary.schema.json, summary-schema.md", "schema", "docs/",
           "the schema, generated from the model"),
)  # fmt: skip
