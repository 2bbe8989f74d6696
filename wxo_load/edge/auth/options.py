"""Locust command-line options for authentication, and the `AuthSettings` they make.

They live
here so that tools and tests can use them without importing locust. No locust import here: the
parser object is passed in (Locust's configargparse parser, whose `add_argument` also takes
`env_var=`, `include_in_web_ui=` and `is_secret=`).

Secrets (`--token`, `--api-key`, `--password`) are kept out of Locust's web UI altogether: its page
embeds each UI option's current value, even for `is_secret` ones (only the input box is masked).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypedDict

from wxo_load.core.errors import ConfigError
from wxo_load.edge.auth.settings import (
    AUTH_TYPES,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    MODES,
    AuthSettings,
)

#: keys a scenario's `auth:` mapping may hold; secrets only by the name of an environment variable
SCENARIO_KEYS = (
    "mode",
    "auth_type",
    "iam_url",
    "wxo_env",
    "token_env",
    "api_key_env",
    "username",
    "password_env",
    "tenant",
    "refresh_margin_s",
    "insecure",
    "ca_bundle",
)
_RAW_SECRETS = {
    "token": "token_env",
    "api_key": "api_key_env",
    "apikey": "api_key_env",
    "password": "password_env",
}


# Locust's parser.add_argument understands include_in_web_ui / is_secret; an argument group's
# add_argument does not (TypeError), so the options go on the parser itself. Without options:
# WXO_TOKEN, else WXO_API_KEY, else the ADK's active environment, else the Developer Edition
# login on localhost.
class AuthOption(TypedDict, total=False):
    """One option's keywords for `add_argument` (Locust's parser also takes `env_var`,
    `include_in_web_ui` and `is_secret`; a plain parser gets them folded in)."""

    dest: str
    choices: tuple[str, ...]
    default: str | None
    action: str
    env_var: str
    help: str
    include_in_web_ui: bool
    is_secret: bool


AUTH_OPTIONS: tuple[tuple[str, AuthOption], ...] = (
    (
        "--auth",
        AuthOption(
            dest="auth",
            choices=MODES,
            default=None,
            env_var="WXO_AUTH",
            help="Token provider: auto (default), token, apikey, adk, local or none",
        ),
    ),
    (
        "--token",
        AuthOption(
            dest="token",
            default=None,
            env_var="WXO_TOKEN",
            include_in_web_ui=False,
            is_secret=True,
            help="Bearer token to use as is (prefer the WXO_TOKEN environment variable)",
        ),
    ),
    (
        "--api-key",
        AuthOption(
            dest="api_key",
            default=None,
            env_var="WXO_API_KEY",
            include_in_web_ui=False,
            is_secret=True,
            help=(
                "API key to exchange for tokens (prefer WXO_API_KEY: a command line is visible "
                "to other users of the machine)"
            ),
        ),
    ),
    (
        "--auth-type",
        AuthOption(
            dest="auth_type",
            choices=AUTH_TYPES,
            default=None,
            env_var="WXO_AUTH_TYPE",
            include_in_web_ui=False,
            help=(
                "Token service: ibm_iam (IBM Cloud), mcsp, mcsp_v2 (AWS-hosted SaaS), cpd "
                "(Cloud Pak for Data); default auto (from the host)"
            ),
        ),
    ),
    (
        "--username",
        AuthOption(
            dest="username",
            default=None,
            env_var="WXO_USERNAME",
            include_in_web_ui=False,
            help=(
                "User name for Cloud Pak for Data (--auth-type cpd) or a Developer Edition "
                "login other than the built-in one"
            ),
        ),
    ),
    (
        "--password",
        AuthOption(
            dest="password",
            default=None,
            env_var="WXO_PASSWORD",
            include_in_web_ui=False,
            is_secret=True,
            help="Password for --username (prefer the WXO_PASSWORD environment variable)",
        ),
    ),
    (
        "--iam-url",
        AuthOption(
            dest="iam_url",
            default=None,
            env_var="WXO_IAM_URL",
            include_in_web_ui=False,
            help="Base URL of the token service (default: the public one for --auth-type)",
        ),
    ),
    (
        "--wxo-env",
        AuthOption(
            dest="wxo_env",
            default=None,
            env_var="WXO_ENV",
            include_in_web_ui=False,
            help="ADK environment to use instead of the active one (see `orchestrate env list`)",
        ),
    ),
    (
        "--insecure",
        AuthOption(
            dest="insecure",
            action="store_true",
            default=None,
            env_var="WXO_INSECURE",
            include_in_web_ui=False,
            help=(
                "Do not verify TLS certificates (self-signed on-premises installs on a trusted "
                "network)"
            ),
        ),
    ),
    (
        "--ca-bundle",
        AuthOption(
            dest="ca_bundle",
            default=None,
            env_var="WXO_CA_BUNDLE",
            include_in_web_ui=False,
            help=(
                "PEM file (or directory) of CA certificates to trust, e.g. an on-premises "
                "install's CA"
            ),
        ),
    ),
)


def add_auth_options(parser: Any) -> None:
    for flag, settings in AUTH_OPTIONS:
        parser.add_argument(flag, **settings)


def settings_from_options(
    options: Any, scenario_auth: Mapping[str, Any] | None = None
) -> AuthSettings:
    """Command line (and its environment variables) first, then the scenario's `auth:` mapping,
    then the defaults. The scenario names environment variables for secrets, never the secrets."""
    scenario = _scenario(scenario_auth)

    def pick(name: str, default: Any = None) -> Any:
        value = getattr(options, name, None)
        if value is not None and value != "":
            return value
        value = scenario.get(name)
        return default if value is None or value == "" else value

    token = getattr(options, "token", None) or _from_env(scenario, "token_env")
    api_key = getattr(options, "api_key", None) or _from_env(scenario, "api_key_env")
    password = (
        getattr(options, "password", None)
        or _from_env(scenario, "password_env")
        or DEFAULT_PASSWORD
    )
    margin = _refresh_margin(scenario)
    return AuthSettings(
        mode=str(pick("auth", scenario.get("mode") or "auto")),
        token=token or None,
        api_key=api_key or None,
        auth_type=str(pick("auth_type", "auto")),
        iam_url=pick("iam_url"),
        wxo_env=pick("wxo_env"),
        username=str(
            getattr(options, "username", None) or scenario.get("username") or DEFAULT_USERNAME
        ),
        password=password,
        tenant=str(scenario.get("tenant") or "wxo-dev"),
        refresh_margin_s=float(margin),
        insecure=_truthy(pick("insecure", False)),
        ca_bundle=pick("ca_bundle"),
    )


def _scenario(scenario_auth: Mapping[str, Any] | None) -> dict[str, Any]:
    scenario = dict(scenario_auth or {})
    for raw, instead in _RAW_SECRETS.items():
        if raw in scenario:
            raise ConfigError(
                f"scenario `auth.{raw}`: secrets must not be written in a scenario file. Put the "
                f"value in an environment variable and name it with `auth.{instead}: VARIABLE` "
                "(or use WXO_TOKEN / WXO_API_KEY directly)."
            )
    unknown = sorted(set(scenario) - set(SCENARIO_KEYS))
    if unknown:
        raise ConfigError(
            f"scenario `auth`: unknown key(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(SCENARIO_KEYS)}."
        )
    return scenario


def _refresh_margin(scenario: Mapping[str, Any]) -> int | float:
    """The scenario's `auth.refresh_margin_s` (default 60), checked to be a number of seconds."""
    margin = scenario.get("refresh_margin_s", 60.0)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)):
        raise ConfigError(
            f"scenario `auth.refresh_margin_s`: expected seconds as a number, got {margin!r}."
        )
    return margin


def _from_env(scenario: Mapping[str, Any], key: str) -> str | None:
    name = scenario.get(key)
    if not name:
        return None
    if not isinstance(name, str):
        raise ConfigError(
            f"scenario `auth.{key}`: expected the name of an environment variable, got {name!r}."
        )
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"scenario `auth.{key}` names the environment variable {name}, which is not set. "
            f"Export it (export {name}=...) before starting the test."
        )
    return value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def add_plain_auth_options(parser: Any) -> None:
    """The same options on a plain argparse parser (a `wxo-load` tool): each option's
    environment variable becomes its default, secrets are never shown in `--help`."""
    for flag, option in AUTH_OPTIONS:
        plain = option.copy()
        plain.pop("include_in_web_ui", None)
        plain.pop("is_secret", None)
        env_var = plain.pop("env_var", None)
        if env_var and os.environ.get(env_var):
            plain["default"] = os.environ[env_var]
        if env_var:
            plain["help"] = f"{plain.get('help', '')} (env {env_var})"
        parser.add_argument(flag, **plain)
