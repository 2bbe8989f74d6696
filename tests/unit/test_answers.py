"""Answer checks, canaries and goodput: parsing, judging, the tracker's text, merging, gates."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.helpers.gates_support import make_summary, summary_json, typed
from tests.helpers.wire import via_wire
from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.answers import (
    ANSWER_TEXT_MAX,
    CANARY_PATTERN,
    AnswerJudge,
    AnswerSettings,
    new_canary,
    with_canary,
)
from wxo_load.core.book import MetricsBook
from wxo_load.core.checks import Expect, answered_by, failed_checks
from wxo_load.core.conversation import ConversationPlan, Turn
from wxo_load.core.errors import ConfigError
from wxo_load.core.records import CROSS_TALK, OK, WRONG_ANSWER, RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.core.tracker import RunTracker
from wxo_load.gates.evaluate import evaluate
from wxo_load.gates.parse import parse_gate
from wxo_load.load.segments import SegmentBook, summarize
from wxo_load.output import live, prometheus
from wxo_load.output.markdown import summary_markdown
from wxo_load.output.report.answers import AnswerSamples, answers_section

BASE = "name: s\nagent_id: a\nprompts: [hi]\n"


NO_ANSWERS = {"checked": 0, "wrong": 0, "wrong_rate": 0.0, "by_check": {}, "cross_talk": 0,
              "cross_talk_rate": 0.0}  # fmt: skip


def load(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_scenario(path)


def run(**fields: object) -> RunRecord:
    rec = RunRecord(0.0, "u", "c", 0, "r", thread_id="t1", run_id="run-1", done_ms=900.0)
    rec.first_text_ms = 400.0
    for key, value in fields.items():
        setattr(rec, key, value)
    return rec


# -- the checks -----------------------------------------------------------------------------


def test_each_check_fails_only_on_what_it_names() -> None:
    expect = Expect(
        not_contains=("I'm SORRY",), contains=("Leave", "days"), matches=r"\b\d+ days\b",
        min_chars=10, tool_called="get_leave_balance", answered_by="hr_agent",
    )  # fmt: skip
    tools = [["get_leave_balance", 1.0, 2.0], ["hr_agent", 3.0, 4.0]]
    good = "You have 12 days of LEAVE left."
    assert failed_checks(expect, good, tools, answered_by(tools, "main")) == []
    assert failed_checks(expect, "i'm sorry, 12 days leave", tools, "hr_agent") == ["not_contains"]
    assert failed_checks(expect, "You have twelve days leave", tools, "hr_agent") == ["matches"]
    assert failed_checks(expect, "5 days", [], None) == [
        "contains", "min_chars", "tool_called", "answered_by",
    ]  # fmt: skip


def test_the_agent_that_answered_is_the_last_hand_over_else_the_steps_agent() -> None:
    assert (
        answered_by([["lookup", 0, 1], ["hr_agent", 1, 2], ["it_agent", 2, 3]], "x") == "it_agent"
    )
    assert answered_by([["lookup", 0, 1]], "main_agent_display") == "main_agent_display"
    assert answered_by(None, None) is None


# -- the scenario ---------------------------------------------------------------------------


def test_a_scenario_reads_expect_checks_and_goodput_and_sends_them_to_workers(
    tmp_path: Path,
) -> None:
    scenario = load(
        tmp_path,
        "expect: {not_contains: \"I'm sorry\", matches: '\\d+', min_chars: 3}\n"
        "checks: {canary: true}\ngoodput: {first_text: 3s, done: 20000ms}\n",
    )
    answers = scenario.answers
    assert answers.expect == Expect(not_contains=("i'm sorry",), matches=r"\d+", min_chars=3)
    assert answers.canary and answers.goodput_first_text_ms == 3000.0
    assert answers.goodput_done_ms == 20000.0
    assert scenario_from_wire(scenario_to_wire(scenario)).answers == answers


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("expect: {matches: '(unclosed'}\n", "expect.matches"),
        ("expect: {contains: [a], smells_like: b}\n", "expect.smells_like"),
        ("expect: {contains: []}\n", "expect.contains"),
        ("expect: {}\n", "expect"),
        ("checks: {canary: 1}\n", "checks.canary"),
        ("checks: {bogus: true}\n", "checks.bogus"),
        ("goodput: {first_text: soon}\n", "goodput.first_text"),
        ("goodput: {p95: 3s}\n", "goodput.p95"),
    ],
)
def test_a_bad_check_is_a_config_error_naming_its_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"`{key}`"):
        load(tmp_path, text)


def test_a_scripted_turn_carries_its_own_checks_and_a_bad_one_names_its_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "c.jsonl").write_text(
        '{"turns": ["hi", {"text": "balance?", "expect": {"contains": ["days"]}}]}\n'
    )
    plan = load(tmp_path, "prompts: {conversations: c.jsonl}\n").prompts.conversations[0]
    assert plan.turns[0].expect is None and plan.turns[1].expect == Expect(contains=("days",))
    assert msgspec.convert(msgspec.to_builtins(plan), ConversationPlan) == plan
    (tmp_path / "c.jsonl").write_text('{"turns": [{"text": "x", "expect": {"matches": "("}}]}\n')
    with pytest.raises(ConfigError, match=r"line 1\), turn 1, expect\.matches"):
        load(tmp_path, "prompts: {conversations: c.jsonl}\n")


# -- the judge ------------------------------------------------------------------------------


def test_a_wrong_answer_keeps_its_failed_checks_and_2_kib_of_its_text() -> None:
    judge = AnswerJudge(AnswerSettings(expect=Expect(not_contains=("sorry",))))
    rec = run()
    judge.judge(rec, "Sorry! " + "x" * 5000, None, None, None)
    assert rec.outcome == WRONG_ANSWER and rec.failed_checks == ["not_contains"]
    assert rec.checked and len(rec.answer_text or "") == ANSWER_TEXT_MAX and rec.good is False
    right = run()
    judge.judge(right, "fine", None, None, None)
    assert right.outcome == OK and right.answer_text is None and right.good is True


def test_a_turns_own_checks_replace_the_scenarios() -> None:
    judge = AnswerJudge(AnswerSettings(expect=Expect(contains=("leave",))))
    rec = run()
    judge.judge(rec, "your balance is 3", None, Expect(contains=("balance",)), None)
    assert rec.outcome == OK


def test_another_conversations_canary_is_cross_talk_with_the_owners_thread() -> None:
    judge = AnswerJudge(AnswerSettings(canary=True))
    mine, theirs = new_canary(), new_canary()
    assert mine != theirs and CANARY_PATTERN.fullmatch(mine)
    plan = with_canary(ConversationPlan((Turn("hello"), Turn("more"))), theirs)
    assert plan.turns[0].text == f"hello (ref {theirs})" and plan.turns[1].text == "more"
    judge.own(plan, "their-thread")
    own = run()
    judge.judge(own, f"About ref {mine}: done", None, None, mine)
    assert own.outcome == OK and own.checked
    leaked = run()
    judge.judge(leaked, f'As you said: "hello (ref {theirs})"', None, None, mine)
    assert leaked.outcome == CROSS_TALK and leaked.foreign_canary == theirs
    assert leaked.cross_talk_thread_id == "their-thread" and theirs in (leaked.answer_text or "")


def test_goodput_needs_ok_right_and_within_the_limits() -> None:
    judge = AnswerJudge(AnswerSettings(goodput_first_text_ms=500.0, goodput_done_ms=1000.0))
    assert not judge.wants_text(None) and judge.wants(None)
    fast, slow = run(), run(done_ms=1500.0)
    judge.judge(fast, None, None, None, None)
    judge.judge(slow, None, None, None, None)
    assert fast.good is True and slow.good is False and not fast.checked


def test_keep_answers_keeps_every_runs_text_and_a_failed_run_is_not_checked() -> None:
    judge = AnswerJudge(AnswerSettings(), keep_answers=True)
    assert judge.wants_text(None)
    rec = run()
    judge.judge(rec, "hello there", None, None, None)
    assert rec.answer_text == "hello there" and rec.outcome == OK
    failed = run(outcome="timeout")
    judge.judge(failed, "partial", None, None, None)
    assert failed.outcome == "timeout" and not failed.checked and failed.answer_text == "partial"


# -- the tracker keeps the text only when asked ---------------------------------------------


def _events(tracker: RunTracker) -> None:
    tracker.on_event({"event": "run.started", "data": {"run_id": "r"}}, 0.01)
    tracker.on_event(
        {"event": "run.step.intermediate", "data": {"current_agent": "hr_agent"}}, 0.02
    )
    for text in ("Hello ", "world"):
        delta = {"role": "assistant", "content": [{"text": text}]}
        tracker.on_event({"event": "message.delta", "data": {"delta": delta}}, 0.03)


def test_the_tracker_keeps_the_answer_text_only_when_checks_need_it() -> None:
    plain = RunTracker(run(), 0.0, 0.0)
    _events(plain)
    assert plain.answer_text is None and plain.agent is None
    kept = RunTracker(run(), 0.0, 0.0)
    kept.keep_text()
    _events(kept)
    assert kept.answer_text == "Hello world" and kept.agent == "hr_agent"
    message = {"role": "assistant", "content": [{"response_type": "text", "text": "Hello world!"}]}
    kept.on_event({"event": "message.created", "data": {"message": message}}, 0.04)
    assert kept.answer_text == "Hello world!"  # message.created holds the whole answer


# -- figures: the book, the summary, segments, gates, the report ----------------------------


def test_answer_figures_merge_across_workers_and_resolve_a_canarys_owner() -> None:
    a, b = MetricsBook(), MetricsBook()
    a.record_run(run(run_id="1", canary="WXO-AAAAAAAAAA", checked=True, good=True))
    a.record_run(run(run_id="2", turn_index=1, checked=True, outcome=WRONG_ANSWER,
                     failed_checks=["contains", "matches"], good=False))  # fmt: skip
    b.record_run(run(run_id="3", thread_id="t2", checked=True, outcome=CROSS_TALK,
                     foreign_canary="WXO-AAAAAAAAAA", good=False))  # fmt: skip
    b.record_run(run(run_id="4", outcome="stopped"))
    merged = MetricsBook.unpack(via_wire(b))
    merged.merge_packed(via_wire(a))
    summary = summary_json(merged, meta={"started_at": 0.0, "ended_at": 2.0})
    answers = summary["answers"]
    assert (answers["checked"], answers["wrong"], answers["cross_talk"]) == (3, 1, 1)
    assert answers["wrong_rate"] == pytest.approx(1 / 3)
    assert answers["by_check"]["contains"] == 1 and answers["by_check"]["tool_called"] == 0
    assert answers["cross_talks"] == [
        {"run_id": "3", "thread_id": "t2", "canary": "WXO-AAAAAAAAAA", "owner_thread_id": "t1"}
    ]
    assert summary["goodput"] == {"runs": 1, "runs_per_s": 0.5, "share": pytest.approx(1 / 3)}
    segment = SegmentBook(0, "s", "step", {"users": 1}, 0.0, 2.0)
    segment.book = merged
    step = summarize(segment, 2.0)
    assert step.answers is not None and step.answers.wrong == 1


def test_gates_read_the_answer_figures_and_count_gates_take_equals() -> None:
    answers = {"checked": 10, "wrong_rate": 0.02, "by_check": {"tool_called": 0}}
    summary = typed({**make_summary(runs=10), "answers": {**NO_ANSWERS, **answers},
                     "goodput": {"runs": 9, "share": 0.9, "runs_per_s": 3.0}})  # fmt: skip
    parsed = [parse_gate(t, where="t") for t in (
        "answers.wrong_rate < 1%", "answers.by_check.tool_called == 0", "goodput.share > 80%",
        "goodput.runs_per_s >= 3",
    )]  # fmt: skip
    assert [v.passed for v in evaluate(parsed, summary, None)] == [False, True, True, True]
    with pytest.raises(ConfigError, match='operator "=="'):
        parse_gate("first_text.p95 == 3s", where="t")


def test_the_report_shows_sample_wrong_answers_redacted() -> None:
    samples = AnswerSamples()
    samples.add(run(run_id="r1", outcome="wrong_answer", failed_checks=["contains"],
                    answer_text="Sorry <b> Bearer abcdefghijklmnop"))  # fmt: skip
    samples.add(run(run_id="r2", outcome="ok", answer_text="fine"))
    summary = typed(make_summary(runs=2))
    wrong = {**NO_ANSWERS, "checked": 2, "wrong": 1, "wrong_rate": 0.5}
    html = answers_section(typed({**make_summary(runs=2), "answers": wrong}), samples)
    assert "Sample wrong answers" in html and "r1" in html and "r2" not in html
    assert "&lt;b&gt;" in html and "abcdefghijklmnop" not in html
    assert answers_section(summary, AnswerSamples()) == ""


def test_answers_are_in_summary_md_the_live_tab_and_prometheus() -> None:
    book = MetricsBook()
    for i in range(10):
        run = RunRecord(1_800_000_000.0 + i, "u", f"c{i}", 0, f"r{i}", first_text_ms=10.0,
                        done_ms=20.0, total_ms=20.0, checked=True)  # fmt: skip
        if i < 2:
            run.outcome, run.failed_checks = WRONG_ANSWER, ["contains"]
        book.record_run(run)
    summary = build_summary(book, meta={"started_at": 1_800_000_000.0, "ended_at": 1_800_000_010.0})
    md = summary_markdown(summary)
    assert (
        "### Answers" in md and "| Wrong answers | 2 (20.00%) | failed checks: contains 2 |" in md
    )
    rows = {r["figure"]: r for r in live.overview_rows(summary, [], state="running")}
    assert rows["Answers checked"]["value"] == "10" and rows["Cross-talk"]["value"] == "0 (0.00%)"
    text = prometheus.exposition(book, users=1, trustworthy=True, running=True)
    assert 'wxo_load_answers_total{verdict="wrong"} 2' in text
    assert 'wxo_load_answers_total{verdict="checked"} 10' in text
    assert "wxo_load_goodput_runs_total 8" in text
    plain = MetricsBook()
    plain.record_run(RunRecord(1.0, "u", "c", 0, "r", first_text_ms=1.0, total_ms=1.0))
    assert "wxo_load_answers" not in prometheus.exposition(plain, users=1, trustworthy=True,
                                                           running=True)  # fmt: skip
