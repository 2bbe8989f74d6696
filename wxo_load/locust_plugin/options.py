"""wxo-load's own Locust command-line options (they show in `locust --help` and the web UI).

Custom options reach distributed workers in Locust's spawn message; workers read them in
`test_start`, never in `init`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_SCENARIO = "scenarios/smoke.yaml"
LOCUST_ROWS = ("run", "all")


def add_options(parser: Any) -> None:
    # Locust's own add_argument understands include_in_web_ui / is_secret; argument groups don't.
    group = parser
    group.add_argument(
        "--scenario",
        default=None,
        env_var="WXO_SCENARIO",
        help=f"Scenario YAML file: users, prompts, pacing, gates (default: {DEFAULT_SCENARIO} next to the locustfile)",
    )
    group.add_argument(
        "--results-dir",
        default=None,
        env_var="WXO_RESULTS_DIR",
        include_in_web_ui=False,
        help="Where to write results (default: results/<UTC time>-<scenario>)",
    )
    group.add_argument(
        "--gate",
        action="append",
        default=None,
        include_in_web_ui=False,
        help='A limit the results must meet, e.g. "first_text.p95 < 3000ms" (repeatable)',
    )
    group.add_argument(
        "--regression",
        action="append",
        default=None,
        include_in_web_ui=False,
        help='A tolerance against --baseline, e.g. "first_text.p95 +10%%" (repeatable)',
    )
    group.add_argument(
        "--baseline",
        default=None,
        include_in_web_ui=False,
        help="A previous run's summary.json (or its results directory) for regression gates",
    )
    group.add_argument(
        "--agent-id",
        default=None,
        env_var="WXO_AGENT_ID",
        help="Agent to talk to (overrides the scenario's agent_id)",
    )
    group.add_argument(
        "--deployment",
        default=None,
        env_var="WXO_DEPLOYMENT",
        include_in_web_ui=False,
        help="API paths: auto (default: from the host URL), local (Developer Edition: /api/v1/threads) or remote (SaaS: /v1/orchestrate/threads); overrides the scenario's api.deployment",
    )
    group.add_argument(
        "--mock-profile",
        default=None,
        include_in_web_ui=False,
        help="Behaviour profile of the built-in simulator started when no host is given (overrides the scenario's simulator.profile)",
    )
    group.add_argument(
        "--proxy",
        default=None,
        env_var="WXO_PROXY",
        is_secret=True,
        help="Forward proxy for every request, e.g. http://user:pass@proxy:3128, or `none` (default: HTTP_PROXY / HTTPS_PROXY / NO_PROXY)",
    )
    group.add_argument(
        "--lag-limit-ms",
        type=float,
        default=10.0,
        include_in_web_ui=False,
        help="Client lag p99 above which results are flagged as limited by the load generator (default 10)",
    )
    group.add_argument(
        "--progress-interval",
        type=float,
        default=5.0,
        include_in_web_ui=False,
        help="Seconds between wxo-load progress lines in headless runs (0 turns them off)",
    )
    group.add_argument(
        "--locust-rows",
        choices=LOCUST_ROWS,
        default="run",
        env_var="WXO_LOCUST_ROWS",
        include_in_web_ui=False,
        help="Requests fired into Locust's own stats: `run` (default) one per run, so Locust's RPS is "
        "runs per second; `all` also every timing, thread creation and conversation as rows of their own",
    )
    group.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        env_var="WXO_METRICS_PORT",
        include_in_web_ui=False,
        help="Serve wxo-load's live figures in Prometheus text format at http://BIND:PORT/wxo/metrics "
        "from the master (the web UI also serves them at /wxo/metrics). 0: off",
    )
    group.add_argument(
        "--metrics-bind",
        default="127.0.0.1",
        env_var="WXO_METRICS_BIND",
        include_in_web_ui=False,
        help="Address --metrics-port listens on (default 127.0.0.1; 0.0.0.0 for a remote Prometheus)",
    )
    group.add_argument(
        "--metrics-linger",
        type=float,
        default=0.0,
        env_var="WXO_METRICS_LINGER",
        include_in_web_ui=False,
        help="Seconds to keep --metrics-port serving the final figures after a headless test ends "
        "(set it above your Prometheus scrape interval)",
    )


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
