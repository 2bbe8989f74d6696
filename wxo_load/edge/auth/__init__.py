"""Bearer tokens for every kind of Orchestrate deployment, valid for the whole test.

    provider, host = resolve_auth(AuthSettings(...), host)
    headers = {"Authorization": f"Bearer {provider.token()}"}   # omit it when token() == ""
    ... on HTTP 401 before streaming: token = provider.refresh(stale_token); retry once

Providers: a given token, an API key (IBM Cloud IAM, MCSP, MCSP v2), Cloud Pak for Data (user
and API key or password), the ADK's active environment, the Developer Edition's local login (or
no token when a local server has no login), or none. `tls_for_target` applies the ADK
environment's `verify` / `bypass_ssl` and CPD's TLS default. One provider per process, shared by
all users; refreshes are single-flight and never block other users' streams.

This package imports none of its modules: import a name from the module that defines it.
"""
