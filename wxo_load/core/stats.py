"""Exact, mergeable statistics and the `summary.json` they produce, in one import.

wxo_load.core.hdr       Timing: one metric's HDR histogram and exact counters; nearest rank
wxo_load.core.book      MetricsBook: every timing and counter of a test, and its wire format
wxo_load.core.summary   build_summary: summary.json from a MetricsBook
"""

from __future__ import annotations

from wxo_load.core.book import MetricsBook
from wxo_load.core.hdr import HIGHEST_US, PERCENTILES, Timing, nearest_rank, nearest_rank_ms
from wxo_load.core.summary import SCHEMA, build_summary, iso_utc

__all__ = [
    "HIGHEST_US",
    "PERCENTILES",
    "SCHEMA",
    "MetricsBook",
    "Timing",
    "build_summary",
    "iso_utc",
    "nearest_rank",
    "nearest_rank_ms",
]
