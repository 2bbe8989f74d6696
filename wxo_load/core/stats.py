"""Exact, mergeable statistics and the `summary.json` they produce, in one import.

    wxo_load.core.hdr       Timing: one metric's HDR histogram and exact counters; nearest rank
    wxo_load.core.book      MetricsBook: every timing and counter of a test, and its wire format
    wxo_load.core.summary   build_summary: summary.json from a MetricsBook
"""

from __future__ import annotations

from wxo_load.core.book import WIRE_SCHEMA, MetricsBook
from wxo_load.core.hdr import (
    HIGHEST_US,
    LOWEST_US,
    PERCENTILES,
    SIGNIFICANT_FIGURES,
    SUMMARY_FIELDS,
    Timing,
    nearest_rank,
    nearest_rank_ms,
    to_us,
)
from wxo_load.core.metrics import CLIENT_LAG, FIRST, FOLLOW_UP, SCHEDULE_LAG, TURN_CLASSES
from wxo_load.core.summary import SCHEMA, build_summary, iso_utc

__all__ = [
    "CLIENT_LAG",
    "FIRST",
    "FOLLOW_UP",
    "HIGHEST_US",
    "LOWEST_US",
    "PERCENTILES",
    "SCHEDULE_LAG",
    "SCHEMA",
    "SIGNIFICANT_FIGURES",
    "SUMMARY_FIELDS",
    "TURN_CLASSES",
    "WIRE_SCHEMA",
    "MetricsBook",
    "Timing",
    "build_summary",
    "iso_utc",
    "nearest_rank",
    "nearest_rank_ms",
    "to_us",
]
