"""Personas, data feeders and identities: parsing, templates, row hand-out, per-persona figures."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.gates_support import summary_json, typed
from tests.helpers.wire import via_wire
from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.config.sources import PersonaSource
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ConfigError
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.gates.compare import compare_summaries
from wxo_load.gates.evaluate import evaluate
from wxo_load.gates.figures import figure_kind, figure_value, sample_count
from wxo_load.gates.parse import parse_regression

ROWS = "employee_id,name,token\nE1,Ann,secret-one\nE2,Bob,secret-two\n"


def scenario(tmp_path: Path, personas: str, top: str = "", rows: str = ROWS) -> Scenario:
    (tmp_path / "people.csv").write_text(rows)
    text = f"name: p\nrequest: {{stall_timeout_s: 7, headers: {{x-team: a}}}}\n{top}\npersonas:\n"
    (tmp_path / "p.yaml").write_text(text + personas)
    return load_scenario(tmp_path / "p.yaml")


HR = """
  - name: hr
    weight: 3
    agent_id: agent-hr
    prompts: ["my id is {{employee_id}}"]
    context_variables: {employee_id: "{{employee_id}}", who: {name: "{{name}}"}}
    headers: {x-employee: "{{employee_id}}"}
    request: {stream_timeout_s: 9}
    data: {file: people.csv, mode: unique, on_exhausted: stop}
  - name: it
    fixed_count: 2
    agent_id: agent-it
    conversation: {turns: 5, script: ["hi", {text: "bye", think_s: 2}]}
"""


def test_a_personas_keys_override_the_top_level_through_the_same_parsers(tmp_path: Path) -> None:
    s = scenario(tmp_path, HR)
    hr, it = s.personas
    assert (hr.name, hr.weight, hr.fixed_count, it.fixed_count) == ("hr", 3, 0, 2)
    assert hr.scenario.agent_id == "agent-hr" and it.scenario.agent_id == "agent-it"
    assert hr.scenario.request.stall_timeout_s == 7  # the top level's, kept
    assert hr.scenario.request.stream_timeout_s == 9  # the persona's, laid over it
    assert dict(hr.scenario.request.headers) == {"x-employee": "{{employee_id}}"}
    assert [t.text for t in it.scenario.prompts.conversations[0].turns] == ["hi", "bye"]
    assert it.scenario.prompts.conversations[0].turns[1].think_s == 2
    assert scenario_from_wire(scenario_to_wire(s)) == s  # travels to workers whole


def test_a_conversation_takes_a_row_filled_into_its_texts_context_headers_and_credential(
    tmp_path: Path,
) -> None:
    hr = scenario(tmp_path, HR).personas[0]

    class Second:
        def take(self, rng: random.Random) -> int | None:
            return 1

    plan = PersonaSource(hr, Second()).next_plan(random.Random(1))
    assert plan is not None
    assert plan.texts == ["my id is E2"] * 3 and plan.row_index == 1  # 3 turns by default
    assert plan.context_variables == {"employee_id": "E2", "who": {"name": "Bob"}}
    assert plan.headers == {"x-employee": "E2"}
    assert plan.credential == ("token", "secret-two") and plan.identity == "row 2"
    assert "secret-two" not in repr(plan.credential)  # a Credential masks its secret
    assert "token" not in plan.variables and "secret-two" not in repr(plan)


@pytest.mark.parametrize(
    ("personas", "rows", "says"),
    [
        ('  - {name: a, agent_id: x, prompts: ["hi {{nope}}"], data: {file: people.csv}}',
         ROWS, "people.csv, row 1: no column `nope` (used in `prompts.messages[0]`)"),
        ('  - {name: a, agent_id: x, prompts: ["hi {{name}}"], data: {file: people.csv}}',
         "employee_id,name\n", "holds no rows"),
        ('  - {name: a, agent_id: x, prompts: ["hi {{ name"], data: {file: people.csv}}',
         ROWS, "bad template"),
        ('  - {name: a, agent_id: x, prompts: ["hi {{token}}"], data: {file: people.csv}}',
         ROWS, "is a credential"),
        ('  - {name: a, agent_id: x, prompts: ["hi {{name}}"]}', ROWS, "no `data:` rows"),
        ("  - {name: a, agent_id: x, prompts: [hi], data: {file: people.csv, on_exhausted: stop}}",
         ROWS, "`stop` needs `mode: unique`"),
        ("  - {name: a, agent_id: x, prompts: [hi], token_env: WXO_TEST_UNSET_TOKEN}",
         ROWS, "WXO_TEST_UNSET_TOKEN is not set"),
        ("  - {name: a, prompts: [hi]}", ROWS, "persona `a`, key `agent_id`: missing"),
        ("  - {name: a, agent_id: x, prompts: [hi], colour: red}", ROWS, "`personas[0].colour`"),
        ("  - {name: a, agent_id: x, prompts: [hi], token: abc}", ROWS, "`token_env: VAR`"),
        ('  - {name: a, agent_id: x, prompts: [hi], headers: {x-n: "{{name}}"}, '
         "data: {file: people.csv}}", 'name\n"A\nB"\n', "row 1: the value has a line break"),
    ],
)  # fmt: skip
def test_a_bad_persona_or_data_file_is_a_load_time_error_naming_where(
    tmp_path: Path, personas: str, rows: str, says: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        scenario(tmp_path, personas, rows=rows)
    assert says in str(caught.value) and "p.yaml" in str(caught.value)


def test_unique_rows_are_handed_once_and_the_test_ends_after_the_last_ones_conversation(
    tmp_path: Path,
) -> None:
    from wxo_load.locust_plugin.rows import RowBank

    ended: list[bool] = []
    bank = RowBank(lambda: ended.append(True))
    bank.reset(scenario(tmp_path, HR))
    assert [bank.hand("hr") for _ in range(3)] == [0, 1, None]
    bank.finished("hr")
    assert not ended
    bank.finished("hr")
    bank.finished("hr")
    assert ended == [True]


def _run(persona: str, ms: float) -> RunRecord:
    return RunRecord(1.0, "u", "c", 0, "r", first_text_ms=ms, done_ms=ms, total_ms=ms,
                     persona=persona, row_index=3)  # fmt: skip


def test_each_persona_has_its_own_exact_figures_merged_across_workers() -> None:
    worker_a, worker_b = MetricsBook(), MetricsBook()
    for ms in (10, 20, 30):
        worker_a.record_run(_run("hr", ms))
    worker_b.record_run(_run("it", 500))
    worker_b.record_conversation(ConversationRecord(1.0, "u", "c", persona="it"))
    master = MetricsBook()
    for worker in (worker_a, worker_b):
        master.merge_packed(via_wire(worker))
    summary = summary_json(master, meta={})
    hr, it = summary["personas"]["hr"], summary["personas"]["it"]
    assert (hr["runs"]["total"], it["runs"]["total"], summary["runs"]["total"]) == (3, 1, 4)
    assert hr["metrics"]["first_text"]["max"] == 30 and it["conversations"]["total"] == 1
    assert figure_kind("personas.hr.first_text.p95") == figure_kind("first_text.p95")
    model = typed(summary)
    assert figure_value(model, "personas.it.first_text.p95") == 500
    assert figure_value(model, "personas.nobody.first_text.p95") is None
    assert sample_count(model, "personas.hr.first_text.p95") == 3
    assert summary_json(MetricsBook(), meta={})["personas"] is None  # no personas: null


def test_the_scenario_is_read_early_from_the_command_line_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wxo_load.locust_plugin.personas import early_scenario_path

    locustfile = str(tmp_path / "locustfile.py")
    monkeypatch.setenv("WXO_SCENARIO", "/x/env.yaml")
    assert early_scenario_path(locustfile, ["-u", "2"]) == Path("/x/env.yaml")
    assert early_scenario_path(locustfile, ["--scenario", "/x/a.yaml"]) == Path("/x/a.yaml")
    assert early_scenario_path(locustfile, ["--scenario=/x/b.yaml"]) == Path("/x/b.yaml")
    monkeypatch.delenv("WXO_SCENARIO")
    assert early_scenario_path(locustfile, []) == tmp_path / "scenarios" / "smoke.yaml"


def test_summary_md_the_report_the_live_tab_and_prometheus_show_each_persona() -> None:
    from wxo_load.output import live, prometheus
    from wxo_load.output.markdown import summary_markdown
    from wxo_load.output.report.html import build_report_html

    book = MetricsBook()
    for persona, ms in (("hr", 10.0), ("it", 40.0)):
        book.record_run(_run(persona, ms))
    summary = build_summary(book, meta={})
    markdown = summary_markdown(summary)
    assert "### Personas" in markdown and "| hr | 1 | 1 | 0 |" in markdown
    html = build_report_html(summary, [], [])
    assert 'id="personas"' in html and "Timing per persona" in html
    rows = live.timing_rows(summary)
    assert {"metric": "first_text", "turn": "persona it"}.items() <= next(
        r for r in rows if r["turn"] == "persona it" and r["metric"] == "first_text"
    ).items()
    text = prometheus.exposition(book, users=0, trustworthy=True, running=False)
    assert 'wxo_load_persona_runs_total{persona="hr",outcome="ok"} 1' in text
    assert 'wxo_load_persona_timing_seconds_count{persona="it",metric="first_text"} 1' in text
    plain = prometheus.exposition(MetricsBook(), users=0, trustworthy=True, running=False)
    assert "persona" not in plain and "Personas" not in summary_markdown(
        build_summary(MetricsBook(), meta={})
    )


def test_a_conversation_with_a_row_sends_its_own_context_and_headers_then_the_defaults_again(
    tmp_path: Path,
) -> None:
    from wxo_load.edge.auth.base import StaticTokenProvider
    from wxo_load.edge.client import ChatClient

    hr = scenario(tmp_path, HR).personas[0].scenario
    client = ChatClient("http://127.0.0.1:9", hr, StaticTokenProvider("t"))
    default_head, default_body = client._run_head, client._run_body("hi", "th")
    mine = StaticTokenProvider("mine")
    client.converse_as(context_variables={"employee_id": "E2"}, headers={"x-e": "E2"}, tokens=mine)
    assert b"x-e: E2\r\n" in client._run_head and client.tokens is mine
    assert b'"context_variables":{"employee_id":"E2"}' in client._run_body("hi", "th")
    client.converse_as()
    assert client._run_head == default_head and client._run_body("hi", "th") == default_body
    assert client.tokens is not mine
    client.close()


def test_a_script_is_a_conversation_at_the_top_level_too_and_a_personas_prompts_replace_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: s\nagent_id: x\nconversation: {think_time_s: 0, script: [hi, {text: bye}]}\n"
    )
    plain = load_scenario(tmp_path / "s.yaml")
    assert [t.text for t in plain.prompts.conversations[0].turns] == ["hi", "bye"]
    s = scenario(tmp_path, "  - {name: a, prompts: [hello]}\n  - {name: b}\n",
                 top="agent_id: x\nconversation: {script: [scripted]}")  # fmt: skip
    a, b = (p.scenario.prompts for p in s.personas)
    assert a.messages == ("hello",) and not a.conversations
    assert b.conversations[0].texts == ["scripted"]


def test_a_persona_sets_its_own_answer_checks_over_the_top_levels(tmp_path: Path) -> None:
    personas = """
  - name: hr
    agent_id: agent-hr
    prompts: [hello]
    expect: {contains: [leave]}
    goodput: {first_text: 2s}
  - name: it
    agent_id: agent-it
    prompts: [hello]
"""
    s = scenario(tmp_path, personas, top="expect: {min_chars: 5}\nchecks: {canary: true}")
    hr, it = s.personas
    assert hr.scenario.answers.expect is not None and it.scenario.answers.expect is not None
    assert hr.scenario.answers.expect.contains == ("leave",)
    assert it.scenario.answers.expect.min_chars == 5  # the top level's, kept
    assert hr.scenario.answers.canary and it.scenario.answers.canary
    assert scenario_from_wire(scenario_to_wire(s)) == s


def test_top_level_data_without_personas_is_one_persona_with_the_rows(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(ROWS)
    (tmp_path / "one.yaml").write_text(
        "name: one\nagent_id: agent-hr\nprompts: ['my id is {{employee_id}}']\n"
        "data: {file: people.csv, mode: unique, on_exhausted: stop}\n"
    )
    s = load_scenario(tmp_path / "one.yaml")
    [only] = s.personas
    assert only.name == "WxoChatUser" and only.data is not None and len(only.data.rows) == 2
    assert (only.data.mode, only.scenario.agent_id) == ("unique", "agent-hr")
    assert scenario_from_wire(scenario_to_wire(s)) == s  # travels to workers whole
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nagent_id: a\nprompts: ['{{employe_id}}']\ndata: {file: people.csv}\n"
    )
    with pytest.raises(ConfigError, match="no column `employe_id`"):
        load_scenario(tmp_path / "bad.yaml")


def test_top_level_data_is_every_personas_default_rows(tmp_path: Path) -> None:
    top = "prompts: ['my id is {{employee_id}}']\ndata: {file: people.csv, mode: sequential}"
    s = scenario(tmp_path, HR, top=top)
    hr, it = s.personas
    assert hr.data is not None and hr.data.mode == "unique"  # its own wins
    assert it.data is not None and it.data.mode == "sequential"  # the top level's


def _persona_summary(hr_ms: float, it_failed: int = 0) -> Any:
    book = MetricsBook()
    for i in range(10):
        book.record_run(_run("hr", hr_ms + i))
        run = _run("it", 100.0)
        if i < it_failed:
            run.outcome = "timeout"
        book.record_run(run)
    return build_summary(book, meta={"started_at": 0.0, "ended_at": 10.0})


def test_regressions_and_compare_on_persona_figures() -> None:
    base, slower = _persona_summary(100.0), _persona_summary(300.0, it_failed=3)
    gates = [parse_regression("personas.hr.first_text.p95 +10%"),
             parse_regression("personas.it.error_rate +1%"),
             parse_regression("personas.it.first_text.p95 +10%")]  # fmt: skip
    verdicts = evaluate(gates, slower, base)
    assert [v.passed for v in verdicts] == [False, False, True]
    assert evaluate(gates, base, base) and all(v.passed for v in evaluate(gates, base, base))
    rows = {d.figure: d for d in compare_summaries(base, slower)}
    assert rows["personas.hr.first_text.p95"].mark == "worse"
    assert rows["personas.it.error_rate"].mark == "worse"
    assert rows["personas.it.first_text.p50"].mark == ""


def test_unique_conversations_in_a_persona_are_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "convs.jsonl").write_text('{"id": "a", "turns": ["hi"]}\n')
    persona = "  - {name: a, agent_id: x, prompts: {conversations: convs.jsonl, order: unique}}\n"
    with pytest.raises(ConfigError, match=r"persona `a`, key `prompts.order`: `unique` conv"):
        scenario(tmp_path, persona)
