"""The Locust integration's pure units, in this process with fake runners: no Locust subprocess,
and no import of locust (which would monkey-patch this process with gevent).

(a) worker hand-off: reports shipped by workers and absorbed by the master give exactly the
counts and percentiles of one book that saw every run; the final reports are waited for, a
worker that never sends its final report is named.
(b) session set-up: scenario + options -> host, gates, load defaults; the deployment computed
once per host; one per-test reset.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import WxoLoadError
from wxo_load.core.records import OK, TIMEOUT, ConversationRecord, RunRecord
from wxo_load.locust_plugin import handoff
from wxo_load.locust_plugin import session as session_mod
from wxo_load.locust_plugin.progress import CpuMeter
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.session import Session
from wxo_load.locust_plugin.state import LOCAL, MASTER, WORKER, TestState
from wxo_load.output.files import ResultsWriter

ROOT = Path(__file__).resolve().parents[2]
METRICS = ("run_started", "first_text", "done", "client_lag")
PERCENTILES = (50, 90, 95, 99, 99.9, 100)


# -- fakes -----------------------------------------------------------------------------------


def _events(fired: list[dict[str, Any]] | None = None) -> Any:
    sink = fired if fired is not None else []
    return SimpleNamespace(request=SimpleNamespace(fire=lambda **kw: sink.append(kw)))


def _run(serial: int, worker: int, outcome: str = OK) -> RunRecord:
    base = 40.0 + (serial * 37 + worker * 101) % 900  # spread over a few hundred ms
    ok = outcome == OK
    return RunRecord(
        started_at_unix=1_700_000_000.0 + serial * 0.1, user_id=f"w{worker}-u1",
        conversation_id=f"c{worker}-{serial}", turn_index=0, request_id=f"r{worker}-{serial}",
        outcome=outcome, run_started_ms=base / 4, first_delta_ms=base / 2, first_text_ms=base,
        message_created_ms=base * 2 if ok else None, done_ms=base * 2.5 if ok else None,
        total_ms=base * 2.5,
    )  # fmt: skip


def _lags(serial: int) -> list[float]:
    return [0.1 * (serial % 7), 0.05 * (serial % 13)]


def _worker(index: int) -> Recorder:
    recorder = Recorder(_events())
    recorder.test = TestState.for_process(local=False)
    recorder.local = False
    recorder.worker_name = f"worker-{index}"
    return recorder


def _measure(recorder: Recorder, reference: MetricsBook, worker: int, serials: range) -> None:
    for serial in serials:
        run = _run(serial, worker, TIMEOUT if serial % 11 == 0 else OK)
        recorder.record_run(run, _lags(serial))
        reference.record_run(run)
        for lag in _lags(serial):
            reference.record_client_lag_ms(lag)
        conv = ConversationRecord(
            started_at_unix=run.started_at_unix, user_id=run.user_id,
            conversation_id=run.conversation_id, runs=1, total_ms=run.total_ms,
        )  # fmt: skip
        recorder.record_conversation(conv)
        reference.record_conversation(conv)


def _take(recorder: Recorder, cpu: CpuMeter, final: bool) -> Any:
    """A worker's report; `final`: its test stopped (the last report of the test)."""
    recorder.test.final_pending = final
    return handoff.take_report(recorder, cpu, None)


def _over_the_wire(payload: dict[str, Any]) -> dict[str, Any]:
    """As Locust ships a worker report (msgpack, locust.rpc.protocol)."""
    raw = msgpack.packb(payload, use_bin_type=True)
    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


class FakeRunner:
    """A master runner's surface used by the hand-off: clients, state, messages to workers."""

    def __init__(
        self, client_ids: list[str], on_message: Any, missing: frozenset[str] = frozenset()
    ) -> None:
        states = {c: "missing" if c in missing else "running" for c in client_ids}
        self.clients = SimpleNamespace(
            all=[SimpleNamespace(id=c, state=states[c]) for c in client_ids]
        )
        self.states: list[str] = []
        self.sent: list[tuple[str, str]] = []
        self.server = SimpleNamespace(send_to_client=self._send)
        self.on_message = on_message

    def update_state(self, state: str) -> None:
        self.states.append(state)

    def _send(self, message: tuple[str, str]) -> None:
        self.sent.append(message)
        self.on_message(*message)


def _message(kind: str, data: Any, client_id: str) -> tuple[str, str]:
    assert data is None
    return kind, client_id


# -- (a) worker hand-off ---------------------------------------------------------------------


def _master_test(tmp_path: Path) -> TestState:
    test = TestState.for_process(local=False)
    test.writer = ResultsWriter(tmp_path / "results")
    return test


def _assert_same_figures(merged: MetricsBook, reference: MetricsBook) -> None:
    assert merged.runs_total == reference.runs_total
    assert merged.runs_failed == reference.runs_failed
    assert merged.runs_by_outcome == reference.runs_by_outcome
    assert merged.conversations_total == reference.conversations_total
    for metric in METRICS:
        for p in PERCENTILES:
            expected = reference.percentile_ms(metric, p)
            assert merged.percentile_ms(metric, p) == expected, (metric, p)
        assert merged.metric_summary(metric) == reference.metric_summary(metric)


def test_workers_reports_absorbed_by_the_master_merge_exactly(tmp_path: Path) -> None:
    master, reference = _master_test(tmp_path), MetricsBook()
    workers = {f"w{i}": _worker(i) for i in range(3)}
    cpu = CpuMeter()
    for report in range(4):  # a few report intervals, every worker reporting each time
        for index, (client_id, recorder) in enumerate(workers.items()):
            _measure(recorder, reference, index, range(report * 50, report * 50 + 17 + index * 5))
            payload = _take(recorder, cpu, final=report == 3)
            handoff.absorb(master, None, client_id, _over_the_wire(payload))
            assert recorder.pending_runs == [] and recorder.test.book.runs_total == 0
    _assert_same_figures(master.total, reference)
    assert master.finals == set(workers) == master.workers_seen
    assert set(master.worker_cpu) == set(workers)
    master.writer.close()  # type: ignore[union-attr]
    lines = (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    assert len(lines) == reference.runs_total


def test_a_report_with_no_test_running_is_merged_but_not_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master, worker, reference = TestState.for_process(local=False), _worker(0), MetricsBook()
    _measure(worker, reference, 0, range(5))
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        handoff.absorb(master, None, "w0", _take(worker, CpuMeter(), final=False))
    assert master.total.runs_total == 5
    assert "arrived with no test running; 5 runs ignored" in caplog.text


def test_a_report_after_the_results_were_written_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker's last report can reach the master after it wrote the results and closed the
    files (a test stopped by a 401): said in the log, never a traceback."""
    master, worker, reference = _master_test(tmp_path), _worker(0), MetricsBook()
    master.writer.close()  # type: ignore[union-attr]
    _measure(worker, reference, 0, range(3))
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        handoff.absorb(master, None, "w0", _take(worker, CpuMeter(), final=True))
    assert "arrived after the results were written; 3 runs ignored" in caplog.text


def _stop_test(
    tmp_path: Path, answering: set[str], delay_sleeps: int, missing: frozenset[str] = frozenset()
) -> tuple[Any, ...]:
    """Workers w0, w1 with runs measured; those in `answering` send their final report
    `delay_sleeps` sleeps of the master after its stop message; those in `missing` are marked
    missing by Locust's heartbeat check."""
    master, reference, cpu = _master_test(tmp_path), MetricsBook(), CpuMeter()
    workers = {f"w{i}": _worker(i) for i in range(2)}
    for index, recorder in enumerate(workers.values()):
        _measure(recorder, reference, index, range(20))
    due: dict[str, int] = {}
    sleeps: list[float] = []

    def on_message(kind: str, client_id: str) -> None:
        if kind == "stop" and client_id in answering:
            due[client_id] = delay_sleeps
        if kind == "quit":
            assert client_id not in due, "told to quit before its final report came"

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        for client_id in list(due):
            due[client_id] -= 1
            if due[client_id] <= 0:
                del due[client_id]
                payload = _take(workers[client_id], cpu, final=True)
                handoff.absorb(master, None, client_id, _over_the_wire(payload))

    runner = FakeRunner(list(workers), on_message, missing)
    lost = handoff.wait_for_final_reports(
        runner, master, 0.3, message=_message, stopping="stopping", missing_state="missing",
        sleep=sleep,
    )  # fmt: skip
    return master, reference, runner, lost, sleeps


def test_the_master_waits_for_every_final_report(tmp_path: Path) -> None:
    master, reference, runner, missing, sleeps = _stop_test(tmp_path, {"w0", "w1"}, 3)
    assert missing == set()
    assert len(sleeps) == 3  # waited exactly until the last final report came, no longer
    assert runner.states == ["stopping"]
    assert runner.sent == [("stop", "w0"), ("stop", "w1"), ("quit", "w0"), ("quit", "w1")]
    _assert_same_figures(master.total, reference)
    assert master.finals == {"w0", "w1"}


def test_a_lost_worker_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wxo_load"):
        master, _reference, runner, missing, sleeps = _stop_test(tmp_path, {"w0"}, 1)
    assert missing == {"w1"}
    assert "1 worker(s) lost (w1): marked missing, or no final report" in caplog.text
    assert ("quit", "w1") in runner.sent  # told to quit all the same
    assert master.finals == {"w0"} and master.workers_seen == {"w0", "w1"}
    assert master.total.runs_total == 20  # w0's runs only
    assert len(sleeps) > 1  # it waited until the deadline
    assert handoff.workers_summary(master, True) == {"seen": 2, "lost": 1, "lost_ids": ["w1"]}


def test_a_worker_marked_missing_is_lost_and_not_waited_for(tmp_path: Path) -> None:
    """Locust's heartbeat check marked w1 missing: it cannot answer, so the master does not wait
    for it; the runs both workers reported before stay counted."""
    master, _reference, _runner, missing, sleeps = _stop_test(tmp_path, {"w0"}, 1, {"w1"})
    assert missing == {"w1"} and master.workers_missing == {"w1"}
    assert len(sleeps) == 1  # w0's final report came: nothing else to wait for
    assert handoff.workers_summary(master, True) == {"seen": 2, "lost": 1, "lost_ids": ["w1"]}


def test_during_the_test_only_workers_marked_missing_count_as_lost(tmp_path: Path) -> None:
    master = _master_test(tmp_path)
    runner = FakeRunner(["w0", "w1"], lambda *_: None, {"w1"})
    handoff.note_workers(runner, master, "missing")
    assert master.workers_seen == {"w0", "w1"}
    assert handoff.lost_workers(master) == ["w1"]  # w0 has sent no final report: not yet due
    assert handoff.workers_summary(master, False) == {"seen": 1, "lost": 0, "lost_ids": []}


def test_a_worker_recorder_fires_locust_rows_and_keeps_no_window() -> None:
    fired: list[dict[str, Any]] = []
    recorder = Recorder(_events(fired))
    recorder.test, recorder.local, recorder.worker_name = TestState(), False, "worker-2"
    recorder.record_run(_run(1, 2), [0.5])
    recorder.record_run(_run(2, 2, TIMEOUT), [])
    assert [f["name"] for f in fired] == ["done", "done"]
    assert fired[0]["exception"] is None and str(fired[1]["exception"]) == TIMEOUT
    assert recorder.test.progress_first_text_ms == [] and recorder.test.interval is not None
    runs, _ = recorder.take_pending()
    assert [r["worker"] for r in runs] == ["worker-2", "worker-2"]


# -- (b) session set-up ----------------------------------------------------------------------

SCENARIO = """\
name: unit
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
host: http://localhost:4321/
load:
  users: 7
  spawn_rate: 3
  run_time: 20s
conversation:
  turns: 1
prompts:
  messages: [hello]
gates:
  - first_text.p95 < 3000ms
"""


class FakeProvider:
    def __init__(self) -> None:
        self.logins = 0

    def token(self) -> str:
        self.logins += 1
        return "t"

    def close(self) -> None:
        pass


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts deployment_for and resolve_auth calls; no login goes to the network."""
    counts = {"deployment_for": 0, "resolve_auth": 0}
    real = session_mod.deployment_for

    def deployment_for(*args: Any) -> Any:
        counts["deployment_for"] += 1
        return real(*args)

    def resolve_auth(settings: Any, host: str | None) -> tuple[FakeProvider, str | None]:
        counts["resolve_auth"] += 1
        return FakeProvider(), host.rstrip("/") if host else None

    monkeypatch.setattr(session_mod, "deployment_for", deployment_for)
    monkeypatch.setattr(session_mod, "resolve_auth", resolve_auth)
    return counts


def _env(tmp_path: Path, **options: Any) -> Any:
    path = tmp_path / "unit.yaml"
    path.write_text(SCENARIO)
    defaults = dict(
        scenario=str(path), locustfile=str(tmp_path / "locustfile.py"), agent_id=None,
        gate=["done.p99 < 5s"], regression=None, baseline=None, num_users=None, spawn_rate=None,
        run_time=None, host=None, proxy=None, deployment=None, mock_profile=None,
        locust_rows="run",
    )  # fmt: skip
    parsed = SimpleNamespace(**{**defaults, **options})
    return SimpleNamespace(host=None, parsed_options=parsed, runner=SimpleNamespace(worker_index=3))


def test_prepare_resolves_host_gates_and_load_defaults(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    env = _env(tmp_path, num_users=2)
    session = Session(env)
    session.prepare()
    options = env.parsed_options
    assert env.host == options.host == "http://localhost:4321"
    assert [g.text for g in session.gates] == ["first_text.p95 < 3000ms", "done.p99 < 5s"]
    assert (options.num_users, options.spawn_rate, options.run_time) == (2, 3, 20)  # -u wins
    assert session.scenario is not None and options.wxo_scenario["name"] == "unit"
    assert calls == {"deployment_for": 1, "resolve_auth": 1}
    assert session.deployment is not None and session.deployment.kind == "local"


def test_prepare_stops_on_a_regression_gate_without_baseline(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    session = Session(_env(tmp_path, regression=["first_text.p95 +10%"]))
    with pytest.raises(WxoLoadError, match="need a baseline"):
        session.prepare()


def _dirty(recorder: Recorder) -> None:
    """What a finished test leaves behind."""
    test = recorder.test
    test.total.record_run(_run(1, 0))
    test.finished, test.aborted_by, test.abort_message = True, object(), "refused"
    test.finals.add("w0")
    test.timeline.append({"t_s": 1.0})
    test.final_summary, test.writer = {"runs": {}}, object()  # type: ignore[assignment]


def _assert_fresh(test: TestState) -> None:
    assert test.total.runs_total == 0 and test.book.runs_total == 0
    assert not test.finished and test.aborted_by is None and test.abort_message is None
    assert test.finals == set() and test.timeline == [] and test.writer is None
    assert test.final_summary is None and test.final_verdicts == [] and test.started_at is None


def test_master_test_start_resets_once_and_reuses_the_deployment(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    env = _env(tmp_path)
    session, recorder = Session(env), Recorder(_events())
    session.prepare()
    for _test in range(2):  # two tests of a web-UI session
        _dirty(recorder)
        scenario = session.begin_test(MASTER, recorder, on_refused=print)
        _assert_fresh(recorder.test)
        assert scenario is session.scenario and session.tokens is None  # the master has no users
    assert calls == {"deployment_for": 1, "resolve_auth": 1}  # at init only; test_start reuses it
    env.host = "http://127.0.0.1:9999"  # typed in the web UI's form
    session.begin_test(MASTER, recorder, on_refused=print)
    assert calls["deployment_for"] == 2
    env.host = "localhost:9999"
    _dirty(recorder)
    with pytest.raises(WxoLoadError, match="not an http"):
        session.begin_test(MASTER, recorder, on_refused=print)
    _assert_fresh(recorder.test)  # reset before the check: no results for a test that cannot start


def test_local_runner_test_start_connects_and_records_into_the_totals(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    env = _env(tmp_path, locust_rows="all")
    session, recorder = Session(env), Recorder(_events())
    session.prepare()
    session.begin_test(LOCAL, recorder, on_refused=print)
    # the login check at init gives the users' provider at test_start: auth resolved once
    assert calls == {"deployment_for": 1, "resolve_auth": 1}
    assert isinstance(session.tokens, FakeProvider) and session.ssl_context is None
    test = recorder.test
    assert test.book is test.total and recorder.local and recorder.all_rows
    assert recorder.worker_name == "local"
    recorder.record_run(_run(1, 0), [0.3])
    assert test.total.runs_total == 1
    assert test.progress_first_text_ms == []  # no progress line reads it: nothing kept (web UI)
    recorder.keep_progress = True  # headless with --progress-interval
    recorder.record_run(_run(2, 0), [0.3])
    assert test.progress_first_text_ms == [_run(2, 0).first_text_ms] and test.progress_lag_ms == [
        0.3
    ]


def test_worker_test_start_takes_the_masters_scenario(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    master_env = _env(tmp_path)
    Session(master_env).prepare()
    env = _env(tmp_path, wxo_scenario=master_env.parsed_options.wxo_scenario)
    env.host = master_env.host
    session, recorder = Session(env), Recorder(_events())
    scenario = session.begin_test(WORKER, recorder, on_refused=print)
    assert scenario.name == "unit" and session.scenario is scenario
    assert recorder.worker_name == "worker-3" and not recorder.local
    assert recorder.test.book is not recorder.test.total
    assert calls["deployment_for"] == 2  # once on the master, once on the worker
    assert isinstance(session.tokens, FakeProvider)


def test_a_worker_without_the_scenario_cannot_start(tmp_path: Path, calls: dict[str, int]) -> None:
    env = _env(tmp_path)
    env.host = "http://localhost:4321"
    with pytest.raises(WxoLoadError, match="no scenario reached this worker"):
        Session(env).begin_test(WORKER, Recorder(_events()), on_refused=print)


def test_the_pure_units_import_no_locust() -> None:
    code = (
        "import sys\n"
        "import wxo_load.locust_plugin\n"
        "from wxo_load.locust_plugin import finish, handoff, progress, recording, session, state\n"
        "from wxo_load.locust_plugin import control, strategies, webtab, window\n"
        "assert 'locust' not in sys.modules, 'locust was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_a_gate_on_a_persona_the_scenario_lacks_stops_before_the_test(
    tmp_path: Path, calls: dict[str, int]
) -> None:
    session = Session(_env(tmp_path, gate=["personas.hr.first_text.p95 < 2s"]))
    with pytest.raises(WxoLoadError, match=r"no persona `hr` \(it has no personas\)"):
        session.prepare()
