"""What gate verdicts become: a table on stdout, gates.json, junit.xml, a Markdown section in
summary.md and in GitHub's job summary, and the process exit code.

I/O edge: the formatters are pure; `write_gate_outputs` is the only function that writes.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

from wxo_load.core.errors import ExitCode
from wxo_load.gates.evaluate import Verdict

GATES_SCHEMA = "wxo-load/gates/v1"
GATES_JSON = "gates.json"
JUNIT_XML = "junit.xml"
SUMMARY_MD = "summary.md"
MD_START = "<!-- wxo-load:gates:start -->"
MD_END = "<!-- wxo-load:gates:end -->"
_SECTION = re.compile(re.escape(MD_START) + r".*?" + re.escape(MD_END) + r"\n?", re.DOTALL)


def exit_code(verdicts: Sequence[Verdict]) -> int:
    """0 when every gate passed, 3 when any failed (docs/gates.md, exit codes)."""
    return ExitCode.PASSED if all(v.passed for v in verdicts) else ExitCode.GATE_FAILED


def _word(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def headline(verdicts: Sequence[Verdict]) -> str:
    """`gates: 4 passed, 1 failed (first_text.p95 < 300ms)` or `gates: all 5 passed`."""
    failed = [v.gate_text for v in verdicts if not v.passed]
    if not verdicts:
        return "gates: none configured"
    if not failed:
        return f"gates: all {len(verdicts)} passed"
    return (
        f"gates: {len(verdicts) - len(failed)} passed, {len(failed)} failed ({'; '.join(failed)})"
    )


def format_table(verdicts: Sequence[Verdict]) -> str:
    """Fixed-width table for a terminal or a CI log, then the headline."""
    header = ("verdict", "gate", "limit", "measured", "why")
    rows = [(_word(v.passed), v.gate_text, v.limit, v.measured, v.reason) for v in verdicts]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    rule = "  ".join("-" * w for w in widths) + "  " + "-" * 3
    return "\n".join([line(header), rule, *(line(r) for r in rows), headline(verdicts)]) + "\n"


class VerdictJson(TypedDict):
    """One gate in gates.json: `Verdict`'s fields."""

    gate_text: str
    figure: str
    limit: str
    measured: str
    passed: bool
    reason: str
    kind: str
    value: float | None
    threshold: float | None
    baseline: float | None


class GatesMeta(TypedDict, total=False):
    """Where gates.json's verdicts come from (each writer says what it knows)."""

    source: str
    gates_from: str | None
    results_dir: str
    summary: str
    baseline: str | None
    scenario: str | None
    evaluated_at: str


class GatesJson(GatesMeta):
    schema: str
    passed: bool
    exit_code: int
    total: int
    failed: int
    failed_gates: list[str]
    gates: list[VerdictJson]


def verdict_dict(verdict: Verdict) -> VerdictJson:
    v = verdict
    return VerdictJson(
        gate_text=v.gate_text, figure=v.figure, limit=v.limit, measured=v.measured,
        passed=v.passed, reason=v.reason, kind=v.kind, value=v.value, threshold=v.threshold,
        baseline=v.baseline,
    )  # fmt: skip


def gates_json(verdicts: Sequence[Verdict], meta: GatesMeta) -> GatesJson:
    """gates.json: `meta` (results_dir, summary, baseline, evaluated_at, source, ...) first,
    then the overall verdict and one entry per gate."""
    failed = [v.gate_text for v in verdicts if not v.passed]
    return {
        "schema": GATES_SCHEMA,
        **meta,
        "passed": not failed,
        "exit_code": exit_code(verdicts),
        "total": len(verdicts),
        "failed": len(failed),
        "failed_gates": failed,
        "gates": [verdict_dict(v) for v in verdicts],
    }


def _add_testcase(suite: ET.Element, verdict: Verdict) -> None:
    """One <testcase>: the detail as <system-out> when the gate passed, else a <failure>."""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"wxo-load.{verdict.kind}",
        name=verdict.gate_text,
        time="0",
    )
    detail = (
        f"figure: {verdict.figure}\nlimit: {verdict.limit}\n"
        f"measured: {verdict.measured}\n{verdict.reason}"
    )
    if verdict.passed:
        ET.SubElement(case, "system-out").text = detail
    else:
        failure = ET.SubElement(
            case, "failure", type="GateFailed", message=f"{verdict.gate_text}: {verdict.reason}"
        )
        failure.text = detail


def junit_xml(verdicts: Sequence[Verdict], suite_name: str = "wxo-load gates") -> str:
    """JUnit XML, one <testcase> per gate; a failed gate has a <failure> with its reason."""
    failures = sum(1 for v in verdicts if not v.passed)
    counts = {"name": suite_name, "tests": str(len(verdicts)), "failures": str(failures)}
    root = ET.Element("testsuites", {**counts, "errors": "0", "time": "0"})
    suite = ET.SubElement(root, "testsuite", {**counts, "errors": "0", "skipped": "0", "time": "0"})
    for verdict in verdicts:
        _add_testcase(suite, verdict)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(verdicts: Sequence[Verdict]) -> str:
    """`### Performance gates`, the headline, and a table; pipes in cells are escaped."""
    lines = ["### Performance gates", "", f"**{headline(verdicts)}**", ""]
    if verdicts:
        lines += ["| | Gate | Limit | Measured | Why |", "| --- | --- | --- | --- | --- |"]
        for v in verdicts:
            mark = "✅ pass" if v.passed else "❌ **FAIL**"
            cells = [
                _md_cell(f"`{v.gate_text}`"),
                _md_cell(v.limit),
                _md_cell(v.measured),
                _md_cell(v.reason),
            ]
            lines.append(f"| {mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def gates_section(verdicts: Sequence[Verdict]) -> str:
    """The Markdown table between the markers that let it be replaced later; pass it to
    `results.summary_markdown(extra_sections=...)` when summary.md is rebuilt."""
    return f"{MD_START}\n{markdown_table(verdicts).rstrip()}\n{MD_END}\n"


def load_verdicts(results_dir: str | Path) -> list[Verdict] | None:
    """The verdicts saved in a results directory's gates.json, or None when there is none
    (or it cannot be read: gates.json is derived data, the gates can be re-evaluated)."""
    path = Path(results_dir) / GATES_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        fields = set(Verdict.__dataclass_fields__)
        return [Verdict(**{k: v for k, v in g.items() if k in fields}) for g in data["gates"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def replace_gates_section(markdown: str, table: str) -> str:
    """`markdown` with its gates section (between the wxo-load:gates markers) replaced by
    `table`, or with the section appended when there is none yet."""
    section = f"{MD_START}\n{table.rstrip()}\n{MD_END}\n"
    if _SECTION.search(markdown):
        return _SECTION.sub(lambda _m: section, markdown, count=1)
    if markdown and not markdown.endswith("\n"):
        markdown += "\n"
    return f"{markdown}\n{section}" if markdown else section


def write_gate_outputs(
    results_dir: str | Path,
    verdicts: Sequence[Verdict],
    meta: GatesMeta,
    *,
    suite_name: str = "wxo-load gates",
    environ: Mapping[str, str] | None = None,
    markdown_file: str = SUMMARY_MD,
) -> list[Path]:
    """Write gates.json and junit.xml, put the table in summary.md (or `markdown_file`,
    replacing an earlier gates section), and append it to $GITHUB_STEP_SUMMARY when set.
    Returns the paths written."""
    directory = Path(results_dir)
    directory.mkdir(parents=True, exist_ok=True)
    env = os.environ if environ is None else environ
    written = [directory / GATES_JSON, directory / JUNIT_XML, directory / markdown_file]
    _write_atomic(written[0], json.dumps(gates_json(verdicts, meta), indent=2) + "\n")
    _write_atomic(written[1], junit_xml(verdicts, suite_name))
    table = markdown_table(verdicts)
    old = written[2].read_text(encoding="utf-8") if written[2].exists() else ""
    _write_atomic(written[2], replace_gates_section(old, table))
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(table + "\n")
        written.append(Path(step_summary))
    return written


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
