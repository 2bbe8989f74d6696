"""Bearer tokens for every kind of Orchestrate deployment, valid for the whole test.

    provider, host = resolve_auth(AuthSettings(...), host)
    headers = {"Authorization": f"Bearer {provider.token()}"}   # omit it when token() == ""
    ... on HTTP 401 before streaming: token = provider.refresh(stale_token); retry once

Providers: a given token, an API key (IBM Cloud IAM, MCSP, MCSP v2), Cloud Pak for Data (user
and API key or password), the ADK's active environment, the Developer Edition's local login (or
no token when a local server has no login), or none. `tls_for_target` applies the ADK
environment's `verify` / `bypass_ssl` and CPD's TLS default. One provider per process, shared by
all users; refreshes are single-flight and never block other users' streams.
"""

from __future__ import annotations

from wxo_load.edge.auth.adk import AdkTokenProvider
from wxo_load.edge.auth.apikey import ApiKeyProvider, infer_auth_type, token_url
from wxo_load.edge.auth.base import (
    NoAuthProvider,
    StaticTokenProvider,
    TokenProvider,
    UnresolvedProvider,
)
from wxo_load.edge.auth.cpd import CpdTokenProvider
from wxo_load.edge.auth.jwt import jwt_claims, jwt_exp
from wxo_load.edge.auth.local import LocalLoginProvider
from wxo_load.edge.auth.nologin import LocalOrNoTokenProvider
from wxo_load.edge.auth.resolve import default_api_prefix, is_local_host, resolve_auth, same_server
from wxo_load.edge.auth.settings import AUTH_TYPES, MODES, AuthSettings
from wxo_load.edge.auth.tlsdefaults import tls_for_target
from wxo_load.edge.tls import ssl_context

__all__ = [
    "AUTH_TYPES",
    "MODES",
    "AdkTokenProvider",
    "ApiKeyProvider",
    "AuthSettings",
    "CpdTokenProvider",
    "LocalLoginProvider",
    "LocalOrNoTokenProvider",
    "NoAuthProvider",
    "StaticTokenProvider",
    "TokenProvider",
    "UnresolvedProvider",
    "default_api_prefix",
    "infer_auth_type",
    "is_local_host",
    "jwt_claims",
    "jwt_exp",
    "resolve_auth",
    "same_server",
    "ssl_context",
    "tls_for_target",
    "token_url",
]
