"""Which provider `resolve_auth` picks, the ADK environment in a temporary HOME, secrets kept
out of messages, and the shared TLS context."""

from __future__ import annotations

import base64
import json
import ssl
import time
from pathlib import Path

import pytest
import yaml

from wxo_load.core.errors import AuthError, ConfigError
from wxo_load.core.redact import redact
from wxo_load.edge.auth.adk import AdkTokenProvider
from wxo_load.edge.auth.apikey import ApiKeyProvider
from wxo_load.edge.auth.base import NoAuthProvider, StaticTokenProvider, UnresolvedProvider
from wxo_load.edge.auth.local import LocalLoginProvider
from wxo_load.edge.auth.resolve import default_api_prefix, resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.tls import ssl_context

SAAS = "https://api.us-south.watson-orchestrate.cloud.ibm.com/instances/abc-123"
AWS_SAAS = "https://api.dl.watson-orchestrate.ibm.com/instances/20240912-0000-0000"


def jwt(exp: float | None, serial: str = "1") -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims: dict[str, object] = {"sub": "tester", "serial": serial}
    if exp is not None:
        claims["exp"] = int(exp)
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def write_adk(
    home: Path,
    active: str | None,
    envs: dict[str, str],
    tokens: dict[str, tuple[str, float | None]],
) -> None:
    config_dir = home / ".config" / "orchestrate"
    cache_dir = home / ".cache" / "orchestrate"
    config_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "context": {"active_environment": active},
        "environments": {name: {"wxo_url": url} for name, url in envs.items()},
        "python_registry": {"type": "pypi"},
    }
    (config_dir / "config.yaml").write_text(yaml.safe_dump(config))
    auth: dict[str, dict[str, object]] = {}
    for name, (token, expiry) in tokens.items():
        auth[name] = {"wxo_mcsp_token": token}
        if expiry is not None:
            auth[name]["wxo_mcsp_token_expiry"] = int(expiry)
    (cache_dir / "credentials.yaml").write_text(yaml.safe_dump({"auth": auth}))


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_a_given_token_wins_over_an_api_key_and_the_adk_environment(home: Path) -> None:
    token = jwt(time.time() + 3600)
    write_adk(home, "prod", {"prod": SAAS}, {"prod": (jwt(time.time() + 3600, "adk"), None)})
    provider, host = resolve_auth(AuthSettings(token=token, api_key="x" * 32), None)
    assert isinstance(provider, StaticTokenProvider)
    assert provider.token() == token
    assert host == SAAS  # no --host: the ADK environment's URL


def test_an_api_key_comes_next_and_takes_the_adk_environment_url_as_host(home: Path) -> None:
    write_adk(home, "prod", {"prod": AWS_SAAS}, {})
    provider, host = resolve_auth(AuthSettings(api_key="k" * 32), None)
    assert isinstance(provider, ApiKeyProvider)
    assert (
        host == AWS_SAAS and provider.auth_type == "mcsp"
    )  # guessed from the host, as the ADK does


def test_with_a_fake_adk_config_the_active_environment_gives_host_and_token(home: Path) -> None:
    adk_token = jwt(time.time() + 7200)
    write_adk(
        home,
        "prod",
        {"prod": SAAS + "/", "local": "http://localhost:4321"},
        {"prod": (adk_token, time.time() + 7200)},
    )
    provider, host = resolve_auth(AuthSettings(), None)
    assert isinstance(provider, AdkTokenProvider)
    assert host == SAAS
    assert provider.token() == adk_token
    assert "prod" in provider.describe() and adk_token not in provider.describe()


def test_an_expired_adk_token_says_to_run_orchestrate_env_activate(home: Path) -> None:
    expired = jwt(time.time() - 60)
    write_adk(home, "prod", {"prod": SAAS}, {"prod": (expired, time.time() - 60)})
    with pytest.raises(AuthError) as caught:
        resolve_auth(AuthSettings(), None)
    message = str(caught.value)
    assert "orchestrate env activate prod" in message
    assert expired not in message


def test_an_adk_token_without_expiry_field_uses_the_jwt_exp(home: Path) -> None:
    expired = jwt(time.time() - 5)
    write_adk(home, "prod", {"prod": SAAS}, {"prod": (expired, None)})
    with pytest.raises(AuthError, match="orchestrate env activate prod"):
        resolve_auth(AuthSettings(mode="adk"), None)


def test_wxo_env_picks_a_named_environment_and_an_unknown_name_lists_the_known_ones(
    home: Path,
) -> None:
    staging = jwt(time.time() + 3600, "staging")
    write_adk(
        home,
        "prod",
        {"prod": SAAS, "staging": AWS_SAAS},
        {"staging": (staging, time.time() + 3600)},
    )
    provider, host = resolve_auth(AuthSettings(wxo_env="staging"), None)
    assert host == AWS_SAAS and provider.token() == staging
    with pytest.raises(AuthError) as caught:
        resolve_auth(AuthSettings(wxo_env="nope"), None)
    assert "prod" in str(caught.value) and "staging" in str(caught.value)


def test_after_a_401_the_adk_provider_picks_up_a_token_renewed_by_the_adk(home: Path) -> None:
    first, second = jwt(time.time() + 3600, "a"), jwt(time.time() + 3600, "b")
    write_adk(home, "prod", {"prod": SAAS}, {"prod": (first, time.time() + 3600)})
    provider, _ = resolve_auth(AuthSettings(mode="adk"), None)
    assert provider.token() == first
    write_adk(
        home, "prod", {"prod": SAAS}, {"prod": (second, time.time() + 3600)}
    )  # `orchestrate env activate`
    time.sleep(provider.min_refresh_interval_s + 0.05)
    assert provider.refresh(first) == second
    time.sleep(provider.min_refresh_interval_s + 0.05)
    with pytest.raises(AuthError, match="orchestrate env activate prod"):
        provider.refresh(second)  # refused and nothing newer on disk


def test_an_adk_environment_for_another_server_is_not_used_for_a_given_host(home: Path) -> None:
    write_adk(home, "prod", {"prod": SAAS}, {"prod": (jwt(time.time() + 3600), None)})
    provider, host = resolve_auth(AuthSettings(), "http://127.0.0.1:4321")
    assert isinstance(provider, LocalLoginProvider) and host == "http://127.0.0.1:4321"
    with pytest.raises(AuthError) as caught:
        resolve_auth(AuthSettings(), AWS_SAAS)
    assert "WXO_TOKEN" in str(caught.value) and "WXO_API_KEY" in str(caught.value)


def test_a_local_adk_environment_falls_back_to_the_developer_edition_login(home: Path) -> None:
    write_adk(home, "local", {"local": "http://localhost:4321"}, {"local": (jwt(None), None)})
    provider, host = resolve_auth(AuthSettings(), "http://127.0.0.1:4321")
    assert isinstance(provider, AdkTokenProvider) and host == "http://127.0.0.1:4321"
    assert "local login" in provider.describe()


def test_nothing_configured_and_no_host_leaves_the_host_to_the_caller(home: Path) -> None:
    provider, host = resolve_auth(AuthSettings(), None)
    assert host is None and isinstance(provider, UnresolvedProvider)
    with pytest.raises(AuthError, match="--host"):
        provider.token()


def test_explicit_modes_need_their_credentials(home: Path) -> None:
    with pytest.raises(AuthError, match="WXO_TOKEN"):
        resolve_auth(AuthSettings(mode="token"), SAAS)
    with pytest.raises(AuthError, match="WXO_API_KEY"):
        resolve_auth(AuthSettings(mode="apikey"), SAAS)
    with pytest.raises(AuthError, match="orchestrate env activate"):
        resolve_auth(AuthSettings(mode="adk"), SAAS)
    provider, host = resolve_auth(AuthSettings(mode="none", token=jwt(None)), SAAS)
    assert isinstance(provider, NoAuthProvider) and provider.token() == "" and host == SAAS


def test_an_expired_given_token_is_refused_before_the_test_starts(home: Path) -> None:
    expired = jwt(time.time() - 10)
    with pytest.raises(AuthError) as caught:
        resolve_auth(AuthSettings(token=expired), SAAS)
    assert "expired" in str(caught.value) and expired not in str(caught.value)


def test_a_given_token_refused_by_the_server_cannot_be_refreshed_and_says_so(home: Path) -> None:
    token = jwt(time.time() + 3600)
    provider, _ = resolve_auth(AuthSettings(token=token), SAAS)
    with pytest.raises(AuthError) as caught:
        provider.refresh(token)
    assert "WXO_API_KEY" in str(caught.value) and token not in str(caught.value)


def test_secrets_are_masked_in_settings_repr_and_by_the_redactor(home: Path) -> None:
    token, key = jwt(time.time() + 3600, "secret"), "my-very-secret-api-key-123456"
    settings = AuthSettings(token=token, api_key=key)
    resolve_auth(settings, SAAS)
    text = repr(settings)
    assert token not in text and key not in text and "eyJh…(masked)" in text
    scrubbed = redact(f"failed with Authorization: Bearer {token} and key {key}")
    assert token not in scrubbed and key not in scrubbed


def test_bad_settings_are_config_errors_that_list_the_choices() -> None:
    with pytest.raises(ConfigError, match="apikey"):
        AuthSettings(mode="password")
    with pytest.raises(ConfigError, match="mcsp_v2"):
        AuthSettings(auth_type="basic")
    assert AuthSettings(auth_type="MCSPv2").auth_type == "mcsp_v2"


def test_api_prefix_defaults_per_deployment_kind() -> None:
    assert default_api_prefix("http://localhost:4321") == "/api/v1"
    assert default_api_prefix(SAAS) == "/v1"
    assert default_api_prefix(SAAS + "/") == "/v1"
    assert default_api_prefix("https://cpd.example.com/orchestrate/instances/1700000000") == "/v1"


def test_one_tls_context_per_settings_is_built_and_reused(tmp_path: Path) -> None:
    first = ssl_context(AuthSettings())
    assert ssl_context(AuthSettings()) is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    insecure = ssl_context(AuthSettings(insecure=True))
    assert insecure is not first and insecure.verify_mode == ssl.CERT_NONE
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="--ca-bundle"):
        ssl_context(AuthSettings(ca_bundle=str(bad)))
