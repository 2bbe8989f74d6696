"""Every channel's set-up, conversation overrides and leave rule come from one place
(edge.client.ChatClient): its constructor, `converse_as` and `send(..., leave=)`. No server: the
connection is opened at the first request, never here."""

from __future__ import annotations

import dataclasses

import pytest
from conversations import new_run, scenario

from wxo_load.config.model import ChannelSettings
from wxo_load.core.channels import CHAT_V2
from wxo_load.core.leaving import LEAVING_CHANNELS, LeaveAt
from wxo_load.edge.auth.base import StaticTokenProvider
from wxo_load.edge.channels import CHANNEL_CLASSES, open_channel
from wxo_load.edge.client import ChatClient

HOST = "http://127.0.0.1:9"


@pytest.mark.parametrize("name", sorted(CHANNEL_CLASSES))
def test_every_channel_has_the_one_set_up_and_the_one_converse_as(name: str) -> None:
    cls = CHANNEL_CLASSES[name]
    assert isinstance(cls, type) and issubclass(cls, ChatClient)
    assert cls.__init__ is ChatClient.__init__  # a channel adds its state in _setup
    assert cls.converse_as is ChatClient.converse_as  # its requests in _requests_for


def test_a_chat_conversation_sends_its_own_headers_and_context_then_the_defaults_again() -> None:
    sc = dataclasses.replace(
        scenario(headers={"x-a": "1"}),
        channel=ChannelSettings(name=CHAT_V2, mode="stateful", environment_id="env-1"),
    )
    channel = open_channel(HOST, sc, StaticTokenProvider("t"))
    assert isinstance(channel, ChatClient)
    default_head, default_body = channel._chat_head, channel._body("hi")
    assert b"x-a: 1\r\n" in default_head and b"X-IBM-ENVIRONMENT-ID: env-1\r\n" in default_head
    mine = StaticTokenProvider("mine")
    channel.converse_as(context_variables={"employee_id": "E2"}, headers={"x-e": "E2"}, tokens=mine)
    assert b"x-e: E2\r\n" in channel._chat_head and b"x-a: 1" not in channel._chat_head
    assert b"X-IBM-ENVIRONMENT-ID: env-1\r\n" in channel._chat_head
    assert b'"context_variables":{"employee_id":"E2"}' in channel._body("hi")[0]
    assert channel.tokens is mine
    channel.converse_as(tokens=mine)  # a credential alone: the scenario's headers and body
    assert channel._chat_head == default_head and channel.tokens is mine
    channel.converse_as()
    assert channel._chat_head == default_head and channel._body("hi") == default_body
    assert channel.tokens is not mine
    channel.close()


@pytest.mark.parametrize("name", sorted(set(CHANNEL_CLASSES) - set(LEAVING_CHANNELS)))
def test_a_channel_whose_people_cannot_leave_refuses_a_leave_rule(name: str) -> None:
    sc = dataclasses.replace(scenario(), channel=ChannelSettings(name=name))
    channel = open_channel(HOST, sc, StaticTokenProvider("t"))
    with pytest.raises(ValueError, match="cannot leave mid-answer.*pass leave=None"):
        channel.send(new_run(None, 0), "hi", leave=LeaveAt("abandon", True, 0.0))
    channel.close()
