"""A results directory read back (runs.jsonl, conversations.jsonl, summary.json) for
`wxo-load report`, `gate`, `compare` and regression baselines; its file names. Writing it is
`wxo_load.output.files`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from wxo_load.core.aggregate_model import Aggregate, AggregateFormatError, aggregate_from_bytes
from wxo_load.core.errors import ResultsError
from wxo_load.core.json_value import JsonObject
from wxo_load.core.summary_codec import SummaryFormatError, summary_from_bytes
from wxo_load.core.summary_model import Summary

RUNS_FILE = "runs.jsonl"
CONVERSATIONS_FILE = "conversations.jsonl"
SUMMARY_FILE = "summary.json"
SUMMARY_MD_FILE = "summary.md"
REPORT_FILE = "report.html"
AGGREGATE_DIR = "aggregate"
AGGREGATE_FILE = "aggregate.json"


def iter_jsonl(path: Path, *, missing_ok: bool = False) -> Iterator[JsonObject]:
    """Yield each line's object. A damaged last line (a killed test) is skipped; others raise."""
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        if missing_ok:
            return
        raise ResultsError(
            f"{path} is missing. Point the command at a directory a wxo-load test wrote "
            "(results/<timestamp>-<scenario>/)."
        ) from None
    with handle:
        pending_error: tuple[int, str] | None = None
        for number, line in enumerate(handle, start=1):
            if pending_error is not None:
                raise ResultsError(
                    f"{path}, line {pending_error[0]}: not valid JSON ({pending_error[1]}). "
                    "The file was edited or damaged; restore it from the test's artifacts."
                )
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                pending_error = (number, str(exc))
                continue
            if type(item) is dict:
                yield item


@dataclass
class LoadedResults:
    directory: Path
    summary: Summary
    runs: list[JsonObject] = field(default_factory=list)  # runs.jsonl's rows
    conversations: list[JsonObject] = field(default_factory=list)


def summary_path(path: str | Path) -> Path:
    """A results directory or a summary.json file -> the summary.json path."""
    p = Path(path)
    return p / SUMMARY_FILE if p.is_dir() else p


def load_summary(path: str | Path, *, what: str = "results") -> Summary:
    """Read a summary.json (v1 or v2) given its file or its results directory: the one reader of
    summaries (reports, gates, baselines, compare). `what` names it in errors ("baseline", "A")."""
    file = summary_path(path)
    if not Path(path).exists():
        raise ResultsError(
            f"{what} {path} does not exist. Give a results directory (the one that holds "
            "summary.json, e.g. results/ci) or the path of a summary.json."
        )
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise ResultsError(
            f"{what} {path} has no summary.json ({file} is missing): it is not a finished wxo-load "
            "results directory (a test killed before it ended has none). Give the directory a test "
            "wrote (--results-dir), or its summary.json."
        ) from None
    except OSError as exc:
        raise ResultsError(f"{what} {file} cannot be read ({exc}).") from None
    try:
        return summary_from_bytes(data)
    except SummaryFormatError as exc:
        if "JSON" in str(exc):
            raise ResultsError(
                f"{what} {file} cannot be read as JSON ({exc}). Was the test cut off while writing "
                "it? Re-run the test, or restore the file from the test's artifacts."
            ) from None
        raise ResultsError(
            f"{what} {file}: {exc}. Give a summary.json that wxo-load wrote, or re-run the test "
            "with this version."
        ) from None


def aggregate_path(path: str | Path) -> Path | None:
    """The aggregate.json that `path` names: the file itself, an aggregate directory, or the
    parent directory `wxo-load repeat` wrote (its `aggregate/`); None when it names none."""
    p = Path(path)
    if p.is_file():
        return p if p.name == AGGREGATE_FILE else None
    for candidate in (p / AGGREGATE_FILE, p / AGGREGATE_DIR / AGGREGATE_FILE):
        if candidate.is_file():
            return candidate
    return None


def load_aggregate(path: str | Path, *, what: str = "aggregate") -> Aggregate:
    """Read an aggregate.json (its file, its directory or the repeated run's parent)."""
    file = aggregate_path(path)
    if file is None:
        raise ResultsError(
            f"{what} {path} holds no aggregate.json. Give the directory `wxo-load repeat` wrote "
            "(or its aggregate/ directory, or aggregate.json itself)."
        )
    try:
        return aggregate_from_bytes(file.read_bytes())
    except OSError as exc:
        raise ResultsError(f"{what} {file} cannot be read ({exc}).") from None
    except AggregateFormatError as exc:
        raise ResultsError(
            f"{what} {file}: {exc}. Re-record it with `wxo-load repeat N` of this version."
        ) from None


def load_baseline(path: str | Path, *, what: str = "baseline") -> Summary | Aggregate:
    """A regression baseline: a repeated run's aggregate when `path` names one, else one run's
    summary.json (a results directory or the file)."""
    if aggregate_path(path) is not None:
        return load_aggregate(path, what=what)
    return load_summary(path, what=what)


def load_results(directory: Path | str, *, records: bool = True) -> LoadedResults:
    """Read a results directory; `records=False` reads only summary.json."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ResultsError(
            f"results directory {directory} does not exist. Pass the directory a test wrote, "
            "e.g. results/20261121T070000Z-smoke (or the one given to --results-dir)."
        )
    summary = load_summary(directory)
    loaded = LoadedResults(directory=directory, summary=summary)
    if records:
        loaded.runs = list(iter_jsonl(directory / RUNS_FILE))
        loaded.conversations = list(iter_jsonl(directory / CONVERSATIONS_FILE, missing_ok=True))
    return loaded
