"""People who leave: the scenario keys, who leaves which run, and how their runs are counted
(in the counts, never failures, out of every timing figure)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ConfigError
from wxo_load.core.leaving import ABANDON, INTERRUPT, LeaveRule, Leaving
from wxo_load.core.records import ABANDONED, CANCELLED, INTERRUPTED, OK, RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.gates.figures import figure_value


def _scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text("agent_id: a\nprompts: {messages: [hi]}\n" + text)
    return load_scenario(path)


def test_the_three_keys_read_shares_and_moments_and_survive_the_wire(tmp_path: Path) -> None:
    scenario = _scenario(
        tmp_path,
        "abandon: {share: 20%, at: first_text}\ncancel: {share: 0.1, at: 2s}\n"
        "interrupt: {share: 5%, at: [1s, 5s]}\n",
    )
    leaving = scenario.leaving
    assert leaving.abandon == LeaveRule(0.2, at_first_text=True)
    assert leaving.cancel == LeaveRule(0.1, at_s=(2.0, 2.0))
    assert leaving.interrupt == LeaveRule(0.05, at_s=(1.0, 5.0))
    assert scenario_from_wire(scenario_to_wire(scenario)).leaving == leaving


def test_a_persona_sets_its_own_leaving(tmp_path: Path) -> None:
    scenario = _scenario(
        tmp_path,
        "personas:\n  - {name: stay, weight: 1}\n"
        "  - {name: go, weight: 1, abandon: {share: 50%}}\n",
    )
    go, stay = scenario.persona("go"), scenario.persona("stay")
    assert go is not None and stay is not None
    assert go.scenario.leaving.abandon == LeaveRule(0.5, at_first_text=True)
    assert not stay.scenario.leaving.any


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("abandon: {share: 120%}", "between 0% and 100%"),
        ("abandon: {share: lots}", "a share like 10%"),
        ("abandon: {at: 2s}", "abandon.share"),
        ("cancel: {share: 1%, at: soon}", "cancel.at"),
        ("interrupt: {share: 1%, at: [5s, 1s]}", "low above high"),
        ("abandon: {share: 1%, when: 2s}", "unknown key"),
    ],
)
def test_a_wrong_value_names_the_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _scenario(tmp_path, text + "\n")


def test_shares_decide_how_many_runs_leave_and_interrupt_needs_a_next_message() -> None:
    leaving = Leaving(abandon=LeaveRule(0.2, at_first_text=True))
    rng = random.Random(7)
    left = [leaving.decide(rng, has_next=True) for _ in range(10_000)]
    assert 1800 < sum(a is not None for a in left) < 2200
    assert {a.kind for a in left if a is not None} == {ABANDON}
    only_interrupt = Leaving(interrupt=LeaveRule(1.0, at_s=(1.0, 3.0)))
    assert only_interrupt.decide(rng, has_next=False) is None
    at = only_interrupt.decide(rng, has_next=True)
    assert at is not None and at.kind == INTERRUPT and 1.0 <= at.after_s <= 3.0


def _run(outcome: str, first_text_ms: float) -> RunRecord:
    return RunRecord(
        started_at_unix=1000.0,
        user_id="u",
        conversation_id="c",
        turn_index=0,
        request_id="r",
        outcome=outcome,
        run_started_ms=first_text_ms / 2,
        first_text_ms=first_text_ms,
        total_ms=first_text_ms,
        done_ms=first_text_ms if outcome == OK else None,
    )


def test_left_runs_are_counted_never_failed_and_out_of_every_timing() -> None:
    book = MetricsBook()
    for _ in range(8):
        book.record_run(_run(OK, 100.0))
    book.record_run(_run(ABANDONED, 5000.0))
    book.record_run(_run(CANCELLED, 6000.0))
    book.record_run(_run(INTERRUPTED, 7000.0))
    assert book.runs_total == 11 and book.runs_left == 3 and book.runs_failed == 0
    assert book.timing("first_text").count == 8
    assert book.percentile_ms("first_text", 100.0) == pytest.approx(100.0, rel=0.01)
    summary = build_summary(book, meta={"started_at": 1000.0, "ended_at": 1010.0})
    runs = summary.runs
    assert figure_value(summary, "runs.left") == 3  # a gate can limit them
    assert summary.goodput.share == 1.0  # of the runs whose people stayed: all 8 were good
    assert (runs.total, runs.ok, runs.failed, runs.left, runs.error_rate) == (11, 8, 0, 3, 0.0)
    assert runs.by_outcome[ABANDONED] == 1


def test_leaving_on_a_channel_that_cannot_is_an_error_naming_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not on runs-poll"):
        _scenario(tmp_path, "channel: runs-poll\nabandon: {share: 10%}\n")
