"""The simulator's API surface: the ADK's login, request checks (401/404/422), routes,
plain runs."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mockserver import (
    AGENT_ID,
    PASSWORD,
    RUN_QUERY,
    USERNAME,
    bearer,
    login,
    new_thread,
    run_body,
    simulator,
    stream_run,
)

from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorProcess]:
    with simulator("fast", seed=11) as process:
        yield process


@pytest.fixture()
def client(sim: SimulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10) as c:
        yield c


@pytest.fixture()
def token(client: httpx.Client) -> str:
    return login(client)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ------------------------------------------------------------------------------------ login


def test_adk_login_sequence_yields_a_tenant_token_that_chats(client: httpx.Client) -> None:
    form = {"username": USERNAME, "password": PASSWORD}
    first = client.post("/api/v1/auth/token", data=form)
    assert first.status_code == 200
    user_token = first.json()["access_token"]
    header = json.loads(base64.urlsafe_b64decode(user_token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    tenants = client.get("/api/v1/tenants", headers=bearer(user_token)).json()
    dev = next(t for t in tenants if t["name"] == "wxo-dev")
    tenant_token = client.post(f"/api/v1/auth/token?tenant_id={dev['id']}", data=form).json()[
        "access_token"
    ]
    claims = _claims(tenant_token)
    assert list(claims) == [
        "sub",
        "username",
        "aud",
        "tenant_id",
        "woTenantId",
        "woUserId",
    ]  # as captured, no exp
    assert claims["tenant_id"] == claims["woTenantId"] == dev["id"]
    assert claims["username"] == USERNAME and claims["aud"] == "authenticated"
    result = stream_run(client, tenant_token, new_thread(client, tenant_token))
    assert result.status == 200 and result.events()[-1]["event"] == "done"


def test_missing_tenant_is_created_as_the_adk_does_and_its_token_works(
    client: httpx.Client,
) -> None:
    form = {"username": USERNAME, "password": PASSWORD}
    user_token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
    created = client.post(
        "/api/v1/tenants",
        json={"name": "team-b", "title": "WatsonX Orchestrate Development", "tags": ["test"]},
        headers=bearer(user_token),
    )
    assert created.status_code == 201
    tenant_id = created.json()["id"]
    assert any(
        t["id"] == tenant_id
        for t in client.get("/api/v1/tenants", headers=bearer(user_token)).json()
    )
    again = client.post("/api/v1/tenants", json={"name": "team-b"}, headers=bearer(user_token))
    assert again.status_code == 409
    tenant_token = client.post(f"/api/v1/auth/token?tenant_id={tenant_id}", data=form).json()[
        "access_token"
    ]
    assert client.post("/api/v1/threads", json={}, headers=bearer(tenant_token)).status_code == 201


def test_wrong_password_is_refused_with_401(client: httpx.Client) -> None:
    resp = client.post("/api/v1/auth/token", data={"username": USERNAME, "password": "nope"})
    assert resp.status_code == 401 and "detail" in resp.json()


def test_login_without_form_fields_is_a_422_detail_list(client: httpx.Client) -> None:
    resp = client.post("/api/v1/auth/token", data={"username": USERNAME})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "password"]


def test_unknown_tenant_id_is_refused(client: httpx.Client) -> None:
    resp = client.post(
        f"/api/v1/auth/token?tenant_id={uuid.uuid4()}",
        data={"username": USERNAME, "password": PASSWORD},
    )
    assert resp.status_code == 404


def test_health_ready_answers_without_a_token(client: httpx.Client) -> None:
    assert client.get("/api/v1/health/ready").status_code == 200


# ------------------------------------------------------------------------------------ 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic d3hvOndhdHNvbng="},
        # the captured token: right shape, but signed by another server
        {
            "Authorization": (
                "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmMjQyZWFkZi0wZGM5LTRlYWUt"
                "YjJkNy02NWIwOWI0YjRiMTYiLCJ1c2VybmFtZSI6Ind4by5hcmNoZXJAaWJtLmNvbSIsImF1ZCI6ImF1"
                "dGhlbnRpY2F0ZWQiLCJ0ZW5hbnRfaWQiOiI1NzVlZjhlZi1jMDBmLTQyYzYtOWM2Mi0zNzRkN2Y1ZTdj"
                "ZTMiLCJ3b1RlbmFudElkIjoiNTc1ZWY4ZWYtYzAwZi00MmM2LTljNjItMzc0ZDdmNWU3Y2UzIiwid29V"
                "c2VySWQiOiJmMjQyZWFkZi0wZGM5LTRlYWUtYjJkNy02NWIwOWI0YjRiMTYifQ._sixstlvH2D0eKfvQ"
                "V3289kOstxSKKuQ7OFeEWHfsoM"
            )
        },
    ],
    ids=["missing", "garbage", "basic", "foreign-signature"],
)
def test_chat_routes_refuse_a_missing_or_invalid_token_with_401(
    client: httpx.Client, headers: dict[str, str]
) -> None:
    for method, path, body in (
        ("POST", "/api/v1/threads", {"title": "x"}),
        ("POST", f"/api/v1/orchestrate/runs{RUN_QUERY}", run_body(None)),
        ("POST", "/v1/orchestrate/runs", run_body(None)),
    ):
        resp = client.request(method, path, json=body, headers=headers)
        assert resp.status_code == 401, path
        assert isinstance(resp.json()["detail"], str)


def test_a_token_without_tenant_cannot_chat(client: httpx.Client) -> None:
    user_token = client.post(
        "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
    ).json()["access_token"]
    resp = client.post("/api/v1/threads", json={}, headers=bearer(user_token))
    assert resp.status_code == 401 and "tenant" in resp.json()["detail"]


@pytest.mark.slow
def test_tokens_expire_after_the_configured_ttl() -> None:
    with (
        simulator("fast", args=["--token-ttl", "1"]) as sim,
        httpx.Client(base_url=sim.url) as client,
    ):
        token = login(client)
        assert "exp" in _claims(token)
        assert client.post("/api/v1/threads", json={}, headers=bearer(token)).status_code == 201
        time.sleep(1.3)
        resp = client.post("/api/v1/threads", json={}, headers=bearer(token))
        assert resp.status_code == 401 and resp.json()["detail"] == "Token has expired"
        assert (
            client.post("/api/v1/threads", json={}, headers=bearer(login(client))).status_code
            == 201
        )


# ------------------------------------------------------------------------------------ 404


@pytest.mark.parametrize(
    "thread_id",
    [str(uuid.uuid4()), "fd438015-df29-4b3b-9fa3-d84c61871336"],
    ids=["random-uuid", "captured-thread-of-another-server"],
)
def test_unknown_thread_is_404(client: httpx.Client, token: str, thread_id: str) -> None:
    resp = client.post(
        f"/api/v1/orchestrate/runs{RUN_QUERY}", json=run_body(thread_id), headers=bearer(token)
    )
    assert resp.status_code == 404 and thread_id in resp.json()["detail"]
    assert (
        client.get(f"/api/v1/threads/{thread_id}/messages", headers=bearer(token)).status_code
        == 404
    )


def test_unknown_route_is_404_and_wrong_method_405(client: httpx.Client, token: str) -> None:
    assert client.get("/api/v1/nope", headers=bearer(token)).status_code == 404
    assert client.delete("/api/v1/threads", headers=bearer(token)).status_code == 405  # GET lists
    assert client.get("/api/v1/orchestrate/runs/stream", headers=bearer(token)).status_code == 405


# ------------------------------------------------------------------------------------ 422


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"thread_id": None, "agent_id": AGENT_ID}, ["body", "message"], "missing"),
        ({"message": "hello"}, ["body", "message"], "model_attributes_type"),
        ({"message": {"content": "hello"}}, ["body", "message", "role"], "missing"),
        (
            {"message": {"role": "user", "content": [{"text": "hi"}]}},
            ["body", "message", "content", 0, "response_type"],
            "missing",
        ),
        (
            {"message": {"role": "user", "content": [{"response_type": "bogus"}]}},
            ["body", "message", "content", 0, "response_type"],
            "enum",
        ),
        (
            {"message": {"role": "user", "content": "hi"}, "thread_id": "not-a-uuid"},
            ["body", "thread_id"],
            "uuid_parsing",
        ),
        (
            {"message": {"role": "user", "content": "hi"}, "llm_params": {"temperature": 3}},
            ["body", "llm_params", "temperature"],
            "less_than_equal",
        ),
        (
            {"message": {"role": "user", "content": "hi"}, "llm_params": {"top_k": 0}},
            ["body", "llm_params", "top_k"],
            "greater_than_equal",
        ),
        (
            {
                "message": {"role": "user", "content": "hi"},
                "llm_params": {"decoding_method": "beam"},
            },
            ["body", "llm_params", "decoding_method"],
            "enum",
        ),
        (
            {"message": {"role": "user", "content": "hi"}, "context": []},
            ["body", "context"],
            "dict_type",
        ),
        (
            {"message": {"role": "user", "content": "hi"}, "version": "one"},
            ["body", "version"],
            "int_type",
        ),
        ([1, 2], ["body"], "model_attributes_type"),
    ],
)
def test_a_body_that_breaks_the_schema_is_a_fastapi_style_422(
    client: httpx.Client, token: str, body: Any, loc: list[Any], kind: str
) -> None:
    resp = client.post(f"/api/v1/orchestrate/runs{RUN_QUERY}", json=body, headers=bearer(token))
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert isinstance(detail, list) and detail
    assert {"type", "loc", "msg", "input"} <= set(detail[0])
    assert (detail[0]["loc"], detail[0]["type"]) == (loc, kind)


def test_invalid_json_is_a_422_json_invalid(client: httpx.Client, token: str) -> None:
    resp = client.post(
        f"/api/v1/orchestrate/runs{RUN_QUERY}",
        content=b'{"message": ',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422 and resp.json()["detail"][0]["type"] == "json_invalid"


def test_the_reference_body_with_every_documented_field_is_accepted(
    client: httpx.Client, token: str
) -> None:
    body = {
        "message": {"role": "user", "content": [{"response_type": "text", "text": "hi"}]},
        "llm_params": {
            "decoding_method": "greedy",
            "temperature": 1,
            "top_p": 0.5,
            "top_k": 50,
            "max_new_tokens": 1,
        },
        "guardrails": {"hap": {"input": {"enabled": False, "threshold": 0.5}}},
        "context": {},
        "agent_id": AGENT_ID,
        "additional_parameters": {},
        "environment_id": "",
        "version": 123,
        "context_variables": {"wxo_email_id": "a@b.c"},
    }
    resp = client.post("/api/v1/orchestrate/runs/stream", json=body, headers=bearer(token))
    assert resp.status_code == 200 and resp.text.strip().endswith("}")


# ------------------------------------------------------------------------------------ routes


def test_adk_v1_routes_create_threads_and_stream_runs(client: httpx.Client, token: str) -> None:
    thread_id = new_thread(client, token, prefix="/v1")
    result = stream_run(client, token, thread_id, path="/v1/orchestrate/runs?stream=true")
    assert result.status == 200 and [e["event"] for e in result.events()][-1] == "done"
    other = client.post(
        "/v1/orchestrate/threads", json={"agent_id": AGENT_ID}, headers=bearer(token)
    )
    assert other.status_code == 201
    messages = client.get(f"/v1/threads/{thread_id}/messages", headers=bearer(token)).json()
    assert [m["role"] for m in messages] == ["user", "assistant"]


def test_runs_stream_route_streams_like_the_query_flag(client: httpx.Client, token: str) -> None:
    result = stream_run(
        client, token, new_thread(client, token), path="/api/v1/orchestrate/runs/stream"
    )
    assert result.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert [e["event"] for e in result.events()][0] == "run.started"


def test_a_run_without_thread_id_starts_a_new_thread(client: httpx.Client, token: str) -> None:
    result = stream_run(client, token, None)
    thread_id = result.events()[0]["data"]["thread_id"]
    messages = client.get(f"/api/v1/threads/{thread_id}/messages", headers=bearer(token))
    assert messages.status_code == 200 and len(messages.json()) == 2


def test_run_without_stream_answers_json_ids_and_completes_in_the_background(
    client: httpx.Client, token: str
) -> None:
    thread_id = new_thread(client, token)
    resp = client.post("/api/v1/orchestrate/runs", json=run_body(thread_id), headers=bearer(token))
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    answer = resp.json()
    assert (
        set(answer) == {"thread_id", "run_id", "task_id", "message_id"}
        and answer["thread_id"] == thread_id
    )
    deadline = time.monotonic() + 5
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = client.get(
            f"/v1/orchestrate/runs/{answer['run_id']}", headers=bearer(token)
        ).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    assert status["status"] == "completed"
    text = status["result"]["data"]["message"]["content"][0]["text"]
    messages = client.get(f"/api/v1/threads/{thread_id}/messages", headers=bearer(token)).json()
    assert messages[-1]["content"][0]["text"] == text and messages[-1]["id"] == answer["message_id"]


def test_stats_endpoint_reports_streams_runs_and_lateness(
    client: httpx.Client, token: str, sim: SimulatorProcess
) -> None:
    before = sim.stats()
    stream_run(client, token, new_thread(client, token))
    after = sim.stats()
    assert after["streams_served"] == before["streams_served"] + 1
    assert after["runs_started"] >= before["runs_started"] + 1
    assert after["lateness_ms"]["count"] > before["lateness_ms"]["count"]
    assert after["lateness_ms"]["p99"] is not None and after["lateness_ms"]["p99"] >= 0
    for key in ("streams_open", "streams_open_max", "runs_per_s", "cpu_s", "pid", "profile"):
        assert key in after
    assert after["pid"] == sim.pid and after["profile"] == "fast"
    sim.reset_stats()
    assert sim.stats()["streams_served"] == 0


def test_accept_any_token_lets_a_hand_written_locustfile_in() -> None:
    """`--accept-any-token` (benchmarks only): the reference locustfile's fixed bearer is
    accepted."""
    import httpx

    from wxo_load.mock.process import SimulatorProcess

    with SimulatorProcess.start(profile="fast", port=0, extra_args=["--accept-any-token"]) as sim:
        answer = httpx.post(
            f"{sim.url}/api/v1/threads",
            json={"title": "hi", "agent_id": "a"},
            headers={"Authorization": "Bearer naive"},
        )
        assert answer.status_code == 201
        assert (
            httpx.post(
                f"{sim.url}/api/v1/threads", json={"title": "hi", "agent_id": "a"}
            ).status_code
            == 401
        )
