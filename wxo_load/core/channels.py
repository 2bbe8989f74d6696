"""The ways a client talks to an agent (channels), and which timings each can observe.

Pure: names and tables, no I/O. One vocabulary of milestones across channels (ms from just
before the turn's first request was written):

| milestone | meaning |
|-----------|---------|
| run_started | the server said the run began (`run.started`) |
| first_delta | the first piece of the answer arrived (any delta) |
| first_text | the first piece of answer text arrived |
| message_created | the whole answer arrived (`message.created`, a completed frame, a JSON body) |
| done | the channel said the answer is over (`done`, `[DONE]`, the stream's close) |

A channel that cannot observe a milestone leaves it empty (None): never a made-up number. The
summary names them per channel (`channels.NAME.not_observable`) and the report shows "not
observable on this channel". Channels that only sometimes observe one (chat completions v1 with
`stream: false`) list it in `SOMETIMES` and are judged by whether any run had it.
"""

from __future__ import annotations

from wxo_load.core.metrics import RUN_METRICS

RUNS_STREAM = "runs-stream"  # the WebChat widget: POST runs?stream=true (the default)
CHAT = "chat"  # chat completions v1: …/v1/orchestrate/{agent_id}/chat/completions
CHAT_V2 = "chat-v2"  # chat completions v2: …/v2/orchestrate/{agent_id}/chat/completions
RUNS_POLL = "runs-poll"  # POST runs without a stream, then GET runs/{id} every poll interval
ASYNC = "async"  # the run posted over HTTP, its answer read from the Socket.IO channel

CHANNELS = (RUNS_STREAM, CHAT, CHAT_V2, RUNS_POLL, ASYNC)
DEFAULT_CHANNEL = RUNS_STREAM

MILESTONES = tuple(RUN_METRICS)
"""The timings every channel speaks of: run_started, first_delta, first_text, message_created,
done (RunRecord fields `<name>_ms`; wxo_load.core.metrics declares them)."""

_ALL = frozenset(MILESTONES)
OBSERVABLE: dict[str, frozenset[str]] = {
    RUNS_STREAM: _ALL,
    CHAT: frozenset({"first_delta", "first_text", "message_created", "done"}),
    CHAT_V2: frozenset({"first_delta", "first_text", "message_created", "done"}),
    RUNS_POLL: frozenset({"message_created", "done"}),
    ASYNC: _ALL,
}
"""Milestones a channel can observe at all (the others are never measured on it)."""

SOMETIMES: dict[str, frozenset[str]] = {
    # first_delta, first_text: not with `stream: false`; message_created: not when the frames
    # are OpenAI's `chat.completion.chunk` (no completed frame)
    CHAT: frozenset({"first_delta", "first_text", "message_created"}),
}
"""Milestones a channel observes only in some of its settings."""


def not_observable(channel: str, counts: dict[str, int]) -> list[str]:
    """The milestones `channel` could not observe in a test, given each milestone's sample
    count: those it never observes, and those it only sometimes observes that no run had."""
    observable = OBSERVABLE.get(channel, _ALL)
    sometimes = SOMETIMES.get(channel, frozenset())
    return [m for m in MILESTONES if m not in observable or (m in sometimes and not counts.get(m))]


__all__ = [
    "ASYNC",
    "CHANNELS",
    "CHAT",
    "CHAT_V2",
    "DEFAULT_CHANNEL",
    "MILESTONES",
    "OBSERVABLE",
    "RUNS_POLL",
    "RUNS_STREAM",
    "SOMETIMES",
    "not_observable",
]
