"""Which kind of Orchestrate deployment a host URL is, and the chat API paths it gets.

One function decides (`choose_deployment`); the client, the harness and the log line read it.

| kind | who | threads | runs (streamed) |
|------|-----|---------|-----------------|
| local | Developer Edition (the widget's paths) | `/api/v1/threads` | `/api/v1/orchestrate/runs` |
| remote | SaaS, any remote instance URL | `/v1/orchestrate/threads` | `/v1/orchestrate/runs` |

Paths are appended to the host URL's own path (`https://…/instances/<id>` + `/v1/orchestrate/…`).

The rule, in order:
1. a forced kind (`--deployment` / `WXO_DEPLOYMENT`, else the scenario's `api.deployment`);
2. a host URL whose path holds `/instances/` is a remote instance, whatever its hostname (a
   tunnel to SaaS on localhost, or the built-in simulator's SaaS shape);
3. the ADK's local hostnames (`localhost`, `127.0.0.1` (any 127.x), `[::1]`, `0.0.0.0`,
   `host.docker.internal`) are a Developer Edition;
4. anything else is remote, as the ADK treats it.

The scenario's `api.prefix`, `api.threads_path` and `api.runs_path` override each part.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from wxo_load.core.errors import ConfigError

KINDS = ("auto", "local", "remote")
LOCAL_HOSTNAMES = frozenset(
    {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "host.docker.internal"}
)

#: (prefix, threads_path, runs_path) per kind
DEFAULT_PATHS = {
    "local": ("/api/v1", "/threads", "/orchestrate/runs"),
    "remote": ("/v1", "/orchestrate/threads", "/orchestrate/runs"),
}
#: chat completions per (kind, version), after the host URL's own path (docs/channels.md)
CHAT_PATHS = {
    ("local", 1): "/api/v1/orchestrate/{agent_id}/chat/completions",
    ("remote", 1): "/v1/orchestrate/{agent_id}/chat/completions",
    ("local", 2): "/api/v2/{agent_id}/chat/completions",  # the direct runtime's
    ("remote", 2): "/v2/orchestrate/{agent_id}/chat/completions",
}
_KIND_ALIASES = {
    "saas": "remote",
    "developer": "local",
    "dev": "local",
    "developer_edition": "local",
}


@dataclass(frozen=True, slots=True)
class Deployment:
    """The chosen kind and the full request paths (after the host URL's own path)."""

    kind: str  # local | remote
    threads_path: str  # e.g. /api/v1/threads
    runs_path: str  # e.g. /api/v1/orchestrate/runs (the stream query is added by the client)
    why: str  # how the kind was chosen, for the start-up log line

    def describe(self, host: str | None) -> str:
        base = (host or "").rstrip("/")
        name = (
            "Developer Edition (local)" if self.kind == "local" else "remote instance (SaaS shape)"
        )
        return (
            f"{name}, {self.why}: threads POST {base}{self.threads_path}, "
            f"runs POST {base}{self.runs_path}"
        )


def normalise_kind(value: str | None, where: str = "--deployment") -> str:
    """`auto`, `local` or `remote` (aliases: saas, developer); a clear error otherwise."""
    if value is None or value == "":
        return "auto"
    text = str(value).strip().lower().replace("-", "_")
    text = _KIND_ALIASES.get(text, text)
    if text not in KINDS:
        raise ConfigError(
            f"{where} {value!r}: expected auto, local (a Developer Edition: /api/v1/threads) or "
            "remote (SaaS or another remote instance: /v1/orchestrate/threads)."
        )
    return text


def is_local_hostname(host: str | None) -> bool:
    """The ADK's rule for a local (Developer Edition) URL, by hostname alone."""
    if not host:
        return False
    hostname = urlsplit(host if "//" in host else f"http://{host}").hostname or ""
    return hostname in LOCAL_HOSTNAMES or hostname.startswith("127.")


def deployment_kind(host: str | None, forced: str = "auto") -> tuple[str, str]:
    """(kind, why) by the rule in the module's docstring."""
    forced = normalise_kind(forced)
    if forced != "auto":
        return forced, f"forced to {forced}"
    path = urlsplit(host).path if host else ""
    if "/instances/" in f"{path}/":
        return "remote", "the host URL names an instance (/instances/…)"
    if is_local_hostname(host):
        return "local", "the host is on this machine"
    return "remote", "the host is not on this machine"


def choose_deployment(
    host: str | None,
    prefix: str | None = None,
    threads_path: str | None = None,
    runs_path: str | None = None,
    forced: str = "auto",
) -> Deployment:
    """The kind for `host` and its paths, with any of the three parts overridden."""
    kind, why = deployment_kind(host, forced)
    default_prefix, default_threads, default_runs = DEFAULT_PATHS[kind]
    prefix = default_prefix if prefix is None else prefix
    threads = default_threads if threads_path is None else threads_path
    runs = default_runs if runs_path is None else runs_path
    overridden = [
        name
        for name, value in (
            ("prefix", prefix != default_prefix),
            ("threads_path", threads != default_threads),
            ("runs_path", runs != default_runs),
        )
        if value
    ]
    if overridden:
        why += f"; scenario api.{', api.'.join(overridden)} overridden"
    return Deployment(kind, prefix + threads, prefix + runs, why)


def deployment_for(host: str | None, api: ApiLike, option: str | None = None) -> Deployment:
    """The deployment for a scenario's `api:` section; `option` (--deployment) wins over its
    `api.deployment`."""
    forced = normalise_kind(option) if option else api.deployment
    return choose_deployment(host, api.prefix, api.threads_path, api.runs_path, forced)


def chat_completions_path(kind: str, version: int, agent_id: str) -> str:
    """The chat completions path (v1 or v2) of a deployment kind, for one agent."""
    return CHAT_PATHS[(kind, version)].format(agent_id=quote(agent_id, safe=""))


class ApiLike(Protocol):
    """A scenario's `api:` section (wxo_load.config.scenario.ApiPaths), without importing it."""

    @property
    def prefix(self) -> str | None: ...
    @property
    def threads_path(self) -> str | None: ...
    @property
    def runs_path(self) -> str | None: ...
    @property
    def deployment(self) -> str: ...
