"""The Locust event listeners that drive a wxo-load test (registered when this is imported).

One `Harness` per process (`harness_of`). The quit race (locust issue #1426): when a
distributed test stops, the master waits for each worker's final report (`test_stopping`)
before Locust quits; a worker sends its final report at `test_stop`.
"""

from __future__ import annotations

import atexit
import gc
import logging
from typing import Any, cast

import locust.argument_parser
import locust.runners
from locust import events
from locust.env import Environment
from locust.runners import (
    STATE_CLEANUP,
    STATE_INIT,
    STATE_RUNNING,
    STATE_SPAWNING,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    WorkerRunner,
)

from wxo_load.core.errors import WxoLoadError
from wxo_load.core.redact import redact
from wxo_load.edge.auth.options import add_auth_options
from wxo_load.locust_plugin import heartbeat, personas
from wxo_load.locust_plugin.control import MESSAGE_BEGIN, MESSAGE_RATE
from wxo_load.locust_plugin.harness import (
    ABORT_MESSAGE,
    Harness,
    current_harness,
    harness_of,
)
from wxo_load.locust_plugin.interrupt import install_interrupt
from wxo_load.locust_plugin.lifeline import start_watch
from wxo_load.locust_plugin.options import add_options
from wxo_load.locust_plugin.otel import take_over_locust_otel
from wxo_load.locust_plugin.session import EXIT_HARNESS_ERROR, fail_fast
from wxo_load.locust_plugin.tasks import end_test
from wxo_load.locust_plugin.webtab import install_web_ui, linger, start_metrics_server
from wxo_load.locust_plugin.webui import install_host_check

GC_THRESHOLDS = (10_000, 50, 100)  # the collector's, once users are spawned (default 700, 10, 10)
log = logging.getLogger("wxo_load")

take_over_locust_otel()  # before Locust's main reads --otel (otel.py)
heartbeat.memoize_default_args(locust.argument_parser)  # a worker's spawn stall (heartbeat.py)


@events.init_command_line_parser.add_listener
def _on_parser(parser: Any, **_: Any) -> None:
    add_options(parser)
    add_auth_options(parser)


@events.init.add_listener
def _on_init(environment: Environment, web_ui: Any = None, **_: Any) -> None:
    harness = harness_of(environment)
    harness.install_users, harness.add_missing_users = personas.install, personas.add_missing
    if environment.parsed_options is None:  # a library user building an Environment by hand
        return
    runner = environment.runner
    # Ctrl+C reaches Locust's shutdown, wherever the process was; a forked worker leaves it to
    # its master (#32)
    processes = getattr(environment.parsed_options, "processes", None)
    forked = isinstance(runner, WorkerRunner) and bool(processes)
    install_interrupt(forked_worker=forked)
    if web_ui is not None:
        install_host_check(web_ui)
    if runner is not None and not isinstance(runner, MasterRunner):
        runner.register_message(
            MESSAGE_BEGIN, lambda msg, **_: harness_of(environment).begin_arrivals(msg.data)
        )
        runner.register_message(
            MESSAGE_RATE, lambda msg, **_: harness_of(environment).add_arrival_rate(msg.data)
        )
    if runner is not None:
        harness.rows.register(
            runner, master=isinstance(runner, MasterRunner), worker=isinstance(runner, WorkerRunner)
        )
    if isinstance(runner, WorkerRunner):
        mid_test = (STATE_SPAWNING, STATE_RUNNING, STATE_STOPPING, STATE_CLEANUP)
        start_watch(environment, mid_test)  # a worker that loses its master ends itself
        harness.session.warm_up()  # not while starting a test, heartbeats stalled
    else:
        harness.prepare()
        if environment.web_ui is not None:
            install_web_ui(environment.web_ui, harness.view)
        if environment.parsed_options.metrics_port:
            _start_metrics_server(harness)
    if isinstance(runner, MasterRunner):
        try:
            heartbeat.apply_liveness(locust.runners, environment.parsed_options)
        except ValueError as exc:
            fail_fast(str(exc))
        runner.register_message(
            ABORT_MESSAGE, lambda msg, **_: harness.abort_without_token(str(msg.data))
        )


def _start_metrics_server(harness: Harness) -> None:
    options = harness.options
    bind, port = options.metrics_bind, options.metrics_port
    try:
        harness.metrics_server = start_metrics_server(harness.view, bind, port)
    except OSError as exc:
        harness.session.stop_simulator()
        fail_fast(
            f"--metrics-port {port}: cannot listen on {bind} ({exc.strerror or exc}). "
            "Pick a free port."
        )


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    try:
        harness_of(environment).begin_test()
    except WxoLoadError as exc:
        log.error("wxo-load: %s", redact(str(exc)))
        environment.process_exit_code = EXIT_HARNESS_ERROR
        end_test(environment)


@events.spawning_complete.add_listener
def _on_spawning_complete(**_: Any) -> None:
    """Every user exists now: move the objects built so far (Locust, gevent, users, modules) out
    of the cyclic collector's reach. Otherwise each full collection walks them all and pauses
    the event loop (seen: 17 ms), which every open stream would measure as server latency.
    Then collect less often: at the defaults, thousands of streams' objects made the collector
    pause 20 times in 35 s, up to 100 ms (bench/ceiling.py --probe, 5,000 streams); at these,
    once or twice, for about 10 % less CPU per event. Full collections still come."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    if harness.is_master and harness.test.writer is not None:
        harness.wait_for_final_reports()


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    harness = harness_of(environment)
    harness.replay_epoch = None  # prompts.arrivals: recorded starts again with the next test
    if harness.arrivals is not None:
        harness.arrivals.stop()
        harness.arrival_begin = None
    if harness.is_worker:
        harness.test.final_pending = True
        # the final report: users are stopped, nothing more comes
        cast(Any, environment.runner)._send_stats()
    elif harness.test.writer is not None:
        harness.flush()
        harness.finish()  # each test of a web-UI session gets its own complete results
    if harness.otel is not None:
        harness.otel.flush()  # every record of this test exported now (otel.py)
    if harness.load is not None and not harness.is_worker:
        harness.load.reset()  # the next test of a web-UI session starts the plan afresh


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    harness = current_harness()
    if harness is not None and harness.scenario is not None:
        payload = harness.take_report()
        if payload is not None:
            data["wxo"] = payload


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    payload, harness = data.get("wxo"), current_harness()
    if payload and harness is not None:
        harness.absorb(client_id, payload)


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
        seconds = float(getattr(environment.parsed_options, "metrics_linger", 0) or 0)
        linger(harness.metrics_server, seconds)
    finally:
        if harness.session.tokens is not None:
            harness.session.tokens.close()
        if harness.session.identities is not None:
            harness.session.identities.close()


@events.quit.add_listener
def _on_quit(**_: Any) -> None:
    _stop_simulator_at_exit()
    harness = current_harness()
    if harness is not None and harness.otel is not None:
        harness.otel.stop()


@atexit.register
def _stop_simulator_at_exit() -> None:
    harness = current_harness()
    if harness is not None:
        harness.session.stop_simulator()
