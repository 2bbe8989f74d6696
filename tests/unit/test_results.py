"""Result files: the writer, reading them back, and summary.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ResultsError
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.redact import redact
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_codec import summary_to_dict
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_model import SCHEMA, Summary
from wxo_load.core.summary_sections import ScenarioInfo
from wxo_load.edge.results import iter_jsonl, load_results
from wxo_load.output.files import ResultsWriter, append_markdown
from wxo_load.output.markdown import summary_markdown

T0 = 1_800_000_000.0


def _runs(n: int) -> list[RunRecord]:
    runs = []
    for i in range(n):
        run = RunRecord(
            T0 + i,
            f"u{i}",
            f"c{i}",
            i % 2,
            f"req-{i}",
            thread_id=f"t{i}",
            run_id=f"r{i}",
            run_started_ms=50.0 + i,
            first_text_ms=400.0 + i,
            done_ms=900.0 + i,
            total_ms=900.0 + i,
        )
        if i % 5 == 4:
            run.outcome, run.done_ms, run.error_detail = "http_503", None, "overloaded"
        runs.append(run)
    return runs


def _summary(runs: list[RunRecord], **meta: Any) -> Summary:
    book = MetricsBook()
    for run in runs:
        book.record_run(run)
    given = SummaryMeta(scenario=ScenarioInfo(name="smoke"), started_at=T0, ended_at=T0 + 10)
    return build_summary(book, meta=msgspec.structs.replace(given, **meta))


def test_default_dir_is_utc_stamped_safe_and_unique(tmp_path: Path) -> None:
    first = ResultsWriter.default_dir(tmp_path, "my scenario/../x", T0)
    assert first == tmp_path / "20270115T080000Z-my-scenario-..-x"  # one path component
    first.mkdir(parents=True)
    second = ResultsWriter.default_dir(tmp_path, "my scenario/../x", T0)
    assert second != first and second.name == first.name + "-2"
    assert ResultsWriter.default_dir(tmp_path, "smoke", T0).name == "20270115T080000Z-smoke"


def test_records_are_on_disk_before_close(tmp_path: Path) -> None:
    writer = ResultsWriter(tmp_path / "r")
    writer.append_runs([r.to_dict() for r in _runs(3)])
    writer.append_conversations([ConversationRecord(T0, "u", "c").to_dict()])
    # another process (or a reader after a kill) sees them without close()
    assert [line["request_id"] for line in iter_jsonl(tmp_path / "r" / "runs.jsonl")] == [
        "req-0",
        "req-1",
        "req-2",
    ]
    assert len(list(iter_jsonl(tmp_path / "r" / "conversations.jsonl"))) == 1
    writer.close()


def test_writer_and_loader_roundtrip(tmp_path: Path) -> None:
    runs = _runs(20)
    summary = _summary(runs)
    with ResultsWriter(tmp_path / "r") as writer:
        writer.append_runs([r.to_dict() for r in runs[:10]])
        writer.append_runs([r.to_dict() for r in runs[10:]])
        writer.write_summary(summary, extra_markdown=["### Gates\n\n| gate | verdict |"])
    loaded = load_results(tmp_path / "r")
    assert summary_to_dict(loaded.summary) == json.loads(
        (tmp_path / "r" / "summary.json").read_text()
    )
    assert loaded.summary.schema == SCHEMA
    assert [RunRecord.from_dict(r) for r in loaded.runs] == runs
    assert loaded.conversations == []
    assert (tmp_path / "r" / "summary.md").read_text().rstrip().endswith("| gate | verdict |")
    assert (tmp_path / "r" / "report.html").stat().st_size > 5000
    assert load_results(tmp_path / "r", records=False).runs == []


def test_error_details_are_redacted_in_runs_jsonl(tmp_path: Path) -> None:
    secret = "zq9-very-secret-api-key-77"
    redact.add(secret)
    run = RunRecord(T0, "u", "c", 0, "r", outcome="http_401", error_detail=f"bad key {secret}")
    with ResultsWriter(tmp_path / "r") as writer:
        writer.append_runs([run.to_dict()])
    text = (tmp_path / "r" / "runs.jsonl").read_text()
    assert secret not in text and "(masked)" in text


def test_a_damaged_last_line_is_skipped_but_a_damaged_middle_line_is_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert [item["a"] for item in iter_jsonl(path)] == [1, 2]
    path.write_text('{"a": 1}\nnot json\n{"a": 3}\n')
    with pytest.raises(ResultsError, match="line 2: not valid JSON"):
        list(iter_jsonl(path))


def test_loading_explains_what_is_missing_or_wrong(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="does not exist"):
        load_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="summary.json is missing"):
        load_results(tmp_path / "empty")
    (tmp_path / "empty" / "summary.json").write_text('{"schema": "other/v9"}')
    with pytest.raises(ResultsError, match="expected 'wxo-load/summary/v2'"):
        load_results(tmp_path / "empty")
    (tmp_path / "empty" / "summary.json").write_text("{")
    with pytest.raises(ResultsError, match="not valid JSON"):
        load_results(tmp_path / "empty")


def test_summary_markdown_has_the_tables_a_ci_summary_needs() -> None:
    summary = _summary(_runs(20), users_peak=5, host="http://127.0.0.1:9")
    md = summary_markdown(summary)
    assert md.startswith("## wxo-load: smoke")
    assert "**20 runs** (16 ok, 4 failed, error rate 20.00 %)" in md
    done = summary.metrics["done"]
    assert f"| done | {done.count} |" in md
    assert "| metric | count | p50 | p90 | p95 | p99 | max |" in md
    assert "| http_503 | 4 | 0 |" in md
    assert "| runs/s | 2.00 |" in md
    assert "| first_text | first | 10 |" in md
    assert "**Load generator: OK**" in md


def test_summary_markdown_flags_an_untrustworthy_load_generator_and_escapes_names() -> None:
    summary = _summary(
        [], load_generator=LoadGeneratorExtras(warnings=["CPU at 100 % | add workers"])
    )
    summary = msgspec.structs.replace(summary, scenario=ScenarioInfo(name="a|b <x>"))
    md = summary_markdown(summary, extra_sections=["### Gates\n\nall passed\n"])
    assert "**Load generator: NOT trustworthy**" in md
    assert "CPU at 100 % \\| add workers" in md
    assert "a\\|b &lt;x&gt;" in md
    assert md.endswith("### Gates\n\nall passed\n")


def test_append_markdown_adds_a_section_to_summary_md(tmp_path: Path) -> None:
    (tmp_path / "summary.md").write_text("## wxo-load: x\n")
    append_markdown(tmp_path, "### Gates\n\n| gate | verdict |\n")
    assert (
        tmp_path / "summary.md"
    ).read_text() == "## wxo-load: x\n\n### Gates\n\n| gate | verdict |\n"


def test_writer_explains_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ResultsError, match="--results-dir"):
        ResultsWriter(blocker / "sub")
