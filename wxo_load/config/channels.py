"""A scenario's `channel:` (top level and per persona) and `--channel`: how users talk to the agent.

    channel: chat                          # a name alone: that channel with its defaults
    channel: {name: chat, stream: false}   # chat completions v1, the answer as one JSON body
    channel: {name: chat-v2, mode: stateful, environment_id: <uuid>}
    channel: {name: runs-poll, poll_interval_s: 2}
    channel: {name: async, socket_url: "ws://localhost:4001"}

Each option belongs to one channel (`OPTIONS`); naming one on another channel is an error, so a
misplaced key never goes silently unused. A channel's new option is one line in `OPTIONS` plus a
field of `ChannelSettings`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

from wxo_load.config.fields import Where, describe, number, string
from wxo_load.config.leaving import check_leaving_channel
from wxo_load.config.model import ChannelSettings, ChatMode, Scenario
from wxo_load.core.channels import ASYNC, CHANNELS, CHAT, CHAT_V2, RUNS_POLL

OPTIONS: dict[str, str] = {
    "stream": CHAT,
    "mode": CHAT_V2,
    "environment_id": CHAT_V2,
    "poll_interval_s": RUNS_POLL,
    "socket_url": ASYNC,
}
"""Each channel option and the channel it belongs to."""
_MODES: tuple[ChatMode, ...] = get_args(ChatMode)


def channel_name(w: Where, key: str, value: Any) -> str:
    name = string(w, key, value, non_empty=True).strip().lower()
    if name not in CHANNELS:
        raise w.error(key, f"unknown channel {value!r}. Channels: {', '.join(CHANNELS)}.")
    return name


def parse_channel(w: Where, value: Any) -> ChannelSettings:
    """`channel:` as a name or a mapping with `name` and that channel's options."""
    if value is None:
        return ChannelSettings()
    if isinstance(value, str):
        return ChannelSettings(name=channel_name(w, "channel", value))
    if not isinstance(value, dict):
        raise w.error(
            "channel",
            f"expected a channel name ({', '.join(CHANNELS)}) or a mapping like "
            f"{{name: chat-v2, mode: stateful}}; got {describe(value)}.",
        )
    name = channel_name(w, "channel.name", value.get("name"))
    for key in value:
        owner = OPTIONS.get(key)
        if key == "name":
            continue
        if owner is None:
            allowed = ", ".join(f"`{k}` ({c})" for k, c in OPTIONS.items())
            raise w.error(f"channel.{key}", f"unknown key. Allowed: `name`, {allowed}.")
        if owner != name:
            raise w.error(f"channel.{key}", f"applies to channel {owner}, not {name}.")
    base = ChannelSettings()
    stream = _stream(w, value["stream"]) if "stream" in value else base.stream
    mode = _mode(w, value["mode"]) if "mode" in value else base.mode
    environment_id = (
        string(w, "channel.environment_id", value["environment_id"], non_empty=True)
        if "environment_id" in value
        else None
    )
    poll_interval_s = (
        number(w, "channel.poll_interval_s", value["poll_interval_s"], minimum=0.01)
        if "poll_interval_s" in value
        else base.poll_interval_s
    )
    socket_url = _socket_url(w, value["socket_url"]) if "socket_url" in value else None
    return ChannelSettings(name, stream, mode, environment_id, poll_interval_s, socket_url)


def _stream(w: Where, value: Any) -> bool:
    if not isinstance(value, bool):
        raise w.error("channel.stream", f"expected true or false; got {describe(value)}.")
    return value


def _mode(w: Where, value: object) -> ChatMode:
    for mode in _MODES:
        if value == mode:
            return mode
    raise w.error(
        "channel.mode",
        "expected stateless (the client resends the whole transcript) or stateful "
        f"(X-IBM-THREAD-ID: new, then the thread the server minted); got {value!r}.",
    )


def _socket_url(w: Where, value: Any) -> str:
    url = string(w, "channel.socket_url", value, non_empty=True).rstrip("/")
    if not url.startswith(("ws://", "wss://", "http://", "https://")):
        raise w.error(
            "channel.socket_url", f"expected a URL like ws://localhost:4001; got {value!r}."
        )
    return url


def with_channel(scenario: Scenario, name: str | None) -> Scenario:
    """`--channel NAME`: the whole test (top level and every persona) talks over NAME; options
    the scenario gave that channel are kept."""
    if not name:
        return scenario
    name = channel_name(Where("--channel"), "channel", name)

    def over(s: Scenario) -> Scenario:
        if s.channel.name == name:
            return s
        check_leaving_channel(f"--channel {name}", s.leaving, name)
        return dataclasses.replace(s, channel=ChannelSettings(name=name))

    personas = tuple(dataclasses.replace(p, scenario=over(p.scenario)) for p in scenario.personas)
    return dataclasses.replace(over(scenario), personas=personas)
