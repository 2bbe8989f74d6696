"""Every injected fault is observable on the wire, and faults are deterministic given a seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mockserver import (
    RUN_QUERY,
    StreamResult,
    bearer,
    login,
    run_body,
    simulator,
    stream_run,
)

# Fast runs, so each fault shows in a few milliseconds.
QUICK_PROFILE = """\
name: quick-faults
timing:
  run_started_ms: 1
  message_started_ms: 1
  steps: 6
  step_gap_ms: 0.5
  think_ms: 5
  first_delta_ms: 1
  delta_gap_ms: 1
  finish_gap_ms: 0.5
answer:
  chars: 60
  chars_per_delta: 20
faults:
  stall_s: {stall_s}
  stall_then: {stall_then}
{rates}
"""


def _profile(
    tmp_path: Path, rates: dict[str, float], stall_s: float = 1.2, stall_then: str = "continue"
) -> str:
    path = tmp_path / "quick.yaml"
    body = "\n".join(f"  {name}: {rate}" for name, rate in rates.items())
    path.write_text(QUICK_PROFILE.format(stall_s=stall_s, stall_then=stall_then, rates=body))
    return str(path)


def _one_run(profile: str, *, timeout: float = 10.0) -> StreamResult:
    with simulator(profile, seed=2) as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        return stream_run(client, token, None, timeout=timeout)


def _names(result: StreamResult) -> list[str]:
    return [e["event"] for e in result.events()]


@pytest.mark.parametrize(
    ("fault", "status", "detail"),
    [
        ("http_429", 429, "Too Many Requests"),
        ("http_503", 503, "Service Unavailable"),
        ("token_expiry", 401, "Token has expired"),
    ],
)
def test_http_faults_answer_their_status(
    tmp_path: Path, fault: str, status: int, detail: str
) -> None:
    with (
        simulator(_profile(tmp_path, {fault: 1.0})) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        token = login(client)  # login is not a chat route: never faulted
        resp = client.post(
            f"/api/v1/orchestrate/runs{RUN_QUERY}", json=run_body(None), headers=bearer(token)
        )
        thread = client.post("/api/v1/threads", json={}, headers=bearer(token))
        assert sim.stats()["faults"][fault] == 2
    assert resp.status_code == status and resp.json() == {"detail": detail}
    assert thread.status_code == status
    if fault == "http_429":
        assert resp.headers["retry-after"] == "1"


def test_http_500_is_a_bare_internal_server_error(tmp_path: Path) -> None:
    with (
        simulator(_profile(tmp_path, {"http_500": 1.0})) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        resp = client.post(
            f"/api/v1/orchestrate/runs{RUN_QUERY}",
            json=run_body(None),
            headers=bearer(login(client)),
        )
    assert resp.status_code == 500 and resp.text == "Internal Server Error"


def test_run_failed_sends_a_run_failed_event_with_an_error_then_done(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"run_failed": 1.0}))
    names = _names(result)
    assert result.error is None and names[-2:] == ["run.failed", "done"]
    assert "run.completed" not in names and "message.created" not in names
    failed = result.events()[-2]["data"]
    assert failed["error"]["message"] and {"run_id", "thread_id", "agent_id"} <= set(failed)


def test_error_event_ends_the_stream_with_an_error_event_and_no_done(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"error_event": 1.0}))
    names = _names(result)
    assert result.error is None and names[-1] == "error" and "done" not in names
    assert result.events()[-1]["data"]["error"]["message"]


def test_truncated_body_ends_cleanly_before_done(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"truncated": 1.0}))
    names = _names(result)
    assert result.error is None and names and names[0] == "run.started"
    assert "done" not in names


def test_drop_connection_aborts_mid_stream(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"drop_connection": 1.0}))
    assert isinstance(result.error, httpx.RemoteProtocolError)
    assert result.status == 200 and "done" not in _names(result)


@pytest.mark.slow
def test_stall_outlasts_a_client_read_timeout(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"stall": 1.0}, stall_s=1.5), timeout=0.5)
    assert isinstance(result.error, httpx.ReadTimeout)
    assert "done" not in _names(result)


@pytest.mark.slow
def test_stall_then_continue_resumes_and_finishes(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"stall": 1.0}, stall_s=0.6))
    assert result.error is None and _names(result)[-1] == "done"
    times = [t for t, _ in result.chunks]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.55


def test_stall_then_close_drops_the_connection_after_the_stall(tmp_path: Path) -> None:
    result = _one_run(_profile(tmp_path, {"stall": 1.0}, stall_s=0.4, stall_then="close"))
    assert isinstance(result.error, httpx.RemoteProtocolError)
    assert result.chunks and result.ended_s >= 0.35


def test_malformed_line_is_one_non_json_line_in_an_otherwise_complete_stream(
    tmp_path: Path,
) -> None:
    result = _one_run(_profile(tmp_path, {"malformed_line": 1.0}))
    bad = []
    good = []
    for line in result.lines:
        try:
            good.append(json.loads(line))
        except ValueError:
            bad.append(line)
    assert len(bad) == 1 and good[-1]["event"] == "done"


def _outcomes(profile: str, seed: int, runs: int) -> list[Any]:
    out: list[Any] = []
    with simulator(profile, seed=seed) as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        for _ in range(runs):
            result = stream_run(client, token, None, timeout=5)
            if result.status != 200:
                out.append(result.status)
                continue
            texts = [line for line in result.lines]
            out.append(
                (
                    type(result.error).__name__,
                    len(texts),
                    [json.loads(t).get("event") if t.endswith("}") else "?" for t in texts[:3]],
                )
            )
            created = [t for t in texts if '"message.created"' in t]
            out.append(
                json.loads(created[0])["data"]["message"]["content"][0]["text"] if created else None
            )
    return out


@pytest.mark.slow
def test_faults_timings_and_answers_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    rates = {
        "http_429": 0.1,
        "http_503": 0.1,
        "run_failed": 0.1,
        "truncated": 0.1,
        "malformed_line": 0.1,
        "error_event": 0.1,
    }
    profile = _profile(tmp_path, rates)
    first = _outcomes(profile, 42, 25)
    second = _outcomes(profile, 42, 25)
    other = _outcomes(profile, 43, 25)
    assert first == second
    assert first != other
    statuses = {o for o in first if isinstance(o, int)}
    assert statuses  # some HTTP faults happened at these rates


def test_shipped_faults_profile_injects_http_faults_at_its_rates() -> None:
    with simulator("faults", seed=9) as sim, httpx.Client(base_url=sim.url) as client:
        token = login(client)
        statuses = [
            client.post("/api/v1/threads", json={}, headers=bearer(token)).status_code
            for _ in range(60)
        ]
        counts = sim.stats()["faults"]
    assert statuses.count(201) >= 40
    assert set(statuses) - {201} <= {401, 429, 500, 503} and set(statuses) != {201}
    assert sum(counts.values()) == 60 - statuses.count(201)
