"""The simulator's wrong answers (`answers:` profile section): parsing, run-by-run verdicts."""

from __future__ import annotations

import json
import random

import pytest

from wxo_load.core.errors import ConfigError
from wxo_load.mock.answers import (
    CROSS_TALK,
    FALLBACK,
    RIGHT,
    WRONG,
    AnswerDecider,
    AnswerFaults,
    log_line,
)
from wxo_load.mock.plan import Planner
from wxo_load.mock.profiles import parse_profile

THREAD = "fd438015-df29-4b3b-9fa3-d84c61871336"


def test_a_profile_reads_its_answers_section() -> None:
    profile = parse_profile(
        {"answers": {"wrong_rate": 0.2, "fallback_above_concurrent": 30, "cross_talk_rate": 0.05}}
    )
    assert profile.answers == AnswerFaults(0.2, 30, 0.05)
    assert parse_profile({}).answers is None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"wrong_rate": 2}, "answers.wrong_rate"),
        ({"fallback_above_concurrent": 2.5}, "answers.fallback_above_concurrent"),
        ({"often": 0.1}, "answers.often"),
    ],
)
def test_a_bad_answers_section_names_its_key(raw: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_profile({"answers": raw})


def test_past_n_runs_in_flight_every_answer_is_the_fallback() -> None:
    decider = AnswerDecider(AnswerFaults(fallback_above_concurrent=2), seed=1)
    kinds = [decider.begin(f"t{i}", f"first {i}", {}).kind for i in range(4)]
    assert kinds == [RIGHT, RIGHT, FALLBACK, FALLBACK]
    for thread in ("t3", "t2", "t1"):
        decider.end(thread)
    assert decider.begin("t5", "", {"content": "x"}).kind == RIGHT


def test_cross_talk_quotes_another_live_conversations_first_message_never_its_own() -> None:
    decider = AnswerDecider(AnswerFaults(cross_talk_rate=1.0), seed=2)
    assert decider.begin("a", "", {"content": [{"text": "hello from a"}]}).kind == RIGHT  # alone
    verdict = decider.begin("b", "hello from b", {})
    assert (verdict.kind, verdict.quoted_thread_id, verdict.quoted_text) == (
        CROSS_TALK, "a", "hello from a",
    )  # fmt: skip
    rewrite = verdict.rewrite(decider.faults)
    assert (
        rewrite is not None and rewrite("Sure.") == 'Sure. As you mentioned earlier: "hello from a"'
    )
    decider.end("a")
    decider.end("b")
    assert decider.live == {} and decider.in_flight == 0


def test_the_wrong_rate_is_drawn_per_run_and_each_verdict_is_logged() -> None:
    decider = AnswerDecider(AnswerFaults(wrong_rate=0.2), seed=3)
    kinds = []
    for i in range(2000):
        kinds.append(decider.begin(f"t{i}", "x", {}).kind)
        decider.end(f"t{i}")
    assert 0.16 < kinds.count(WRONG) / len(kinds) < 0.24 and set(kinds) == {RIGHT, WRONG}
    line = json.loads(log_line("r1", THREAD, decider.begin("t", "x", {})))
    assert line["event"] == "_answer" and line["run_id"] == "r1" and "t_mono" in line


def test_a_wrong_verdict_rewrites_the_planned_answer_and_its_deltas() -> None:
    faults = AnswerFaults(wrong_rate=1.0, wrong_text="Sorry, no.")
    profile = parse_profile({"answers": {"wrong_rate": 1.0, "wrong_text": "Sorry, no."}})
    rewrite = AnswerDecider(faults, seed=4).begin("t", "x", {}).rewrite(faults)
    plan = Planner(profile, random.Random(1)).plan(
        thread_id=THREAD, agent_id="a", turn=1, rewrite=rewrite
    )
    assert plan.answer == "Sorry, no."
    deltas = b"".join(e.rest for e in plan.events if e.event == "message.delta").decode()
    assert "Sorry" in deltas
