"""`wxo-load report RESULTS_DIR`: rebuild report.html and summary.md from saved results.

If summary.json is missing (the test was killed before it ended), it is rebuilt from runs.jsonl
and conversations.jsonl, marked as such: client lag, timeline and options were not saved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ResultsError
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import ScenarioInfo
from wxo_load.edge.results import (
    CONVERSATIONS_FILE,
    REPORT_FILE,
    RUNS_FILE,
    SUMMARY_FILE,
    iter_jsonl,
    load_summary,
)
from wxo_load.output import gates as gate_output
from wxo_load.output.files import write_derived, write_summary_file

REBUILT_WARNING = (
    "summary.json was missing (the test did not end normally) and was rebuilt from runs.jsonl: "
    "client lag, options and the users timeline were not saved"
)


def configure_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results_dir",
        metavar="RESULTS_DIR",
        type=Path,
        help="a directory a test wrote, e.g. results/20261121T070000Z-smoke",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        type=Path,
        default=None,
        help=f"write the HTML report here instead of RESULTS_DIR/{REPORT_FILE}",
    )


def rebuild_summary(directory: Path) -> Summary:
    """A summary from the record files alone, for a test that was killed before writing one."""
    if not (directory / RUNS_FILE).exists():
        raise ResultsError(
            f"{directory} has neither {SUMMARY_FILE} nor {RUNS_FILE}. Point the command at a "
            "directory a wxo-load test wrote (results/<timestamp>-<scenario>/)."
        )
    book = MetricsBook()
    for data in iter_jsonl(directory / RUNS_FILE):
        book.book_run(RunRecord.from_dict(data))
    for data in iter_jsonl(directory / CONVERSATIONS_FILE, missing_ok=True):
        book.book_conversation(ConversationRecord.from_dict(data))
    scenario_name = directory.name.split("-", 1)[1] if "-" in directory.name else directory.name
    return build_summary(
        book,
        meta=SummaryMeta(
            scenario=ScenarioInfo(name=scenario_name),
            load_generator=LoadGeneratorExtras(warnings=[REBUILT_WARNING]),
        ),
    )


def run_report(args: argparse.Namespace) -> int:
    directory: Path = args.results_dir
    if not directory.is_dir():
        raise ResultsError(
            f"results directory {directory} does not exist. Pass the directory a test wrote, "
            "e.g. results/20261121T070000Z-smoke (or the one given to --results-dir)."
        )
    if (directory / SUMMARY_FILE).exists():
        summary = load_summary(directory)
    else:
        print(
            f"wxo-load report: {directory / SUMMARY_FILE} is missing; rebuilding it from "
            f"{RUNS_FILE}",
            file=sys.stderr,
        )
        summary = rebuild_summary(directory)
        write_summary_file(directory, summary)
    output: Path | None = args.output
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
    verdicts = gate_output.load_verdicts(directory)  # keep the gates table of a gated run
    extra = [gate_output.gates_section(verdicts)] if verdicts else []
    write_derived(directory, summary, report_path=output, extra_markdown=extra)
    print(f"wrote {output or directory / REPORT_FILE} and {directory / 'summary.md'}")
    return 0
