"""The load plan's pure core: reading `load:` (stages, arrival, search), schedules, search
decisions."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.errors import ConfigError
from wxo_load.core.plan import Search
from wxo_load.core.summary_plan import Knee, Segment
from wxo_load.load.schedule import my_share, segment_arrivals, stage_at
from wxo_load.load.search import CapacitySearch, capacity, knee

BASE = "name: s\nagent_id: a\nprompts: [hi]\n"


def scenario(tmp_path: Path, load: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + "load:\n" + load, encoding="utf-8")
    return load_scenario(path)


def test_stages_arrival_and_search_are_read_and_survive_the_wire(tmp_path: Path) -> None:
    for text in (
        "  stages: [{duration: 2m, users: 50, spawn_rate: 5},"
        " {name: peak, duration: 30s, users: 80}]\n",
        "  arrival: {stages: [{duration: 30s, rate: 1/s}, {duration: 30s, rate: 240/m}],"
        " process: constant, max_concurrent: 20}\n",
        "  search: {users: {start: 5, step: 5, max: 60}, hold: 20s,"
        " slo: ['first_text.p95 < 3s', 'error_rate < 1%']}\n",
        "  arrival: {max_concurrent: 40}\n"
        "  search: {arrival_rate: {start: 1/s, step: 1/s, max: 8/s}, slo: ['done.p95 < 5s']}\n",
    ):
        loaded = scenario(tmp_path, text)
        assert loaded.load.plan is not None
        assert scenario_from_wire(scenario_to_wire(loaded)) == loaded
    arrival = scenario(tmp_path, "  arrival: {rate: 120/m}\n").load.plan
    assert (
        arrival is not None
        and arrival.arrival is not None
        and arrival.arrival.stages[0].rate_per_s == 2.0
    )


@pytest.mark.parametrize(
    ("load", "key", "words"),
    [
        ("  stages: [{users: 5}]\n", "load.stages[0].duration", "needs `duration`"),
        ("  stages: [{duration: 1m}]\n", "load.stages[0].users", "needs `duration`"),
        ("  stages: {duration: 1m}\n", "load.stages", "non-empty list"),
        ("  arrival: {rate: 5}\n", "load.arrival.rate", "with its unit, like 2/s"),
        (
            "  arrival: {stages: [{duration: 10s, rate: 3}]}\n",
            "load.arrival.stages[0].rate",
            "like 2/s",
        ),
        ("  arrival: {rate: 2/s, process: bursty}\n", "load.arrival.process", "poisson"),
        ("  arrival: {}\n", "load.arrival", "exactly one of `rate"),
        (
            "  search: {users: {start: 5, step: 5, max: 60}}\n",
            "load.search.slo",
            "needs the objective",
        ),
        (
            "  search: {users: {start: 5, step: 5, max: 60}, slo: ['first_txt.p95 < 3s']}\n",
            "load.search.slo[0]",
            "unknown figure",
        ),
        (
            "  search: {users: {start: 5, max: 60}, slo: ['error_rate < 1%']}\n",
            "load.search.users",
            "`start`, `step` and `max`",
        ),
        (
            "  stages: [{duration: 1m, users: 5}]\n"
            "  search: {users: {start: 1, step: 1, max: 2}, slo: ['error_rate < 1%']}\n",
            "load.stages",
            "cannot be combined",
        ),
    ],
)
def test_bad_load_sections_name_the_file_and_key(
    tmp_path: Path, load: str, key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        scenario(tmp_path, load)
    message = str(info.value)
    assert (
        "s.yaml" in message and (f"key `{key}`" in message or key in message) and words in message
    ), message


def test_stage_at_follows_the_plan_and_ends(tmp_path: Path) -> None:
    plan = scenario(
        tmp_path, "  stages: [{duration: 10s, users: 1}, {duration: 5s, users: 2}]\n"
    ).load.plan
    assert plan is not None
    assert [stage_at(plan.stages, t) for t in (0, 9.9, 10, 14.9, 15)] == [0, 0, 1, 1, None]


def test_a_constant_rate_gives_exactly_rate_times_duration_and_shares_add_up() -> None:
    def count(slot: int, processes: int, process: str) -> int:
        return sum(
            1 for _ in my_share(segment_arrivals(0, 0.0, 30.0, 5.0, process, 7), slot, processes)
        )

    assert count(0, 1, "constant") == 150
    assert count(0, 3, "constant") + count(1, 3, "constant") + count(2, 3, "constant") == 150
    poisson = count(0, 1, "poisson")
    assert 110 < poisson < 190  # 150 ± 3 sigma
    assert count(0, 2, "poisson") + count(1, 2, "poisson") == poisson  # one shared seeded schedule


def _spec(**kw: object) -> Search:
    base: dict = {
        "kind": "users",
        "start": 4,
        "step": 4,
        "max": 24,
        "slo": ("first_text.p95 < 1s",),
        "resolution": 1,
    }
    base.update(kw)
    return Search(**base)


def _walk(spec: Search, true_capacity: float) -> list[float]:
    search, load, tried = CapacitySearch(spec), spec.start, []
    while load is not None:
        tried.append(load)
        load = search.next_load(load, load <= true_capacity)
    return tried


def test_search_steps_up_stops_at_the_first_break_then_bisects_to_the_resolution() -> None:
    assert _walk(_spec(), 10) == [4, 8, 12, 10, 11]
    assert _walk(_spec(), 30) == [4, 8, 12, 16, 20, 24]  # never broke: capacity is the max
    assert _walk(_spec(), 2) == [4, 2, 3]  # the first step already broke: search below it
    rates = _walk(_spec(kind="arrival_rate", start=1.0, step=1.0, max=8.0, resolution=0.25), 3.3)
    assert rates[:4] == [1.0, 2.0, 3.0, 4.0] and rates[-1] in (3.25, 3.5)


def _step(index: int, users: int, runs_per_s: float, verdict: str) -> Segment:
    none = {"total": 0, "ok": 0, "failed": 0}
    throughput = {"runs_per_s": runs_per_s, "ok_runs_per_s": runs_per_s,
                  "conversations_per_s": 1.0, "answer_chars_per_s": 0.0}  # fmt: skip
    return msgspec.convert(
        {"index": index, "name": f"step {index + 1}", "kind": "step", "load": {"users": users},
         "started_at": None, "duration_s": 10.0, "measured_s": 10.0, "runs": none,
         "conversations": none, "throughput": throughput, "metrics": {}, "verdict": verdict},
        Segment,
    )  # fmt: skip


def test_capacity_is_the_highest_load_that_met_the_slo_and_the_knee_where_throughput_flattens() -> (
    None
):
    steps = [
        _step(0, 4, 8.0, "pass"),
        _step(1, 8, 16.0, "pass"),
        _step(2, 12, 20.0, "fail"),
        _step(3, 10, 19.8, "pass"),
        _step(4, 11, 20.1, "fail"),
    ]
    found = capacity(steps, _spec())
    assert (
        found is not None
        and found.users == 10
        and found.broke_at == {"users": 11}
        and found.limited_by == "slo"
    )
    assert knee(steps, "users") == Knee(users=10, runs_per_s=19.8)


@pytest.mark.parametrize(
    ("name", "mode"), [("stages", "stages"), ("arrival", "arrival"), ("capacity", "search")]
)
def test_shipped_load_scenarios_load(name: str, mode: str) -> None:
    plan = load_scenario(
        Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.yaml"
    ).load.plan
    assert plan is not None and plan.mode == mode
