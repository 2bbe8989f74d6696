"""Cloud Pak for Data tokens, MCSP key kinds and regional v2, and the ADK's TLS settings,
against real local token servers (tests/token_servers.py)."""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

import pytest
import yaml
from token_servers import CPD_USERNAME, TokenServer

from wxo_load.core.errors import AuthError, ConfigError
from wxo_load.edge.auth import tlsdefaults
from wxo_load.edge.auth.adk_config import load_environment
from wxo_load.edge.auth.apikey import ApiKeyProvider
from wxo_load.edge.auth.cpd import CpdTokenProvider, authorize_url
from wxo_load.edge.auth.mcsp import V2_DEFAULT_BASE, V2_GERMANY_BASE, key_version
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.auth.tlsdefaults import tls_for_target

CPD_HOST = "https://cpd-wxo.apps.example.com/orchestrate/instances/1700000000"


def _key(prefix: str) -> str:
    return base64.b64encode(f"{prefix}:0123456789abcdef0123456789".encode()).decode()


# -- Cloud Pak for Data ------------------------------------------------------------------------


def test_cpd_authorize_url_is_the_host_up_to_orchestrate() -> None:
    assert authorize_url(CPD_HOST) == "https://cpd-wxo.apps.example.com/icp4d-api/v1/authorize"
    assert (
        authorize_url("https://cpd.example.com:8443")
        == "https://cpd.example.com:8443/icp4d-api/v1/authorize"
    )
    assert (
        authorize_url(CPD_HOST, "http://127.0.0.1:9") == "http://127.0.0.1:9/icp4d-api/v1/authorize"
    )


def test_a_url_starting_https_cpd_is_cloud_pak_for_data_in_auto_mode() -> None:
    provider, _ = resolve_auth(
        AuthSettings(username=CPD_USERNAME, password="cpd-secret-pw-1"), CPD_HOST
    )
    assert isinstance(provider, CpdTokenProvider)
    provider, _ = resolve_auth(
        AuthSettings(username=CPD_USERNAME, api_key="cpd-secret-key-1"), CPD_HOST
    )
    assert isinstance(provider, CpdTokenProvider)
    assert "cpd-secret-key-1" not in provider.describe()


@pytest.mark.slow
@pytest.mark.parametrize("secret_field", ["api_key", "password"])
def test_cpd_exchanges_user_and_secret_for_a_token_and_refreshes_it_before_exp(
    secret_field: str,
) -> None:
    with TokenServer("cpd", ttl=3) as ts:
        settings = AuthSettings(
            auth_type="cpd", username=CPD_USERNAME, **{secret_field: ts.api_key}
        )  # type: ignore[arg-type]
        provider, _ = resolve_auth(settings, f"{ts.url}/orchestrate/instances/1")
        assert isinstance(provider, CpdTokenProvider)
        first = provider.token()
        assert ts.check(first) == 200 and ts.stats()["bad_requests"] == 0
        deadline = time.monotonic() + 6
        while provider.token() == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert provider.token() != first  # refreshed from the JWT's exp alone (no expires_in)
        assert ts.check(provider.token()) == 200
        provider.close()


def test_cpd_without_credentials_or_with_wrong_ones_says_what_to_set() -> None:
    with pytest.raises(AuthError, match="WXO_USERNAME"):
        resolve_auth(AuthSettings(auth_type="cpd"), CPD_HOST)
    with TokenServer("cpd") as ts:
        wrong = "wrong-cpd-password-77"
        provider, _ = resolve_auth(
            AuthSettings(auth_type="cpd", username=CPD_USERNAME, password=wrong),
            f"{ts.url}/orchestrate",
        )
        with pytest.raises(AuthError) as caught:
            provider.token()
    assert "WXO_PASSWORD" in str(caught.value) and wrong not in str(caught.value)


# -- MCSP key kinds and the regional v2 service -------------------------------------------------


def test_mcsp_key_kind_is_read_from_the_decoded_key() -> None:
    assert key_version(_key("k1")) == "mcsp"
    assert key_version(_key("k2")) == "mcsp_v2"
    assert key_version("plain-api-key-without-a-kind") is None
    assert key_version("!!!") is None


def test_the_v2_token_service_is_regional() -> None:
    germany = "https://api.germanywestcentral.watson-orchestrate.ibm.com/instances/1"
    other = "https://api.dl.watson-orchestrate.ibm.com/instances/1"
    assert ApiKeyProvider(
        AuthSettings(api_key=_key("k2"), auth_type="mcsp"), germany
    ).url.startswith(V2_GERMANY_BASE + "/api/2.0/")
    assert ApiKeyProvider(AuthSettings(api_key=_key("k2")), other).url.startswith(
        V2_DEFAULT_BASE + "/api/2.0/"
    )
    assert ApiKeyProvider(AuthSettings(api_key=_key("k1")), other).auth_type == "mcsp"


def test_a_k2_key_goes_straight_to_mcsp_v2() -> None:
    key = _key("k2")
    with TokenServer("mcsp_v2", api_key=key) as ts:
        provider = ApiKeyProvider(
            AuthSettings(api_key=key, auth_type="mcsp", iam_url=ts.url),
            "https://api.dl.watson-orchestrate.ibm.com/instances/1",
        )
        assert provider.auth_type == "mcsp_v2"
        assert ts.check(provider.token()) == 200
        provider.close()


def test_plain_mcsp_with_a_key_that_does_not_say_tries_v1_then_v2() -> None:
    with TokenServer("mcsp_v2") as ts:  # the v1 path answers 404 there
        provider = ApiKeyProvider(
            AuthSettings(api_key=ts.api_key, auth_type="mcsp", iam_url=ts.url),
            "https://api.dl.watson-orchestrate.ibm.com/instances/1",
        )
        assert ts.check(provider.token()) == 200
        assert provider.auth_type == "mcsp_v2"
        provider.close()


# -- the ADK environment's verify / bypass_ssl ---------------------------------------------------


def _adk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **entry: object) -> None:
    config = tmp_path / ".config/orchestrate/config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        yaml.safe_dump(
            {
                "context": {"active_environment": "prod"},
                "environments": {"prod": {"wxo_url": CPD_HOST, **entry}},
            }
        )
    )
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.mark.parametrize(
    ("entry", "insecure", "ca_bundle"),
    [
        ({"bypass_ssl": True}, True, None),
        ({"verify": False}, True, None),
        ({"verify": "/etc/cpd-ca.pem"}, False, "/etc/cpd-ca.pem"),
        ({"verify": True}, False, None),  # verification on, even for CPD
        ({}, True, None),  # CPD (https://cpd...) without a setting: off, as the ADK does
    ],
)
def test_the_adk_environment_tls_settings_are_honoured(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry: dict[str, object],
    insecure: bool,
    ca_bundle: str | None,
) -> None:
    _adk_home(tmp_path, monkeypatch, **entry)
    settings = tls_for_target(AuthSettings(token="t" * 20), CPD_HOST)
    assert (settings.insecure, settings.ca_bundle) == (insecure, ca_bundle)
    assert (
        tls_for_target(AuthSettings(token="t" * 20, ca_bundle="/mine.pem"), CPD_HOST).insecure
        is False
    )  # the user's choice wins


def test_a_non_cpd_host_keeps_verification_and_the_cpd_default_is_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(tlsdefaults, "_said", set())
    assert (
        tls_for_target(
            AuthSettings(), "https://api.us-south.watson-orchestrate.cloud.ibm.com/instances/1"
        ).insecure
        is False
    )
    with caplog.at_level(logging.WARNING, logger="wxo_load.auth"):
        assert (
            tls_for_target(
                AuthSettings(auth_type="cpd"), "https://onprem.example.com/orchestrate"
            ).insecure
            is True
        )
    assert (
        "Cloud Pak for Data: TLS certificates are not verified" in caplog.text
        and "--ca-bundle" in caplog.text
    )


def test_a_bad_verify_value_names_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _adk_home(tmp_path, monkeypatch, bypass_ssl="maybe")
    with pytest.raises(ConfigError, match="bypass_ssl"):
        load_environment(home=tmp_path)
