"""The test's set-up: scenario, gates, host, login, deployment, the built-in simulator.

`Session` works on Locust's environment (its `host` and `parsed_options`, passed in) and
imports no locust, so set-up can be checked in a plain process. The deployment is computed
once per host (`target`): at init for the first test, again only when the host changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wxo_load.config.channels import with_channel
from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.aggregate_model import Aggregate
from wxo_load.core.deployment import Deployment, deployment_for
from wxo_load.core.errors import ConfigError, ExitCode, WxoLoadError
from wxo_load.core.plan import planned_duration_s
from wxo_load.core.redact import redact
from wxo_load.core.summary_model import Summary
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.http import make_client
from wxo_load.edge.auth.identities import Identities
from wxo_load.edge.auth.nologin import LocalOrNoTokenProvider
from wxo_load.edge.auth.options import settings_from_options
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.tlsdefaults import tls_for_target
from wxo_load.edge.channels import check_channel
from wxo_load.edge.proxy import proxy_for
from wxo_load.edge.proxy import set_explicit as set_proxy
from wxo_load.edge.results import load_baseline
from wxo_load.edge.tls import ssl_context
from wxo_load.gates.parse import (
    AnyGate,
    check_persona_names,
    parse_gate,
    parse_gate_spec,
    parse_regression,
)
from wxo_load.locust_plugin.options import scenario_path, window_option_s
from wxo_load.locust_plugin.recording import Recorder
from wxo_load.locust_plugin.state import LOCAL, MASTER, WORKER, TestState
from wxo_load.locust_plugin.webui import host_problem
from wxo_load.mock.process import SimulatorProcess

log = logging.getLogger("wxo_load")

EXIT_HARNESS_ERROR = ExitCode.CANNOT_RUN


def fail_fast(message: str) -> None:
    """Stop before any user starts: one paragraph, exit code 2, no traceback."""
    sys.stderr.write(f"wxo-load: {redact(message)}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_HARNESS_ERROR)


class Session:
    """Scenario, gates and target of this process; `env` is Locust's Environment."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.scenario: Scenario | None = None
        self.scenario_source = ""
        self._channel_option: str | None = None  # the --channel the scenario was loaded with
        self.gates: list[Any] = []
        self.baseline: Summary | Aggregate | None = None  # one run, or a repeated one
        self.tokens: TokenProvider | None = None
        self.ssl_context: Any = None
        self.deployment: Deployment | None = None
        self._deployment_key: tuple[Any, ...] | None = None
        self.simulator: SimulatorProcess | None = None
        self.identities: Identities | None = None  # per-person credentials (personas, rows)
        # the provider that logged in at init (settings, host, provider): a local runner's
        # users take it at test_start instead of resolving and logging in a second time
        self._login: tuple[Any, str, TokenProvider] | None = None

    @property
    def options(self) -> Any:
        return self.env.parsed_options

    # -- the scenario (master or local runner) ---------------------------------------------

    def prepare(self) -> None:
        """At init: validate everything before any user starts; raises WxoLoadError."""
        path = self._scenario_path()
        scenario = self._load(path)
        self._apply_load_defaults(scenario)
        self.window_s(scenario)  # a bad --warmup / --cooldown stops here
        host = self._resolve_host(scenario)
        self._deployment_for(host, scenario)  # a bad --deployment stops here
        self.env.host = host
        self.options.host = host
        self._use(scenario, str(path))

    def reload_if_changed(self) -> bool:
        """At test_start: load the scenario again if the option changed (the web UI's form)."""
        path = self._scenario_path()
        channel = getattr(self.options, "channel", None)
        if str(path) == self.scenario_source and channel == self._channel_option:
            return False
        scenario = self._load(path)
        self._use(scenario, str(path))
        log.info("wxo-load: scenario %s loaded from %s", scenario.name, path)
        return True

    def _scenario_path(self) -> Path:
        options = self.options
        here = Path(getattr(options, "locustfile", ".") or ".").resolve().parent
        return scenario_path(options, here)

    def _load(self, path: Path) -> Scenario:
        scenario = load_scenario(path)
        if self.options.agent_id:
            scenario = dataclasses.replace(scenario, agent_id=self.options.agent_id)
        self._channel_option = getattr(self.options, "channel", None)
        scenario = with_channel(scenario, self._channel_option)
        for part in (scenario, *(p.scenario for p in scenario.personas)):
            check_channel(part.channel.name)  # a channel this build cannot speak stops here
        self.gates = self._collect_gates(scenario)
        return scenario

    def _use(self, scenario: Scenario, source: str) -> None:
        self.options.wxo_scenario = scenario_to_wire(
            scenario
        )  # travels to workers in the spawn message
        self.scenario = scenario
        self.scenario_source = source

    def _collect_gates(self, scenario: Scenario) -> list[Any]:
        options, where = self.options, f"{scenario.file}, key"
        found = [parse_gate_spec(g, where=f"{where} `gates`") for g in scenario.gates]
        found += [parse_gate(text, where="--gate") for text in options.gate or ()]
        regressions = [
            parse_regression(t, where=f"{where} `regressions`") for t in scenario.regressions
        ]
        regressions += [parse_regression(t, where="--regression") for t in options.regression or ()]
        baseline = options.baseline or scenario.baseline
        if regressions and not baseline:
            raise WxoLoadError(
                "regression gates need a baseline: pass --baseline PATH/summary.json "
                "(or set `baseline:` in the scenario)."
            )
        self.baseline = load_baseline(baseline) if baseline else None
        gates: list[AnyGate] = [*found, *regressions]
        check_persona_names(gates, [p.name for p in scenario.personas], f"{scenario.file}, gate")
        return gates

    def _apply_load_defaults(self, scenario: Scenario) -> None:
        """The scenario's `load:` fills in what -u / -r / -t did not say."""
        options, load = self.options, scenario.load
        if load.users is not None and options.num_users is None:
            options.num_users = load.users
        if load.spawn_rate is not None and options.spawn_rate is None:
            options.spawn_rate = load.spawn_rate
        if load.run_time_s is not None and not options.run_time:
            options.run_time = int(round(load.run_time_s))

    def run_time(self) -> tuple[float | None, str]:
        """The test's run time in seconds (None: none) and where it was set, for the log: the
        scenario's `load.run_time` unless -t (or the web UI's form) gave another."""
        seconds = getattr(self.options, "run_time", None) or None
        load = self.scenario.load if self.scenario is not None else None
        from_scenario = (
            load is not None
            and load.run_time_s is not None
            and seconds == int(round(load.run_time_s))
        )
        return seconds, "load.run_time" if from_scenario else "-t"

    def window_s(self, scenario: Scenario) -> tuple[float, float]:
        """(warm-up, cool-down) seconds: --warmup / --cooldown, else the scenario's load.warmup
        / load.cooldown. Raises ConfigError when they leave nothing of the planned test."""
        warmup = window_option_s(self.options, "warmup")
        cooldown = window_option_s(self.options, "cooldown")
        warmup = scenario.load.warmup_s if warmup is None else warmup
        cooldown = scenario.load.cooldown_s if cooldown is None else cooldown
        planned = self.planned_duration_s(scenario)
        if planned is not None and warmup + cooldown >= planned:
            raise ConfigError(
                f"warm-up {warmup:g} s + cool-down {cooldown:g} s leave nothing of the "
                f"{planned:g} s test to measure: shorten --warmup / --cooldown (or load.warmup / "
                "load.cooldown) or lengthen the test."
            )
        return warmup, cooldown

    def planned_duration_s(self, scenario: Scenario) -> float | None:
        """The run time (-t, load.run_time) or the load plan's end, whichever comes first."""
        return planned_duration_s(scenario.load.plan, float(self.options.run_time or 0) or None)

    # -- each test --------------------------------------------------------------------------

    def begin_test(
        self, role: str, recorder: Recorder, on_refused: Callable[[str], None]
    ) -> Scenario:
        """Every process, at test_start: the one per-test reset (a new TestState, no token
        provider until connected), then the target, checked once; a load-generating process
        also connects. Raises WxoLoadError when the test cannot start."""
        recorder.test = TestState.for_process(local=role == LOCAL)
        recorder.local = role != WORKER
        self.tokens = None  # users of a test that cannot start do nothing (WxoChatUser)
        scenario = self.scenario if role == MASTER else self.scenario_from_master()
        assert scenario is not None
        if role == MASTER:
            self._drop_login()  # the master generates no load: its login only checked the target
        deployment = self.target(self.env.host, scenario)
        if role != WORKER:
            log.info("wxo-load: deployment %s", deployment.describe(self.env.host))
        if role != MASTER:
            self.connect(scenario, on_refused)
            recorder.all_rows = getattr(self.options, "locust_rows", "run") == "all"
            if role == WORKER:
                recorder.worker_name = f"worker-{self.env.runner.worker_index}"
        return scenario

    # -- the target ------------------------------------------------------------------------

    def _resolve_host(self, scenario: Scenario) -> str:
        options = self.options
        host = self.env.host or options.host or scenario.host
        set_proxy(getattr(options, "proxy", None) or None)  # the login below goes through it too
        if host:
            proxy_for(host)  # a proxy URL from the environment that cannot be used stops here
        settings = tls_for_target(settings_from_options(options, dict(scenario.auth)), host)
        provider, host = resolve_auth(settings, host)
        if not host:
            host = self.start_simulator(scenario)
            provider, host = resolve_auth(settings, host)
        assert host is not None
        provider.token()  # log in now: a wrong key or an unreachable server stops the test here
        self._drop_login()
        self._login = (settings, host, provider)
        return host

    def _drop_login(self) -> None:
        if self._login is not None:
            self._login[2].close()
            self._login = None

    def target(self, host: str | None, scenario: Scenario) -> Deployment:
        """At test_start: the host (maybe typed in the web UI) must be a URL; its deployment."""
        problem = host_problem(host)
        if problem is not None:
            raise WxoLoadError(problem)
        return self._deployment_for(host, scenario)

    def _deployment_for(self, host: str | None, scenario: Scenario) -> Deployment:
        """The deployment kind and paths, computed once per host (and `api:`, --deployment)."""
        key = (host, scenario.api, getattr(self.options, "deployment", None))
        if self.deployment is None or key != self._deployment_key:
            self.deployment = deployment_for(host, scenario.api, key[2])
            self._deployment_key = key
        return self.deployment

    def scenario_from_master(self) -> Scenario:
        """A load-generating process, at test_start: the scenario as the master sent it."""
        wire = getattr(self.options, "wxo_scenario", None)
        if wire is None:
            raise WxoLoadError(
                "no scenario reached this worker: start the master with this locustfile "
                "(it loads --scenario)."
            )
        self.scenario = scenario_from_wire(wire)
        return self.scenario

    def connect(self, scenario: Scenario, on_refused: Callable[[str], None]) -> None:
        """A load-generating process, at test_start: the token provider and TLS for users."""
        options, host = self.options, self.env.host
        settings = tls_for_target(settings_from_options(options, dict(scenario.auth)), host)
        set_proxy(getattr(options, "proxy", None) or None)  # before any token exchange, connection
        login, self._login = self._login, None
        if login is not None and login[:2] == (settings, host):
            self.tokens = login[2]  # auth is resolved once per process
        else:
            if login is not None:
                login[2].close()
            self.tokens, _ = resolve_auth(settings, host)
        self.identities = Identities(settings, host)
        if isinstance(self.tokens, LocalOrNoTokenProvider):
            self.tokens.on_refused = on_refused
        self.ssl_context = ssl_context(settings) if host and host.startswith("https") else None

    def warm_up(self) -> None:
        """A worker, at init: build the process's TLS context and its first HTTP client now.
        At the first test's start they cost ~50 ms of CPU (seconds on a loaded machine) inside
        the message handler that starts the test, holding the worker's event loop; Locust's
        master counts a worker that misses 3 one-second heartbeats as missing and ends the
        test, with no run done, when every worker is (#32)."""
        with contextlib.suppress(WxoLoadError):  # a bad --ca-bundle: the test's start says so
            make_client(settings_from_options(self.options, {})).close()

    # -- the built-in simulator ------------------------------------------------------------

    def start_simulator(self, scenario: Scenario) -> str:
        profile = self.options.mock_profile or scenario.simulator.profile
        args = simulator_args(scenario)
        self.simulator = SimulatorProcess.start(profile=profile, port=0, extra_args=args)
        log.info(
            "No --host given: started the built-in Developer Edition simulator at %s "
            "(profile %s); it stops when the test ends.", self.simulator.url, profile,
        )  # fmt: skip
        return self.simulator.url

    def stop_simulator(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None


def simulator_args(scenario: Scenario) -> list[str]:
    """The simulator's command line for the scenario's `simulator:` section."""
    sim = scenario.simulator
    args: list[str] = []
    if sim.seed is not None:
        args += ["--seed", str(sim.seed)]
    if sim.token_ttl_s is not None:
        args += ["--token-ttl", str(sim.token_ttl_s)]
    for fault, rate in sim.faults.items():
        args += ["--fault", f"{fault}={rate}"]
    for key, value in sim.capacity.items():
        flag = "capacity" if key == "concurrent_runs" else key.replace("_", "-")
        args += [f"--{flag}", str(value)]
    return args
