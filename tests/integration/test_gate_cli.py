"""`wxo-load gate` and `wxo-load compare` end to end, as real subprocesses on results
directories built per the summary.json schema (docs/results.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gates_support import make_summary, variant, write_results

EXIT_OK, EXIT_HARNESS, EXIT_GATE_FAILED = 0, 2, 3


def wxo_load(
    *args: str | Path, cwd: Path, step_summary: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command. GITHUB_STEP_SUMMARY is unset unless given, so tests running in
    GitHub Actions do not write into the job's own summary."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    if step_summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(step_summary)
    return subprocess.run(
        [sys.executable, "-m", "wxo_load.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def failed_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("FAIL")]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """200 runs, 1% timeouts, first_text p95 800 ms, 10 runs/s."""
    return write_results(
        tmp_path / "results" / "ci",
        make_summary(runs=200, failed={"timeout": 2}, first_text_p95=800.0),
    )


def test_gate_passing_gates_exit_zero_and_write_outputs(results: Path, tmp_path: Path) -> None:
    proc = wxo_load(
        "gate",
        results,
        "--gate",
        "first_text.p95 < 3000ms",
        "--gate",
        "error_rate < 5%",
        "--gate",
        "runs >= 100",
        "--gate",
        "runs_per_s >= 5",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "gates: all 4 passed" in proc.stdout and failed_lines(proc.stdout) == []
    gates = json.loads((results / "gates.json").read_text())
    assert gates["passed"] is True and gates["total"] == 4
    assert gates["summary"] == str(results / "summary.json")
    assert len(ET.parse(results / "junit.xml").getroot().findall("testsuite/testcase")) == 4
    assert "### Performance gates" in (results / "summary.md").read_text()


def test_gate_failing_percentile_exits_with_gate_code_and_names_it(
    results: Path, tmp_path: Path
) -> None:
    proc = wxo_load(
        "gate",
        results,
        "--gate",
        "first_text.p95 < 500ms",
        "--gate",
        "error_rate < 5%",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT_GATE_FAILED
    (line,) = failed_lines(proc.stdout)
    assert "first_text.p95 < 500ms" in line and "800 ms" in line
    assert "1 failed (first_text.p95 < 500ms)" in proc.stdout
    junit = ET.parse(results / "junit.xml").getroot()
    failures = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert failures == ["first_text.p95 < 500ms"]


def test_gate_failing_error_rate_from_injected_faults(tmp_path: Path) -> None:
    faulty = write_results(
        tmp_path / "faulty", make_summary(runs=400, failed={"http_503": 24, "timeout": 4})
    )
    proc = wxo_load(
        "gate",
        faulty,
        "--gate",
        "error_rate < 5%",
        "--gate",
        "error_rate.http_503 < 2%",
        "--gate",
        "error_rate.timeout <= 1%",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT_GATE_FAILED
    failing = failed_lines(proc.stdout)
    assert len(failing) == 2
    assert "error_rate < 5%" in failing[0] and "7%" in failing[0]
    assert "error_rate.http_503 < 2%" in failing[1] and "6%" in failing[1]


def test_gate_failing_baseline_regression_names_it(results: Path, tmp_path: Path) -> None:
    baseline = write_results(tmp_path / "baseline", make_summary(first_text_p95=650.0))
    proc = wxo_load(
        "gate",
        results,
        "--regression",
        "first_text.p95 +10%",
        "--gate",
        "done.p99 +50ms",
        "--baseline",
        baseline / "summary.json",
        cwd=tmp_path,
    )
    assert proc.returncode == EXIT_GATE_FAILED
    (line,) = failed_lines(proc.stdout)
    assert "first_text.p95 +10%" in line and "+23.1%" in line and "baseline 650 ms" in line
    gates = json.loads((results / "gates.json").read_text())
    assert gates["baseline"] == str(baseline / "summary.json")


def test_gate_too_few_runs_fails_instead_of_passing(tmp_path: Path) -> None:
    few = write_results(tmp_path / "few", make_summary(runs=12, conversations=4))
    proc = wxo_load("gate", few, "--gate", "runs >= 100", "--gate", "error_rate < 5%", cwd=tmp_path)
    assert proc.returncode == EXIT_GATE_FAILED
    (line,) = failed_lines(proc.stdout)
    assert "runs >= 100" in line


def test_gate_bad_expression_exits_2_before_touching_results(results: Path, tmp_path: Path) -> None:
    proc = wxo_load("gate", results, "--gate", "first_text.p95 < 3000", cwd=tmp_path)
    assert proc.returncode == EXIT_HARNESS
    assert 'wxo-load gate: --gate "first_text.p95 < 3000": add a unit' in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (results / "gates.json").exists() and not (results / "summary.md").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing-dir", "--gate", "runs >= 1"], "results directory missing-dir does not exist"),
        (["empty", "--gate", "runs >= 1"], "has no summary.json"),
        (["results/ci"], "no gates to evaluate"),
        (["results/ci", "--regression", "first_text.p95 +10%"], "regression gates need a baseline"),
        (
            ["results/ci", "--regression", "first_text.p95 +10%", "--baseline", "nowhere"],
            "baseline nowhere does not exist",
        ),
    ],
)
def test_gate_unusable_input_exits_2_with_a_clear_message(
    results: Path, tmp_path: Path, args: list[str], fragment: str
) -> None:
    (tmp_path / "empty").mkdir()
    proc = wxo_load("gate", *args, cwd=tmp_path)
    assert proc.returncode == EXIT_HARNESS
    assert fragment in proc.stderr and "Traceback" not in proc.stderr


SCENARIO = """\
name: ci
agent_id: simulated-agent
prompts:
  messages: ["What is my leave balance?"]
gates:
  - first_text.p95 < 3000ms
  - {gate: "error_rate < 5%", abort: true, min_runs: 20}
regressions:
  - first_text.p95 +10%
baseline: baseline
"""


def test_gate_takes_gates_regressions_and_baseline_from_the_scenario(
    results: Path, tmp_path: Path
) -> None:
    (tmp_path / "ci.yaml").write_text(SCENARIO)
    write_results(tmp_path / "baseline", make_summary(first_text_p95=700.0))
    proc = wxo_load("gate", results, "--scenario", "ci.yaml", cwd=tmp_path)
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr
    assert [line.split()[1] for line in failed_lines(proc.stdout)] == ["first_text.p95"]
    assert "+14.3%" in proc.stdout
    # --baseline on the command line wins over the scenario's
    write_results(tmp_path / "slow-baseline", make_summary(first_text_p95=790.0))
    proc = wxo_load(
        "gate", results, "--scenario", "ci.yaml", "--baseline", "slow-baseline", cwd=tmp_path
    )
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr


def test_gate_rejects_a_bad_gate_in_the_scenario_naming_the_file(
    results: Path, tmp_path: Path
) -> None:
    (tmp_path / "bad.yaml").write_text(SCENARIO.replace("< 3000ms", "< 3000 parsecs"))
    proc = wxo_load("gate", results, "--scenario", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == EXIT_HARNESS
    assert "bad.yaml" in proc.stderr and '"parsecs" is not a time unit' in proc.stderr


def test_gate_without_options_reuses_the_gates_saved_with_the_results(tmp_path: Path) -> None:
    """As the Locust run saves them: the scenario's specs under scenario.config (min_runs
    kept), every gate's text under options.gates (with the run's --gate), the baseline."""
    write_results(tmp_path / "base", make_summary(first_text_p95=3000.0))
    summary = variant(
        make_summary(runs=200, first_text_p95=4000.0),
        **{
            "scenario.config": {
                "gates": ["first_text.p95 < 3000ms", {"gate": "error_rate < 5%", "min_runs": 500}]
            },
            "options.gates": [
                "first_text.p95 < 3000ms",
                "error_rate < 5%",
                "runs >= 10",
                "first_text.p95 +10%",
            ],
            "options.baseline": "base",
        },
    )
    saved = write_results(tmp_path / "saved", summary)
    proc = wxo_load("gate", saved, cwd=tmp_path)
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr
    assert [line.split()[1:4] for line in failed_lines(proc.stdout)] == [
        ["first_text.p95", "<", "3000ms"],
        ["error_rate", "<", "5%"],
        ["first_text.p95", "+10%", "<="],
    ]
    assert "only 200 runs, gate needs >= 500" in proc.stdout
    gates = json.loads((saved / "gates.json").read_text())
    assert gates["gates_from"] == "the gates saved in summary.json" and gates["total"] == 4


def test_gate_rerun_replaces_its_section_and_appends_to_github_step_summary(
    results: Path, tmp_path: Path
) -> None:
    (results / "summary.md").write_text("## wxo-load: ci\n\nTimings\n")
    step_summary = tmp_path / "step.md"
    codes = [
        wxo_load(
            "gate",
            results,
            "--gate",
            f"first_text.p95 < {limit}",
            cwd=tmp_path,
            step_summary=step_summary,
        ).returncode
        for limit in ("500ms", "3s")
    ]
    assert codes == [EXIT_GATE_FAILED, EXIT_OK]
    summary_md = (results / "summary.md").read_text()
    assert summary_md.startswith("## wxo-load: ci\n\nTimings\n")
    assert summary_md.count("### Performance gates") == 1 and "< 3s" in summary_md
    assert step_summary.read_text().count("### Performance gates") == 2


def test_gate_no_write_leaves_results_untouched(results: Path, tmp_path: Path) -> None:
    proc = wxo_load("gate", results, "--gate", "runs >= 1", "--no-write", cwd=tmp_path)
    assert proc.returncode == EXIT_OK
    assert sorted(p.name for p in results.iterdir()) == [
        "conversations.jsonl",
        "runs.jsonl",
        "summary.json",
    ]


def test_compare_prints_every_figure_with_delta_and_marks_worse(tmp_path: Path) -> None:
    before = write_results(tmp_path / "a", make_summary(first_text_p95=800.0))
    after = write_results(
        tmp_path / "b", make_summary(runs=150, failed={"http_503": 3}, first_text_p95=1000.0)
    )
    proc = wxo_load("compare", before, after / "summary.json", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert rows["first_text.p95"].split()[1:] == [
        "800",
        "ms",
        "1000",
        "ms",
        "+200",
        "ms",
        "+25.0%",
        "worse",
    ]
    assert rows["runs_per_s"].endswith("-25.0%  worse")
    assert rows["error_rate.http_503"].endswith("new  worse")
    assert rows["done.p99"].split()[-1] == "+0.0%"  # unchanged: not marked
    for figure in ("thread_create.p50", "conversation.max", "error_rate", "runs"):
        assert figure in rows


def test_compare_unreadable_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    write_results(tmp_path / "a", make_summary())
    proc = wxo_load("compare", tmp_path / "a", tmp_path / "broken.json", cwd=tmp_path)
    assert proc.returncode == EXIT_HARNESS and "cannot be read as JSON" in proc.stderr
