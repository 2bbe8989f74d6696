"""One conversation as a virtual user will hold it: its turns, and what it carries.

Pure data, made before the conversation starts by a conversation source
(`wxo_load.config.sources`) and played by the Locust user turn by turn. It is where three kinds
of load meet, so that each adds fields here rather than a path of its own:

- scripted and replayed conversations: the turns themselves, each with the think time before it
  when it was recorded (`Turn.think_s`; None means the scenario's think time) and what was
  observed when it was recorded (`Turn.recorded`: answer length, agent time, agent, tools);
  `source_id` names the conversation of the file it came from, `start_offset_s` its recorded
  start relative to the first conversation of the file;
- personas and data feeders: `persona`, the data row's `row_index` and its `variables` (already
  filled into the texts; kept for context variables and headers, never written to a result);
  `identity`, the name of the credential the conversation is held under (never the secret);
- answer checks: each turn's `expect` (the checks its answer must pass, evaluated after `done`)
  and the conversation's `canary`.

A conversation is never empty: `turns` holds at least one turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from wxo_load.core.checks import Expect


@dataclass(frozen=True, slots=True)
class Turn:
    text: str
    think_s: float | None = None  # think time before this turn; None: the scenario's
    expect: Expect | None = None  # the checks this turn's answer must pass; None: the scenario's
    recorded: Mapping[str, Any] | None = None  # what a captured conversation observed then

    @property
    def recorded_agent_ms(self) -> float | None:
        """The agent time the capture recorded for this turn (`recorded.agent_ms`), if any."""
        value = (self.recorded or {}).get("agent_ms")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)


CredentialKind = Literal["token", "api_key"]
"""A credential's kind: a bearer token, or an API key exchanged for one (wxo_load.edge.auth)."""


class Credential(NamedTuple):
    """A conversation's own credential (a persona's or a data row's): kept in memory only, never
    in to_wire, a log or a result; `repr` masks the secret."""

    kind: CredentialKind
    secret: str

    def __repr__(self) -> str:
        return f"Credential({self.kind!r}, '(masked)')"


@dataclass(frozen=True, slots=True)
class ConversationPlan:
    turns: tuple[Turn, ...]
    source_id: str | None = None  # the conversation's id in the file it came from
    start_offset_s: float | None = None  # recorded start, relative to the file's first one
    persona: str | None = None
    row_index: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    identity: str | None = None  # the name of the credential, never the secret
    canary: str | None = None
    # a persona's data row filled in (wxo_load.config.feeders): this conversation's own
    # context variables and extra headers (None: the scenario's), and its credential (kept in
    # memory only: never in to_wire, repr or a result)
    context_variables: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    credential: Credential | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        """The thread's title: its first message, as the widget does."""
        return self.turns[0].text

    @property
    def texts(self) -> list[str]:
        return [turn.text for turn in self.turns]
