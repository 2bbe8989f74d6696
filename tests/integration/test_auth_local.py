"""Developer Edition login against the built-in simulator, run as a real process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from wxo_load.core.errors import AuthError
from wxo_load.edge.auth.jwt import jwt_claims
from wxo_load.edge.auth.local import LocalLoginProvider
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.mock import process


@pytest.fixture(scope="module")
def sim() -> Iterator[process.SimulatorProcess]:
    with process.SimulatorProcess.start(port=0, extra_args=["--token-ttl", "3"]) as simulator:
        yield simulator


def _thread_status(url: str, token: str) -> int:
    response = httpx.post(
        f"{url}/api/v1/threads",
        json={"title": "auth check", "agent_id": "00000000-0000-0000-0000-000000000001"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return response.status_code


def test_local_login_yields_a_tenant_token_the_simulator_accepts(
    sim: process.SimulatorProcess,
) -> None:
    provider, host = resolve_auth(AuthSettings(), sim.url)
    assert isinstance(provider, LocalLoginProvider) and host == sim.url
    token = provider.token()
    claims = jwt_claims(token)
    assert claims is not None and claims.get("tenant_id") and "exp" in claims
    assert _thread_status(sim.url, token) == 201
    provider.close()


@pytest.mark.slow
def test_local_login_renews_a_three_second_token_before_the_simulator_refuses_it(
    sim: process.SimulatorProcess,
) -> None:
    provider, _ = resolve_auth(AuthSettings(), sim.url)
    statuses: list[int] = []
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        statuses.append(_thread_status(sim.url, provider.token()))
        time.sleep(0.1)
    assert set(statuses) == {201}, statuses
    assert provider.exchanges >= 2
    provider.close()


def test_local_login_with_a_wrong_password_says_which_user_was_refused(
    sim: process.SimulatorProcess,
) -> None:
    provider, _ = resolve_auth(AuthSettings(mode="local", password="not-the-password-123"), sim.url)
    with pytest.raises(AuthError) as caught:
        provider.token()
    assert "wxo.archer@ibm.com" in str(caught.value)
    assert "not-the-password-123" not in str(caught.value)


def test_local_login_to_a_stopped_developer_edition_tells_how_to_start_it() -> None:
    with process.SimulatorProcess.start(port=0) as stopped:
        url = stopped.url
    provider, _ = resolve_auth(AuthSettings(), url)
    with pytest.raises(AuthError) as caught:
        provider.token()
    assert "orchestrate server start" in str(caught.value) and url in str(caught.value)
