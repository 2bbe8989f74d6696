"""What one test measures and decides. `Session.begin_test` gives the recorder a fresh
`TestState` at each test_start: the figures of the last test are dropped there and nowhere else.

Imports no locust, so it can be built and checked in a plain process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wxo_load.core.book import MetricsBook
from wxo_load.core.interval import IntervalTimings
from wxo_load.core.summary_model import Summary
from wxo_load.core.window import MeasuredWindow
from wxo_load.output.files import ResultsWriter

MASTER, WORKER, LOCAL = "master", "worker", "local"  # a process's role (Locust's runner class)


@dataclass
class TestState:
    """One test's figures on one process. A local runner records straight into `total`
    (`book is total`): merging a second's histograms in the flush would block the event loop
    for ~10 ms every second."""

    __test__ = False  # not a pytest test class

    book: MetricsBook = field(default_factory=MetricsBook)  # this process, since the last report
    total: MetricsBook = field(default_factory=MetricsBook)  # master / local: everything so far
    progress_book: MetricsBook = field(default_factory=MetricsBook)  # master: since the last line
    progress_first_text_ms: list[float] = field(default_factory=list)  # local: since the last line
    progress_lag_ms: list[float] = field(default_factory=list)
    interval: IntervalTimings = field(default_factory=IntervalTimings)  # since the last point
    started_at: float | None = None
    measured: MeasuredWindow = field(default_factory=MeasuredWindow)  # what counts (window.py)
    writer: ResultsWriter | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    users_peak: int = 0
    finals: set[str] = field(default_factory=set)  # master: workers whose last report is in
    worker_cpu: dict[str, tuple[float, float]] = field(default_factory=dict)  # (peak %, CPU s)
    workers_seen: set[str] = field(default_factory=set)  # master: every worker of this test
    workers_missing: set[str] = field(default_factory=set)  # master: ever marked missing by Locust
    workers_unreadable: set[str] = field(default_factory=set)  # master: reports it cannot read
    final_pending: bool = False  # worker: the test stopped, the next report is its last
    final_sent: bool = False  # worker: the last report went; later ones carry no payload
    finals_awaited: bool = False  # master: the test stopped and the final reports were awaited
    finished: bool = False
    aborted_by: Any = None  # the gate verdict that stopped the test early
    abort_message: str | None = None  # a harness error that stopped the test (exit 2)
    final_summary: Summary | None = None  # once the test ended
    final_verdicts: list[Any] = field(default_factory=list)

    @classmethod
    def for_process(cls, local: bool) -> TestState:
        """A new test's state; `local`: this process both generates load and writes results."""
        state = cls()
        if local:
            state.book = state.total
        return state
