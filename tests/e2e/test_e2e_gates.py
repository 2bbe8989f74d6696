"""End to end: performance gates decide a headless run's exit code, on the master's merged
figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from locust_runs import run_locust, write_scenario

EXIT_GATE_FAILED = 3

QUICK = """
name: gated
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 2, think_time_s: 0.1, pause_between_s: 0.1}
prompts: [hello, thanks]
simulator: {profile: fast, seed: 5%s}
gates:
%s
"""


def scenario(tmp_path: Path, gates: list[str], faults: str = "") -> Path:
    body = QUICK % (faults, "\n".join(f"  - {json.dumps(g)}" for g in gates))
    return write_scenario(tmp_path / "gated.yaml", body)


def run(tmp_path: Path, scenario_file: Path, *extra: str, name: str = "results", seconds: int = 5):
    results = tmp_path / name
    proc = run_locust(
        [
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            f"{seconds}s",
            "--scenario",
            str(scenario_file),
            "--results-dir",
            str(results),
            *extra,
        ],
        home=tmp_path,
    )
    return proc, results


def test_passing_gates_exit_0_and_write_gate_files(tmp_path: Path) -> None:
    proc, results = run(
        tmp_path, scenario(tmp_path, ["runs >= 5", "first_text.p95 < 5000ms", "error_rate < 5%"])
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first_text.p95 < 5000ms" in proc.stdout and "PASS" in proc.stdout
    verdicts = json.loads((results / "gates.json").read_text())
    assert verdicts["passed"] is True
    suite = ElementTree.parse(results / "junit.xml").getroot()
    assert len(suite.findall(".//testcase")) == 3
    assert "first_text.p95 < 5000ms" in (results / "summary.md").read_text()
    # rebuilding the report offline keeps the gates table
    rebuilt = subprocess.run(
        [sys.executable, "-m", "wxo_load.cli", "report", str(results)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "first_text.p95 < 5000ms" in (results / "summary.md").read_text()


def test_failing_percentile_gate_exits_3_and_names_the_gate(tmp_path: Path) -> None:
    proc, results = run(
        tmp_path, scenario(tmp_path, ["runs >= 5"]), "--gate", "first_text.p95 < 1ms"
    )
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr[-3000:]
    assert "first_text.p95 < 1ms" in proc.stdout and "FAIL" in proc.stdout
    junit = (results / "junit.xml").read_text()
    assert "<failure" in junit and "first_text.p95 &lt; 1ms" in junit


def test_failing_error_rate_gate_with_injected_faults_exits_3(tmp_path: Path) -> None:
    faulty = scenario(tmp_path, ["error_rate < 1%"], faults=", faults: {http_503: 0.3}")
    proc, results = run(tmp_path, faulty)
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr[-3000:]
    assert "error_rate < 1%" in proc.stdout
    summary = json.loads((results / "summary.json").read_text())
    assert summary["runs"]["by_outcome"].get("http_503", 0) > 0


def test_failed_requests_alone_do_not_fail_the_build_when_gates_pass(tmp_path: Path) -> None:
    faulty = scenario(tmp_path, ["error_rate < 90%"], faults=", faults: {http_503: 0.2}")
    proc, _ = run(tmp_path, faulty)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_regression_against_a_baseline_exits_3_and_names_the_gate(tmp_path: Path) -> None:
    quick = scenario(tmp_path, ["runs >= 5"])
    proc, baseline = run(tmp_path, quick, name="baseline")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((baseline / "summary.json").read_text())
    summary["metrics"]["first_text"]["p95"] = (
        summary["metrics"]["first_text"]["p95"] / 10
    )  # a much faster past
    (baseline / "summary.json").write_text(json.dumps(summary))
    proc, _ = run(
        tmp_path,
        quick,
        "--baseline",
        str(baseline / "summary.json"),
        "--regression",
        "first_text.p95 +10%",
        name="now",
    )
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr[-3000:]
    assert "first_text.p95 +10%" in proc.stdout


def test_bad_gate_expression_is_rejected_before_the_test_starts(tmp_path: Path) -> None:
    proc, results = run(
        tmp_path, scenario(tmp_path, ["runs >= 5"]), "--gate", "first_text.p95 < fast"
    )
    assert proc.returncode == 2
    assert (
        "--gate" in proc.stderr
        and "first_text.p95 < fast" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert not results.exists()  # nothing ran


def test_abort_gate_ends_the_test_early(tmp_path: Path) -> None:
    faulty = write_scenario(
        tmp_path / "abort.yaml",
        QUICK
        % (", faults: {http_500: 0.6}", '  - {gate: "error_rate < 5%", abort: true, min_runs: 20}'),
    )
    proc, results = run(tmp_path, faulty, seconds=60)
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert summary["duration_s"] < 30
    assert "can no longer pass" in proc.stderr
