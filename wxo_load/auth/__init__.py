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

from ..tls import ssl_context
from .adk import AdkTokenProvider
from .apikey import ApiKeyProvider, infer_auth_type, token_url
from .base import NoAuthProvider, StaticTokenProvider, TokenProvider, UnresolvedProvider
from .cpd import CpdTokenProvider
from .jwt import jwt_claims, jwt_exp
from .local import LocalLoginProvider
from .nologin import LocalOrNoTokenProvider
from .resolve import default_api_prefix, is_local_host, resolve_auth, same_server
from .settings import AUTH_TYPES, MODES, AuthSettings
from .tlsdefaults import tls_for_target

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
