"""Deployment kinds and their API paths (as the ADK chooses them), and the simulator's SaaS
shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mockserver import AGENT_ID, RUN_QUERY, bearer, run_body, simulator

from wxo_load.config.model import ApiPaths, Prompts, Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.deployment import choose_deployment, deployment_for, deployment_kind
from wxo_load.core.errors import ConfigError
from wxo_load.core.records import OK, RunRecord
from wxo_load.edge.client import ChatClient
from wxo_load.mock.process import SimulatorProcess

SAAS = "https://api.us-south.watson-orchestrate.cloud.ibm.com/instances/abc-123"


@pytest.mark.parametrize(
    "host",
    [
        "http://localhost:4321",
        "http://127.0.0.1:4321",
        "http://[::1]:4321",
        "http://0.0.0.0:4321",
        "http://host.docker.internal:4321",
    ],
)
def test_the_adk_local_hosts_get_the_widget_paths(host: str) -> None:
    chosen = choose_deployment(host)
    assert (chosen.kind, chosen.threads_path, chosen.runs_path) == (
        "local",
        "/api/v1/threads",
        "/api/v1/orchestrate/runs",
    )


@pytest.mark.parametrize(
    "host",
    [
        SAAS,
        "https://api.dl.watson-orchestrate.ibm.com/instances/1",
        "https://wxo.example.com",
        "http://127.0.0.1:9/instances/x",
    ],
)
def test_remote_hosts_and_any_instance_url_get_the_saas_paths(host: str) -> None:
    chosen = choose_deployment(host)
    assert (chosen.kind, chosen.threads_path, chosen.runs_path) == (
        "remote",
        "/v1/orchestrate/threads",
        "/v1/orchestrate/runs",
    )


def test_a_forced_kind_wins_over_the_host_and_scenario_keys_override_each_path() -> None:
    assert (
        choose_deployment("http://localhost:4321", forced="remote").threads_path
        == "/v1/orchestrate/threads"
    )
    assert choose_deployment(SAAS, forced="local").threads_path == "/api/v1/threads"
    assert choose_deployment(SAAS, forced="saas").kind == "remote"
    custom = choose_deployment(SAAS, prefix="/api/v2", runs_path="/orchestrate/runs/stream")
    assert (custom.threads_path, custom.runs_path) == (
        "/api/v2/orchestrate/threads",
        "/api/v2/orchestrate/runs/stream",
    )
    assert "overridden" in custom.why
    api = ApiPaths(deployment="local")
    assert deployment_for(SAAS, api).kind == "local"
    assert (
        deployment_for(SAAS, api, "remote").kind == "remote"
    )  # --deployment wins over the scenario


def test_an_unknown_kind_is_an_error_saying_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected auto, local"):
        deployment_kind(SAAS, "cloud")
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\nagent_id: {AGENT_ID}\nprompts: [hi]\napi:\n  deployment: cloud\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"api.deployment"):
        load_scenario(path)
    path.write_text(
        f"name: s\nagent_id: {AGENT_ID}\nprompts: [hi]\napi:\n  deployment: remote\n",
        encoding="utf-8",
    )
    loaded = load_scenario(path)
    assert loaded.api.deployment == "remote"
    assert scenario_from_wire(scenario_to_wire(loaded)).api == loaded.api


def test_the_describe_line_names_kind_and_full_urls() -> None:
    text = choose_deployment(SAAS).describe(SAAS)
    assert (
        "remote" in text
        and f"{SAAS}/v1/orchestrate/threads" in text
        and f"{SAAS}/v1/orchestrate/runs" in text
    )


# -- the simulator's SaaS shape ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with simulator("fast", seed=3, args=["--accept-any-token"]) as process:
        yield process


def test_the_simulator_serves_the_saas_shape_under_instances_and_404s_the_wrong_one(
    sim: SimulatorProcess,
) -> None:
    with httpx.Client(
        base_url=f"{sim.url}/instances/inst-1", timeout=10, headers=bearer("any")
    ) as client:
        for wrong in (
            "/v1/threads",
            "/api/v1/threads",
            "/api/v1/orchestrate/threads",
            "/v1/orchestrate/auth/token",
        ):
            assert client.post(wrong, json={"agent_id": AGENT_ID}).status_code == 404, wrong
        assert (
            client.post("/api/v1/orchestrate/runs" + RUN_QUERY, json=run_body(None)).status_code
            == 404
        )
        created = client.post("/v1/orchestrate/threads", json={"title": "hi", "agent_id": AGENT_ID})
        assert created.status_code == 201, created.text
        thread_id = created.json()["thread_id"]
        with client.stream(
            "POST", "/v1/orchestrate/runs" + RUN_QUERY, json=run_body(thread_id)
        ) as answer:
            assert answer.status_code == 200
            assert '"done"' in answer.read().decode()


def _scenario() -> Scenario:
    return Scenario(name="t", agent_id=AGENT_ID, prompts=Prompts("script", ("hello",)))


class _AnyToken:
    def token(self) -> str:
        return "any"

    def refresh(self, stale: str) -> str:
        return "any"


def _converse(client: ChatClient) -> tuple[str, str | None]:
    thread = client.create_thread("hello")
    if thread.outcome != OK:
        return thread.outcome, None
    record = RunRecord(
        started_at_unix=0.0,
        user_id="u",
        conversation_id="c",
        turn_index=0,
        request_id=str(uuid.uuid4()),
        thread_id=thread.thread_id,
    )
    return thread.outcome, client.stream_run(record, "hello").record.outcome


def test_the_client_completes_runs_on_an_instance_url_and_the_wrong_shape_is_http_404(
    sim: SimulatorProcess,
) -> None:
    host = f"{sim.url}/instances/inst-1"
    right = ChatClient(host, _scenario(), _AnyToken())
    wrong = ChatClient(
        host, _scenario(), _AnyToken(), deployment=choose_deployment(host, forced="local")
    )
    try:
        assert _converse(right) == (OK, OK)
        assert _converse(wrong) == ("http_404", None)
    finally:
        right.close()
        wrong.close()


def test_the_no_auth_simulator_has_no_login_and_chats_without_a_token() -> None:
    with (
        simulator("fast", seed=4, args=["--no-auth"]) as process,
        httpx.Client(base_url=process.url, timeout=10) as client,
    ):
        assert (
            client.post("/api/v1/auth/token", data={"username": "u", "password": "p"}).status_code
            == 404
        )
        created = client.post("/api/v1/threads", json={"title": "hi", "agent_id": AGENT_ID})
        assert created.status_code == 201, created.text
        with client.stream(
            "POST",
            "/api/v1/orchestrate/runs" + RUN_QUERY,
            json=run_body(created.json()["thread_id"]),
        ) as answer:
            assert answer.status_code == 200 and '"done"' in answer.read().decode()


def test_auto_mode_on_a_local_host_without_login_gets_no_token_and_says_what_to_set_on_401() -> (
    None
):
    from wxo_load.core.errors import AuthError
    from wxo_load.edge.auth.nologin import LocalOrNoTokenProvider
    from wxo_load.edge.auth.resolve import resolve_auth
    from wxo_load.edge.auth.settings import AuthSettings

    with simulator("fast", seed=4, args=["--no-auth"]) as process:
        provider, _ = resolve_auth(AuthSettings(), process.url)
        assert isinstance(provider, LocalOrNoTokenProvider)
        assert provider.token() == "" and provider.without_token
        told: list[str] = []
        provider.on_refused = told.append
        with pytest.raises(AuthError, match="WXO_TOKEN"):
            provider.refresh("")
        assert len(told) == 1 and "HTTP 401" in told[0]
        provider.close()
