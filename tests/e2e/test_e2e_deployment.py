"""End to end (`locust --headless` as a subprocess): the SaaS-shaped instance URL, a forced
wrong shape, a local server without login, and one that refuses requests without a token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from locust_runs import clean_env, read_jsonl, run_locust

from wxo_load.mock.process import SimulatorProcess

ANY_TOKEN = "e2e-any-bearer-token-5b7c"


@pytest.fixture(scope="module")
def any_token_sim() -> Iterator[SimulatorProcess]:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=5, extra_args=["--accept-any-token"]
    ) as sim:
        yield sim


def _summary(results: Path) -> dict[str, object]:
    return json.loads((results / "summary.json").read_text())


def test_an_instance_url_on_the_simulator_completes_runs_with_the_saas_paths(
    any_token_sim: SimulatorProcess, tmp_path: Path
) -> None:
    host = f"{any_token_sim.url}/instances/e2e-inst"
    results = tmp_path / "results"
    done = run_locust(
        ["-u", "2", "-r", "2", "-t", "4s", "--host", host, "--results-dir", str(results)],
        home=tmp_path,
        env=clean_env(tmp_path, WXO_TOKEN=ANY_TOKEN),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert f"threads POST {host}/v1/orchestrate/threads" in output  # the one start-up line
    assert output.count("authentication: ") == 1, output[-3000:]  # said once, not per resolve
    runs = read_jsonl(results / "runs.jsonl")
    assert any(run["outcome"] == "ok" for run in runs)
    assert {run["outcome"] for run in runs} <= {
        "ok",
        "stopped",
    }  # stopped: cut by the end of the test
    assert ANY_TOKEN not in output


def test_forcing_the_developer_edition_paths_on_an_instance_url_fails_every_thread_as_http_404(
    any_token_sim: SimulatorProcess, tmp_path: Path
) -> None:
    host = f"{any_token_sim.url}/instances/e2e-inst"
    results = tmp_path / "results"
    env = clean_env(tmp_path, WXO_TOKEN=ANY_TOKEN, WXO_DEPLOYMENT="local")
    done = run_locust(
        ["-u", "2", "-r", "2", "-t", "3s", "--host", host, "--results-dir", str(results)],
        home=tmp_path,
        env=env,
    )
    output = done.stdout + done.stderr
    assert "forced to local" in output and f"{host}/api/v1/threads" in output
    conversations = read_jsonl(results / "conversations.jsonl")
    outcomes = {c["outcome"] for c in conversations}
    assert "http_404" in outcomes and outcomes <= {
        "http_404",
        "stopped",
    }  # stopped: cut by the end of the test
    assert not (results / "runs.jsonl").exists() or not read_jsonl(results / "runs.jsonl")
    assert "http_404" in output  # counted with its class in Locust's failures


def test_a_local_server_without_login_is_tested_without_a_token(tmp_path: Path) -> None:
    with SimulatorProcess.start(profile="fast", port=0, seed=6, extra_args=["--no-auth"]) as sim:
        results = tmp_path / "results"
        # the main command, no other option (results go where WXO_RESULTS_DIR says, not into the
        # repository)
        done = run_locust(
            ["-u", "2", "-r", "2", "-t", "5s", "--host", sim.url],
            home=tmp_path,
            env=clean_env(tmp_path, WXO_RESULTS_DIR=str(results)),
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert output.count("testing it without a token") == 1
    runs = read_jsonl(results / "runs.jsonl")
    assert any(run["outcome"] == "ok" for run in runs)
    assert {run["outcome"] for run in runs} <= {
        "ok",
        "stopped",
    }  # stopped: cut by the end of the test


@pytest.mark.parametrize("extra", [[], ["--processes", "2"]], ids=["local", "workers"])
def test_a_server_that_refuses_requests_without_a_token_stops_the_test_saying_what_to_set(
    tmp_path: Path, extra: list[str]
) -> None:
    with SimulatorProcess.start(profile="fast", port=0, seed=7) as sim:
        host = f"{sim.url}/instances/needs-a-token"  # no login there (404), and chat needs a token
        args = [
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "30s",
            "--host",
            host,
            "--results-dir",
            str(tmp_path / "r"),
            *extra,
        ]
        started = time.monotonic()
        done = run_locust(args, home=tmp_path, timeout_s=60)
        assert time.monotonic() - started < 25  # stopped at the first 401, not at the end of -t
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "refused a request sent without a token (HTTP 401)" in output and "WXO_TOKEN" in output
    assert "Traceback" not in output, output[-3000:]
