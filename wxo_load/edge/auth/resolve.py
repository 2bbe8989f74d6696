"""Pick the token provider and the effective host: explicit `--auth MODE`, or the auto order
(given token, API key, ADK environment, Developer Edition on localhost)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from wxo_load.core.deployment import (
    DEFAULT_PATHS,
    LOCAL_HOSTNAMES,
    deployment_kind,
    is_local_hostname,
)
from wxo_load.core.errors import AuthError, WxoLoadError
from wxo_load.edge.auth import adk_config
from wxo_load.edge.auth.adk import AdkTokenProvider, expired_message
from wxo_load.edge.auth.adk_config import AdkEnvironment
from wxo_load.edge.auth.apikey import ApiKeyProvider
from wxo_load.edge.auth.base import (
    NoAuthProvider,
    StaticTokenProvider,
    TokenProvider,
    UnresolvedProvider,
)
from wxo_load.edge.auth.cpd import CpdTokenProvider, is_cpd_url
from wxo_load.edge.auth.jwt import jwt_exp
from wxo_load.edge.auth.local import LocalLoginProvider
from wxo_load.edge.auth.nologin import LocalOrNoTokenProvider
from wxo_load.edge.auth.settings import DEFAULT_PASSWORD, AuthSettings

log = logging.getLogger("wxo_load.auth")

SOON_S = 30 * 60  # warn when a token that cannot be renewed expires sooner than this


def is_local_host(host: str | None) -> bool:
    """True for a URL on this machine (a Developer Edition or the built-in simulator)."""
    return is_local_hostname(host)


def default_api_prefix(host: str | None) -> str:
    """`/api/v1` for a Developer Edition, `/v1` for a remote instance (wxo_load.core.deployment)."""
    return DEFAULT_PATHS[deployment_kind(host)[0]][0]


def wants_cpd(settings: AuthSettings, host: str | None, adk_auth_type: str | None) -> bool:
    """Cloud Pak for Data: asked for, the ADK environment's type, or a URL starting https://cpd."""
    if settings.auth_type != "auto":
        return settings.auth_type == "cpd"
    return adk_auth_type == "cpd" or is_cpd_url(host)


def resolve_auth(settings: AuthSettings, host: str | None) -> tuple[TokenProvider, str | None]:
    """The provider for these settings, and the host to test: the given one, else the ADK
    environment's `wxo_url`, else None (the caller then starts the built-in simulator and
    resolves again with its URL). No network call is made here; call `provider.token()` once
    before the test starts to fail fast. Raises `AuthError` with what to do."""
    host = host.rstrip("/") if host else None
    provider, effective = _resolve(settings, host)
    described = provider.describe()
    # Said once: Locust resolves at start-up and again as each test starts; and not before
    # there is a host (the caller then starts the simulator and resolves again).
    if effective is not None and described not in _announced:
        _announced.add(described)
        log.info("authentication: %s", described)
    return provider, effective


_announced: set[str] = set()
"""What this process already logged: one line per way of authenticating, not one per call."""


def _resolve(settings: AuthSettings, host: str | None) -> tuple[TokenProvider, str | None]:
    mode = settings.mode
    if mode == "none":
        return NoAuthProvider(), host or _adk_url(settings)
    if mode == "token" or (mode == "auto" and settings.token):
        if not settings.token:
            raise AuthError("--auth token needs a token: set WXO_TOKEN (or pass --token).")
        return _static(settings.token), host or _adk_url(settings)
    if mode == "apikey" or (mode == "auto" and settings.api_key):
        if not settings.api_key:
            raise AuthError(
                "--auth apikey needs an API key: set WXO_API_KEY (and --auth-type ibm_iam, mcsp "
                "or mcsp_v2 to match your instance)."
            )
        env = _adk_env(settings, required=False)
        host = host or (env.wxo_url if env else None)
        if wants_cpd(settings, host, env.auth_type if env else None):
            return CpdTokenProvider(settings, host), host
        return ApiKeyProvider(settings, host, env.auth_type if env else None), host
    if mode == "adk":
        env = _adk_env(settings, required=True)
        assert env is not None
        return _adk_provider(env, settings, host), host or env.wxo_url
    if mode == "local":
        if host is None:
            return UnresolvedProvider("--auth local without --host"), None
        return LocalLoginProvider(settings, host), host
    return _auto(settings, host)


def _auto(settings: AuthSettings, host: str | None) -> tuple[TokenProvider, str | None]:
    if wants_cpd(settings, host, None) and (
        settings.auth_type == "cpd" or settings.password != DEFAULT_PASSWORD
    ):
        return CpdTokenProvider(settings, host), host  # user name and password, no API key
    env = _adk_env(settings, required=False)
    if (
        env is not None
        and host is not None
        and not settings.wxo_env
        and not same_server(host, env.wxo_url)
    ):
        log.info(
            "ADK environment '%s' (%s) is for another server than %s; not using its token",
            env.name,
            env.wxo_url,
            host,
        )
        env = None
    if env is not None:
        return _adk_provider(env, settings, host), host or env.wxo_url
    if host is None:
        return UnresolvedProvider(
            "no --host, no token, no API key and no active ADK environment"
        ), None
    if is_local_host(host):
        return LocalOrNoTokenProvider(settings, host), host
    raise AuthError(
        f"No credentials for {host}: set WXO_TOKEN to a bearer token, or WXO_API_KEY to an API "
        "key (with --auth-type ibm_iam for IBM Cloud, mcsp or mcsp_v2 for AWS-hosted SaaS), or "
        "--auth-type cpd with WXO_USERNAME and WXO_PASSWORD / WXO_API_KEY for Cloud Pak for Data, "
        "or activate an ADK environment for it with `orchestrate env activate NAME`."
    )


def _static(token: str) -> StaticTokenProvider:
    provider = StaticTokenProvider(token)
    exp = jwt_exp(token)
    if exp is not None:
        left = exp - time.time()
        if left <= 0:
            raise AuthError(
                f"The token given with WXO_TOKEN / --token expired at {_utc(exp)}. Get a fresh "
                "one, or set WXO_API_KEY so wxo-load fetches and refreshes tokens itself."
            )
        if left < SOON_S:
            log.warning(
                "the token given with WXO_TOKEN / --token expires in %.0f min and cannot be "
                "refreshed; a longer test will fail with HTTP 401 after that",
                left / 60,
            )
    return provider


def _adk_provider(env: AdkEnvironment, settings: AuthSettings, host: str | None) -> TokenProvider:
    target = host or env.wxo_url
    if host is not None and not same_server(host, env.wxo_url):
        log.warning(
            "using the token of ADK environment '%s' (%s) against %s", env.name, env.wxo_url, host
        )
    fallback = LocalLoginProvider(settings, target) if is_local_host(target) else None
    if fallback is None:
        if env.is_expired(margin_s=1.0):
            raise AuthError(expired_message(env))
        if env.token_expiry is not None and env.token_expiry - time.time() < SOON_S:
            log.warning(
                "the token of ADK environment '%s' expires at %s and cannot be renewed without "
                "an API key; set WXO_API_KEY for tests longer than that",
                env.name,
                env.expiry_text(),
            )
    return AdkTokenProvider(env, fallback, settings.refresh_margin_s)


def _adk_env(settings: AuthSettings, required: bool) -> AdkEnvironment | None:
    """The named (or active) ADK environment. Outside `--auth adk` / `--wxo-env`, a broken
    ADK config is not our business: it is logged and ignored."""
    try:
        env = adk_config.load_environment(settings.wxo_env)
    except WxoLoadError:
        if required or settings.wxo_env:
            raise
        log.info("ignoring the ADK configuration", exc_info=True)
        return None
    if env is None and required:
        config_path, _ = adk_config.config_paths()
        raise AuthError(
            f"--auth adk: no active ADK environment in {config_path}. Run "
            "`orchestrate env activate NAME` (or pass --wxo-env NAME), or use WXO_TOKEN / "
            "WXO_API_KEY."
        )
    return env


def _adk_url(settings: AuthSettings) -> str | None:
    env = _adk_env(settings, required=False)
    return env.wxo_url if env else None


def same_server(a: str, b: str) -> bool:
    """Same scheme, host (localhost == 127.0.0.1), port and path, ignoring a trailing slash."""
    return _server_key(a) == _server_key(b)


def _server_key(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url if "//" in url else f"http://{url}")
    hostname = parts.hostname or ""
    if hostname in LOCAL_HOSTNAMES:
        hostname = "127.0.0.1"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return parts.scheme, hostname, port, parts.path.rstrip("/")


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
