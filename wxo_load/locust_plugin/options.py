"""wxo-load's own Locust command-line options (they show in `locust --help` and the web UI).

Custom options reach distributed workers in Locust's spawn message; workers read them in
`test_start`, never in `init`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wxo_load.config.fields import Where, duration_s
from wxo_load.locust_plugin.heartbeat import DEFAULT_LIVENESS_S

DEFAULT_SCENARIO = "scenarios/smoke.yaml"
LOCUST_ROWS = ("run", "all")


# Every wxo-load option: (flag, keyword arguments of Locust's add_argument, which understands
# env_var, include_in_web_ui and is_secret; argument groups do not).
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--scenario",
        dict(
            default=None,
            env_var="WXO_SCENARIO",
            help=f"Scenario YAML file: users, prompts, pacing, gates (default: {DEFAULT_SCENARIO} "
            "next to the locustfile)",
        ),
    ),
    (
        "--results-dir",
        dict(
            default=None,
            env_var="WXO_RESULTS_DIR",
            include_in_web_ui=False,
            help="Where to write results (default: results/<UTC time>-<scenario>)",
        ),
    ),
    (
        "--gate",
        dict(
            action="append",
            default=None,
            include_in_web_ui=False,
            help='A limit the results must meet, e.g. "first_text.p95 < 3000ms" (repeatable)',
        ),
    ),
    (
        "--regression",
        dict(
            action="append",
            default=None,
            include_in_web_ui=False,
            help='A tolerance against --baseline, e.g. "first_text.p95 +10%%" (repeatable)',
        ),
    ),
    (
        "--keep-answers",
        dict(
            action="store_true",
            default=False,
            env_var="WXO_KEEP_ANSWERS",
            include_in_web_ui=False,
            help="Keep every run's answer text (first 2 KiB, redacted) in runs.jsonl; by default "
            "only wrong answers keep theirs",
        ),
    ),
    (
        "--baseline",
        dict(
            default=None,
            include_in_web_ui=False,
            help="A previous run's summary.json (or its results directory) for regression gates",
        ),
    ),
    (
        "--agent-id",
        dict(
            default=None,
            env_var="WXO_AGENT_ID",
            help="Agent to talk to (overrides the scenario's agent_id)",
        ),
    ),
    (
        "--deployment",
        dict(
            default=None,
            env_var="WXO_DEPLOYMENT",
            include_in_web_ui=False,
            help="API paths: auto (default: from the host URL), local (Developer Edition: "
            "/api/v1/threads) or remote (SaaS: /v1/orchestrate/threads); overrides the scenario's "
            "api.deployment",
        ),
    ),
    (
        "--channel",
        dict(
            default=None,
            env_var="WXO_CHANNEL",
            help="How users talk to the agent: runs-stream (the widget, default), chat (chat "
            "completions v1), chat-v2, runs-poll or async; overrides the scenario's `channel` "
            "(top level and personas; docs/channels.md)",
        ),
    ),
    (
        "--mock-profile",
        dict(
            default=None,
            include_in_web_ui=False,
            help="Behaviour profile of the built-in simulator started when no host is given "
            "(overrides the scenario's simulator.profile)",
        ),
    ),
    (
        "--proxy",
        dict(
            default=None,
            env_var="WXO_PROXY",
            is_secret=True,
            help="Forward proxy for every request, e.g. http://user:pass@proxy:3128, or `none` "
            "(default: HTTP_PROXY / HTTPS_PROXY / NO_PROXY)",
        ),
    ),
    (
        "--warmup",
        dict(
            default=None,
            env_var="WXO_WARMUP",
            help="Runs started this long after the load starts (e.g. 30s) are written to "
            "runs.jsonl but left out of every figure and gate (overrides load.warmup)",
        ),
    ),
    (
        "--cooldown",
        dict(
            default=None,
            env_var="WXO_COOLDOWN",
            help="Runs ending this long before the planned end (run time or load plan) are "
            "written to runs.jsonl but left out of every figure and gate (overrides load.cooldown)",
        ),
    ),
    (
        "--lag-limit-ms",
        dict(
            type=float,
            default=10.0,
            include_in_web_ui=False,
            help="Client lag p99 above which results are flagged as limited by the load generator "
            "(default 10)",
        ),
    ),
    (
        "--master-timeout",
        dict(
            type=float,
            default=10.0,
            env_var="WXO_MASTER_TIMEOUT",
            include_in_web_ui=False,
            help="A worker that hears no heartbeat from its master for this many seconds ends "
            "itself with exit code 4 (default 10; 0: wait like Locust, 60 s). A worker forked by "
            "--processes also ends within a second of its master's exit",
        ),
    ),
    (
        "--heartbeat-liveness",
        dict(
            type=int,
            default=DEFAULT_LIVENESS_S,
            env_var="WXO_HEARTBEAT_LIVENESS",
            include_in_web_ui=False,
            help="Seconds without a heartbeat (one a second) after which the master counts a "
            "worker missing and moves its users to the others (default %(default)s; Locust's "
            "own is 3, too short for a worker on a saturated node). Raise it on loaded nodes",
        ),
    ),
    (
        "--progress-interval",
        dict(
            type=float,
            default=5.0,
            include_in_web_ui=False,
            help="Seconds between wxo-load progress lines in headless runs (0 turns them off)",
        ),
    ),
    (
        "--locust-rows",
        dict(
            choices=LOCUST_ROWS,
            default="run",
            env_var="WXO_LOCUST_ROWS",
            include_in_web_ui=False,
            help="Requests fired into Locust's own stats: `run` (default) one per run, so Locust's "
            "RPS is runs per second; `all` also every timing, thread creation and conversation as "
            "rows of their own",
        ),
    ),
    (
        "--metrics-port",
        dict(
            type=int,
            default=0,
            env_var="WXO_METRICS_PORT",
            include_in_web_ui=False,
            help="Serve wxo-load's live figures in Prometheus text format at "
            "http://BIND:PORT/wxo/metrics from the master "
            "(the web UI also serves them at /wxo/metrics). 0: off",
        ),
    ),
    (
        "--metrics-bind",
        dict(
            default="127.0.0.1",
            env_var="WXO_METRICS_BIND",
            include_in_web_ui=False,
            help="Address --metrics-port listens on (default 127.0.0.1; 0.0.0.0 for a remote "
            "Prometheus)",
        ),
    ),
    (
        "--metrics-linger",
        dict(
            type=float,
            default=0.0,
            env_var="WXO_METRICS_LINGER",
            include_in_web_ui=False,
            help="Seconds to keep --metrics-port serving the final figures after a headless test "
            "ends (set it above your Prometheus scrape interval)",
        ),
    ),
)


def add_options(parser: Any) -> None:
    for flag, settings in OPTIONS:
        parser.add_argument(flag, **settings)


def window_option_s(options: Any, name: str) -> float | None:
    """--warmup / --cooldown in seconds (None: not given, the scenario's value holds)."""
    value = getattr(options, name, None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return duration_s(Where("command line"), f"--{name}", value)


def scenario_path(options: Any, locustfile_dir: Path) -> Path:
    """The scenario to load: --scenario as given (relative to the working directory, else to the
    locustfile's directory), else the default next to the locustfile."""
    given = getattr(options, "scenario", None)
    if not given:
        return locustfile_dir / DEFAULT_SCENARIO
    path = Path(given)
    if not path.is_absolute() and not path.exists() and (locustfile_dir / path).exists():
        return locustfile_dir / path  # e.g. `scenarios/ci.yaml` typed in the web UI
    return path
