"""API key providers against real local token servers (IBM Cloud IAM, MCSP, MCSP v2 shapes)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from token_servers import TokenServer

from wxo_load.core.errors import AuthError
from wxo_load.edge.auth.apikey import ApiKeyProvider
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings

SAAS_HOST = "https://api.us-south.watson-orchestrate.cloud.ibm.com/instances/0000-1111"


def _provider(ts: TokenServer, **overrides: object) -> ApiKeyProvider:
    fields: dict[str, object] = {"api_key": ts.api_key, "auth_type": ts.kind, "iam_url": ts.url}
    fields.update(overrides)
    provider, host = resolve_auth(AuthSettings(**fields), SAAS_HOST)  # type: ignore[arg-type]
    assert host == SAAS_HOST
    assert isinstance(provider, ApiKeyProvider)
    return provider


@pytest.mark.parametrize("kind", ["ibm_iam", "mcsp", "mcsp_v2"])
def test_api_key_is_exchanged_in_the_shape_each_token_service_expects(kind: str) -> None:
    with TokenServer(kind) as ts:
        provider = _provider(ts)
        token = provider.token()
        assert ts.check(token) == 200
        assert provider.token() == token  # cached, not fetched again
        stats = ts.stats()
        assert stats["issued"] == 1
        assert stats["bad_requests"] == 0
        assert ts.api_key not in provider.describe() and token not in provider.describe()
        assert kind in provider.describe()
        provider.close()


def test_a_refused_api_key_gives_an_error_that_says_what_to_do_and_hides_the_key() -> None:
    with TokenServer("ibm_iam") as ts:
        wrong_key = "wrong-key-5f0e9d8c7b6a5f4e3d"
        provider = _provider(ts, api_key=wrong_key)
        with pytest.raises(AuthError) as caught:
            provider.token()
        message = str(caught.value)
        assert "WXO_API_KEY" in message and "--auth-type" in message
        assert wrong_key not in message
        assert ts.stats()["issued"] == 0


def test_an_unreachable_token_service_is_reported_with_its_url() -> None:
    with TokenServer("mcsp") as ts:
        url = ts.url
    provider = resolve_auth(
        AuthSettings(api_key="k" * 40, auth_type="mcsp", iam_url=url), SAAS_HOST
    )[0]
    with pytest.raises(AuthError) as caught:
        provider.token()
    assert "cannot connect" in str(caught.value) and url in str(caught.value)
    assert "k" * 40 not in str(caught.value)


def test_auto_type_on_ibm_saas_falls_back_from_mcsp_to_mcsp_v2_like_the_adk() -> None:
    with TokenServer("mcsp_v2") as ts:
        settings = AuthSettings(api_key=ts.api_key, iam_url=ts.url)  # auth_type auto
        provider, _ = resolve_auth(
            settings, "https://api.dl.watson-orchestrate.ibm.com/instances/abc"
        )
        assert isinstance(provider, ApiKeyProvider) and provider.auth_type == "mcsp"
        assert ts.check(provider.token()) == 200
        assert provider.auth_type == "mcsp_v2"


@pytest.mark.slow
def test_token_is_refreshed_before_it_expires_so_no_request_is_refused() -> None:
    with TokenServer("ibm_iam", ttl=2) as ts:
        provider = _provider(ts)
        refused = 0
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if ts.check(provider.token()) != 200:
                refused += 1
            time.sleep(0.05)
        stats = ts.stats()
        assert refused == 0
        assert stats["checks_rejected"] == 0
        # a 2 s token (1-2 s after whole-second truncation of exp) refreshed at 3/4 of its life
        assert 3 <= stats["issued"] <= 12, stats


def test_concurrent_callers_without_a_token_cause_exactly_one_exchange() -> None:
    with TokenServer("mcsp", delay=0.4) as ts:
        provider = _provider(ts)
        results: list[str] = []
        threads = [
            threading.Thread(target=lambda: results.append(provider.token())) for _ in range(25)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 25 and len(set(results)) == 1
        assert ts.stats()["issued"] == 1


@pytest.mark.slow
def test_near_expiry_one_caller_refreshes_while_the_others_keep_the_old_token() -> None:
    with TokenServer("ibm_iam", ttl=4, delay=0.6) as ts:
        provider = _provider(ts, refresh_margin_s=60.0)
        old = provider.token()
        current = provider._current
        assert current is not None
        time.sleep(
            max(current.refresh_at - time.monotonic(), 0) + 0.05
        )  # inside the refresh window
        took: list[tuple[float, str]] = []

        def call() -> None:
            t0 = time.monotonic()
            value = provider.token()
            took.append((time.monotonic() - t0, value))

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # nobody waited for the 0.6 s exchange: they all got the old, still valid token at once
        assert [value for _, value in took] == [old] * 20
        assert max(t for t, _ in took) < 0.3
        deadline = time.monotonic() + 3
        while provider.exchanges < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert ts.stats()["issued"] == 2  # one refresh, not twenty
        assert provider.token() != old and ts.check(provider.token()) == 200


@pytest.mark.slow
def test_after_a_401_many_callers_refresh_the_stale_token_only_once() -> None:
    with TokenServer("mcsp_v2", delay=0.2) as ts:
        provider = _provider(ts)
        stale = provider.token()
        time.sleep(provider.min_refresh_interval_s + 0.05)
        ts.revoke()
        assert ts.check(stale) == 401
        results: list[str] = []
        threads = [
            threading.Thread(target=lambda: results.append(provider.refresh(stale)))
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(results)) == 1 and results[0] != stale
        assert ts.check(results[0]) == 200
        assert ts.stats()["issued"] == 2
        # a caller holding an older token than the current one gets the current one, no exchange
        assert provider.refresh("an-even-older-token-value") == results[0]
        assert ts.stats()["issued"] == 2


GEVENT_SCRIPT = r"""
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
sys.path.insert(0, sys.argv[2])
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
provider, _ = resolve_auth(
    AuthSettings(api_key=sys.argv[3], auth_type="ibm_iam", iam_url=sys.argv[1]),
    "https://x.cloud.ibm.com/instances/1",
)
ticks = []
def ticker():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        ticks.append(time.monotonic()); gevent.sleep(0.01)
t = gevent.spawn(ticker)
users = [gevent.spawn(provider.token) for _ in range(100)]
gevent.joinall(users + [t])
gaps = [b - a for a, b in zip(ticks, ticks[1:])]
print(len({u.value for u in users}), provider.exchanges, round(max(gaps), 3))
"""


@pytest.mark.slow
def test_under_gevent_one_exchange_serves_all_greenlets_and_the_loop_keeps_running() -> None:
    root = Path(__file__).resolve().parents[2]
    with TokenServer("ibm_iam", delay=0.5) as ts:
        out = subprocess.run(
            [sys.executable, "-c", GEVENT_SCRIPT, ts.url, str(root), ts.api_key],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        distinct, exchanges, max_gap_s = out.stdout.split()
        assert distinct == "1" and exchanges == "1"
        assert float(max_gap_s) < 0.1  # other greenlets ran while the 0.5 s exchange was in flight
        assert ts.stats()["issued"] == 1
