"""The harness's client against the simulator for every profile and every fault."""

from __future__ import annotations

import pytest
from conversations import PATIENT, SCENARIO, one_conversation

from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.client import ChatClient
from wxo_load.mock.process import SimulatorProcess


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["default", "fast", "replay", "faults", "tools"])
def test_every_shipped_profile_is_measured_run_by_run(profile: str) -> None:
    with SimulatorProcess.start(profile=profile, port=0, seed=4) as sim:
        records = one_conversation(sim, scenario=PATIENT)  # replay's captured gaps reach 3.9 s
    for record in records:
        assert record.outcome == "ok" or profile == "faults", (record.outcome, record.error_detail)
        assert record.total_ms is not None and record.request_id
        if record.outcome == "ok":
            assert (
                record.run_started_ms is not None
                and record.first_text_ms is not None
                and record.done_ms is not None
            )


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ("http_429", "http_429"),
        ("http_500", "http_500"),
        ("http_503", "http_503"),
        ("token_expiry", "http_401"),
        ("run_failed", "run_failed"),
        ("error_event", "run_failed"),
        ("truncated", "truncated"),
        ("drop_connection", "truncated"),
        pytest.param("stall", "timeout", marks=pytest.mark.slow),
        ("malformed_line", "protocol_error"),
    ],
)
def test_every_fault_gets_its_error_class(fault: str, outcome: str) -> None:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=4, extra_args=["--fault", f"{fault}=1.0"]
    ) as sim:
        if fault.startswith("http_") or fault == "token_expiry":  # refused before any thread exists
            tokens, _ = resolve_auth(AuthSettings(), sim.url)
            client = ChatClient(sim.url, SCENARIO, tokens)
            assert client.create_thread("hello").outcome == outcome
            return
        (record,) = one_conversation(sim, turns=1)
    assert record.outcome == outcome, record.error_detail
    assert record.error_detail
