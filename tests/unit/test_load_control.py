"""The load strategies and `LoadControl` in this process, without Locust: a fake clock (times
passed in), fake messages to the processes, records observed by hand. And the one summary the
final results, the live tab and an early stop are made from (`finish.summary_now`): with a stages
plan all three show the same stages."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from wxo_load.config.scenario import load_scenario
from wxo_load.core.plan import (
    ARRIVAL,
    SEARCH,
    SEARCH_USERS,
    STAGES,
    Arrival,
    LoadPlan,
    RateStage,
    Search,
    Stage,
)
from wxo_load.core.records import OK, RunRecord
from wxo_load.gates.parse import parse_gate
from wxo_load.locust_plugin import finish
from wxo_load.locust_plugin.control import MESSAGE_BEGIN, LoadControl
from wxo_load.locust_plugin.progress import CpuMeter
from wxo_load.locust_plugin.state import TestState
from wxo_load.locust_plugin.strategies import (
    ArrivalLoad,
    EndTest,
    RunUsers,
    SearchLoad,
    StagesLoad,
)
from wxo_load.locust_plugin.webtab import LiveView

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_800_000_000.0
STAGED = LoadPlan(STAGES, stages=(Stage("warm", 10.0, 2, 1.0), Stage("peak", 10.0, 5)))


class Control(LoadControl):
    """A control whose messages and flushes are kept for the test to read."""

    def __init__(self, plan: LoadPlan, *, master: bool = False, run_time: float | None = None):
        self.sent: list[tuple[str, dict[str, Any], str | None]] = []
        self.flushes = 0
        super().__init__(
            plan, is_master=master, clients=lambda: ["w1", "w2"],
            send=lambda kind, data, to: self.sent.append((kind, data, to)),
            run_time=lambda: (run_time, "-t"), flush=self._flush,
        )  # fmt: skip

    def _flush(self) -> None:
        self.flushes += 1


def _run(started: float, first_text_ms: float = 800.0, outcome: str = OK) -> RunRecord:
    run = RunRecord(started, "u1", f"c{started}", 0, f"r{started}", outcome=outcome)
    run.run_started_ms, run.first_delta_ms, run.first_text_ms = 50.0, 700.0, first_text_ms
    run.message_created_ms = run.done_ms = run.total_ms = 1000.0
    return run


def test_stages_run_each_stage_s_users_then_end_the_plan() -> None:
    control = Control(STAGED)
    assert isinstance(control.strategy, StagesLoad)
    assert control.tick(T0) == (2, 1.0)
    assert control.tick(T0 + 12) == (5, 5.0)  # no spawn rate: all at once
    assert [(s.name, s.start_unix, s.end_unix) for s in control.segments.segments] == [
        ("warm", T0, T0 + 10), ("peak", T0 + 10, T0 + 20)]  # fmt: skip
    assert control.strategy.tick(T0 + 21) == EndTest("the load plan is complete")
    assert control.tick(T0 + 21) is None and control.done
    assert control.segments.segments[-1].end_unix is None  # runs started while users stop count


def test_a_run_time_shorter_than_the_stages_ends_the_test_and_cuts_the_stages() -> None:
    control = Control(STAGED, run_time=8.0)
    assert control.tick(T0) == (2, 1.0)
    assert control.end_at == T0 + 8.0
    assert [s.name for s in control.segments.segments] == ["warm"]  # "peak" would start at 10
    assert control.tick(T0 + 8.0) is None and control.done


def test_arrivals_keep_a_pool_and_send_the_schedule_to_each_process() -> None:
    plan = LoadPlan(ARRIVAL, arrival=Arrival((RateStage("r", 30.0, 2.0),), max_concurrent=7))
    local = Control(plan)
    assert isinstance(local.strategy, ArrivalLoad)
    assert local.tick(T0) == (7, 1000.0)
    assert local.epoch == T0 + 1.0  # the schedule starts once the pool exists
    [(kind, data, to)] = local.sent
    assert (kind, data["slot"], data["processes"], to) == (MESSAGE_BEGIN, 0, 1, None)
    assert data["segments"] == [[0, 0.0, 30.0, 2.0]]
    assert local.tick(T0 + 31.0) is None  # epoch + 30 s
    master = Control(plan, master=True)
    master.tick(T0)
    assert [(d["slot"], d["processes"], to) for _, d, to in master.sent] == [
        (0, 2, "w1"), (1, 2, "w2")]  # fmt: skip
    assert master.epoch == T0 + 2.5


def test_the_search_holds_a_step_judges_it_and_stops_at_the_first_failure() -> None:
    spec = Search(SEARCH_USERS, start=5, step=5, max=20, slo=("first_text.p95 < 1s",),
                  hold_s=10.0, warmup_s=0.0, resolution=5)  # fmt: skip
    control = Control(LoadPlan(SEARCH, search=spec))
    strategy = control.strategy
    assert isinstance(strategy, SearchLoad)
    assert strategy.tick(T0) == RunUsers(5, 5.0)
    control.observe([_run(T0 + 1).to_dict(), _run(T0 + 2).to_dict()], [], [])
    assert strategy.tick(T0 + 10) == RunUsers(5, 5.0)  # held; judged after settling
    assert strategy.tick(T0 + 11.6) == RunUsers(10, 10.0)  # 1.5 s later (local): passed
    assert control.flushes == 1  # the local runner's last records came in first
    control.observe([_run(T0 + 13, first_text_ms=1500.0).to_dict()], [], [])
    strategy.tick(T0 + 21.6)
    decided = strategy.tick(T0 + 23.2)
    steps = [(s.load, s.verdict) for s in control.segments.segments if s.verdict is not None]
    assert steps == [({"users": 5}, "pass"), ({"users": 10}, "fail")]
    assert decided == EndTest("the load plan is complete") or isinstance(decided, RunUsers)


def test_reset_starts_the_plan_afresh() -> None:
    control = Control(STAGED)
    control.tick(T0)
    control.reset()
    assert control.t0 is None and not control.segments.segments and not control.done
    assert control.tick(T0 + 100) == (2, 1.0)


# -- one summary: final, live tab, early stop ------------------------------------------------


class Source:
    """What the live view and the end read of a process: a local runner with a stages plan."""

    def __init__(self, plan: LoadPlan = STAGED) -> None:
        self.test = TestState.for_process(local=True)
        self.test.started_at = T0
        scenario = load_scenario(ROOT / "scenarios" / "stages.yaml")
        gate = parse_gate("first_text.p95 < 100ms", abort=True, min_runs=1)
        self.session = SimpleNamespace(scenario=scenario, gates=[gate], baseline=None)
        self.runner = SimpleNamespace(user_count=5, state="running")
        self.load = Control(plan)
        options = SimpleNamespace(num_users=None, spawn_rate=None, run_time=None,
                                  processes=None, baseline=None, lag_limit_ms=50)  # fmt: skip
        self.how = finish.describe(options, self.session, "http://127.0.0.1:1", 10.0, False)
        self.cpu = CpuMeter()

    def summary_now(self, now: float) -> Any:
        return finish.summary_now(self.how, self.test, self.cpu, self.load, now)


def test_the_live_tab_and_an_early_stop_see_the_stages_of_the_final_summary(
    tmp_path: Path,
) -> None:
    source = Source()
    source.load.tick(T0)
    runs = [_run(T0 + i) for i in range(0, 20, 2)]
    for run in runs:
        source.test.total.record_run(run)
    source.load.observe([r.to_dict() for r in runs], [], [])
    live, _verdicts = LiveView(source).snapshot()  # type: ignore[arg-type]
    seen: list[Any] = []

    def early() -> Any:
        seen.append(source.summary_now(T0 + 20))
        return seen[-1]

    assert finish.check_abort(source.test, source.session.gates, early)  # p95 800 ms > 100 ms
    final = source.summary_now(T0 + 20)

    def stages(summary: Any) -> list[tuple[str, int]]:
        assert summary.plan is not None and summary.stages is not None
        return [(s.name, s.runs.total) for s in summary.stages]

    assert stages(final) == [("warm", 5), ("peak", 5)]
    assert stages(live) == stages(seen[0]) == stages(final)
    assert live.plan == seen[0].plan == final.plan


def test_the_live_tab_and_an_early_stop_see_the_search_steps_of_the_final_summary() -> None:
    spec = Search(SEARCH_USERS, start=5, step=5, max=20, slo=("first_text.p95 < 1s",),
                  hold_s=10.0, warmup_s=0.0, resolution=5)  # fmt: skip
    source = Source(LoadPlan(SEARCH, search=spec))
    source.load.tick(T0)
    runs = [_run(T0 + i) for i in range(0, 10, 2)]
    for run in runs:
        source.test.total.record_run(run)
    source.load.observe([r.to_dict() for r in runs], [], [])
    source.load.tick(T0 + 10)
    source.load.tick(T0 + 11.6)  # the first step is judged (met the SLO), the second opens
    live, _verdicts = LiveView(source).snapshot()  # type: ignore[arg-type]
    seen: list[Any] = []

    def early() -> Any:
        seen.append(source.summary_now(T0 + 12))
        return seen[-1]

    assert finish.check_abort(source.test, source.session.gates, early)  # p95 800 ms > 100 ms
    final = source.summary_now(T0 + 12)

    def steps(summary: Any) -> list[tuple[str, int, str]]:
        assert summary.plan is not None and summary.search_steps is not None
        return [(s.name, s.runs.total, s.verdict) for s in summary.search_steps]

    assert steps(final) == [("step 1 (5 users)", 5, "pass")]
    assert steps(live) == steps(seen[0]) == steps(final)
    assert live.capacity == seen[0].capacity == final.capacity and final.capacity is not None
    assert final.capacity.users == 5 and live.plan == final.plan
