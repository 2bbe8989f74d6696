"""`wxo-load mock` and `python -m wxo_load.mock`: options, validation, start.

Cheap to import: the server, uvicorn and the app are imported only by `run_mock`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wxo_load.core.errors import ConfigError, WxoLoadError

if TYPE_CHECKING:
    from wxo_load.mock.app import Settings
    from wxo_load.mock.capacity import Capacity
    from wxo_load.mock.profile_model import Profile
from wxo_load.mock import DEFAULT_BIND, DEFAULT_PORT
from wxo_load.mock.cli_channels import CHANNEL_OPTIONS, ArgSpec, check_channel_options
from wxo_load.mock.framing import FRAMINGS

WATCH_PARENT_ENV = "WXO_LOAD_MOCK_WATCH_PARENT"
SLOW_ENV = "WXO_LOAD_MOCK_SLOW"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


# Every `wxo-load mock` option: (flag, keyword arguments of add_argument), in --help order.
OPTIONS: tuple[tuple[str, ArgSpec], ...] = (
    ("--bind", dict(default=DEFAULT_BIND, help=f"address to listen on (default {DEFAULT_BIND})")),
    (
        "--port",
        dict(
            type=int,
            default=DEFAULT_PORT,
            help=f"port (default {DEFAULT_PORT}; 0 picks a free port)",
        ),
    ),
    (
        "--profile",
        dict(
            default="default",
            help="behaviour profile: a shipped name (default, fast, replay, slow, faults) "
            "or a YAML file",
        ),
    ),
    ("--seed", dict(type=int, default=None, help="seed for timings, answers, ids and faults")),
    (
        "--slow",
        dict(
            type=float,
            default=None,
            metavar="FACTOR",
            help=f"multiply every latency of the profile's timing by FACTOR, e.g. 1.15 "
            f"(default: ${SLOW_ENV}, else 1)",
        ),
    ),
    ("--workers", dict(type=int, default=1, help="worker processes sharing the port (default 1)")),
    (
        "--event-log",
        dict(
            type=Path,
            default=None,
            metavar="FILE",
            help="append one JSON line per event written",
        ),
    ),
    (
        "--run-log",
        dict(
            type=Path,
            default=None,
            metavar="FILE",
            help="append one JSON line per run asked for: agent, user (token subject), message",
        ),
    ),
    (
        "--accept-any-token",
        dict(
            action="store_true",
            help="accept any bearer token (for hand-written locustfiles in benchmarks; "
            "never for rehearsing auth)",
        ),
    ),
    (
        "--no-auth",
        dict(
            action="store_true",
            help="a server without authentication: no login route (404) and no token needed "
            "for chat",
        ),
    ),
    (
        "--token-ttl",
        dict(
            type=float,
            default=None,
            metavar="SECONDS",
            help="tokens expire after this (default: never, like the local edition)",
        ),
    ),
    (
        "--fault",
        dict(
            action="append",
            default=[],
            metavar="NAME=RATE",
            help="override one fault rate of the profile, e.g. --fault http_503=0.1 (repeatable)",
        ),
    ),
    (
        "--keep-alive-timeout",
        dict(
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="close idle keep-alive connections after this, as uvicorn does "
            "(default 5, like the Developer Edition)",
        ),
    ),
    (
        "--framing",
        dict(
            default="ndjson",
            choices=FRAMINGS,
            help="how events go on the wire: ndjson (default, like the Developer Edition), "
            "sse, or crlf-tiny (CRLF lines in 16-byte chunks)",
        ),
    ),
    (
        "--capacity",
        dict(
            type=int,
            default=None,
            metavar="RUNS",
            help="at most RUNS streamed runs at once; later runs wait in a FIFO queue "
            "before run.started",
        ),
    ),
    (
        "--max-queue",
        dict(
            type=int,
            default=None,
            metavar="N",
            help="with --capacity: turn a run away when N runs already wait (default: no limit)",
        ),
    ),
    (
        "--reject-status",
        dict(
            type=int,
            default=429,
            choices=(429, 503),
            help="with --max-queue: the status a turned-away run gets (default 429)",
        ),
    ),
    (
        "--history",
        dict(
            type=Path,
            default=None,
            metavar="FILE",
            help="seed threads from a JSONL file of historical conversations (docs: replay)",
        ),
    ),
    (
        "--threads-list",
        dict(
            default="list",
            choices=("list", "data"),
            help='shape of thread and message lists: a bare list (default) or {"data": [...]}',
        ),
    ),
    *CHANNEL_OPTIONS,
    (
        "--log-level",
        dict(default="warning", choices=LOG_LEVELS, help="uvicorn's log level (default warning)"),
    ),
)


def configure_mock(parser: argparse.ArgumentParser) -> None:
    for flag, settings in OPTIONS:
        parser.add_argument(flag, **settings)


def _apply_overrides(args: argparse.Namespace) -> Profile:
    from wxo_load.mock.profile_model import FAULT_NAMES, slow_factor, slowed
    from wxo_load.mock.profiles import load_profile

    profile = load_profile(args.profile)
    factor = slow_factor(getattr(args, "slow", None), os.environ.get(SLOW_ENV), SLOW_ENV)
    if factor != 1.0:
        profile = slowed(profile, factor)
    if args.fault:
        rates = dict(profile.faults.rates)
        for item in args.fault:
            name, sep, value = item.partition("=")
            if not sep or name not in FAULT_NAMES:
                raise ConfigError(
                    f"option --fault {item!r}: expected NAME=RATE with NAME one of "
                    f"{', '.join(FAULT_NAMES)} "
                    "and RATE between 0 and 1, e.g. --fault http_503=0.1."
                )
            try:
                rate = float(value)
            except ValueError:
                rate = -1.0
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(
                    f"option --fault {item!r}: the rate must be a number between 0 and 1."
                )
            rates[name] = rate
        profile = replace(profile, faults=replace(profile.faults, rates=rates))
    return profile


def _capacity(args: argparse.Namespace) -> Capacity | None:
    from wxo_load.mock.capacity import Capacity

    if getattr(args, "capacity", None) is None:
        if getattr(args, "max_queue", None) is not None:
            raise ConfigError(
                "option --max-queue: only meaningful with --capacity RUNS "
                "(the number of runs served at once)."
            )
        return None
    try:
        return Capacity(args.capacity, args.max_queue, args.reject_status)
    except ConfigError as exc:
        raise ConfigError(f"option --capacity / --max-queue: {exc}") from None


def _check_numbers(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"option --port {args.port}: expected 0 (any free port) to 65535.")
    if args.workers < 1:
        raise ConfigError(f"option --workers {args.workers}: expected 1 or more worker processes.")
    if args.token_ttl is not None and args.token_ttl <= 0:
        raise ConfigError(
            f"option --token-ttl {args.token_ttl:g}: expected a positive number of seconds."
        )
    check_channel_options(args)
    if not args.keep_alive_timeout > 0:
        raise ConfigError(
            f"option --keep-alive-timeout {args.keep_alive_timeout:g}: "
            "expected a positive number of seconds."
        )


def _check_event_log(args: argparse.Namespace) -> None:
    for option, path in (("--event-log", args.event_log), ("--run-log", args.run_log)):
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"option {option} {path}: cannot write there ({exc.strerror})."
            ) from None


def _settings(args: argparse.Namespace) -> Settings:
    """Validate the options and build the server's settings from them."""
    _check_numbers(args)
    profile = _apply_overrides(args)
    seed = args.seed if args.seed is not None else profile.seed
    _check_event_log(args)
    capacity = _capacity(args)

    from wxo_load.mock.app import Settings
    from wxo_load.mock.tokens import make_key

    return Settings(
        profile=profile,
        key=make_key(seed),
        seed=seed,
        token_ttl_s=args.token_ttl,
        accept_any_token=args.accept_any_token,
        no_auth=args.no_auth,
        keep_alive_timeout_s=args.keep_alive_timeout,
        framing=args.framing,
        event_log=args.event_log,
        run_log=args.run_log,
        watch_parent=os.environ.get(WATCH_PARENT_ENV) == "1",
        capacity=capacity,
        history=_checked_history(args),
        threads_list=getattr(args, "threads_list", "list"),
        thread_store=getattr(args, "thread_store", "on"),
        thread_expiry_s=getattr(args, "thread_expiry_s", None),
        thread_expiry_turns=getattr(args, "thread_expiry_turns", None),
        async_port=getattr(args, "async_port", None),
        chat_frames=getattr(args, "chat_frames", "orchestrate"),
    )


def _checked_history(args: argparse.Namespace) -> Path | None:
    """--history, read once here so a bad file stops before the server starts."""
    path: Path | None = getattr(args, "history", None)
    if path is None:
        return None
    import random

    from wxo_load.mock.history import load_history
    from wxo_load.mock.stats import Stats
    from wxo_load.mock.store import Store
    from wxo_load.mock.tokens import Keyring, make_key

    load_history(path, Store(Keyring(make_key(None)), random.Random(0), Stats("")))
    return path.resolve()


def run_mock(args: argparse.Namespace) -> int:
    settings = _settings(args)

    from wxo_load.mock.server import serve

    try:
        return serve(
            settings, bind=args.bind, port=args.port, workers=args.workers, log_level=args.log_level
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.bind}:{args.port} ({exc.strerror or exc}). "
            "Stop whatever holds that "
            "port, pick another with --port, or use --port 0 for any free port."
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wxo_load.mock",
        description="The built-in watsonx Orchestrate Developer Edition simulator.",
    )
    configure_mock(parser)
    args = parser.parse_args(argv)
    try:
        return run_mock(args)
    except WxoLoadError as exc:
        print(f"wxo-load mock: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0
