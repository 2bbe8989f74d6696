"""Process-wide state of a wxo-load test and the Locust listeners that drive it.

One `Harness` per Locust process. On every process it holds the scenario, the token provider
and a `MetricsBook`; users hand it their records. A worker ships its book and records to the
master in Locust's own worker report; the master (or a local runner) merges them, appends the
records to the results files as they arrive, prints progress, and at the end writes the
summary and report and applies the gates.

The quit race (locust issue #1426): the master waits only 0.5 s for the workers' last report.
So when the test stops, the master first tells the workers to stop their users, waits for each
one's final report, and only then lets Locust quit. Runs cut off by the stop are recorded as
`stopped`, never dropped.
"""

from __future__ import annotations

import atexit
import gc
import logging
import sys
import time
from pathlib import Path
from typing import Any, cast

import gevent
from locust import events
from locust.env import Environment
from locust.rpc import Message
from locust.runners import (
    STATE_INIT,
    STATE_STOPPED,
    STATE_STOPPING,
    LocalRunner,
    MasterRunner,
    WorkerRunner,
)

from wxo_load.config.scenario import Scenario, load_scenario
from wxo_load.core.deployment import Deployment, deployment_for
from wxo_load.core.errors import ExitCode, WxoLoadError
from wxo_load.core.records import LOCUST_NAMES, OK, STOPPED, ConversationRecord, RunRecord
from wxo_load.core.redact import redact
from wxo_load.core.stats import MetricsBook, build_summary, nearest_rank_ms
from wxo_load.edge import gate_output
from wxo_load.edge.auth import TokenProvider, resolve_auth, ssl_context
from wxo_load.edge.auth.nologin import LocalOrNoTokenProvider
from wxo_load.edge.auth.tlsdefaults import tls_for_target
from wxo_load.edge.live import IntervalTimings
from wxo_load.edge.proxy import proxy_for
from wxo_load.edge.proxy import set_explicit as set_proxy
from wxo_load.edge.results import ResultsWriter, load_summary
from wxo_load.gates import engine as gates
from wxo_load.locust_plugin.arrival import ArrivalDispatcher
from wxo_load.locust_plugin.auth_options import add_auth_options, settings_from_options
from wxo_load.locust_plugin.options import add_options, scenario_path
from wxo_load.locust_plugin.shape import MESSAGE_BEGIN, MESSAGE_RATE, LoadControl, WxoShape
from wxo_load.locust_plugin.tool_rows import ToolRows
from wxo_load.locust_plugin.webtab import LiveView, install_web_ui, linger, start_metrics_server
from wxo_load.locust_plugin.webui import host_problem, install_host_check
from wxo_load.mock.process import SimulatorProcess

log = logging.getLogger("wxo_load")
logging.getLogger("httpx").setLevel(logging.WARNING)  # token exchanges are logged by wxo_load.edge.auth

EXIT_HARNESS_ERROR = ExitCode.CANNOT_RUN
FLUSH_INTERVAL_S = 1.0
TIMELINE_INTERVAL_S = 2.0
FINAL_REPORT_GRACE_S = 10.0
CPU_LIMIT_PERCENT = 90.0
ABORT_MESSAGE = "wxo_abort"  # worker -> master: a harness error that must stop the test


class CpuMeter:
    """This process's CPU use: peak percent over short intervals, and seconds used since start."""

    INTERVAL_S = 2.0

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self._cpu0 = self._cpu_last = time.process_time()
        self._wall_last = time.monotonic()
        self.peak_percent = 0.0

    @property
    def used_s(self) -> float:
        return time.process_time() - self._cpu0

    def sample(self) -> None:
        cpu, wall = time.process_time(), time.monotonic()
        elapsed = wall - self._wall_last
        if elapsed >= 0.5:
            self.peak_percent = max(self.peak_percent, 100.0 * (cpu - self._cpu_last) / elapsed)
            self._cpu_last, self._wall_last = cpu, wall


class RunFailure(Exception):
    """The Locust-visible failure of a run: its text is the error class alone (low cardinality)."""


def fail_fast(message: str) -> None:
    """Stop before any user starts: one paragraph, exit code 2, no traceback."""
    sys.stderr.write(f"wxo-load: {redact(message)}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_HARNESS_ERROR)


class Harness:
    def __init__(self, environment: Environment) -> None:
        self.env = environment
        self.scenario: Scenario | None = None
        self.scenario_source = ""
        self.tokens: TokenProvider | None = None
        self.ssl_context: Any = None
        self.deployment: Deployment | None = None
        self.book = MetricsBook()  # this process's measurements since the last report
        self.total = MetricsBook()  # master / local: everything so far
        self.window = MetricsBook()  # master: merged worker books since the last progress line
        self.window_first_text_ms: list[float] = []  # local runner: raw values since the last line
        self.window_lag_ms: list[float] = []
        self.pending_runs: list[dict[str, Any]] = []
        self.pending_conversations: list[dict[str, Any]] = []
        self.writer: ResultsWriter | None = None
        self.simulator: SimulatorProcess | None = None
        self.worker_name = "local"
        self.started_at: float | None = None
        self.timeline: list[dict[str, Any]] = []
        self.users_peak = 0
        self.finals: set[str] = set()
        self.final_pending = False  # worker: the next report is the last of this test
        self.greenlets: list[gevent.Greenlet] = []
        self.gates: list[Any] = []
        self.baseline: dict[str, Any] | None = None
        self.finished = False
        self.aborted_by: Any = None
        self.abort_message: str | None = None  # a harness error that stopped the test (exit 2)
        self.user_serial = 0
        self.cpu = CpuMeter()
        self.worker_cpu: dict[str, tuple[float, float]] = {}  # master: worker -> (peak %, CPU s)
        self.workers_seen: set[str] = set()
        self.all_rows = False  # --locust-rows all: every timing is a Locust row of its own
        self.interval = IntervalTimings()  # master / local: first text and done since the last timeline point
        self.final_summary: dict[str, Any] | None = None  # the last test's summary, once it ended
        self.final_verdicts: list[Any] = []
        self.view = LiveView(self)
        self.metrics_server: Any = None
        self.load: LoadControl | None = None  # master / local: stages, arrivals, search (shape.py)
        self.arrivals: ArrivalDispatcher | None = None  # every load-generating process, open model
        self.arrival_begin: dict[str, Any] | None = None  # the master's schedule start, if it came first

    # -- setup ---------------------------------------------------------------------------------

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

    def prepare(self) -> None:
        """Master or local runner, at init: validate everything before any user starts."""
        options = self.options
        path = scenario_path(options, Path(getattr(options, "locustfile", ".") or ".").resolve().parent)
        try:
            scenario = load_scenario(path)
            if options.agent_id:
                scenario = _replace(scenario, agent_id=options.agent_id)
            self.gates = self._collect_gates(scenario)
            self._apply_load_defaults(scenario)
            host = self._resolve_host(scenario)
            deployment_for(host, scenario.api, getattr(options, "deployment", None))  # a bad --deployment stops here
        except WxoLoadError as exc:
            self.stop_simulator()
            fail_fast(str(exc))
            return
        self.env.host = host
        options.host = host
        self._use(scenario, str(path))
        self._install_load_plan(scenario)

    def _install_load_plan(self, scenario: Scenario) -> None:
        """Stages, an arrival model or a search run by wxo-load's LoadTestShape (shape.py)."""
        plan = scenario.load.plan
        self.load = LoadControl(self, plan) if plan is not None else None
        if self.load is not None:
            self.load.install()
            if self.options.num_users or self.options.spawn_rate:
                log.warning("wxo-load: the scenario's load.%s sets the load: -u / -r are ignored (-t still ends the test)", self.load.plan.mode)
        elif self.env.shape_class is not None and isinstance(self.env.shape_class, WxoShape):
            self.env.shape_class = None

    def _use(self, scenario: Scenario, source: str) -> None:
        self.options.wxo_scenario = scenario.to_wire()  # travels to workers in the spawn message
        self.scenario = scenario
        self.scenario_source = source

    def reload_scenario_if_changed(self) -> None:
        """Master or local runner, at test_start: load the scenario again if the option changed."""
        options = self.options
        path = scenario_path(options, Path(getattr(options, "locustfile", ".") or ".").resolve().parent)
        if str(path) == self.scenario_source:
            return
        scenario = load_scenario(path)
        if options.agent_id:
            scenario = _replace(scenario, agent_id=options.agent_id)
        self.gates = self._collect_gates(scenario)
        self._use(scenario, str(path))
        self._install_load_plan(scenario)
        log.info("wxo-load: scenario %s loaded from %s", scenario.name, path)

    def _collect_gates(self, scenario: Scenario) -> list[Any]:
        options = self.options
        found: list[Any] = [gates.parse_gate_spec(g, where=f"{scenario.file}, key `gates`") for g in scenario.gates]
        found += [gates.parse_gate(text, where="--gate") for text in options.gate or ()]
        regressions = [gates.parse_regression(t, where=f"{scenario.file}, key `regressions`") for t in scenario.regressions]
        regressions += [gates.parse_regression(t, where="--regression") for t in options.regression or ()]
        baseline = options.baseline or scenario.baseline
        if regressions and not baseline:
            raise WxoLoadError("regression gates need a baseline: pass --baseline PATH/summary.json (or set `baseline:` in the scenario).")
        self.baseline = load_summary(baseline, what="baseline") if baseline else None
        return found + regressions

    def _apply_load_defaults(self, scenario: Scenario) -> None:
        """The scenario's `load:` fills in what -u / -r / -t did not say."""
        options, load = self.options, scenario.load
        if load.users is not None and options.num_users is None:
            options.num_users = load.users
        if load.spawn_rate is not None and options.spawn_rate is None:
            options.spawn_rate = load.spawn_rate
        if load.run_time_s is not None and not options.run_time:
            options.run_time = int(round(load.run_time_s))

    def _resolve_host(self, scenario: Scenario) -> str:
        options = self.options
        host = self.env.host or options.host or scenario.host
        set_proxy(getattr(options, "proxy", None) or None)  # the login below goes through it too
        if host:
            proxy_for(host)  # a proxy URL from the environment that cannot be used stops the test here
        settings = tls_for_target(settings_from_options(options, dict(scenario.auth)), host)
        provider, host = resolve_auth(settings, host)
        if not host:
            host = self.start_simulator(scenario)
            provider, host = resolve_auth(settings, host)
        assert host is not None
        provider.token()  # log in now: a wrong key or an unreachable server stops the test here
        provider.close()
        return host

    def start_simulator(self, scenario: Scenario) -> str:
        sim = scenario.simulator
        options = self.options
        args: list[str] = []
        if sim.seed is not None:
            args += ["--seed", str(sim.seed)]
        if sim.token_ttl_s is not None:
            args += ["--token-ttl", str(sim.token_ttl_s)]
        for fault, rate in sim.faults.items():
            args += ["--fault", f"{fault}={rate}"]
        for key, value in sim.capacity.items():
            args += [f"--{'capacity' if key == 'concurrent_runs' else key.replace('_', '-')}", str(value)]
        profile = options.mock_profile or sim.profile
        self.simulator = SimulatorProcess.start(profile=profile, port=0, extra_args=args)
        log.info("No --host given: started the built-in Developer Edition simulator at %s (profile %s); it stops when the test ends.", self.simulator.url, profile)
        return self.simulator.url

    def stop_simulator(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None

    def start_process(self) -> None:
        """Every process, at test_start: build what users need (workers get it from the master)."""
        options = self.options
        wire = getattr(options, "wxo_scenario", None)
        if wire is None:
            raise WxoLoadError("no scenario reached this worker: start the master with this locustfile (it loads --scenario).")
        self.scenario = scenario = Scenario.from_wire(wire)
        host = self.env.host
        self.tokens = None  # users of a test that cannot start do nothing (see WxoChatUser)
        problem = host_problem(host)
        if problem is not None:
            raise WxoLoadError(problem)
        settings = tls_for_target(settings_from_options(options, dict(scenario.auth)), host)
        set_proxy(getattr(options, "proxy", None) or None)  # before any token exchange or connection
        self.tokens, _ = resolve_auth(settings, host)
        if isinstance(self.tokens, LocalOrNoTokenProvider):
            self.tokens.on_refused = self.abort_without_token
        self.ssl_context = ssl_context(settings) if host and host.startswith("https") else None
        self.all_rows = getattr(options, "locust_rows", "run") == "all"
        self.deployment = deployment_for(host, scenario.api, getattr(options, "deployment", None))
        self.abort_message = None
        if self.is_worker:
            self.worker_name = f"worker-{self.runner.worker_index}"
        self.book.reset()
        self.finished = False
        self.finals.clear()
        self.cpu.start()
        self.greenlets.append(gevent.spawn(self._every, CpuMeter.INTERVAL_S, self.cpu.sample))
        arrival = scenario.load.plan.arrival if scenario.load.plan else None
        if self.arrivals is not None:
            self.arrivals.stop()
        self.arrivals = ArrivalDispatcher(arrival.process, arrival.seed, arrival.tolerance_s) if arrival else None
        if self.arrivals is not None and self.arrival_begin is not None:
            self.begin_arrivals(self.arrival_begin)

    def begin_arrivals(self, data: dict[str, Any]) -> None:
        """The master's message: when the shared schedule starts and this process's share."""
        self.arrival_begin = data
        if self.arrivals is not None:
            self.arrivals.begin(float(data["epoch"]), int(data["slot"]), int(data["processes"]), data["segments"])

    def add_arrival_rate(self, data: dict[str, Any]) -> None:
        if self.arrivals is not None:
            self.arrivals.add_segment(int(data["segment"]), float(data["start_s"]), float(data["rate"]))

    def check_target(self) -> None:
        """Master or local runner, at test_start: the host (maybe typed in the web UI) must be a
        URL; log the deployment kind and paths chosen for it, once per test."""
        assert self.scenario is not None
        host = self.env.host
        problem = host_problem(host)
        if problem is not None:
            raise WxoLoadError(problem)
        deployment = deployment_for(host, self.scenario.api, getattr(self.options, "deployment", None))
        log.info("wxo-load: deployment %s", deployment.describe(host))

    def start_results(self) -> None:
        """Master or local runner, at test_start."""
        assert self.scenario is not None
        options = self.options
        self.abort_message = None
        self.started_at = time.time()
        directory = Path(options.results_dir) if options.results_dir else ResultsWriter.default_dir(Path("results"), self.scenario.name, self.started_at)
        self.writer = ResultsWriter(directory)
        self.total = MetricsBook()
        self.window = MetricsBook()
        if not self.is_master:
            # A local runner records straight into the totals: merging a second's histograms
            # in the flush would block the event loop for ~10 ms every second.
            self.book = self.total
        self.timeline = []
        self.finals.clear()
        self.users_peak = 0
        self.finished = False  # a web UI session's next test (the master never runs start_process)
        self.aborted_by = None
        self.interval = IntervalTimings()
        self.final_summary, self.final_verdicts = None, []
        log.info("wxo-load: scenario %s against %s; results in %s", self.scenario.name, self.env.host, directory)
        self.worker_cpu = {}
        self.workers_seen = set()
        self.greenlets += [gevent.spawn(self._every, FLUSH_INTERVAL_S, self.flush), gevent.spawn(self._every, TIMELINE_INTERVAL_S, self.sample_timeline)]
        interval = float(options.progress_interval or 0)
        if interval > 0 and options.headless:
            self.greenlets.append(gevent.spawn(self._every, interval, self.print_progress))
        if any(getattr(g, "abort", False) for g in self.gates):
            self.greenlets.append(gevent.spawn(self._every, 2.0, self.check_abort))

    @staticmethod
    def _every(interval: float, action: Any) -> None:
        while True:
            gevent.sleep(interval)
            try:
                action()
            except Exception:  # a reporting glitch must never end the test
                log.exception("wxo-load: background task failed")

    # -- recording (every process, hot path) --------------------------------------------------

    def record_run(self, run: RunRecord, client_lags_ms: list[float]) -> None:
        run.worker = self.worker_name
        book = self.book
        book.record_run(run)
        for lag in client_lags_ms:
            book.record_client_lag_ms(lag)
        self.pending_runs.append(run.to_dict())
        if run.outcome != STOPPED:
            self._fire_run(run)
        if not self.is_worker:
            self.interval.record_run(run)
            if run.first_text_ms is not None:
                self.window_first_text_ms.append(run.first_text_ms)
            if len(self.window_lag_ms) < 200_000:
                self.window_lag_ms.extend(client_lags_ms)

    def _fire_run(self, run: RunRecord) -> None:
        fire = self.env.events.request.fire
        for metric, (rtype, name) in _RUN_ENTRIES if self.all_rows else _RUN_ENTRIES[-1:]:
            value = getattr(run, metric)
            if value is not None and (metric != "done_ms" or run.outcome == OK):
                fire(request_type=rtype, name=name, response_time=value, response_length=run.answer_chars if metric == "done_ms" else 0, exception=None, context={})
        if run.outcome != OK:
            fire(request_type=_DONE[0], name=_DONE[1], response_time=run.total_ms, response_length=0, exception=RunFailure(run.outcome), context={})
        if run.tools and self.all_rows:  # tool rows would count in Locust's RPS: only with `all`
            _TOOL_ROWS.fire(fire, run)

    def record_conversation(self, conv: ConversationRecord) -> None:
        conv.worker = self.worker_name
        self.book.record_conversation(conv)
        self.pending_conversations.append(conv.to_dict())
        if conv.outcome == STOPPED or not self.all_rows:
            return
        rtype, name = LOCUST_NAMES["conversation"]
        exception = None if conv.outcome == OK else RunFailure(conv.outcome)
        self.env.events.request.fire(request_type=rtype, name=name, response_time=conv.total_ms, response_length=conv.turns_completed, exception=exception, context={})

    def record_thread(self, elapsed_ms: float, outcome: str) -> None:
        if outcome == OK and not self.all_rows:
            return  # a failed one is fired: no run follows it, and Locust must see the failure
        rtype, name = LOCUST_NAMES["thread_create"]
        exception = None if outcome == OK else RunFailure(outcome)
        self.env.events.request.fire(request_type=rtype, name=name, response_time=elapsed_ms, response_length=0, exception=exception, context={})

    # -- moving data to the master --------------------------------------------------------------

    def take_wire(self, final: bool) -> dict[str, Any]:
        """A worker's report payload: what it measured since the last one."""
        book = self.book.take()
        runs, self.pending_runs = self.pending_runs, []
        convs, self.pending_conversations = self.pending_conversations, []
        self.cpu.sample()
        dropped = self.arrivals.take_dropped() if self.arrivals is not None else []
        scheduled = self.arrivals.take_scheduled() if self.arrivals is not None else 0
        return {
            "book": book.to_wire(), "runs": runs, "conversations": convs, "final": final, "dropped": dropped, "scheduled": scheduled,
            "worker": self.worker_name, "cpu_percent_max": self.cpu.peak_percent, "cpu_s": self.cpu.used_s,
        }  # fmt: skip

    def absorb(self, client_id: str, payload: dict[str, Any]) -> None:
        """Master: merge one worker report."""
        if payload.get("runs") or payload.get("conversations") or payload.get("book"):
            incoming = MetricsBook.from_wire(payload["book"])
            self.total.merge(incoming)
            self.window.merge(incoming)
            self.interval.merge_book(incoming)
            if self.writer is not None:
                self.writer.append_runs(payload.get("runs") or [])
                self.writer.append_conversations(payload.get("conversations") or [])
                if self.load is not None:
                    self.load.observe(payload.get("runs") or [], payload.get("conversations") or [], payload.get("dropped") or [], int(payload.get("scheduled") or 0))
            else:
                log.warning("wxo-load: a report from %s arrived with no test running; %d runs ignored", client_id, len(payload.get("runs") or []))
        self.workers_seen.add(client_id)
        if "cpu_s" in payload:
            self.worker_cpu[client_id] = (float(payload.get("cpu_percent_max") or 0), float(payload["cpu_s"]))
        if payload.get("final"):
            self.finals.add(client_id)

    def flush(self) -> None:
        """Local runner: append the records measured since the last flush to the files."""
        if self.is_master or self.is_worker:
            return
        runs, self.pending_runs = self.pending_runs, []
        convs, self.pending_conversations = self.pending_conversations, []
        if self.writer is not None:
            self.writer.append_runs(runs)
            self.writer.append_conversations(convs)
        if self.load is not None:
            arrivals = self.arrivals
            self.load.observe(runs, convs, arrivals.take_dropped() if arrivals else [], arrivals.take_scheduled() if arrivals else 0)

    def wait_for_final_reports(self) -> None:
        """Master, when the test stops: stop the workers' users, then wait for their last data.

        The master is moved to STOPPING first, or it would hand new users to a worker that
        reports ready again. Once a worker's final report is in, it is told to quit (Locust's
        own quit message would miss it: a stopped worker leaves the master's client list).
        """
        runner = self.runner
        clients = [c.id for c in runner.clients.all]
        self.workers_seen.update(clients)
        runner.update_state(STATE_STOPPING)
        for client_id in clients:
            runner.server.send_to_client(Message("stop", None, client_id))
        limit_s = float(self.env.stop_timeout or 0) + FINAL_REPORT_GRACE_S
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline and not set(clients) <= self.finals:
            gevent.sleep(0.05)
        for client_id in clients:
            runner.server.send_to_client(Message("quit", None, client_id))
        missing = set(clients) - self.finals
        if missing:
            log.warning("wxo-load: no final report from %d worker(s) within %.0f s: runs they measured since their last report are missing", len(missing), limit_s)

    # -- progress, timeline, trust --------------------------------------------------------------

    def sample_timeline(self) -> None:
        runner = self.runner
        users = int(getattr(runner, "user_count", 0) or 0)
        self.users_peak = max(self.users_peak, users)
        self.timeline.append({
            "t_s": round(time.time() - (self.started_at or time.time()), 1),
            "users": users,
            "runs": self.total.runs_total,
            "errors": self.total.runs_failed,
            **self.interval.take_figures(),
        })  # fmt: skip

    def load_generator_cpu(self) -> tuple[float, float]:
        """(peak CPU % of any load-generating process, CPU seconds they used in all)."""
        if self.is_master:
            values = list(self.worker_cpu.values())
            return max((v[0] for v in values), default=0.0), sum(v[1] for v in values)
        self.cpu.sample()
        return self.cpu.peak_percent, self.cpu.used_s

    def print_progress(self) -> None:
        if self.is_master:
            window, self.window = self.window, MetricsBook()
            p95 = window.percentile_ms("first_text", 95)
            lag = window.percentile_ms("client_lag", 99)
        else:
            p95 = nearest_rank_ms(self.window_first_text_ms, 95)
            lag = nearest_rank_ms(self.window_lag_ms, 99)
            self.window_first_text_ms, self.window_lag_ms = [], []
        total = self.total
        failed = total.runs_failed
        classes = ", ".join(f"{k} {v}" for k, v in sorted(total.runs_by_outcome.items()) if k not in (OK, STOPPED))
        line = (
            f"wxo-load: {total.conversations_total} conversations, {total.runs_total} runs, "
            f"{failed} failed{f' ({classes})' if classes else ''}; first text p95 "
            f"{_fmt_ms(p95)} (last interval); client lag p99 {_fmt_ms(lag)}"
        )
        if self.load is not None:
            line += self.load.progress(time.time())
        if lag is not None and lag > float(self.options.lag_limit_ms):
            line += " -- results are limited by the load generator: add workers (--processes N)"
        sys.stderr.write(line + "\n")

    def check_abort(self) -> None:
        if self.aborted_by is not None or self.finished:
            return
        live = build_summary(self.total, meta=self._meta(time.time()))
        verdict = gates.abort_reason(self.gates, live)
        if verdict is not None:
            self.aborted_by = verdict
            log.error("wxo-load: gate %r can no longer pass (%s): stopping the test early", verdict.gate_text, verdict.reason)
            gevent.spawn(self.runner.quit)

    # -- the end -------------------------------------------------------------------------------

    def abort_without_token(self, message: str) -> None:
        """The server refused a request sent without a token: stop the test, exit 2. A worker
        tells the master, which stops every worker."""
        if self.abort_message is not None:
            return
        self.abort_message = message
        log.error("wxo-load: %s", redact(message))
        if self.is_worker:
            self.runner.send_message(ABORT_MESSAGE, message)
            return
        self.env.process_exit_code = EXIT_HARNESS_ERROR
        end_test(self.env)

    def _meta(self, ended_at: float) -> dict[str, Any]:
        options = self.options
        assert self.scenario is not None
        cpu_peak, cpu_s = self.load_generator_cpu()
        runs = self.total.runs_total
        return {
            "scenario": _scenario_for_summary(self.scenario),
            "options": {
                "users": options.num_users,
                "spawn_rate": options.spawn_rate,
                "run_time_s": options.run_time,
                "processes": getattr(options, "processes", None),
                "workers": len(self.workers_seen) if self.is_master else 1,
                "stop_timeout_s": self.env.stop_timeout,
                "gates": [g.text for g in self.gates],
                "baseline": options.baseline or self.scenario.baseline,
            },
            "host": self.env.host,
            "started_at": self.started_at,
            "ended_at": ended_at,
            "users_peak": self.users_peak,
            "timeline": self.timeline,
            "load_generator": {
                "cpu_percent_max": round(cpu_peak, 1),
                "cpu_s": round(cpu_s, 3),
                "cpu_ms_per_run": round(cpu_s * 1000.0 / runs, 3) if runs else None,
                "cpu_percent_limit": CPU_LIMIT_PERCENT,
                "client_lag_p99_limit_ms": float(options.lag_limit_ms),
                "warnings": [],
            },
        }

    def finish(self) -> None:
        """Master or local runner, at quitting: results, report, gates, exit code."""
        if self.finished or self.writer is None:
            return
        self.finished = True
        for greenlet in self.greenlets:
            greenlet.kill(block=False)
        self.sample_timeline()
        self.flush()
        now = time.time()
        summary = build_summary(self.total, meta=self._meta(now))
        if self.load is not None:
            summary.update(self.load.summary_extras(summary, now))
        writer = self.writer
        writer.write_summary(summary)
        self.final_summary = summary
        warnings = summary["load_generator"]["warnings"]
        for warning in warnings:
            log.warning("wxo-load: %s -- results are limited by the load generator: add workers (--processes N)", warning)
        if self.gates:
            verdicts = gates.evaluate(self.gates, summary, self.baseline)
            if self.aborted_by is not None and all(v.gate_text != self.aborted_by.gate_text for v in verdicts):
                verdicts.append(self.aborted_by)
            self.final_verdicts = verdicts
            gate_output.write_gate_outputs(writer.directory, verdicts, {"scenario": summary["scenario"].get("name"), "results_dir": str(writer.directory)})
            sys.stdout.write("\n" + gate_output.format_table(verdicts) + "\n")
            self.env.process_exit_code = gate_output.exit_code(verdicts)
        if self.abort_message is not None:
            self.env.process_exit_code = EXIT_HARNESS_ERROR
            sys.stderr.write(f"wxo-load: the test was stopped: {redact(self.abort_message)}\n")
        writer.close()
        runs = summary["runs"]
        sys.stderr.write(
            f"wxo-load: {runs['total']} runs ({runs['ok']} ok, {runs['failed']} failed, {runs.get('stopped', 0)} stopped by the end of the test); "
            f"results in {writer.directory}\n"
        )


_RUN_ENTRIES = [
    (f"{metric}_ms" if metric != "done" else "done_ms", LOCUST_NAMES[metric])
    for metric in ("run_started", "first_delta", "first_text", "message_created", "done")
]
_DONE = LOCUST_NAMES["done"]
_TOOL_ROWS = ToolRows()


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _replace(scenario: Scenario, **changes: Any) -> Scenario:
    import dataclasses

    return dataclasses.replace(scenario, **changes)


def _scenario_for_summary(scenario: Scenario) -> dict[str, Any]:
    wire = scenario.to_wire()
    prompts = wire.get("prompts", {})
    messages = prompts.get("messages", [])
    if len(messages) > 20:
        prompts["messages"] = messages[:20] + [f"... {len(messages) - 20} more"]
    return {"name": scenario.name, "file": _relative(scenario.file), "config": {**wire, "file": _relative(scenario.file)}}


def _relative(path: str | None) -> str | None:
    """A scenario path as the user would write it: relative to the working directory if inside."""
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


# -- listeners ---------------------------------------------------------------------------------

_harness: Harness | None = None


def end_test(environment: Environment) -> None:
    """After a harness error: headless, end the process (its exit code is set); with the web
    UI, stop this test and keep the UI for the next one."""
    runner = cast(Any, environment.runner)
    headless = getattr(environment.parsed_options, "headless", True)
    gevent.spawn(runner.quit if headless else runner.stop)


def harness_of(environment: Environment) -> Harness:
    global _harness
    if _harness is None or _harness.env is not environment:
        _harness = Harness(environment)
    return _harness


@events.init_command_line_parser.add_listener
def _on_parser(parser: Any, **_: Any) -> None:
    add_options(parser)
    add_auth_options(parser)


@events.init.add_listener
def _on_init(environment: Environment, web_ui: Any = None, **_: Any) -> None:
    harness = harness_of(environment)
    if environment.parsed_options is None:  # a library user building an Environment by hand
        return
    if web_ui is not None:
        install_host_check(web_ui)
    if environment.runner is not None and not isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(MESSAGE_BEGIN, lambda msg, **_: harness_of(environment).begin_arrivals(msg.data))
        environment.runner.register_message(MESSAGE_RATE, lambda msg, **_: harness_of(environment).add_arrival_rate(msg.data))
    if not isinstance(environment.runner, WorkerRunner):
        harness.prepare()
        if environment.web_ui is not None:
            install_web_ui(environment.web_ui, harness.view)
        if environment.parsed_options.metrics_port:
            options = environment.parsed_options
            try:
                harness.metrics_server = start_metrics_server(harness.view, options.metrics_bind, options.metrics_port)
            except OSError as exc:
                harness.stop_simulator()
                fail_fast(f"--metrics-port {options.metrics_port}: cannot listen on {options.metrics_bind} ({exc.strerror or exc}). Pick a free port.")
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(ABORT_MESSAGE, lambda msg, **_: harness.abort_without_token(str(msg.data)))


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    try:
        if not harness.is_worker:
            harness.reload_scenario_if_changed()  # the web UI's form may name another scenario
            harness.check_target()
        if harness.is_master:
            harness.start_results()
            return
        harness.start_process()
    except WxoLoadError as exc:
        log.error("wxo-load: %s", redact(str(exc)))
        environment.process_exit_code = EXIT_HARNESS_ERROR
        end_test(environment)
        return
    if isinstance(environment.runner, LocalRunner):
        harness.start_results()


@events.spawning_complete.add_listener
def _on_spawning_complete(**_: Any) -> None:
    """Every user exists now: move the objects built so far (Locust, gevent, users, modules) out
    of the cyclic collector's reach. Otherwise each full collection walks them all and pauses
    the event loop (seen: 17 ms), which every open stream would measure as server latency."""
    gc.collect()
    gc.freeze()


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    if harness.is_master and harness.writer is not None:
        harness.wait_for_final_reports()


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    if harness.arrivals is not None:
        harness.arrivals.stop()
        harness.arrival_begin = None
    if harness.is_worker:
        harness.final_pending = True
        cast(Any, environment.runner)._send_stats()  # the final report: users are stopped, nothing more comes
    elif harness.writer is not None:
        harness.flush()
        harness.finish()  # each test of a web-UI session gets its own complete results
    if harness.load is not None and not harness.is_worker:
        harness.load.reset()  # the next test of a web-UI session starts the plan afresh


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    harness = _harness
    if harness is not None and harness.scenario is not None:
        final, harness.final_pending = harness.final_pending, False
        data["wxo"] = harness.take_wire(final=final)


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    payload = data.get("wxo")
    if payload and _harness is not None:
        _harness.absorb(client_id, payload)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    if harness.is_worker:
        return
    runner = environment.runner
    if runner is not None and runner.state not in (STATE_INIT, STATE_STOPPED):
        runner.stop()  # Ctrl+C or SIGTERM: stop the users first so their runs are recorded
    try:
        harness.finish()
        linger(harness.metrics_server, float(getattr(environment.parsed_options, "metrics_linger", 0) or 0))
    finally:
        if harness.tokens is not None:
            harness.tokens.close()


@events.quit.add_listener
def _on_quit(**_: Any) -> None:
    if _harness is not None:
        _harness.stop_simulator()


@atexit.register
def _stop_simulator_at_exit() -> None:
    if _harness is not None:
        _harness.stop_simulator()
