"""Moving data to the master: a worker's report payload, the master's merge, the final reports.

A worker ships what it measured since its last report in Locust's own worker report (`wxo`
key); the master merges the books and appends the records to the results files as they
arrive. The quit race (locust issue #1426): the master waits only 0.5 s for the workers' last
report, so when the test stops the master tells the workers to stop their users and waits for
each one's final report (`wait_for_final_reports`) before Locust quits.

A lost worker (`lost_workers`): one Locust marked missing (no heartbeat for ~3 s), whose
final report never came, or whose reports the master cannot read (another wxo-load version, a
damaged report: logged once, with what to do). What it reported before stays counted; what it
measured since is gone, and summary.json's `workers` says so (`workers.lost`, a gate figure).

The report is a `WorkerReport` (msgspec, `wxo_load.core.wire`); a worker attaches none after its
final report of a test. Locust's worker sends one more report when the master tells it to quit,
after the master wrote the results: it carried nothing (the final report took everything) but
was logged as "arrived after the results were written". Only a report that carries records
and arrives late (from a worker already counted lost) is logged now.

Imports no locust: the runner, Locust's message class and its STOPPING and MISSING states are
passed in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from wxo_load import __version__
from wxo_load.core.book import BookWire, MetricsBook
from wxo_load.core.errors import WireFormatError
from wxo_load.core.wire import SAME_VERSION, decode, encode
from wxo_load.locust_plugin.progress import CpuMeter
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.state import TestState

if TYPE_CHECKING:
    from wxo_load.locust_plugin.arrival import ArrivalDispatcher
    from wxo_load.locust_plugin.control import LoadControl

log = logging.getLogger("wxo_load")

FINAL_REPORT_GRACE_S = 10.0


REPORT_SCHEMA = "wxo-load/report/v2"


class WorkerReport(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What a worker measured since its last report, in Locust's worker report (`wxo` key).
    `runs` and `conversations` are the records as written to the results files
    (`RunRecord.to_dict`); `dropped` the open model's dropped arrivals ([scheduled unix,
    reason]); `scheduled` the arrivals it reached; `final`: its last report of the test."""

    schema: str  # REPORT_SCHEMA: checked first, so another version's report is named as such
    version: str  # the worker's wxo-load version, for the message when the schema differs
    worker: str
    book: BookWire
    runs: list[dict[str, object]] = []
    conversations: list[dict[str, object]] = []
    final: bool = False
    dropped: list[list[float | str]] = []
    scheduled: int = 0
    cpu_percent_max: float = 0.0
    cpu_s: float = 0.0

    def carries_records(self) -> bool:
        return bool(self.runs or self.conversations)


def take_report(
    recorder: Recorder, cpu: CpuMeter, arrivals: ArrivalDispatcher | None
) -> object | None:
    """A worker's report payload: what it measured since the last one, as builtins; None once
    the test's final report went (Locust's worker reports again when told to quit)."""
    test = recorder.test
    if test.final_sent:
        return None
    final, test.final_pending = test.final_pending, False
    test.final_sent = final
    book = test.book.take()
    runs, convs = recorder.take_pending()
    cpu.sample()
    report = WorkerReport(
        REPORT_SCHEMA, __version__, recorder.worker_name, book.packed(),
        runs=runs, conversations=convs,
        final=final, dropped=arrivals.take_dropped() if arrivals is not None else [],
        scheduled=arrivals.take_scheduled() if arrivals is not None else 0,
        cpu_percent_max=cpu.peak_percent, cpu_s=cpu.used_s,
    )  # fmt: skip
    return encode(report)


def read_report(payload: object) -> WorkerReport:
    """A worker's report payload as the master reads it; WireFormatError (saying what to do) when it
    comes from another wxo-load version or is damaged."""
    schema = payload.get("schema") if isinstance(payload, dict) else None
    if schema != REPORT_SCHEMA:
        version = payload.get("version") if isinstance(payload, dict) else None
        raise WireFormatError(
            f"its report is in another format ({schema or 'no schema'}"
            f"{f', wxo-load {version}' if version else ''}; this master, wxo-load {__version__}, "
            f"reads {REPORT_SCHEMA}). {SAME_VERSION}."
        )
    return decode(payload, WorkerReport, "its report")


def absorb(test: TestState, load: LoadControl | None, client_id: str, payload: object) -> None:
    """Master: merge one worker report. One that cannot be read is logged once per worker and
    makes the worker lost (`lost_workers`): its figures are missing from the results."""
    if client_id in test.workers_unreadable:
        return
    test.workers_seen.add(client_id)
    try:
        report = read_report(payload)
        incoming = MetricsBook.unpack(report.book)
    except WireFormatError as exc:
        test.workers_unreadable.add(client_id)
        log.error("wxo-load: worker %s is counted as lost: %s", client_id, exc)
        return
    _merge(test, load, client_id, report, incoming)
    test.worker_cpu[client_id] = (report.cpu_percent_max, report.cpu_s)
    if report.final:
        test.finals.add(client_id)


def _merge(
    test: TestState,
    load: LoadControl | None,
    client_id: str,
    report: WorkerReport,
    incoming: MetricsBook,
) -> None:
    test.total.merge(incoming)
    test.progress_book.merge(incoming)
    test.interval.merge_book(incoming)
    if test.writer is None or test.writer.closed:  # no test yet, or its results are written
        if report.carries_records() or not incoming.is_empty():
            when = (
                "with no test running" if test.writer is None else "after the results were written"
            )
            log.warning("wxo-load: a report from %s arrived %s; %d runs ignored",
                        client_id, when, len(report.runs))  # fmt: skip
        return
    test.writer.append_runs(report.runs)
    test.writer.append_conversations(report.conversations)
    if load is not None:
        load.observe(report.runs, report.conversations, report.dropped, report.scheduled)


def flush_local(
    recorder: Recorder, load: LoadControl | None, arrivals: ArrivalDispatcher | None
) -> None:
    """Local runner: append the records measured since the last flush to the files."""
    runs, convs = recorder.take_pending()
    writer = recorder.test.writer
    if writer is not None:
        writer.append_runs(runs)
        writer.append_conversations(convs)
    if load is not None:
        dropped = arrivals.take_dropped() if arrivals else []
        load.observe(runs, convs, dropped, arrivals.take_scheduled() if arrivals else 0)


def note_workers(runner: Any, test: TestState, missing_state: str) -> None:
    """Master, every few seconds and at the stop: the workers Locust knows, those it marked
    missing, and those of them that came back (heartbeating again: a starved worker, not a dead
    one; its reports were merged all along, and its final report is awaited like any other)."""
    for client in runner.clients.all:
        test.workers_seen.add(client.id)
        if client.state == missing_state and client.id not in test.workers_missing:
            test.workers_missing.add(client.id)
            log.warning("wxo-load: worker %s stopped sending heartbeats (missing; "
                        "--heartbeat-liveness): its users go to the other workers, and unless "
                        "it comes back the runs it measured since its last report are lost",
                        client.id)  # fmt: skip
        elif client.state != missing_state and client.id in test.workers_missing:
            test.workers_missing.discard(client.id)
            log.warning("wxo-load: worker %s is heartbeating again: not lost", client.id)


def lost_workers(test: TestState) -> list[str]:
    """Master: the workers lost so far. Once the test stopped, every worker whose final report
    did not come; before that, those Locust marked missing (unless their final report came)."""
    lost = test.workers_seen if test.finals_awaited else test.workers_missing
    return sorted((lost - test.finals) | test.workers_unreadable)


def workers_summary(test: TestState, master: bool) -> dict[str, Any]:
    """summary.json's `workers`: load-generating processes seen and lost (a local runner: 1)."""
    if not master:
        return {"seen": 1, "lost": 0, "lost_ids": []}
    lost = lost_workers(test)
    return {"seen": len(test.workers_seen), "lost": len(lost), "lost_ids": lost}


def wait_for_final_reports(
    runner: Any,
    test: TestState,
    limit_s: float,
    *,
    message: Callable[[str, Any, str], Any],
    stopping: str,
    missing_state: str,
    sleep: Callable[[float], Any],
) -> set[str]:
    """Master, when the test stops: stop the workers' users, then wait for their last data;
    returns the workers whose final report did not come.

    The master is moved to `stopping` first, or it would hand new users to a worker that
    reports ready again. Once a worker's final report is in, it is told to quit (Locust's
    own quit message would miss it: a stopped worker leaves the master's client list). A worker
    Locust marked missing is not waited for: it cannot answer.
    """
    note_workers(runner, test, missing_state)
    test.finals_awaited = True
    clients = [c.id for c in runner.clients.all]
    runner.update_state(stopping)
    for client_id in clients:
        runner.server.send_to_client(message("stop", None, client_id))
    deadline = time.monotonic() + limit_s
    awaited = set(clients) - test.workers_missing - test.workers_unreadable
    while time.monotonic() < deadline and not awaited <= test.finals:
        sleep(0.05)
    for client_id in clients:
        runner.server.send_to_client(message("quit", None, client_id))
    missing = set(lost_workers(test))
    if missing:
        log.warning(
            "wxo-load: %d worker(s) lost (%s): marked missing, or no final report within %.0f s",
            len(missing), ", ".join(sorted(missing)), limit_s,
        )  # fmt: skip
    return missing
