"""Recording (every load-generating process, the hot path): users hand their records here.

Each record is classified by the test's measured window (`wxo_load.core.window`) and waits in a
pending list for the results files (a worker ships it to the master); one of the measured window
also goes into this test's `MetricsBook` and becomes Locust request events (`fire`, passed in:
this module imports no locust).
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.metrics import LOCUST_NAMES, LOCUST_RUN_ENTRIES
from wxo_load.core.records import LEFT_OUTCOMES, OK, STOPPED, ConversationRecord, RunRecord
from wxo_load.locust_plugin.state import TestState
from wxo_load.locust_plugin.tool_rows import ToolRows
from wxo_load.output.otel import OtelRecords

PROGRESS_MAX = 200_000  # values of one progress interval, at most


class RunFailure(Exception):
    """The Locust-visible failure of a run: its text is the error class alone (low cardinality)."""


_DONE = LOCUST_NAMES["done"]
_TOOL_ROWS = ToolRows()


class Recorder:
    """This process's records since the last flush or report, and its Locust rows."""

    def __init__(self, events: Any) -> None:
        self.events = events  # Locust's `environment.events`
        self.test = TestState()  # replaced at each test_start (Harness.begin_test)
        # the records as rows (RunRecord.to_dict: what runs.jsonl and a worker's report hold)
        self.pending_runs: list[dict[str, object]] = []
        self.pending_conversations: list[dict[str, object]] = []
        self.worker_name = "local"
        self.local = True  # False on a worker: the master keeps the progress interval
        # a local runner printing progress lines: keep the first-text and lag values they read
        # (nothing else empties these lists: in the web UI they would grow with every run)
        self.keep_progress = False
        self.all_rows = False  # --locust-rows all: every timing is a Locust row of its own
        self.otel: OtelRecords | None = None  # --otel: the records' OpenTelemetry queue

    def take_pending(self) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """(runs, conversations) recorded since the last call."""
        runs, self.pending_runs = self.pending_runs, []
        convs, self.pending_conversations = self.pending_conversations, []
        return runs, convs

    def record_run(self, run: RunRecord, client_lags_ms: list[float]) -> None:
        """A run that just ended: into the results files, and (in the measured window only)
        into the book, Locust's rows and the live figures."""
        run.worker = self.worker_name
        test = self.test
        book = test.book
        run.window = test.measured.classify_record(run.started_at_unix, run.total_ms)
        self.pending_runs.append(run.to_dict())
        if not book.book_run(run):
            return
        book.record_client_lags_ms(client_lags_ms)
        if self.otel is not None:
            self.otel.add_run(run)
        if run.outcome in LEFT_OUTCOMES:  # counted in the book; no timing, no Locust row
            return
        if run.outcome != STOPPED:
            self._fire_run(run)
        if self.local:
            test.interval.record_run(run)
            if not self.keep_progress:
                return
            if run.first_text_ms is not None and len(test.progress_first_text_ms) < PROGRESS_MAX:
                test.progress_first_text_ms.append(run.first_text_ms)
            if len(test.progress_lag_ms) < PROGRESS_MAX:
                test.progress_lag_ms.extend(client_lags_ms)

    def _fire_run(self, run: RunRecord) -> None:
        fire = self.events.request.fire
        for metric, (rtype, name) in (
            LOCUST_RUN_ENTRIES if self.all_rows else LOCUST_RUN_ENTRIES[-1:]
        ):
            value = getattr(run, metric)
            if value is not None and (metric != "done_ms" or run.outcome == OK):
                length = run.answer_chars if metric == "done_ms" else 0
                fire(request_type=rtype, name=name, response_time=value,
                     response_length=length, exception=None, context={})  # fmt: skip
        if run.outcome != OK:
            fire(request_type=_DONE[0], name=_DONE[1], response_time=run.total_ms,
                 response_length=0, exception=RunFailure(run.outcome), context={})  # fmt: skip
        if run.tools and self.all_rows:  # tool rows would count in Locust's RPS: only with `all`
            _TOOL_ROWS.fire(fire, run)

    def record_conversation(self, conv: ConversationRecord) -> None:
        conv.worker = self.worker_name
        conv.window = self.test.measured.classify_record(conv.started_at_unix, conv.total_ms)
        self.pending_conversations.append(conv.to_dict())
        if not self.test.book.book_conversation(conv):
            return
        if self.otel is not None:
            self.otel.add_conversation(conv)
        if conv.outcome == STOPPED or conv.outcome in LEFT_OUTCOMES or not self.all_rows:
            return
        rtype, name = LOCUST_NAMES["conversation"]
        exception = None if conv.outcome == OK else RunFailure(conv.outcome)
        self.events.request.fire(request_type=rtype, name=name, response_time=conv.total_ms,
                                 response_length=conv.turns_completed, exception=exception,
                                 context={})  # fmt: skip

    def record_thread(self, elapsed_ms: float, outcome: str) -> None:
        if outcome == OK and not self.all_rows:
            return  # a failed one is fired: no run follows it, and Locust must see the failure
        rtype, name = LOCUST_NAMES["thread_create"]
        exception = None if outcome == OK else RunFailure(outcome)
        self.events.request.fire(request_type=rtype, name=name, response_time=elapsed_ms,
                                 response_length=0, exception=exception, context={})  # fmt: skip
