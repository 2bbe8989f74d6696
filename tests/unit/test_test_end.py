"""What ends a test (load/ending.py) and when a worker counts its master as lost (lifeline.py)."""

from __future__ import annotations

import pytest

from wxo_load.core.plan import (
    ARRIVAL,
    CONSTANT,
    SEARCH,
    STAGES,
    Arrival,
    LoadPlan,
    RateStage,
    Search,
    Stage,
)
from wxo_load.load.ending import NEITHER, PLAN, RUN_TIME, cap_segments, decide_end
from wxo_load.locust_plugin.lifeline import lost_reason

CONSTANT_RATE = LoadPlan(ARRIVAL, arrival=Arrival((RateStage("rate", None, 5.0),), CONSTANT))
RATE_STAGES = LoadPlan(
    ARRIVAL, arrival=Arrival((RateStage("a", 10.0, 1.0), RateStage("b", 20.0, 2.0)))
)
STAGE_PLAN = LoadPlan(STAGES, stages=(Stage("one", 20.0, 2), Stage("two", 40.0, 4)))
SEARCH_PLAN = LoadPlan(SEARCH, search=Search("users", 1, 1, 4, ("error_rate < 1%",)))


def test_a_run_time_ends_a_constant_rate_that_has_no_end_of_its_own() -> None:
    ending = decide_end(CONSTANT_RATE, 30, "load.run_time")
    assert (ending.after_s, ending.by) == (30, RUN_TIME)
    assert (
        ending.message
        == "the run time (load.run_time 30s) ends the test: the arrival rate has no end"
    )


def test_a_constant_rate_without_a_run_time_runs_until_stopped_and_says_how_to_end_it() -> None:
    ending = decide_end(CONSTANT_RATE, None, "-t")
    assert (ending.after_s, ending.by, ending.warning) == (None, NEITHER, True)
    assert "load.run_time" in ending.message and "-t" in ending.message


CUT = "the run time (-t {r}s) ends the test before the load plan ({p}) does"
FIRST = "the load plan ({p}) ends the test before the run time (-t {r}s) does"
SEARCH_SAID = (
    "the capacity search ends the test when it has found the capacity, or the run time "
    "(-t 45s) does first"
)


@pytest.mark.parametrize(
    ("plan", "run_time", "after", "by", "said"),
    [
        (STAGE_PLAN, 30, 30, RUN_TIME, CUT.format(r=30, p="60s of stages")),
        (STAGE_PLAN, 90, 60, PLAN, FIRST.format(r=90, p="60s of stages")),
        (RATE_STAGES, 12, 12, RUN_TIME, CUT.format(r=12, p="30s of arrival stages")),
        (SEARCH_PLAN, 45, 45, RUN_TIME, SEARCH_SAID),
    ],
    ids=["stages-cut", "stages-end-first", "arrival-stages-cut", "search"],
)
def test_with_both_a_plan_and_a_run_time_one_line_says_which_ends_the_test(
    plan: LoadPlan, run_time: float, after: float, by: str, said: str
) -> None:
    ending = decide_end(plan, run_time, "-t")
    assert (ending.after_s, ending.by, ending.message, ending.warning) == (after, by, said, False)


def test_a_plan_alone_ends_the_test_without_a_word() -> None:
    assert decide_end(STAGE_PLAN, None, "-t").message == ""
    assert decide_end(SEARCH_PLAN, 0, "-t").by == PLAN


def test_arrival_segments_are_cut_at_the_run_time_so_nothing_is_scheduled_after_it() -> None:
    parts = [(0, 0.0, 10.0, 1.0), (1, 10.0, 30.0, 2.0), (2, 30.0, None, 3.0)]
    assert cap_segments(parts, 12.0) == [(0, 0.0, 10.0, 1.0), (1, 10.0, 12.0, 2.0)]
    assert cap_segments([(0, 0.0, None, 5.0)], 30.0) == [(0, 0.0, 30.0, 5.0)]
    assert cap_segments(parts, None) == parts


def test_a_forked_worker_whose_parent_changed_has_lost_its_master() -> None:
    reason = lost_reason(True, 100, 1, None, 50.0, 10.0)
    assert reason == "process 100, which forked it with --processes, is gone"
    assert lost_reason(True, 100, 100, 45.0, 50.0, 10.0) is None
    assert lost_reason(False, 100, 1, None, 50.0, 10.0) is None  # started on its own: any parent


def test_a_worker_without_a_heartbeat_answer_for_the_timeout_has_lost_its_master() -> None:
    assert lost_reason(False, 1, 2, 38.0, 50.0, 10.0) == "no heartbeat from the master for 12 s"
    assert lost_reason(False, 1, 2, 41.0, 50.0, 10.0) is None
    assert lost_reason(False, 1, 2, None, 50.0, 10.0) is None  # no master has answered yet
    assert lost_reason(False, 1, 2, 0.0, 50.0, 0.0) is None  # --master-timeout 0: Locust's 60 s
