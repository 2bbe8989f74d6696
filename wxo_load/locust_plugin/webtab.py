"""wxo-load's live view: tabs in Locust's web UI, a JSON snapshot, and Prometheus metrics.

On the master (or a local runner), with the web UI:

- three tabs through Locust's own extension points (`template_args["extended_tabs"]` and
  `["extended_tables"]`; the rows ride in the `extended_stats` of the `/stats/requests` answer
  the UI polls every 2 s), live while the test runs and final after it;
- `/wxo/metrics` (Prometheus text), `/wxo/live.json` (the live summary and gate verdicts) and
  `/wxo/results/<file>` (report.html, summary.json... once the test has ended), also linked
  from the UI's "Download Data" tab.

In headless runs, `--metrics-port N` serves `/wxo/metrics` (and `/wxo/live.json`) from a small
gevent WSGI server bound to `--metrics-bind` (loopback by default); `--metrics-linger S` keeps
it up for S seconds after the test so a scraper reads the final figures.

Every figure comes from the master's merged `MetricsBook` through `build_summary`, the same
function that writes summary.json, so the tab and the files cannot disagree.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

import gevent
import msgspec
from gevent.pywsgi import WSGIServer

from wxo_load.core.summary import build_summary
from wxo_load.core.summary_codec import summary_to_dict
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import TimelinePoint
from wxo_load.gates.evaluate import Verdict, evaluate
from wxo_load.locust_plugin.session import Session
from wxo_load.locust_plugin.state import TestState
from wxo_load.locust_plugin.window import phase_note
from wxo_load.output import live, prometheus
from wxo_load.output.live_rows import TabRows

if TYPE_CHECKING:
    from collections.abc import Callable


class LiveSource(Protocol):
    """What the live view reads of the process (the harness): this test's state, Locust's
    runner (user count, state), the session (scenario, gates, baseline), the summary as of now."""

    @property
    def test(self) -> TestState: ...
    @property
    def runner(self) -> Any: ...
    @property
    def session(self) -> Session: ...
    def summary_now(self, now: float) -> Summary: ...


log = logging.getLogger("wxo_load")

RESULT_FILES = ("report.html", "summary.json", "summary.md", "gates.json", "junit.xml")
SNAPSHOT_MAX_AGE_S = 1.0


class LiveView:
    """The master's current figures, rebuilt at most once a second however many pollers."""

    def __init__(self, source: LiveSource) -> None:
        self.source = source
        self._cached: tuple[float, Summary, list[Verdict]] | None = None

    @property
    def ended(self) -> bool:
        return self.source.test.final_summary is not None

    def snapshot(self) -> tuple[Summary, list[Verdict]]:
        """(the summary so far, gate verdicts on it): final once the test ended."""
        source = self.source
        if source.test.final_summary is not None:
            return source.test.final_summary, source.test.final_verdicts
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < SNAPSHOT_MAX_AGE_S:
            return self._cached[1], self._cached[2]
        if source.session.scenario is None or source.test.started_at is None:
            summary = build_summary(source.test.total)
        else:
            summary = source.summary_now(time.time())
            points = [*summary.timeline, *_now_point(source, summary)]
            summary = msgspec.structs.replace(summary, timeline=points)
        verdicts = (
            evaluate(source.session.gates, summary, source.session.baseline)
            if source.session.gates
            else []
        )
        self._cached = (now, summary, verdicts)
        return summary, verdicts

    def state(self) -> str:
        if self.ended:
            return "ended: these are the final figures (summary.json)"
        if self.source.test.started_at is None:
            return "not started"
        state = getattr(self.source.runner, "state", "running")
        note = phase_note(self.source.test.measured, time.time())  # warm-up, cool-down
        return ("running" if state == "running" else f"running ({state})") + note

    def extended_stats(self) -> list[TabRows]:
        summary, verdicts = self.snapshot()
        source = self.source
        aborted = source.test.aborted_by.gate_text if source.test.aborted_by is not None else None
        abort_gates = [g.text for g in source.session.gates if getattr(g, "abort", False)]
        return live.extended_stats(
            summary, verdicts, state=self.state(), aborted_by=aborted, abort_gates=abort_gates,
            more_overview=[self._results_row()],
        )  # fmt: skip

    def _results_row(self) -> dict[str, str]:
        if self.ended:
            return {
                "figure": "Results",
                "value": "./wxo/results/report.html",
                "detail": "report.html and summary.json: links in the Download Data tab",
            }
        return {
            "figure": "Results",
            "value": "when the test ends",
            "detail": "report.html and summary.json will be linked in the Download Data tab",
        }

    def metrics_text(self) -> str:
        summary, verdicts = self.snapshot()
        source = self.source
        running = source.test.started_at is not None and not self.ended
        return prometheus.exposition(
            source.test.total,
            users=int(getattr(source.runner, "user_count", 0) or 0),
            trustworthy=summary.load_generator.trustworthy,
            running=running,
            gates=[(v.gate_text, v.passed) for v in verdicts],
        )

    def live_json(self) -> str:
        summary, verdicts = self.snapshot()
        return json.dumps(
            {
                "state": self.state(),
                "ended": self.ended,
                "summary": summary_to_dict(summary),
                "gates": [
                    {
                        "gate": v.gate_text,
                        "passed": v.passed,
                        "measured": v.measured,
                        "reason": v.reason,
                    }
                    for v in verdicts
                ],
            }
        )


def _now_point(source: LiveSource, summary: Summary) -> list[TimelinePoint]:
    """The current counts as a last timeline point (not stored; the stored ones come every 2 s)."""
    t_s = round(float(summary.duration_s or 0), 1)
    last = source.test.timeline[-1].t_s if source.test.timeline else 0
    if t_s <= last:
        return []
    users = int(getattr(source.runner, "user_count", 0) or 0)
    total = source.test.total
    return [TimelinePoint(t_s=t_s, users=users, runs=total.runs_total, errors=total.runs_failed)]


# -- the web UI ------------------------------------------------------------------------------------


def _set_template_args(web_ui: Any) -> None:
    """The extra tabs, tables and download links Locust's page shows."""
    web_ui.template_args["extended_tabs"] = live.TABS
    web_ui.template_args["extended_tables"] = live.TABLES
    web_ui.template_args["extended_csv_files"] = [
        {"href": f"./wxo/results/{name}", "title": f"wxo-load {name} (when the test has ended)"}
        for name in ("report.html", "summary.json")
    ] + [{"href": "./wxo/metrics", "title": "wxo-load live metrics (Prometheus text)"}]


def _add_tables_hook(app: Any, view: LiveView) -> None:
    """Add the live tables to Locust's /stats/requests answers."""
    from flask import request

    @app.after_request
    def _add_wxo_tables(response: Any) -> Any:
        if (
            request.path.endswith("/stats/requests")
            and response.status_code == 200
            and response.is_json
        ):
            try:
                body = {**response.get_json(), "extended_stats": view.extended_stats()}
                response.set_data(json.dumps(body))
            except Exception:  # the UI must keep working if the tab fails
                log.exception("wxo-load: could not add the live tables")
        return response


def _add_routes(web_ui: Any, view: LiveView) -> None:
    """The /wxo/metrics, /wxo/live.json and /wxo/results/<name> routes."""
    from flask import Response, send_from_directory

    app, guard = web_ui.app, web_ui.auth_required_if_enabled

    def metrics() -> Any:
        return Response(view.metrics_text(), mimetype=None, content_type=prometheus.CONTENT_TYPE)

    def live_json() -> Any:
        return Response(view.live_json(), content_type="application/json")

    def result_file(name: str) -> Any:
        writer = view.source.test.writer
        if (
            name not in RESULT_FILES
            or writer is None
            or not view.ended
            or not (writer.directory / name).exists()
        ):
            return Response(
                f"{name}: not available (results appear when the test has ended)\n",
                status=404,
                content_type="text/plain",
            )
        return send_from_directory(writer.directory.resolve(), name)

    base = (getattr(web_ui.environment.parsed_options, "web_base_path", None) or "").rstrip(
        "/"
    )  # as Locust's own routes
    app.add_url_rule(f"{base}/wxo/metrics", "wxo_metrics", guard(metrics))
    app.add_url_rule(f"{base}/wxo/live.json", "wxo_live", guard(live_json))
    app.add_url_rule(f"{base}/wxo/results/<name>", "wxo_results", guard(result_file))


def install_web_ui(web_ui: Any, view: LiveView) -> None:
    """Tabs, routes and download links on Locust's Flask app."""
    _set_template_args(web_ui)
    _add_tables_hook(web_ui.app, view)
    _add_routes(web_ui, view)


# -- headless: --metrics-port ----------------------------------------------------------------------


def wsgi_app(view: LiveView) -> Callable[..., list[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("/wxo/metrics", "/metrics"):
            body, kind, status = view.metrics_text().encode(), prometheus.CONTENT_TYPE, "200 OK"
        elif path == "/wxo/live.json":
            body, kind, status = view.live_json().encode(), "application/json", "200 OK"
        else:
            body, kind, status = b"wxo-load: see /wxo/metrics\n", "text/plain", "404 Not Found"
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    return app


def start_metrics_server(view: LiveView, bind: str, port: int) -> WSGIServer:
    server = WSGIServer((bind, port), wsgi_app(view), log=None, error_log=log)
    server.start()
    log.info("wxo-load: live metrics at http://%s:%d/wxo/metrics", bind, server.server_port)
    return server


def linger(server: WSGIServer | None, seconds: float) -> None:
    """Keep serving the final figures a while after the test (headless runs quit right away)."""
    if server is not None and seconds > 0:
        log.info("wxo-load: serving the final metrics for %.0f s more (--metrics-linger)", seconds)
        gevent.sleep(seconds)
