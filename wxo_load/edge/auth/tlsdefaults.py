"""Whether to verify TLS against a host, as the ADK decides it, when the user did not say.

In order:
1. `--insecure` / `--ca-bundle` (or the scenario's `auth.insecure` / `auth.ca_bundle`) win;
2. the ADK environment for this host (`~/.config/orchestrate/config.yaml`,
   `environments.<name>`): `bypass_ssl: true` or `verify: false` turn verification off,
   `verify: <path>` trusts that CA bundle, `verify: true` keeps it on (also for CPD);
3. Cloud Pak for Data (`--auth-type cpd`, the environment's `auth_type: cpd`, or a URL starting
   `https://cpd`): off, as the ADK does for CPD, with a warning saying how to turn it on;
4. otherwise verification is on.
Each decision that turns verification off is logged once per process.
"""

from __future__ import annotations

import dataclasses
import logging

from wxo_load.edge.auth.adk_config import AdkEnvironment
from wxo_load.edge.auth.resolve import _adk_env, same_server, wants_cpd
from wxo_load.edge.auth.settings import AuthSettings

log = logging.getLogger("wxo_load.auth")
_said: set[str] = set()


def tls_for_target(settings: AuthSettings, host: str | None) -> AuthSettings:
    """`settings` with `insecure` / `ca_bundle` filled in for `host` by the rules above."""
    if settings.insecure or settings.ca_bundle:
        return settings
    env = _environment_for(settings, host)
    if env is not None:
        if env.bypass_ssl or env.verify is False:
            setting = "bypass_ssl: true" if env.bypass_ssl else "verify: false"
            _say(f"ADK environment '{env.name}' has {setting}: TLS certificates are not verified")
            return dataclasses.replace(settings, insecure=True)
        if isinstance(env.verify, str):
            _say(
                f"ADK environment '{env.name}' has verify: {env.verify}: trusting that CA bundle",
                warn=False,
            )
            return dataclasses.replace(settings, ca_bundle=env.verify)
        if env.verify is True:
            return settings
    target = host or (env.wxo_url if env else None)
    if (
        target
        and target.startswith("https")
        and wants_cpd(settings, target, env.auth_type if env else None)
    ):
        _say(
            "Cloud Pak for Data: TLS certificates are not verified, as the ADK does for CPD; pass "
            "--ca-bundle FILE (or set verify: true in the ADK environment) to verify them"
        )
        return dataclasses.replace(settings, insecure=True)
    return settings


def _environment_for(settings: AuthSettings, host: str | None) -> AdkEnvironment | None:
    """The named (--wxo-env) or active ADK environment, if it is for this host."""
    env = _adk_env(settings, required=False)
    if env is None:
        return None
    if host and not settings.wxo_env and not same_server(host, env.wxo_url):
        return None
    return env


def _say(message: str, warn: bool = True) -> None:
    if message not in _said:
        _said.add(message)
        (log.warning if warn else log.info)("%s", message)
