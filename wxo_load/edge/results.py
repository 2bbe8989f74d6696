"""The results directory: runs.jsonl, conversations.jsonl, summary.json, summary.md, report.html.

`ResultsWriter` appends records as they arrive (flushed on every call, so a killed test keeps
what it had) and writes the summary files at the end; `load_results` reads a directory back
for `wxo-load report`, `wxo-load gate` and `wxo-load compare`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson

from wxo_load.core.errors import ResultsError
from wxo_load.core.records import ALL_METRICS
from wxo_load.core.redact import redact
from wxo_load.core.replay_stats import replay_markdown
from wxo_load.core.stats import SCHEMA
from wxo_load.core.summary import PERSONA_COLUMNS, LoadGeneratorFacts, persona_rows
from wxo_load.core.window import window_text

RUNS_FILE = "runs.jsonl"
CONVERSATIONS_FILE = "conversations.jsonl"
SUMMARY_FILE = "summary.json"
SUMMARY_SCHEMA_PREFIX = "wxo-load/summary/"  # any version of the schema is read; v1 is written
SUMMARY_MD_FILE = "summary.md"
REPORT_FILE = "report.html"

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _redacted(record: dict[str, Any]) -> dict[str, Any]:
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

    def append_runs(self, runs: Iterable[dict[str, Any]]) -> None:
        """RunRecord.to_dict() dicts, one JSON line each; flushed before returning."""
        lines = [orjson.dumps(_redacted(run)) + b"\n" for run in runs]
        if lines:
            self._runs.write(b"".join(lines))
            self._runs.flush()
            self.runs_written += len(lines)

    def append_conversations(self, convs: Iterable[dict[str, Any]]) -> None:
        lines = [orjson.dumps(conv) + b"\n" for conv in convs]
        if lines:
            self._conversations.write(b"".join(lines))
            self._conversations.flush()
            self.conversations_written += len(lines)

    def write_summary(self, summary: dict[str, Any], *, extra_markdown: Sequence[str] = ()) -> None:
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


def dump_summary(summary: dict[str, Any]) -> bytes:
    """summary.json bytes: indented, keys in the schema's order, newline-terminated."""
    return orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n"


def write_derived(
    directory: Path,
    summary: dict[str, Any],
    *,
    extra_markdown: Sequence[str] = (),
    report_path: Path | None = None,
) -> None:
    """(Re)write summary.md and report.html in `directory` from `summary` and the jsonl files."""
    from wxo_load.edge.report.html import (
        build_report_html,  # imported here: only the writer's last step needs it
    )

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


# -- reading --------------------------------------------------------------------------------


def iter_jsonl(path: Path, *, missing_ok: bool = False) -> Iterator[dict[str, Any]]:
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
            if isinstance(item, dict):
                yield item


@dataclass
class LoadedResults:
    directory: Path
    summary: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)


def summary_path(path: str | Path) -> Path:
    """A results directory or a summary.json file -> the summary.json path."""
    p = Path(path)
    return p / SUMMARY_FILE if p.is_dir() else p


def load_summary(path: str | Path, *, what: str = "results") -> dict[str, Any]:
    """Read a summary.json given its file or its results directory: the one reader of summaries
    (reports, gates, baselines, compare). `what` names it in errors ("baseline", "A")."""
    file = summary_path(path)
    if not Path(path).exists():
        raise ResultsError(
            f"{what} {path} does not exist. Give a results directory (the one that holds "
            "summary.json, e.g. results/ci) or the path of a summary.json."
        )
    try:
        summary = orjson.loads(file.read_bytes())
    except FileNotFoundError:
        raise ResultsError(
            f"{what} {path} has no summary.json ({file} is missing): it is not a finished wxo-load "
            "results directory (a test killed before it ended has none). Give the directory a test "
            "wrote (--results-dir), or its summary.json."
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ResultsError(
            f"{what} {file} cannot be read as JSON (not valid JSON: {exc}). Was the test cut off "
            "while writing it? Re-run the test, or restore the file from the test's artifacts."
        ) from None
    found = summary.get("schema") if isinstance(summary, dict) else type(summary).__name__
    if not isinstance(found, str) or not found.startswith(SUMMARY_SCHEMA_PREFIX):
        raise ResultsError(
            f"{what} {file}: not a wxo-load summary (schema {found!r}, expected {SCHEMA!r}). Give "
            "a summary.json that wxo-load wrote, or re-run the test with this version."
        )
    return summary


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


# -- summary.md -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return _num(value)
    text = str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: int = 1) -> str:
    """A Markdown table; columns after the first `text_columns` are numbers, right-aligned."""
    align = [" --- " if i < text_columns else " ---: " for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _trust_line(summary: dict[str, Any]) -> str:
    lg = LoadGeneratorFacts.of(summary)
    facts = ", ".join(lg.parts(_num))
    if lg.trusted:
        return f"**Load generator: OK** — {facts or 'no lag measured'}."
    warnings = "".join(f"\n> - {_cell(w)}" for w in lg.warnings)
    return f"> **Load generator: NOT trustworthy** — {facts or 'see below'}.{warnings}"


def summary_markdown(summary: dict[str, Any], extra_sections: Sequence[str] = ()) -> str:
    """Short Markdown tables for a CI job summary; `extra_sections` are appended verbatim."""
    runs = summary.get("runs") or {}
    convs = summary.get("conversations") or {}
    metrics = summary.get("metrics") or {}
    metric_rows = [
        [
            name,
            *(metrics.get(name, {}).get(k) for k in ("count", "p50", "p90", "p95", "p99", "max")),
        ]
        for name in ALL_METRICS
    ]
    sections = [
        _summary_header(summary, runs, convs),
        "### Timings (ms)\n\n"
        + _table(["metric", "count", "p50", "p90", "p95", "p99", "max"], metric_rows),
        "### Outcomes\n\n" + _outcome_table(runs, convs),
        "### Throughput\n\n" + _throughput_table(summary.get("throughput") or {}),
        "### First turn vs follow-ups (ms)\n\n" + _turn_table(summary.get("by_turn") or {}),
    ]
    tools = summary.get("tools") or {}
    if tools:  # where the time goes inside a run: tools by p95
        keys = ("calls", "failures", "p50", "p95", "p99", "max")
        rows = sorted(
            ([n, *((t or {}).get(k) for k in keys)] for n, t in tools.items()),
            key=lambda r: -(r[4] or 0),
        )
        sections.append("### Tools (ms)\n\n" + _table(["tool", *keys], rows))
    from wxo_load.load.markdown import load_markdown  # stages or a capacity search, if any

    if summary.get("personas"):
        sections.append("### Personas\n\n" + _table(PERSONA_COLUMNS, persona_rows(summary)))

    sections += [s for s in [load_markdown(summary), replay_markdown(summary)] if s]
    sections += [s.strip("\n") for s in extra_sections]
    return "\n\n".join(sections) + "\n"


def _summary_header(summary: dict[str, Any], runs: dict[str, Any], convs: dict[str, Any]) -> str:
    """Title, when/how long/how many users/host, run totals and the trust line."""
    scenario = (summary.get("scenario") or {}).get("name") or "test"
    users = (summary.get("users") or {}).get("peak")
    duration = summary.get("duration_s")
    return (
        f"## wxo-load: {_cell(scenario)}\n\n"
        f"{_cell(summary.get('started_at'))} · {_num(duration) if duration else '–'} s · "
        f"{_cell(users)} users · {_cell(summary.get('host'))}\n\n"
        f"**{runs.get('total', 0)} runs** ({runs.get('ok', 0)} ok, {runs.get('failed', 0)} failed, "
        f"error rate {100 * (runs.get('error_rate') or 0):.2f} %) in "
        f"{convs.get('total', 0)} conversations. {window_text(summary.get('window'))}\n\n"
        + _trust_line(summary)
    )


def _outcome_table(runs: dict[str, Any], convs: dict[str, Any]) -> str:
    run_by = runs.get("by_outcome") or {"ok": 0}
    conv_by = convs.get("by_outcome") or {"ok": 0}
    names = list(run_by) + [name for name in conv_by if name not in run_by]
    return _table(
        ["outcome", "runs", "conversations"],
        ([n, run_by.get(n, 0), conv_by.get(n, 0)] for n in names),
    )


def _throughput_table(throughput: dict[str, Any]) -> str:
    labels = {
        "runs_per_s": "runs/s",
        "ok_runs_per_s": "ok runs/s",
        "conversations_per_s": "conversations/s",
        "answer_chars_per_s": "answer characters/s",
    }
    return _table(
        ["rate", "value"],
        ([label, throughput.get(key)] for key, label in labels.items() if key in throughput),
    )


def _turn_table(by_turn: dict[str, Any]) -> str:
    rows = []
    for metric in ("first_text", "done"):
        for turn in ("first", "follow_up"):
            entry = by_turn.get(turn) or {}
            m = (entry.get("metrics") or {}).get(metric) or {}
            rows.append(
                [
                    metric,
                    turn.replace("_", "-"),
                    entry.get("runs"),
                    m.get("p50"),
                    m.get("p95"),
                    m.get("p99"),
                ]
            )
    return _table(["metric", "turn", "runs", "p50", "p95", "p99"], rows, text_columns=2)


__all__ = [
    "CONVERSATIONS_FILE",
    "REPORT_FILE",
    "RUNS_FILE",
    "SUMMARY_FILE",
    "SUMMARY_MD_FILE",
    "LoadedResults",
    "ResultsWriter",
    "append_markdown",
    "dump_summary",
    "iter_jsonl",
    "load_results",
    "load_summary",
    "summary_path",
    "summary_markdown",
    "write_derived",
]
