"""End to end: a real Prometheus server (Debian's `prometheus`) scrapes a headless test's
`/wxo/metrics` every second, and its PromQL answer for the runs counter equals summary.json's.

Skipped when the binary is missing; with CI=true a missing binary fails (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from locust_runs import start_locust
from net import free_port, wait_until

PROMETHEUS = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
)
CONFIG = """
global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: wxo-load
    metrics_path: /wxo/metrics
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Prometheus server on a free port scraping 127.0.0.1:<metrics port> every second."""
    if PROMETHEUS is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "prometheus is not installed: .ci/run installs it (apt-get install prometheus)"
            )
        pytest.skip(
            "the prometheus binary is missing: `apt-get install prometheus` to run this test"
        )
    metrics_port, web_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(port=metrics_port), encoding="utf-8")
    server = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    api = f"http://127.0.0.1:{web_port}"
    try:
        wait_until(lambda: httpx.get(f"{api}/-/ready", timeout=2).status_code == 200, 30)
        yield api, metrics_port
    finally:
        server.terminate()
        server.communicate(timeout=30)


def promql(api: str, query: str) -> float | None:
    """The value of an instant query with one series, None while it has none."""
    answer = httpx.get(f"{api}/api/v1/query", params={"query": query}, timeout=5).json()
    assert answer["status"] == "success", answer
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scraping_a_test_answers_the_runs_total_of_the_summary(
    tmp_path: Path, prometheus: tuple[str, int]
) -> None:
    api, port = prometheus
    results = tmp_path / "results"
    proc = start_locust(
        "--headless", "--only-summary", "-u", "8", "-r", "8", "-t", "15s",
        "--metrics-port", str(port), "--metrics-linger", "8", "--results-dir", str(results),
        home=tmp_path,
    )  # fmt: skip
    query = "sum(wxo_load_runs_total)"
    try:
        during: list[float] = []

        def scraped_runs() -> bool:
            value = promql(api, query)
            if value:
                during.append(value)
            return bool(value)

        wait_until(scraped_runs, timeout_s=40)
        assert not (results / "summary.json").exists()  # Prometheus scraped the running test
        wait_until(lambda: (results / "summary.json").exists(), timeout_s=40)
        total = json.loads((results / "summary.json").read_text())["runs"]["total"]
        # --metrics-linger keeps the final figures up: a scrape after the last run ended
        wait_until(lambda: promql(api, query) == total, timeout_s=8)
        by_outcome = promql(api, 'sum(wxo_load_runs_total{outcome="ok"})')
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert 0 < during[0] < summary["runs"]["total"]
    assert by_outcome == summary["runs"]["by_outcome"]["ok"]
