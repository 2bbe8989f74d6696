"""End to end: answers that are still right, against a simulator that answers wrongly on purpose.

The simulator logs its verdict on every run (`answers:` profile section, `--event-log`): right,
wrong, fallback or cross_talk. The harness's judgement (`expect:`, `checks: {canary: true}`) must
match it run by run, by run_id; gates and a capacity search read the figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from locust_runs import REPO, clean_env, processes_args, read_jsonl, run_locust, write_scenario

from wxo_load.mock.process import SimulatorProcess

EXIT_GATE_FAILED = 3
PROFILE = """name: answers
timing: {run_started_ms: 1, message_started_ms: 1, steps: 2, step_gap_ms: 1, think_ms: THINK,
         first_delta_ms: 1, delta_gap_ms: 2, finish_gap_ms: 1}
answer: {chars: {uniform: [40, 80]}, chars_per_delta: 30}
answers: ANSWERS
"""
HEAD = """name: NAME
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
prompts: ["how many days of leave do I have?", "and next year?"]
request: {stall_timeout_s: 10, stream_timeout_s: 30}
"""


def _profile(tmp_path: Path, answers: str, think_ms: int = 30) -> Path:
    path = tmp_path / "answers-profile.yaml"
    path.write_text(PROFILE.replace("THINK", str(think_ms)).replace("ANSWERS", answers))
    return path


def _verdicts(log: Path) -> dict[str, dict]:
    """run_id -> the simulator's `_answer` line for that run."""
    return {line["run_id"]: line for line in read_jsonl(log) if line["event"] == "_answer"}


def _ended(runs: list[dict]) -> dict[str, dict]:
    """run_id -> record, for the runs that streamed to their end (not stopped, not failed)."""
    return {r["run_id"]: r for r in runs if r["run_id"] and r["outcome"] != "stopped"}


@pytest.mark.slow
def test_wrong_answers_counted_exactly_the_ones_the_simulator_gave_run_by_run(
    tmp_path: Path,
) -> None:
    log = tmp_path / "events.jsonl"
    scenario = write_scenario(
        tmp_path / "wrong.yaml",
        HEAD.replace("NAME", "wrong")
        + "conversation: {turns: 2, think_time_s: 0.05, pause_between_s: 0.05}\n"
        + 'expect: {not_contains: ["I\'m sorry"], min_chars: 20}\n',
    )
    results = tmp_path / "results"
    profile = _profile(tmp_path, "{wrong_rate: 0.2}")
    with SimulatorProcess.start(
        profile=str(profile), port=0, seed=5, extra_args=["--event-log", str(log)]
    ) as sim:
        proc = run_locust(
            ["-u", "8", "-r", "8", "-t", "4s", "--stop-timeout", "5", "--host", sim.url,
             "--scenario", str(scenario), "--results-dir", str(results),
             "--gate", "answers.wrong_rate < 1%", "--gate", "answers.by_check.tool_called == 0"],
            home=tmp_path,
        )  # fmt: skip
    assert proc.returncode == EXIT_GATE_FAILED, proc.stderr[-3000:]
    assert "answers.wrong_rate < 1%" in proc.stdout and "FAIL" in proc.stdout
    verdicts = _verdicts(log)
    runs = read_jsonl(results / "runs.jsonl")
    ended = _ended(runs)
    assert len(ended) >= 50 and set(ended) <= set(verdicts)
    truth = {rid for rid in ended if verdicts[rid]["answer"] == "wrong"}
    judged = {rid for rid, r in ended.items() if r["outcome"] == "wrong_answer"}
    assert judged == truth and truth  # run by run: every wrong one found, no right one accused
    assert all(ended[rid]["outcome"] == "ok" for rid in set(ended) - truth)
    for rid in judged:
        assert ended[rid]["failed_checks"] == ["not_contains"]
        assert ended[rid]["answer_text"].startswith("I'm sorry")
    assert all(r["answer_text"] is None for r in ended.values() if r["outcome"] == "ok")
    summary = json.loads((results / "summary.json").read_text())
    answers = summary["answers"]
    assert answers["wrong"] == len(truth) and answers["checked"] == len(ended)
    assert answers["by_check"]["not_contains"] == len(truth)
    assert answers["by_check"]["tool_called"] == 0
    assert abs(answers["wrong_rate"] - len(truth) / len(ended)) < 1e-5
    assert summary["runs"]["by_outcome"]["wrong_answer"] == len(truth)
    assert summary["goodput"]["runs"] == len(ended) - len(truth)
    assert "RunFailure('wrong_answer')" in proc.stdout + proc.stderr  # Locust's failure row
    # the gate CLI reads the same summary: a limit it meets passes (exit 0)
    gate = subprocess.run(
        [sys.executable, "-m", "wxo_load.cli", "gate", str(results), "--gate",
         "answers.wrong_rate < 60%", "--gate", "answers.by_check.tool_called == 0"],
        cwd=REPO, env=clean_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert gate.returncode == 0, gate.stdout + gate.stderr


@pytest.mark.slow
@pytest.mark.parametrize("processes", [None, 2], ids=["local", "processes-2"])
def test_every_leaked_run_is_cross_talk_and_no_other_with_both_thread_ids(
    tmp_path: Path, processes: int | None
) -> None:
    log = tmp_path / "events.jsonl"
    scenario = write_scenario(
        tmp_path / "canary.yaml",
        HEAD.replace("NAME", "canary")
        + "conversation: {turns: 3, think_time_s: 0.05, pause_between_s: 0.05}\n"
        + "checks: {canary: true}\n",
    )
    results = tmp_path / "results"
    profile = _profile(tmp_path, "{cross_talk_rate: 0.05}", think_ms=60)
    with SimulatorProcess.start(
        profile=str(profile), port=0, seed=7, extra_args=["--event-log", str(log)]
    ) as sim:
        proc = run_locust(
            ["-u", "20", "-r", "20", "-t", "5s", "--stop-timeout", "5", "--host", sim.url,
             "--scenario", str(scenario), "--results-dir", str(results),
             *(processes_args(processes) + ["--keep-answers"] if processes else [])],
            home=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-3000:]  # no gates, some runs failed: Locust's rule
    verdicts = _verdicts(log)
    ended = _ended(read_jsonl(results / "runs.jsonl"))
    leaked = {rid for rid in ended if verdicts[rid]["answer"] == "cross_talk"}
    found = {rid for rid, r in ended.items() if r["outcome"] == "cross_talk"}
    assert found == leaked and len(leaked) >= 3, (len(found), len(leaked))
    assert Counter(r["outcome"] for r in ended.values()) == {
        "ok": len(ended) - len(leaked),
        "cross_talk": len(leaked),
    }
    for rid in leaked:  # both thread ids: the run's own, and the owner's the simulator quoted
        run, owner = ended[rid], verdicts[rid]["quoted_thread_id"]
        # the owner may have run on another worker: then the master resolves it (summary below)
        assert run["cross_talk_thread_id"] in ((owner, None) if processes else (owner,))
        assert owner != run["thread_id"] and run["canary"] != run["foreign_canary"]
        assert run["foreign_canary"] in run["answer_text"]
    if processes:  # --keep-answers reached the workers: every run keeps its answer
        assert all(r["answer_text"] for r in ended.values())
    answers = json.loads((results / "summary.json").read_text())["answers"]
    assert answers["cross_talk"] == len(leaked) and answers["wrong"] == 0
    listed = {c["run_id"]: c for c in answers["cross_talks"]}
    assert set(listed) == leaked
    assert all(c["owner_thread_id"] == verdicts[r]["quoted_thread_id"] for r, c in listed.items())


SEARCH = """conversation: {turns: 50, think_time_s: 0, pause_between_s: 0}
expect: {not_contains: ["I'm sorry"]}
load:
  search:
    users: {start: 20, step: 10, max: 50}
    hold: 3s
    warmup: 1s
    resolution: 5
    slo: ["answers.wrong_rate < 1%"]
"""


@pytest.mark.slow
def test_a_capacity_search_on_wrong_answers_finds_where_the_fallbacks_begin(
    tmp_path: Path,
) -> None:
    # ample speed, but past 30 runs in flight the simulator answers with a fallback text
    scenario = write_scenario(tmp_path / "search.yaml", HEAD.replace("NAME", "search") + SEARCH)
    results = tmp_path / "results"
    profile = _profile(tmp_path, "{fallback_above_concurrent: 30}", think_ms=150)
    with SimulatorProcess.start(profile=str(profile), port=0, seed=3) as sim:
        proc = run_locust(
            ["--host", sim.url, "--scenario", str(scenario), "--results-dir", str(results),
             "--stop-timeout", "2"],
            home=tmp_path, timeout_s=120,
        )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    steps = summary["search_steps"] or summary["stages"]
    shown = [(s["load"], s.get("verdict"), s["answers"]["wrong_rate"]) for s in steps]
    capacity = summary["capacity"]["users"]
    assert summary["capacity"]["wrong_answer_rate"] == 0.0
    assert abs(capacity - 30) <= 10, shown
    assert all(s["answers"]["wrong"] == 0 for s in steps if s["load"]["users"] <= 30), shown


@pytest.mark.slow
def test_tool_and_hand_over_checks_pass_on_an_agent_that_used_them_and_the_gate_exits_0(
    tmp_path: Path,
) -> None:
    scenario = write_scenario(
        tmp_path / "tools.yaml",
        HEAD.replace("NAME", "tools")
        + "conversation: {turns: 1, think_time_s: 0.1, pause_between_s: 0.1}\n"
        + "expect: {tool_called: lookup_order, answered_by: billing_agent, min_chars: 40}\n"
        + "goodput: {first_text: 5s, done: 10s}\n",
    )
    results = tmp_path / "results"
    with SimulatorProcess.start(profile="tools", port=0, seed=2) as sim:
        proc = run_locust(
            ["-u", "6", "-r", "6", "-t", "4s", "--stop-timeout", "5", "--host", sim.url,
             "--scenario", str(scenario), "--results-dir", str(results),
             "--gate", "answers.wrong_rate < 1%", "--gate", "answers.by_check.tool_called == 0",
             "--gate", "goodput.share > 99%"],
            home=tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads((results / "summary.json").read_text())
    ended = _ended(read_jsonl(results / "runs.jsonl"))
    assert summary["answers"]["checked"] == len(ended) >= 6 and summary["answers"]["wrong"] == 0
    assert {r["answered_by"] for r in ended.values()} == {"billing_agent"}


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("expect: {matches: '[unclosed'}\n", "expect.matches"),
        ("expect: {contains: [leave], sounds_like: leaf}\n", "expect.sounds_like"),
        ("checks: {canary: yes please}\n", "checks.canary"),
    ],
    ids=["bad-regex", "unknown-check", "canary-not-a-bool"],
)
def test_a_bad_check_stops_before_the_test_with_exit_2_naming_the_key(
    tmp_path: Path, section: str, key: str
) -> None:
    scenario = write_scenario(tmp_path / "bad.yaml", HEAD.replace("NAME", "bad") + section)
    proc = run_locust(
        ["--scenario", str(scenario), "--results-dir", str(tmp_path / "r")],
        home=tmp_path,
        timeout_s=30,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("wxo-load:")]
    assert len(lines) == 1 and "bad.yaml" in lines[0] and f"`{key}`" in lines[0], lines
    assert not (tmp_path / "r").exists()
