"""Process-wide state of a wxo-load test: one `Harness` per Locust process wires the parts.

- `session.Session`: scenario, gates, host, login, deployment, the built-in simulator;
- `state.TestState`: one test's figures, new at each test_start (the only per-test reset);
- `recording.Recorder`: users hand it their records (every load-generating process);
- `handoff`: a worker's report payload, the master's merge, the final reports;
- `progress` and `finish`: timeline, progress line, CPU; summary, results, gates, exit code.

A worker ships its book and records to the master in Locust's own worker report; the master
(or a local runner) merges them, appends the records to the results files as they arrive,
prints progress, and at the end writes the summary and report and applies the gates. Runs cut
off by the stop are recorded as `stopped`, never dropped. The listeners are in listeners.py.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_MISSING, STATE_STOPPING, MasterRunner, WorkerRunner

from wxo_load.config.model import Persona, Scenario
from wxo_load.config.sources import ConversationSource, PersonaSource, PromptSource
from wxo_load.core.answers import AnswerJudge
from wxo_load.core.errors import WireFormatError, WxoLoadError
from wxo_load.core.redact import redact
from wxo_load.core.summary_model import Summary
from wxo_load.core.wire import decode
from wxo_load.locust_plugin import finish, handoff, otel, progress, window
from wxo_load.locust_plugin.arrival import ArrivalDispatcher, ArrivalsBegin, RateStep
from wxo_load.locust_plugin.control import LoadControl
from wxo_load.locust_plugin.progress import LAG_ADVICE, CpuMeter
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.rows import Rows
from wxo_load.locust_plugin.session import EXIT_HARNESS_ERROR, Session, fail_fast
from wxo_load.locust_plugin.shape import WxoShape, install_shape
from wxo_load.locust_plugin.state import LOCAL, MASTER, WORKER, TestState
from wxo_load.locust_plugin.tasks import end_test, kept, repeat
from wxo_load.locust_plugin.webtab import LiveView
from wxo_load.output.files import ResultsWriter

log = logging.getLogger("wxo_load")
# token exchanges are logged by wxo_load.edge.auth
logging.getLogger("httpx").setLevel(logging.WARNING)

FLUSH_INTERVAL_S = 1.0
TIMELINE_INTERVAL_S = 2.0
ABORT_CHECK_INTERVAL_S = 2.0
T = TypeVar("T")
ABORT_MESSAGE = "wxo_abort"  # worker -> master: a harness error that must stop the test


class Harness:
    def __init__(self, environment: Environment) -> None:
        self.env = environment
        self.session = Session(environment)
        self.recorder = Recorder(environment.events)
        self.cpu = CpuMeter()
        self.greenlets: list[gevent.Greenlet] = []
        self.user_serial = 0
        self.view = LiveView(self)
        self.metrics_server: Any = None
        self.load: LoadControl | None = None  # master / local: stages, arrivals, search (shape.py)
        self.arrivals: ArrivalDispatcher | None = None  # every load-generating process, open model
        self.arrival_begin: ArrivalsBegin | None = None  # the master's schedule start, if early
        self.replay_epoch: float | None = None  # prompts.arrivals: recorded (user._recorded_start)
        self._sources: dict[int, tuple[object, ConversationSource]] = {}
        self._judges: dict[int, tuple[object, AnswerJudge]] = {}
        self.rows = Rows(lambda: end_test(self.env))  # data rows: `unique` across the test
        self.warned_personas = False  # users of a persona the scenario no longer has: said once
        # the scenario's user classes (personas.install / add_missing, set by the listeners)
        self.install_users: Callable[[Environment, Scenario], None] = _no_classes
        self.add_missing_users: Callable[[Environment, Scenario], None] = _no_classes
        self.otel: otel.OtelExport | None = None  # --otel, load-generating processes (otel.py)

    @property
    def test(self) -> TestState:
        return self.recorder.test

    @property
    def scenario(self) -> Scenario | None:
        return self.session.scenario

    def source_for(self, scenario: Scenario, persona: Persona | None = None) -> ConversationSource:
        """The process's one conversation source for this scenario (or persona of it), shared
        by its users."""
        if persona is None:
            return kept(
                self._sources, scenario,
                lambda: PromptSource(scenario, self.rows.conversations_taker(scenario)),
            )  # fmt: skip
        return kept(
            self._sources, persona, lambda: PersonaSource(persona, self.rows.taker(persona))
        )

    def judge_for(self, scenario: Scenario) -> AnswerJudge:
        """The process's one judge of answers for this scenario (it knows its canaries)."""
        keep = bool(getattr(self.options, "keep_answers", False))
        return kept(
            self._judges, scenario, lambda: AnswerJudge(scenario.answers, keep_answers=keep)
        )

    @property
    def runner(self) -> Any:
        return self.env.runner

    @property
    def options(self) -> Any:
        return self.env.parsed_options

    @property
    def is_worker(self) -> bool:
        return isinstance(self.runner, WorkerRunner)

    @property
    def is_master(self) -> bool:
        return isinstance(self.runner, MasterRunner)

    # -- set-up ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Master or local runner, at init: validate everything before any user starts."""
        try:
            self.session.prepare()
        except WxoLoadError as exc:
            self.session.stop_simulator()
            fail_fast(str(exc))
            return
        assert self.session.scenario is not None
        self.install_users(self.env, self.session.scenario)
        self._install_load_plan()

    def _install_load_plan(self) -> None:
        """Stages, an arrival model or a search run by wxo-load's LoadTestShape (shape.py)."""
        assert self.session.scenario is not None
        plan = self.session.scenario.load.plan
        self.load = None if plan is None else LoadControl(
            plan, is_master=self.is_master, send=self._send, clients=self._clients,
            run_time=self.session.run_time, flush=self.flush,
        )  # fmt: skip
        if self.load is not None:
            install_shape(self.env, self.load)
            if self.options.num_users or self.options.spawn_rate:
                log.warning(
                    "wxo-load: the scenario's load.%s sets the load: -u / -r are ignored "
                    "(-t still ends the test)", self.load.plan.mode,
                )  # fmt: skip
        elif self.env.shape_class is not None and isinstance(self.env.shape_class, WxoShape):
            self.env.shape_class = None

    def _send(self, kind: str, data: object, client_id: str | None) -> None:
        if client_id is None:
            self.runner.send_message(kind, data)
        else:
            self.runner.send_message(kind, data, client_id)

    def _clients(self) -> list[str]:
        return sorted(c.id for c in self.runner.clients.all)

    @property
    def role(self) -> str:
        return MASTER if self.is_master else WORKER if self.is_worker else LOCAL

    def begin_test(self) -> None:
        """Every process, at test_start: reset once and check the target once (Session), then
        set up what this process does: generate load, write results, or both."""
        role = self.role
        if role != WORKER and self.session.reload_if_changed():
            self._install_load_plan()
            assert self.session.scenario is not None
            self.install_users(self.env, self.session.scenario)  # from the next test on
        for greenlet in self.greenlets:
            greenlet.kill(block=False)
        self.greenlets = []
        scenario = self.session.begin_test(role, self.recorder, self.abort_without_token)
        if role == WORKER:
            self.add_missing_users(self.env, scenario)
        else:
            self.rows.bank.reset(scenario)
        if role != WORKER:
            self._start_results(scenario)
            assert self.test.started_at is not None
            window_s = self.session.window_s(scenario)
            self.test.measured = window.begin(
                self.options, self.test.started_at, window_s, self.load
            )
        else:
            self.test.measured = window.from_master(self.options)
        if role != MASTER:
            self._start_load(scenario)
            self.otel = otel.begin_test(self.otel, self.options, self.runner, self.recorder,
                                        role, scenario.agent_id)  # fmt: skip

    def _start_load(self, scenario: Scenario) -> None:
        """A load-generating process (worker or local runner): CPU meter, arrivals."""
        self.cpu.start()
        self._every(CpuMeter.INTERVAL_S, self.cpu.sample)
        arrival = scenario.load.plan.arrival if scenario.load.plan else None
        if self.arrivals is not None:
            self.arrivals.stop()
        self.arrivals = None
        if arrival is not None:
            self.arrivals = ArrivalDispatcher(arrival.process, arrival.seed, arrival.tolerance_s)
        if self.arrivals is not None and self.arrival_begin is not None:
            self.begin_arrivals(self.arrival_begin)

    def _start_results(self, scenario: Scenario) -> None:
        """Master or local runner: the results directory and the background tasks."""
        options, test = self.options, self.test
        test.started_at = time.time()
        directory = (
            Path(options.results_dir)
            if options.results_dir
            else ResultsWriter.default_dir(Path("results"), scenario.name, test.started_at)
        )
        test.writer = ResultsWriter(directory)
        log.info("wxo-load: scenario %s against %s; results in %s",
                 scenario.name, self.env.host, directory)  # fmt: skip
        self._every(FLUSH_INTERVAL_S, self.flush)
        self._every(TIMELINE_INTERVAL_S, self.sample_timeline)
        interval = float(options.progress_interval or 0)
        self.recorder.keep_progress = interval > 0 and bool(options.headless)
        if self.recorder.keep_progress:
            self._every(interval, self.print_progress)
        if any(getattr(g, "abort", False) for g in self.session.gates):
            self._every(ABORT_CHECK_INTERVAL_S, self.check_abort)

    def _every(self, interval: float, action: Any) -> None:
        self.greenlets.append(gevent.spawn(repeat, interval, action))

    # -- arrivals (every load-generating process, open model) -------------------------------

    def begin_arrivals(self, data: object) -> None:
        """The master's message: when the shared schedule starts and this process's share."""
        begin = self.arrival_begin = self._read(data, ArrivalsBegin)
        if self.arrivals is not None and begin is not None:
            self.arrivals.begin(begin.epoch, begin.slot, begin.processes, begin.segments)

    def add_arrival_rate(self, data: object) -> None:
        step = self._read(data, RateStep)
        if self.arrivals is not None and step is not None:
            self.arrivals.add_segment(step.segment, step.start_s, step.rate)

    def _read(self, data: object, kind: type[T]) -> T | None:
        try:
            return decode(data, kind, f"the master's {kind.__name__} message")
        except WireFormatError as exc:
            log.error("wxo-load: %s", exc)
            return None

    # -- hand-off, progress, the end ---------------------------------------------------------

    def take_report(self) -> object | None:
        return handoff.take_report(self.recorder, self.cpu, self.arrivals)

    def absorb(self, client_id: str, payload: object) -> None:
        handoff.absorb(self.test, self.load, client_id, payload)

    def flush(self) -> None:
        if not (self.is_master or self.is_worker):
            handoff.flush_local(self.recorder, self.load, self.arrivals)

    def wait_for_final_reports(self) -> None:
        limit_s = float(self.env.stop_timeout or 0) + handoff.FINAL_REPORT_GRACE_S
        handoff.wait_for_final_reports(self.runner, self.test, limit_s, message=Message,
                                       stopping=STATE_STOPPING, missing_state=STATE_MISSING,
                                       sleep=gevent.sleep)  # fmt: skip

    def sample_timeline(self) -> None:
        progress.sample_timeline(self.test, self.runner)
        if self.is_master and not self.test.finals_awaited:
            handoff.note_workers(self.runner, self.test, STATE_MISSING)

    def print_progress(self) -> None:
        p95, lag = progress.take_progress(self.test, self.is_master)
        line = progress.progress_line(self.test, p95, lag)
        now = time.time()
        if self.load is not None:
            line += self.load.progress(now)
        line += window.phase_note(self.test.measured, now)
        if lag is not None and lag > float(self.options.lag_limit_ms):
            line += LAG_ADVICE
        sys.stderr.write(line + "\n")

    def check_abort(self) -> None:
        gates = self.session.gates
        if finish.check_abort(self.test, gates, lambda: self.summary_now(time.time())):
            gevent.spawn(self.runner.quit)

    def how_run(self) -> finish.HowRun:
        env = self.env
        return finish.describe(self.options, self.session, env.host, env.stop_timeout,
                               self.is_master)  # fmt: skip

    def summary_now(self, now: float) -> Summary:
        """The whole summary as of `now`: the final one, the live tab's, the early stop's."""
        return finish.summary_now(self.how_run(), self.test, self.cpu, self.load, now)

    def abort_without_token(self, message: str) -> None:
        """The server refused a request sent without a token: stop the test, exit 2. A worker
        tells the master, which stops every worker."""
        if self.test.abort_message is not None:
            return
        self.test.abort_message = message
        log.error("wxo-load: %s", redact(message))
        if self.is_worker:
            self.runner.send_message(ABORT_MESSAGE, message)
            return
        self.env.process_exit_code = EXIT_HARNESS_ERROR
        end_test(self.env)

    def finish(self) -> None:
        """Master or local runner, at test_stop or quitting: results, report, gates, exit code."""
        test = self.test
        if test.finished or test.writer is None:
            return
        test.finished = True
        for greenlet in self.greenlets:
            greenlet.kill(block=False)
        self.sample_timeline()
        self.flush()
        exit_code = finish.finish(test, self.how_run(), self.summary_now(time.time()))
        if exit_code is not None:
            self.env.process_exit_code = exit_code


_harness: Harness | None = None


def harness_of(environment: Environment) -> Harness:
    """The process's one harness (made for `environment` on first use)."""
    global _harness
    if _harness is None or _harness.env is not environment:
        _harness = Harness(environment)
    return _harness


def current_harness() -> Harness | None:
    return _harness


def _no_classes(env: Environment, scenario: Scenario) -> None:
    """Until the listeners set the personas' hooks: the user classes stay as they are."""
