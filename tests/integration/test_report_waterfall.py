"""The report's waterfall: a run with two tool calls and a hand-over, in runs.jsonl and in the
report as headless Chromium renders it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import _script, needs_chromium
from steps_support import WATERFALL_PHASES, run_of, two_tools_and_a_handoff

from wxo_load.core.book import MetricsBook
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import SummaryMeta
from wxo_load.core.summary_sections import ScenarioInfo
from wxo_load.edge.results import load_summary
from wxo_load.output.files import ResultsWriter
from wxo_load.output.report.html import build_report_html


def write_results(directory: Path, runs: int = 9) -> None:
    book, records = MetricsBook(), []
    for i in range(runs):
        timeline = two_tools_and_a_handoff()
        timeline[-1] = (timeline[-1][0] + i, timeline[-1][1])  # done a little later each run
        rec = run_of(timeline)
        rec.started_at_unix, rec.run_id = 1_800_000_000.0 + i, f"run-{i}"
        book.record_run(rec)
        records.append(rec.to_dict())
    summary = build_summary(book, meta=SummaryMeta(scenario=ScenarioInfo(name="tools")))
    with ResultsWriter(directory) as writer:
        writer.append_runs(records)
        writer.write_summary(summary)


def test_runs_jsonl_keeps_each_phase_of_a_run_with_tools_and_a_handover(tmp_path: Path) -> None:
    write_results(tmp_path / "r")
    run = json.loads((tmp_path / "r" / "runs.jsonl").read_text().splitlines()[0])
    assert run["tools"] == [
        ["lookup_order", 100, 300],
        ["search_kb", 450, 200],
        ["billing_agent", 700, 200],
    ]
    assert (
        run["run_started_ms"],
        run["thinking_ms"],
        run["handoff_ms"],
        run["streaming_ms"],
        run["finish_ms"],
    ) == (10, 90, 200, 70, 11)
    assert run["intermediate_ms"] == 150 and run["handoffs"] == 1 and run["tool_calls"] == 3


def test_report_html_has_a_waterfall_per_typical_and_slowest_run(tmp_path: Path) -> None:
    write_results(tmp_path / "r")
    summary = load_summary(tmp_path / "r")
    runs = [json.loads(x) for x in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()]
    html = build_report_html(summary, runs, [])
    assert (
        'id="where-time-goes"' in html and html.count('class="waterfall"') == 4
    )  # typical + 3 slowest
    for phase in WATERFALL_PHASES:
        assert f'data-phase="{phase}"' in html
    assert "Tools by p95" in html and "Gaps between consecutive text deltas" in html


@pytest.mark.slow  # starts a real browser
@needs_chromium
def test_waterfall_renders_every_phase_in_headless_chromium(tmp_path: Path) -> None:
    directory = tmp_path / "20270115T080000Z-tools"
    write_results(directory)
    result = _script(str(directory), "--dump-dom")
    assert result.returncode == 0, result.stderr
    dom = result.stdout
    assert 'data-report-ready="1"' in dom and 'id="waterfall"' in dom
    typical = dom[dom.index("A typical run") :]
    typical = typical[: typical.index("</svg>")]
    for phase in WATERFALL_PHASES:
        assert f'data-phase="{phase}"' in typical, phase
    assert "billing_agent (hand-over): 200 ms (from 700 ms)" in typical


def test_summary_md_lists_tools_by_p95(tmp_path: Path) -> None:
    from wxo_load.output.markdown import summary_markdown

    write_results(tmp_path / "r")
    markdown = summary_markdown(load_summary(tmp_path / "r"))
    tools = markdown[markdown.index("### Tools (ms)") :]
    assert tools.index("lookup_order") < tools.index("search_kb")  # 300 ms before 200 ms
