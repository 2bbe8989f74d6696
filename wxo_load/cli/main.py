"""The `wxo-load` command: the simulator, offline reports, gates and comparisons, capture.

Load tests themselves run through Locust (`locust -f locustfile.py`); this command holds the
tools around them. Each subcommand lives in its own module, imported only when it is used.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from wxo_load import __version__
from wxo_load.core.errors import ExitCode, WxoLoadError

# subcommand -> (module, help). The module provides configure_<name>(parser) and run_<name>(args).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "mock": ("wxo_load.mock.cli", "run the built-in Developer Edition simulator"),
    "report": (
        "wxo_load.cli.report",
        "rebuild report.html and summary.md from a results directory",
    ),
    "gate": ("wxo_load.cli.gate", "re-evaluate performance gates on saved results"),
    "compare": ("wxo_load.cli.gate", "print the differences between two results"),
    "repeat": (
        "wxo_load.cli.repeat",
        "run the same Locust test N times and write the aggregate: means, spread, intervals",
    ),
    "aggregate": (
        "wxo_load.cli.repeat",
        "aggregate saved results directories of the same test (a repeated baseline)",
    ),
    "capture": (
        "wxo_load.cli.capture",
        "write an agent's real conversations (redacted) as a JSONL file to replay",
    ),
}

PASSTHROUGH = {"repeat"}
"""Subcommands that take another command line after `--`, as `args.passthrough`."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen subcommand's module is imported (and configured)."""
    parser = argparse.ArgumentParser(
        prog="wxo-load",
        description="Tools around wxo-load's Locust load tests. Run a test with: "
        "locust -f locustfile.py --headless -u 5 -r 5 -t 30s",
    )
    parser.add_argument("--version", action="version", version=f"wxo-load {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            getattr(module, f"configure_{name}")(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in SUBCOMMANDS else None)
    passthrough: list[str] = []
    if command in PASSTHROUGH and "--" in argv:  # `wxo-load repeat 5 -- <locust arguments>`
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    args.passthrough = passthrough
    if not args.command:
        parser.print_help()
        return ExitCode.CANNOT_RUN
    module_name = SUBCOMMANDS[args.command][0]
    module = importlib.import_module(module_name)
    try:
        return int(getattr(module, f"run_{args.command}")(args) or 0)
    except WxoLoadError as exc:
        print(f"wxo-load {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
