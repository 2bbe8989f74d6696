"""The client side of a channel: what the Locust user calls for each conversation and turn.

A channel is one way of talking to an agent (wxo_load.core.channels: runs-stream, chat,
chat-v2, runs-poll, async). Each is a class with this interface, one object per simulated person
(it holds that person's connection and the current conversation's state); `edge.channels`
maps names to classes and builds one (`open_channel`).

The user's loop, the same on every channel:

    thread = channel.open_conversation(plan.title)  # POST /threads, or nothing (elapsed None)
    for turn in plan.turns:
        record = RunRecord(..., thread_id=conv.thread_id, channel=channel.name)
        result = channel.send(record, turn.text, keep_text=...)  # never raises but for a stop
        # result.record is final: outcome, milestones (None where not observable), request_bytes

A channel fills the record's milestones it can observe (never a made-up number), its
`thread_id` (a thread the server minted on the first turn is remembered for the next ones),
`request_bytes` and its outcome with one error class; it stamps arrivals with the transport's
receive time (edge.transport.Connection.last_rx) like runs-stream does.

People who leave mid-answer (wxo_load.core.leaving): every channel's `send` takes the run's
leave rule (`leave=LeaveAt`, None when its person stays). One that supports leaving
(core.leaving.LEAVING_CHANNELS: runs-stream) ends the run `abandoned`, `cancelled` or
`interrupted` (edge.leave); the others take only None (edge.leave.cannot_leave), as the scenario
refuses leaving on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from wxo_load.core.json_value import Json
from wxo_load.core.leaving import LeaveAt
from wxo_load.core.records import RunRecord
from wxo_load.edge.endpoint import ThreadResult, Tokens


class Turn(Protocol):
    """What a channel hands back for one turn (runs-stream's is the RunTracker itself)."""

    @property
    def record(self) -> RunRecord: ...  # final when send() returns
    @property
    def t0(self) -> float: ...  # perf_counter() just before the turn's first request
    @property
    def client_lags_ms(self) -> list[float]: ...  # per event, where the server stamps events
    @property
    def answer_text(self) -> str | None: ...  # the whole answer, when keep_text was asked
    @property
    def agent(self) -> str | None: ...  # who answered, when the channel says (keep_text)


class Measuring(Turn, Protocol):
    """A turn while it is measured (what the shared request loop, ChatClient._attempts, needs)."""

    @property
    def finished(self) -> bool: ...  # the answer's end arrived (only the drain may be left)
    def end(self, t: float, outcome: str | None = None, detail: str | None = None) -> RunRecord: ...


class Channel(Protocol):
    """One person's way of talking to the agent."""

    name: str  # its name in wxo_load.core.channels (RunRecord.channel)

    def open_conversation(self, title: str) -> ThreadResult:
        """Start a conversation: create its thread, or (a channel whose first turn makes it)
        just forget the last one's state and answer `ThreadResult(None, None, "ok")`."""
        ...

    def send(
        self,
        record: RunRecord,
        text: str,
        *,
        keep_text: bool = False,
        leave: LeaveAt | None = None,
    ) -> Turn:
        """Send one message of the conversation and measure its answer into `record`; with
        `leave`, its person leaves mid-answer (a channel that cannot: ValueError for a leave
        that is not None, which the scenario already refuses)."""
        ...

    def converse_as(
        self,
        *,
        context_variables: Mapping[str, Json] | None = None,
        headers: Mapping[str, str] | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        """The next conversation's own context variables, headers and credential (a persona's
        data row); None keeps the scenario's."""
        ...

    def close(self) -> None: ...
