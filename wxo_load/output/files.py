"""The results directory as it is written: runs.jsonl and conversations.jsonl appended as
records arrive (flushed on every call, so a killed test keeps what it had), then summary.json,
summary.md and report.html at the end. Reading them back is `wxo_load.edge.results`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import orjson

from wxo_load.core.errors import ResultsError
from wxo_load.core.redact import redact
from wxo_load.core.summary_codec import dump_summary
from wxo_load.core.summary_model import Summary
from wxo_load.edge.results import (
    CONVERSATIONS_FILE,
    REPORT_FILE,
    RUNS_FILE,
    SUMMARY_FILE,
    SUMMARY_MD_FILE,
    iter_jsonl,
)
from wxo_load.output.markdown import summary_markdown
from wxo_load.output.report.html import build_report_html

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _redacted(record: dict[str, object]) -> dict[str, object]:
    for key in ("error_detail", "answer_text"):  # answers may quote a secret too
        text = record.get(key)
        if text:
            record = {**record, key: redact(str(text))}
    return record


class ResultsWriter:
    """Writes one test's results directory. Not thread-safe: the master (or local runner) owns
    it."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._runs: IO[bytes] = open(self.directory / RUNS_FILE, "ab")  # noqa: SIM115
            self._conversations: IO[bytes] = open(self.directory / CONVERSATIONS_FILE, "ab")  # noqa: SIM115
        except OSError as exc:
            raise ResultsError(
                f"cannot write results to {self.directory}: {exc.strerror or exc}. Choose a "
                "writable directory with --results-dir."
            ) from exc
        self.runs_written = 0
        self.conversations_written = 0

    @staticmethod
    def default_dir(base: Path, scenario_name: str, now_unix: float) -> Path:
        """`base/<yyyymmddTHHMMSSZ>-<name>`, with `-2`, `-3`... appended if it already exists."""
        stamp = datetime.fromtimestamp(now_unix, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = _UNSAFE_NAME.sub("-", scenario_name).strip("-.") or "test"
        candidate = Path(base) / f"{stamp}-{name}"
        suffix = 2
        while candidate.exists():
            candidate = Path(base) / f"{stamp}-{name}-{suffix}"
            suffix += 1
        return candidate

    def append_runs(self, runs: Iterable[dict[str, object]]) -> None:
        """RunRecord.to_dict() dicts, one JSON line each; flushed before returning."""
        lines = [orjson.dumps(_redacted(run)) + b"\n" for run in runs]
        if lines:
            self._runs.write(b"".join(lines))
            self._runs.flush()
            self.runs_written += len(lines)

    def append_conversations(self, convs: Iterable[dict[str, object]]) -> None:
        lines = [orjson.dumps(conv) + b"\n" for conv in convs]
        if lines:
            self._conversations.write(b"".join(lines))
            self._conversations.flush()
            self.conversations_written += len(lines)

    def write_summary(self, summary: Summary, *, extra_markdown: Sequence[str] = ()) -> None:
        """summary.json, then summary.md and report.html built from it and the record files."""
        self._runs.flush()
        self._conversations.flush()
        _atomic_write(self.directory / SUMMARY_FILE, dump_summary(summary))
        write_derived(self.directory, summary, extra_markdown=extra_markdown)

    @property
    def closed(self) -> bool:
        """True once `close()` ran: nothing more can be appended."""
        return self._runs.closed

    def close(self) -> None:
        for handle in (self._runs, self._conversations):
            if not handle.closed:
                handle.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_summary_file(directory: Path, summary: Summary) -> None:
    """summary.json alone (`wxo-load report` rebuilding a killed test's summary)."""
    _atomic_write(Path(directory) / SUMMARY_FILE, dump_summary(summary))


def write_derived(
    directory: Path,
    summary: Summary,
    *,
    extra_markdown: Sequence[str] = (),
    report_path: Path | None = None,
) -> None:
    """(Re)write summary.md and report.html in `directory` from `summary` and the jsonl files."""
    directory = Path(directory)
    markdown = summary_markdown(summary, extra_sections=extra_markdown)
    _atomic_write(directory / SUMMARY_MD_FILE, markdown.encode("utf-8"))
    html = build_report_html(
        summary,
        iter_jsonl(directory / RUNS_FILE, missing_ok=True),
        iter_jsonl(directory / CONVERSATIONS_FILE, missing_ok=True),
    )
    _atomic_write(report_path or directory / REPORT_FILE, html.encode("utf-8"))


def append_markdown(directory: Path, section: str) -> None:
    """Append a Markdown section (e.g. the gates table) to an existing summary.md."""
    path = Path(directory) / SUMMARY_MD_FILE
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n" + section.rstrip("\n") + "\n")
