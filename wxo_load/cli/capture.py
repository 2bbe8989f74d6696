"""`wxo-load capture`: an agent's real conversations from a tenant, redacted, as a JSONL file.

    wxo-load capture --host URL --agent-id UUID [--since 7d] [--limit 500] [--thread-ids FILE]
                     [--redact 'REGEX=REPLACEMENT' ...] [--placeholders] -o conversations.jsonl

Authenticates like the harness (every `--auth` mode, its environment variables, `--proxy`, TLS
options), uses the deployment's threads path (wxo_load.core.deployment), lists the agent's
threads (or reads the ids of `--thread-ids`, one a line), reads each thread's messages and writes
one conversation a line in the format `prompts.conversations` reads
(wxo_load.config.conversations). Personal data is redacted before anything is written
(wxo_load.core.pii). A thread that cannot be read is skipped, counted and named; a 401/403 stops
with exit 2 and what to set. Docs: docs/replay.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from wxo_load.core.captured import CapturedConversation, Malformed, conversation_of
from wxo_load.core.deployment import choose_deployment, normalise_kind
from wxo_load.core.errors import ConfigError
from wxo_load.core.pii import PiiRedactor, parse_rule
from wxo_load.output.conversations import write_conversations

if TYPE_CHECKING:
    from wxo_load.edge.threads_api import ThreadsApi

_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def configure_capture(parser: argparse.ArgumentParser) -> None:
    from wxo_load.edge.auth.options import add_plain_auth_options

    parser.add_argument("--host", required=True, help="the Orchestrate URL (as for a test)")
    parser.add_argument("--agent-id", required=True, help="the agent whose threads to read")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the JSONL file to write")
    parser.add_argument("--since", default=None, help="only threads this recent: 90m, 12h, 7d")
    parser.add_argument("--limit", type=int, default=500, help="at most N threads (default 500)")
    parser.add_argument("--thread-ids", type=Path, default=None, metavar="FILE",
                        help="read these threads (one id a line) instead of listing")  # fmt: skip
    parser.add_argument("--redact", action="append", default=[], metavar="REGEX=REPLACEMENT",
                        help="an extra redaction rule, applied first (repeatable)")  # fmt: skip
    parser.add_argument("--placeholders", action="store_true",
                        help="redacted values become {{column}}s; a CSV of synthetic values "
                        "is written next to the output (OUTPUT.data.csv)")  # fmt: skip
    parser.add_argument("--deployment", default=None, help="local | remote (default: from URL)")
    parser.add_argument("--proxy", default=None, help="forward proxy (env WXO_PROXY)")
    add_plain_auth_options(parser)


def _since_s(value: str | None) -> float | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if not match:
        raise ConfigError(f"option --since {value!r}: expected a duration like 90m, 12h or 7d.")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _listed_ids(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"option --thread-ids {path}: cannot read it ({exc.strerror}).") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def run_capture(args: argparse.Namespace) -> int:
    from wxo_load.edge.auth.options import settings_from_options
    from wxo_load.edge.auth.resolve import resolve_auth
    from wxo_load.edge.auth.tlsdefaults import tls_for_target
    from wxo_load.edge.proxy import proxy_for, set_explicit
    from wxo_load.edge.threads_api import ThreadsApi

    if args.limit < 1:
        raise ConfigError(f"option --limit {args.limit}: expected 1 or more threads.")
    since = _since_s(args.since)
    redactor = PiiRedactor(tuple(parse_rule(r) for r in args.redact), args.placeholders)
    set_explicit(args.proxy or os.environ.get("WXO_PROXY") or None)
    proxy_for(args.host)
    settings = tls_for_target(settings_from_options(args), args.host)
    tokens, host = resolve_auth(settings, args.host)
    forced = normalise_kind(args.deployment) if args.deployment else "auto"
    deployment = choose_deployment(host or args.host, forced=forced)
    api = ThreadsApi(host or args.host, deployment.threads_path, tokens, settings)
    try:
        if args.thread_ids is not None:
            ids = _listed_ids(args.thread_ids)[: args.limit]
        else:
            ids = api.thread_ids(args.agent_id, args.limit)
        captured, skipped, older = _read_all(api, ids, redactor, since)
    finally:
        api.close()
        tokens.close()
    write_conversations(args.output, captured, redactor)
    names = ", ".join(f"{tid} ({why})" for tid, why in skipped[:10])
    more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
    print(
        f"wxo-load capture: {len(captured)} conversations written to {args.output} "
        f"({sum(len(c['turns']) for _, c in captured)} turns); {len(skipped)} threads skipped"
        + (f": {names}{more}" if skipped else "")
        + (f"; {older} older than --since left out" if older else "")
        + f"; redacted {redactor.summary()}"
    )
    return 0


def _read_all(
    api: ThreadsApi, ids: list[str], redactor: PiiRedactor, since: float | None
) -> tuple[list[tuple[float, CapturedConversation]], list[tuple[str, str]], int]:
    """The conversations read, the threads skipped (id, why) and how many were too old."""
    from wxo_load.edge.threads_api import ThreadUnreadable

    captured: list[tuple[float, CapturedConversation]] = []
    skipped: list[tuple[str, str]] = []
    older = 0
    oldest = None if since is None else time.time() - since
    progress = sys.stderr.isatty()
    for number, thread_id in enumerate(ids, 1):
        if progress:
            print(f"\rcapture: thread {number}/{len(ids)}", end="", file=sys.stderr, flush=True)
        redactor.start()
        try:
            item = conversation_of(thread_id, api.messages(thread_id), redactor.text)
        except (ThreadUnreadable, Malformed) as exc:
            skipped.append((thread_id, str(exc)))
            continue
        if item is None:
            skipped.append((thread_id, "no user message"))
        elif oldest is not None and item[0] < oldest:
            older += 1
        else:
            captured.append(item)
    if progress:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    return captured, skipped, older
