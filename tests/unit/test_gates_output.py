"""Gate outputs: the stdout table, gates.json, junit.xml, the summary.md section, GitHub's
job summary, and the exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from gates_support import make_summary

from wxo_load.gates.evaluate import Verdict, evaluate
from wxo_load.gates.parse import parse_gate_spec
from wxo_load.output.gates import (
    MD_END,
    MD_START,
    exit_code,
    format_table,
    gates_json,
    gates_section,
    junit_xml,
    load_verdicts,
    markdown_table,
    replace_gates_section,
    write_gate_outputs,
)


def _verdicts() -> list[Verdict]:
    summary = make_summary(runs=200, failed={"timeout": 4}, first_text_p95=800.0)
    baseline = make_summary(first_text_p95=600.0)
    texts = ["first_text.p95 < 3000ms", "error_rate < 1%", "runs >= 100", "first_text.p95 +10%"]
    return evaluate([parse_gate_spec(t, where="t") for t in texts], summary, baseline)


def test_exit_code_is_zero_when_all_pass_and_three_when_any_fails() -> None:
    verdicts = _verdicts()
    assert exit_code([v for v in verdicts if v.passed]) == 0
    assert exit_code(verdicts) == 3


def test_table_lists_every_gate_with_limit_measured_and_verdict() -> None:
    table = format_table(_verdicts())
    lines = table.splitlines()
    assert lines[0].split() == ["verdict", "gate", "limit", "measured", "why"]
    assert lines[2].startswith("PASS") and "first_text.p95 < 3000ms" in lines[2]
    assert lines[3].startswith("FAIL") and "error_rate < 1%" in lines[3] and "2%" in lines[3]
    assert lines[-1] == "gates: 2 passed, 2 failed (error_rate < 1%; first_text.p95 +10%)"
    # fixed width: every column starts at the header's offset on every row
    limit_at, measured_at = lines[0].index("limit"), lines[0].index("measured")
    assert lines[2][limit_at:].startswith("< 3000 ms ")
    assert lines[3][limit_at:].startswith("< 1% ")
    assert lines[5][measured_at:].startswith("800 ms ")


def test_gates_json_holds_meta_overall_verdict_and_each_gate() -> None:
    data = gates_json(_verdicts(), {"results_dir": "results/ci"})
    assert data["schema"] == "wxo-load/gates/v1"
    assert data["results_dir"] == "results/ci"
    assert (data["passed"], data["exit_code"], data["total"], data["failed"]) == (False, 3, 4, 2)
    assert data["failed_gates"] == ["error_rate < 1%", "first_text.p95 +10%"]
    regression = data["gates"][3]
    assert regression["kind"] == "regression" and regression["baseline"] == 600.0
    json.dumps(data)  # serialisable as is


def test_junit_xml_parses_and_has_one_testcase_per_gate_with_failures() -> None:
    text = junit_xml(_verdicts(), "ci gates")
    root = ET.fromstring(text.encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "4" and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "first_text.p95 < 3000ms",
        "error_rate < 1%",
        "runs >= 100",
        "first_text.p95 +10%",
    ]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "error_rate < 1%: 2% is not < 1%"
    assert cases[0].find("failure") is None


def test_junit_xml_escapes_markup_in_names_and_reasons() -> None:
    nasty = Verdict('x < 1 & "y" > <z/>', "runs", "< 1", "2", False, "]]> & <b>")
    root = ET.fromstring(junit_xml([nasty]))
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == 'x < 1 & "y" > <z/>'
    failure = case.find("failure")
    assert failure is not None and "]]> & <b>" in (failure.text or "")


def test_markdown_table_escapes_pipes_and_marks_failures() -> None:
    verdict = Verdict("a | b", "runs", "< 1", "2", False, "why | not")
    table = markdown_table([verdict])
    assert table.splitlines()[-1] == "| ❌ **FAIL** | `a \\| b` | < 1 | 2 | why \\| not |"


def test_replace_gates_section_appends_once_then_replaces() -> None:
    base = "## wxo-load: ci\n\nsome tables\n"
    first = replace_gates_section(base, "TABLE ONE")
    assert first.startswith(base) and first.count(MD_START) == 1 and "TABLE ONE" in first
    second = replace_gates_section(first, "TABLE TWO")
    assert second.count(MD_START) == 1 and second.count(MD_END) == 1
    assert "TABLE ONE" not in second and "TABLE TWO" in second and second.startswith(base)


def test_write_gate_outputs_twice_keeps_one_gates_section(tmp_path: Path) -> None:
    (tmp_path / "summary.md").write_text("## wxo-load: ci\n\nTimings table\n", encoding="utf-8")
    step_summary = tmp_path / "step_summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(step_summary)}
    verdicts = _verdicts()
    write_gate_outputs(tmp_path, verdicts, {"source": "test"}, environ=env)
    write_gate_outputs(tmp_path, verdicts[:1], {"source": "test"}, environ=env)
    summary_md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary_md.startswith("## wxo-load: ci\n\nTimings table\n")
    assert summary_md.count("### Performance gates") == 1
    assert "gates: all 1 passed" in summary_md and "error_rate < 1%" not in summary_md
    # the job summary is a log of this step: both evaluations were appended
    assert step_summary.read_text(encoding="utf-8").count("### Performance gates") == 2
    assert json.loads((tmp_path / "gates.json").read_text())["total"] == 1
    ET.parse(tmp_path / "junit.xml")


def test_write_gate_outputs_without_step_summary_env_writes_only_results(tmp_path: Path) -> None:
    written = write_gate_outputs(tmp_path / "new", _verdicts(), {}, environ={})
    assert sorted(p.name for p in written) == ["gates.json", "junit.xml", "summary.md"]
    assert (tmp_path / "new" / "summary.md").read_text().startswith(MD_START)


def test_saved_verdicts_rebuild_the_same_section(tmp_path: Path) -> None:
    verdicts = _verdicts()
    write_gate_outputs(tmp_path, verdicts, {}, environ={})
    assert load_verdicts(tmp_path) == verdicts
    assert gates_section(load_verdicts(tmp_path) or []) == gates_section(verdicts)
    assert load_verdicts(tmp_path / "missing") is None
