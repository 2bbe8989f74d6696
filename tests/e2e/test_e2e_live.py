"""End to end: the live view of a real test. Metrics scraped over HTTP from a headless
`--processes 2` master; the web UI's wxo-load tabs read from real headless Chromium."""

from __future__ import annotations

import html
import json
import re
import signal
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from browser import CHROMIUM, needs_chromium
from locust_runs import start_locust, start_web_ui
from net import free_port, wait_until


def scrape(url: str) -> dict[str, float]:
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    values = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def runs_total(values: dict[str, float]) -> float:
    return sum(v for k, v in values.items() if k.startswith("wxo_load_runs_total{"))


def test_metrics_scraped_during_a_processes_2_run_add_up_to_the_summary(tmp_path: Path) -> None:
    port, master, results = free_port(), str(free_port()), tmp_path / "results"
    proc = start_locust(
        "--headless", "--only-summary", "-u", "10", "-r", "10", "-t", "8s", "--processes", "2",
        "--master-port", master, "--master-bind-port", master,  # not 5557: tests may run at once
        "--metrics-port", str(port), "--metrics-linger", "8", "--results-dir", str(results),
        home=tmp_path,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/wxo/metrics"
    try:
        wait_until(lambda: runs_total(scrape(url)) > 0, timeout_s=30)
        during = scrape(url)
        assert not (results / "summary.json").exists()  # scraped while the test ran
        assert during["wxo_load_test_running"] == 1 and during["wxo_load_users"] == 10
        wait_until(lambda: (results / "summary.json").exists(), timeout_s=40)
        final = scrape(url)  # --metrics-linger keeps the final figures up
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert set(summary["load_generator"]["workers"]) == {"worker-0", "worker-1"}
    assert runs_total(during) <= runs_total(final) == summary["runs"]["total"] > 0
    for outcome, count in summary["runs"]["by_outcome"].items():
        assert final[f'wxo_load_runs_total{{outcome="{outcome}"}}'] == count
    for metric in ("first_text", "done", "thread_create", "conversation"):
        assert (
            final[f'wxo_load_timing_seconds_count{{metric="{metric}"}}']
            == summary["metrics"][metric]["count"]
        )
        assert (
            final[f'wxo_load_timing_seconds_bucket{{metric="{metric}",le="+Inf"}}']
            == summary["metrics"][metric]["count"]
        )
    assert (
        final["wxo_load_client_lag_seconds_count"]
        == summary["load_generator"]["client_lag"]["count"]
    )
    assert final["wxo_load_test_running"] == 0
    assert final["wxo_load_trustworthy"] == (1 if summary["load_generator"]["trustworthy"] else 0)
    assert "Traceback" not in err


def dom_of(url: str) -> str:
    """The page as headless Chromium rendered it, after the UI's first stats poll."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="wxo-load-chromium-") as profile:
        cmd = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout


def table_rows(dom: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", dom, re.S):
        rows.append(
            [
                html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
            ]
        )
    return rows


def first_text_p95(dom: str) -> float:
    rows = table_rows(dom)
    header = next(r for r in rows if r and r[0] == "Timing (ms)")
    row = next(r for r in rows if r[:2] == ["first_text", "all"])
    return float(row[header.index("p95")])


@needs_chromium
def test_web_ui_tab_shows_live_figures_and_locust_counts_one_request_per_run(
    tmp_path: Path,
) -> None:
    port, results = free_port(), tmp_path / "results"
    proc = start_web_ui(port, results, home=tmp_path)
    ui = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(ui, timeout=2).status_code == 200)
        assert httpx.post(
            f"{ui}/swarm",
            data={"user_count": 6, "spawn_rate": 6, "scenario": "scenarios/smoke.yaml"},
            timeout=10,
        ).json()["success"]
        wait_until(
            lambda: (
                httpx.get(f"{ui}/stats/requests", timeout=5).json()["stats"][-1]["num_requests"]
                >= 10
            ),
            timeout_s=30,
        )
        during = dom_of(f"{ui}/?tab=wxo-load")
        overview = {r[0]: r[1:] for r in table_rows(during) if r}
        assert overview["Test"][0].startswith("running"), overview
        assert float(overview["Runs per second"][0].rstrip("/s")) > 0
        assert first_text_p95(dom_of(f"{ui}/?tab=wxo-load-timings")) > 0
        assert (
            httpx.get(f"{ui}/wxo/results/summary.json", timeout=5).status_code == 404
        )  # not before the end
        httpx.post(f"{ui}/stop", timeout=30)
        wait_until(lambda: (results / "summary.json").exists())
        summary = json.loads((results / "summary.json").read_text())
        final = dom_of(f"{ui}/?tab=wxo-load-timings")
        # Locust memoizes /stats/requests for 2 s or more (locust/web.py, DEFAULT_CACHE_TIME,
        # doubled when slow) and the page's own polling refreshes that cache: wait for a reading
        # taken after the last run ended instead of trusting the first one
        ended_runs = summary["runs"]["total"] - summary["runs"]["stopped"]
        wait_until(lambda: _requests_counted(ui) == ended_runs, timeout_s=15)
        stats = httpx.get(f"{ui}/stats/requests", timeout=5).json()
        served = httpx.get(f"{ui}/wxo/results/summary.json", timeout=5)
        ended = dom_of(f"{ui}/?tab=wxo-load")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert first_text_p95(final) == pytest.approx(summary["metrics"]["first_text"]["p95"], rel=0.01)
    assert "ended: these are the final figures" in ended
    # Locust's header and Aggregated row count runs: one request per run that ended ok or failed
    assert [s["name"] for s in stats["stats"]] == ["done", "Aggregated"]
    assert (
        stats["stats"][-1]["num_requests"] == summary["runs"]["total"] - summary["runs"]["stopped"]
    )
    assert served.status_code == 200 and served.json()["runs"] == summary["runs"]
    assert "Traceback" not in output, output[-3000:]


def _requests_counted(ui: str) -> int:
    """Locust's Aggregated request count, as its web UI serves it."""
    return int(httpx.get(f"{ui}/stats/requests", timeout=5).json()["stats"][-1]["num_requests"])


def test_a_metrics_port_in_use_stops_before_any_user_with_exit_2(tmp_path: Path) -> None:
    import socket

    from locust_runs import run_locust

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_locust(
            ["-u", "1", "-t", "5s", "--metrics-port", str(port)], home=tmp_path, timeout_s=60
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (
        f"--metrics-port {port}: cannot listen on 127.0.0.1" in proc.stderr
        and "Traceback" not in proc.stderr
    )
