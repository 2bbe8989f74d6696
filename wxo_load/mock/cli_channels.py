"""`wxo-load mock`'s options for the channels beside the widget's: chat completions v2's
thread store and expiry, and the Socket.IO port of async agents (docs/simulator.md)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypedDict

from wxo_load.core.errors import ConfigError


class ArgSpec(TypedDict, total=False):
    """The keyword arguments of one `add_argument` of `wxo-load mock`."""

    action: str
    choices: tuple[str, ...] | tuple[int, ...]
    default: str | int | float | bool | list[str] | None
    help: str
    metavar: str
    type: Callable[[str], object]


CHANNEL_OPTIONS: tuple[tuple[str, ArgSpec], ...] = (
    (
        "--chat-frames",
        dict(
            default="orchestrate",
            choices=("orchestrate", "openai"),
            help="chat completions v1 stream frames typed thread.message.delta / "
            "thread.message.completed (default) or OpenAI's chat.completion.chunk (for AIPerf)",
        ),
    ),
    (
        "--thread-store",
        dict(
            default="on",
            choices=("on", "off", "echo"),
            help="chat completions v2 stateful threads: on (default), off (a stateful turn gets "
            "503), echo (the X-IBM-THREAD-ID header comes back, `new`, as without a store)",
        ),
    ),
    (
        "--thread-expiry-s",
        dict(
            type=float,
            default=None,
            metavar="SECONDS",
            help="chat completions v2: a stateful thread this old answers its next turn 404",
        ),
    ),
    (
        "--thread-expiry-turns",
        dict(
            type=int,
            default=None,
            metavar="N",
            help="chat completions v2: a stateful thread that had N turns answers the next 404",
        ),
    ),
    (
        "--async-port",
        dict(
            type=int,
            default=None,
            metavar="PORT",
            help="also serve Socket.IO (/api/async/) on this port, as a Developer Edition does "
            "on 4001 (it is always served on the main port too)",
        ),
    ),
)


def check_channel_options(args: argparse.Namespace) -> None:
    for option, value in (
        ("--thread-expiry-s", getattr(args, "thread_expiry_s", None)),
        ("--thread-expiry-turns", getattr(args, "thread_expiry_turns", None)),
    ):
        if value is not None and value <= 0:
            raise ConfigError(f"option {option} {value:g}: expected a positive number.")
    port = getattr(args, "async_port", None)
    if port is not None and not 0 <= port <= 65535:
        raise ConfigError(f"option --async-port {port}: expected 0 (any free port) to 65535.")
