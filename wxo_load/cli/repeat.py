"""`wxo-load repeat N -- <locust arguments>`: the same Locust test N times, one after another,
each a `locust --headless` subprocess writing its own results directory under one parent, then
`aggregate/` (aggregate.json, aggregate.md) with each figure's mean, spread and t-based
intervals (gates.aggregate). docs/over-time.md, "Repeated runs".

    results/<time>-repeat/run-01/ ... run-N/    each run's usual results (summary.json, ...)
    results/<time>-repeat/aggregate/            aggregate.json, aggregate.md

`wxo-load aggregate DIR... --results-dir OUT` makes the same aggregate from results directories
that already exist (the last N passing CI runs: docs/over-time.md's CI recipe).

The exit code follows core.errors.ExitCode over the runs: 2 as soon as a run cannot run (no
point repeating it), 130 when interrupted, else 3 if any run's gate failed, 4 if a worker lost
its master, 1 if requests failed in a run without gates, 0 when every run passed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from wxo_load import __version__
from wxo_load.core.aggregate_model import RepeatedRun
from wxo_load.core.errors import ConfigError, ExitCode
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import Tool
from wxo_load.edge.results import AGGREGATE_DIR, SUMMARY_FILE, load_summary
from wxo_load.gates.aggregate import build_aggregate
from wxo_load.output.aggregate import write_aggregate
from wxo_load.output.files import ResultsWriter

SEVERITY = (ExitCode.GATE_FAILED, ExitCode.MASTER_LOST, ExitCode.REQUESTS_FAILED)
"""Which exit code of a run wins the repeat's, most severe first (CANNOT_RUN stops at once)."""


def configure_repeat(parser: argparse.ArgumentParser) -> None:
    parser.usage = "wxo-load repeat N [--results-dir DIR] [--confidence LEVEL] -- LOCUST_ARGS"
    parser.epilog = (
        "LOCUST_ARGS: the Locust command line of one run, after --, e.g. -- -f locustfile.py "
        "-u 5 -r 5 -t 30s --scenario scenarios/ci.yaml (--headless is added)"
    )
    parser.add_argument("count", metavar="N", type=int, help="how many times to run the test")
    parser.add_argument(
        "--results-dir",
        metavar="DIR",
        default=None,
        help="the parent directory of the runs and the aggregate "
        "(default results/<UTC time>-repeat)",
    )
    _confidence_option(parser)


def _confidence_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--confidence",
        metavar="LEVEL",
        type=float,
        default=0.95,
        help="the level of the intervals, between 0 and 1 (default 0.95)",
    )


def configure_aggregate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", metavar="RESULTS_DIR", nargs="+", help="results directories of the same test"
    )
    parser.add_argument(
        "--results-dir",
        metavar="OUT",
        required=True,
        help="where to write aggregate/ (aggregate.json, aggregate.md)",
    )
    _confidence_option(parser)


def run_aggregate(args: argparse.Namespace) -> int:
    """The aggregate of saved runs, in the order given; exit 0, or 2 when one is unreadable."""
    _check_confidence(args.confidence)
    out = Path(args.results_dir)
    runs, summaries = [], []
    for index, directory in enumerate(args.runs, start=1):
        summaries.append(load_summary(directory))
        runs.append(RepeatedRun(index=index, results_dir=str(directory), exit_code=0, summary=True))
    tool = Tool(name="wxo-load", version=__version__)
    aggregate = build_aggregate(runs, summaries, confidence=args.confidence, tool=tool)
    written = write_aggregate(out / AGGREGATE_DIR, aggregate)
    print(f"wxo-load aggregate: {aggregate.n} runs aggregated in {written[0]}")
    return int(ExitCode.PASSED)


def _check_confidence(level: float) -> None:
    if not 0 < level < 1:
        raise ConfigError(f"--confidence {level}: give a level between 0 and 1, e.g. 0.95.")


def _checked(args: argparse.Namespace) -> list[str]:
    if args.count < 1:
        raise ConfigError(f"wxo-load repeat {args.count}: give how many runs, 1 or more.")
    _check_confidence(args.confidence)
    locust_args = list(getattr(args, "passthrough", []))
    if any(a == "--results-dir" or a.startswith("--results-dir=") for a in locust_args):
        raise ConfigError(
            "--results-dir after --: each run gets its own directory under the repeat's; give "
            "the parent as `wxo-load repeat N --results-dir DIR -- ...` instead."
        )
    if "--headless" not in locust_args:
        locust_args.insert(0, "--headless")
    return locust_args


def _run_once(index: int, count: int, run_dir: Path, locust_args: list[str]) -> RepeatedRun:
    print(f"wxo-load repeat: run {index} of {count} -> {run_dir}", flush=True)
    started = time.monotonic()
    command = [sys.executable, "-m", "locust", *locust_args, "--results-dir", str(run_dir)]
    code = subprocess.run(command, stdin=subprocess.DEVNULL, check=False).returncode
    duration = round(time.monotonic() - started, 3)
    print(
        f"wxo-load repeat: run {index} ended with exit code {code} ({duration:.1f} s)", flush=True
    )
    return RepeatedRun(
        index=index,
        results_dir=run_dir.name,
        exit_code=code,
        summary=(run_dir / SUMMARY_FILE).is_file(),
        duration_s=duration,
    )


def exit_code_of(codes: list[int]) -> int:
    """The repeat's exit code from its runs' (the module docstring's order)."""
    for special in (ExitCode.INTERRUPTED, ExitCode.CANNOT_RUN):
        if special in codes:
            return int(special)
    for code in SEVERITY:
        if code in codes:
            return int(code)
    return int(ExitCode.PASSED) if all(c == 0 for c in codes) else int(ExitCode.CANNOT_RUN)


def run_repeat(args: argparse.Namespace) -> int:
    locust_args = _checked(args)
    parent = Path(
        args.results_dir or ResultsWriter.default_dir(Path("results"), "repeat", time.time())
    )
    runs: list[RepeatedRun] = []
    for index in range(1, args.count + 1):
        run = _run_once(index, args.count, parent / f"run-{index:02d}", locust_args)
        runs.append(run)
        if run.exit_code in (ExitCode.CANNOT_RUN, ExitCode.INTERRUPTED):
            why = "could not run" if run.exit_code == ExitCode.CANNOT_RUN else "was interrupted"
            print(f"wxo-load repeat: run {index} {why}; stopping.", file=sys.stderr)
            break
    summaries: list[Summary | None] = [
        load_summary(parent / r.results_dir) if r.summary else None for r in runs
    ]
    code = exit_code_of([r.exit_code for r in runs])
    if not any(summaries):
        print("wxo-load repeat: no run wrote a summary.json; no aggregate.", file=sys.stderr)
        return code if code != ExitCode.PASSED else int(ExitCode.CANNOT_RUN)
    tool = Tool(name="wxo-load", version=__version__)
    aggregate = build_aggregate(runs, summaries, confidence=args.confidence, tool=tool)
    written = write_aggregate(parent / AGGREGATE_DIR, aggregate)
    print(f"wxo-load repeat: {aggregate.n} runs aggregated in {written[0]}", flush=True)
    return code
