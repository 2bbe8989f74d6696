"""Per-person credentials: a token provider per credential a persona or a data row carries.

A credential is `("token", bearer)` or `("api_key", key)`; its provider is the one the same
settings would give for WXO_TOKEN or WXO_API_KEY (so an API key's tokens are exchanged and
refreshed as usual), made once per process and shared by every conversation held under it. The
secret is handed to the redactor at once, and lives in memory only.
"""

from __future__ import annotations

from dataclasses import replace

from wxo_load.core.conversation import Credential
from wxo_load.edge.auth.base import TokenProvider
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings


class Identities:
    def __init__(self, settings: AuthSettings, host: str | None) -> None:
        self.settings = settings
        self.host = host
        self._providers: dict[tuple[str, str], TokenProvider] = {}

    def tokens(self, credential: Credential) -> TokenProvider:
        provider = self._providers.get(credential)
        if provider is None:
            kind, secret = credential
            if kind == "token":
                settings = replace(self.settings, mode="token", token=secret)
            else:
                settings = replace(self.settings, mode="apikey", api_key=secret, token=None)
            provider, _ = resolve_auth(settings, self.host)
            self._providers[credential] = provider
        return provider

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()
        self._providers = {}
