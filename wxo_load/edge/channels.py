"""Channels by name: the class that speaks each (`CHANNEL_CLASSES`) and `open_channel`, which
builds one person's channel for a scenario. A new channel is a class with the `edge.channel`
interface and one line here."""

from __future__ import annotations

import ssl
from collections.abc import Callable

from wxo_load.config.model import Scenario
from wxo_load.core.channels import ASYNC, CHAT, CHAT_V2, RUNS_POLL, RUNS_STREAM
from wxo_load.core.deployment import Deployment
from wxo_load.core.errors import ConfigError
from wxo_load.edge.async_channel import AsyncChannel
from wxo_load.edge.channel import Channel
from wxo_load.edge.chat import ChatCompletionsChannel, ChatV2Channel
from wxo_load.edge.client import ChatClient
from wxo_load.edge.endpoint import Tokens
from wxo_load.edge.poll import RunsPollChannel


class RunsStreamChannel(ChatClient):
    """The WebChat widget's channel: `POST /threads`, then a streamed run per turn."""

    name = RUNS_STREAM
    open_conversation = ChatClient.create_thread
    send = ChatClient.stream_run


ChannelClass = Callable[..., Channel]
CHANNEL_CLASSES: dict[str, ChannelClass] = {
    RUNS_STREAM: RunsStreamChannel,
    CHAT: ChatCompletionsChannel,
    CHAT_V2: ChatV2Channel,
    RUNS_POLL: RunsPollChannel,
    ASYNC: AsyncChannel,
}
"""Each channel's class, called as (host, scenario, tokens, ssl_context=, deployment=)."""


def open_channel(
    host: str,
    scenario: Scenario,
    tokens: Tokens,
    *,
    ssl_context: ssl.SSLContext | None = None,
    deployment: Deployment | None = None,
) -> Channel:
    """One person's channel as `scenario.channel` names it."""
    cls = check_channel(scenario.channel.name)
    return cls(host, scenario, tokens, ssl_context=ssl_context, deployment=deployment)


def check_channel(name: str) -> ChannelClass:
    """The class that speaks channel `name`; ConfigError when this build has none."""
    cls = CHANNEL_CLASSES.get(name)
    if cls is None:
        raise ConfigError(
            f"channel {name!r} is not available in this build of wxo-load (available: "
            f"{', '.join(CHANNEL_CLASSES)}); choose another with `channel:` or --channel."
        )
    return cls
