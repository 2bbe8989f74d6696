"""End to end: personas (Locust user classes), data rows and per-person identities, checked
against what the simulator itself saw (its run log and its per-agent counts)."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from locust_runs import lines_in, read_jsonl, run_locust, start_locust, write_scenario
from net import free_port, wait_until

from wxo_load.mock.process import SimulatorProcess
from wxo_load.mock.tokens import DEFAULT_TENANT_ID, Keyring, make_key

pytestmark = pytest.mark.slow

SEED = 11
HR, IT = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"


def simulator(tmp_path: Path) -> SimulatorProcess:
    return SimulatorProcess.start(
        profile="fast", port=0, seed=SEED, extra_args=["--run-log", str(tmp_path / "runs.log")]
    )


def server_stats(sim: SimulatorProcess) -> dict[str, Any]:
    return httpx.get(f"{sim.url}/_mock/stats", timeout=10).json()


def server_runs(tmp_path: Path) -> list[dict[str, Any]]:
    time.sleep(0.3)  # the simulator flushes its logs every 0.1 s
    return read_jsonl(tmp_path / "runs.log")


def locust(tmp_path: Path, sim: SimulatorProcess, scenario: Path, *args: str, t: str = "4s"):
    results = tmp_path / "results"
    proc = run_locust(
        ["--host", sim.url, "--scenario", str(scenario), "--results-dir", str(results),
         "-t", t, *args],
        home=tmp_path,
    )  # fmt: skip
    return proc, results


def two_personas(tmp_path: Path, pause_s: float, gates: list[str], it: str = "") -> Path:
    """hr (weight 3) and it (weight 1, `it`: more of its keys) saying hello to their agents."""
    return write_scenario(tmp_path / "mix.yaml", f"""
name: mix
conversation: {{turns: 1, think_time_s: 0, pause_between_s: {pause_s}}}
prompts: [hello]
personas:
  - {{name: hr, weight: 3, agent_id: {HR}}}
  - {{name: it, weight: 1, agent_id: {IT}{it}}}
gates: {json.dumps(gates)}
""")  # fmt: skip


def test_two_personas_3_to_1_match_the_servers_counts_per_agent(tmp_path: Path) -> None:
    gates = ["personas.it.first_text.p95 < 10s", "personas.hr.runs >= 1"]
    scenario = two_personas(tmp_path, 0.02, gates, ", prompts: [my laptop is broken]")
    with simulator(tmp_path) as sim:
        proc, results = locust(tmp_path, sim, scenario, "-u", "12", "-r", "12")
        by_agent = server_stats(sim)["runs_by_agent"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    hr, it = summary["personas"]["hr"], summary["personas"]["it"]
    assert hr["conversations"]["total"] + it["conversations"]["total"] >= 200
    assert hr["runs"]["total"] == by_agent[HR] and it["runs"]["total"] == by_agent[IT]
    assert 2.6 <= by_agent[HR] / by_agent[IT] <= 3.4, by_agent
    assert hr["metrics"]["first_text"]["count"] > 0 and "p95" in it["metrics"]["first_text"]
    texts = Counter((r["agent_id"], r["text"]) for r in server_runs(tmp_path))
    assert set(texts) == {(HR, "hello"), (IT, "my laptop is broken")}
    runs = read_jsonl(results / "runs.jsonl")
    assert {r["persona"] for r in runs} == {"hr", "it"}


def test_a_gate_on_one_persona_fails_the_test_with_exit_3(tmp_path: Path) -> None:
    gates = ["personas.it.first_text.p95 < 0.001ms", "personas.hr.first_text.p95 < 10s"]
    scenario = two_personas(tmp_path, 0.1, gates)
    with simulator(tmp_path) as sim:
        proc, results = locust(tmp_path, sim, scenario, "-u", "2", "-r", "2", t="2s")
    assert proc.returncode == 3, proc.stderr[-3000:]
    gates = json.loads((results / "gates.json").read_text())
    assert gates["failed_gates"] == ["personas.it.first_text.p95 < 0.001ms"]
    assert gates["total"] == 2


def row_persona(
    tmp_path: Path, rows: Path, turns: int, prompt: str, data: str, extra: str = ""
) -> Path:
    """One persona `hr` whose prompt is filled from the rows of `rows`."""
    return write_scenario(tmp_path / "rows.yaml", f"""
name: rows
conversation: {{turns: {turns}, think_time_s: 0, pause_between_s: 0.05}}
personas:
  - name: hr
    agent_id: {HR}
    prompts: [{json.dumps(prompt)}]
    data: {{file: {rows}, {data}}}
    {extra}
""")  # fmt: skip


@pytest.mark.alone  # both workers must get rows: another test's load can starve one
def test_unique_rows_across_two_processes_are_each_used_once_then_the_test_ends(
    tmp_path: Path,
) -> None:
    """A top-level `data:` and no personas (one kind of user with rows: the one persona it
    stands for): 40 unique rows over `--processes 2`, each used once."""
    rows = tmp_path / "employees.csv"
    rows.write_text("employee_id,name\n" + "".join(f"E{100 + i},N{i}\n" for i in range(40)))
    scenario = write_scenario(tmp_path / "rows.yaml", f"""
name: rows
agent_id: {HR}
conversation: {{turns: 1, think_time_s: 0, pause_between_s: 0.05}}
prompts: ["my id is {{{{employee_id}}}}"]
request: {{context_variables: {{employee_id: "{{{{employee_id}}}}"}}}}
data: {{file: {rows}, mode: unique, on_exhausted: stop}}
""")  # fmt: skip
    started = time.monotonic()
    with simulator(tmp_path) as sim:
        proc, results = locust(
            tmp_path, sim, scenario, "-u", "6", "-r", "6", "--processes", "2", t="60s"
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 45  # it ended by itself, long before -t
    by_thread = {r["thread_id"]: r["text"] for r in server_runs(tmp_path)}
    assert sorted(by_thread.values()) == sorted(f"my id is E{100 + i}" for i in range(40))
    convs = read_jsonl(results / "conversations.jsonl")
    assert len(convs) == 40 and {c["worker"] for c in convs} == {"worker-0", "worker-1"}
    for conv in convs:  # each conversation's row is the one whose value the server saw
        assert by_thread[conv["thread_id"]] == f"my id is E{100 + conv['row_index']}"
    summary = json.loads((results / "summary.json").read_text())
    assert summary["personas"]["WxoChatUser"]["conversations"]["total"] == 40
    assert "E100" not in (results / "runs.jsonl").read_text()  # the row's index, not its values


def test_a_template_naming_a_missing_column_stops_before_the_test(tmp_path: Path) -> None:
    rows = tmp_path / "people.csv"
    rows.write_text("employee_id\nE1\n")
    scenario = write_scenario(tmp_path / "bad.yaml", f"""
name: bad
personas:
  - name: hr
    agent_id: {HR}
    prompts: ["hello {{{{name}}}}"]
    data: {{file: {rows}}}
""")  # fmt: skip
    proc = run_locust(["--scenario", str(scenario), "-t", "5s"], home=tmp_path, timeout_s=60)
    assert proc.returncode == 2
    assert "people.csv, row 1: no column `name`" in proc.stderr
    assert "persona `hr`" in proc.stderr


def _token(keyring: Keyring, i: int) -> str:
    claims = {"sub": f"emp-{i}", "tenant_id": DEFAULT_TENANT_ID, "woTenantId": DEFAULT_TENANT_ID}
    return keyring.issue(claims, 3600)


def test_rows_with_their_own_tokens_are_seen_by_the_server_under_each_token(
    tmp_path: Path,
) -> None:
    keyring = Keyring(make_key(SEED))
    tokens = [_token(keyring, i) for i in range(6)]
    rows = tmp_path / "people.jsonl"
    rows.write_text("".join(json.dumps({"who": f"emp-{i}", "token": t}) + "\n"
                            for i, t in enumerate(tokens)))  # fmt: skip
    scenario = row_persona(tmp_path, rows, 2, "I am {{who}}", "mode: random")
    with simulator(tmp_path) as sim:
        proc, results = locust(tmp_path, sim, scenario, "-u", "4", "-r", "4", t="3s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    users_by_thread: dict[str, set[str]] = defaultdict(set)
    for run in server_runs(tmp_path):
        users_by_thread[run["thread_id"]].add(run["user"])
        assert run["text"] == f"I am {run['user']}"  # the row's token and the row's text
    convs = [c for c in read_jsonl(results / "conversations.jsonl") if c["thread_id"]]
    assert len(convs) >= 6
    for conv in convs:
        assert users_by_thread[conv["thread_id"]] == {f"emp-{conv['row_index']}"}
    written = [p for p in results.rglob("*") if p.is_file()] + [tmp_path / "runs.log"]
    for text in [p.read_text(errors="replace") for p in written] + [proc.stdout, proc.stderr]:
        assert not any(token in text for token in tokens)


def test_a_worker_started_without_the_scenario_runs_the_masters_personas(tmp_path: Path) -> None:
    scenario = two_personas(tmp_path, 0.1, [])
    port = free_port()
    with simulator(tmp_path) as sim:
        master = start_locust(
            "--headless", "--master", "--expect-workers", "1", "--master-bind-port", str(port),
            "-u", "4", "-r", "4", "-t", "3s", "--host", sim.url, "--scenario", str(scenario),
            "--results-dir", str(tmp_path / "results"), home=tmp_path,
        )  # fmt: skip
        worker = start_locust("--worker", "--master-port", str(port), home=tmp_path)
        try:
            assert master.wait(timeout=60) == 0, master.communicate()[1][-3000:]
        finally:
            worker.wait(timeout=30)
        by_agent = server_stats(sim)["runs_by_agent"]
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["personas"]["hr"]["runs"]["total"] == by_agent[HR] > 0
    assert summary["personas"]["it"]["runs"]["total"] == by_agent[IT] > 0


def test_the_web_uis_class_picker_runs_only_the_persona_chosen(tmp_path: Path) -> None:
    scenario = two_personas(tmp_path, 0.1, [])
    port, results = free_port(), tmp_path / "results"
    with simulator(tmp_path) as sim:
        proc = start_locust(
            "--web-host", "127.0.0.1", "--web-port", str(port), "--class-picker", "--host", sim.url,
            "--scenario", str(scenario), "--results-dir", str(results), home=tmp_path,
            merge_stderr=True,
        )  # fmt: skip
        ui = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(ui, timeout=2).status_code == 200)
            form = {"user_count": 2, "spawn_rate": 2, "user_classes": ["it"], "host": sim.url}
            answer = httpx.post(f"{ui}/swarm", data=form, timeout=10)
            assert answer.json()["success"], answer.text
            wait_until(lambda: lines_in(results / "runs.jsonl") >= 1, timeout_s=30)
            httpx.post(f"{ui}/stop", timeout=30)
            wait_until(lambda: (results / "summary.json").exists())
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)
        by_agent = server_stats(sim)["runs_by_agent"]
    assert "Traceback" not in output, output[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert list(summary["personas"]) == ["it"] and HR not in by_agent
    assert summary["personas"]["it"]["runs"]["total"] == by_agent[IT] > 0
