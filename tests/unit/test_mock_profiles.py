"""Profiles: strict validation, the shipped ones, and what a plan made from them looks like."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from mockserver import load_capture

from wxo_load.core.errors import ConfigError
from wxo_load.mock.plan import Planner
from wxo_load.mock.profiles import builtin_profile_names, load_profile, parse_profile

THREAD = "fd438015-df29-4b3b-9fa3-d84c61871336"
AGENT = "0c191f04-78cd-45e3-a99a-988cfb29434d"


def test_the_shipped_profiles_are_there_and_load() -> None:
    names = builtin_profile_names()
    assert {"default", "fast", "replay", "slow", "faults"} <= set(names)
    for name in names:
        assert load_profile(name).name == name


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        ({"timing": {"think": 5}}, "timing.think", "unknown key"),
        ({"timing": {"think_ms": "slow"}}, "timing.think_ms", "expected a number"),
        ({"timing": {"think_ms": {"uniform": [5]}}}, "timing.think_ms.uniform", "two numbers"),
        ({"timing": {"think_ms": {"uniform": [5, 1]}}}, "timing.think_ms.uniform", "A <= B"),
        (
            {"timing": {"think_ms": {"lognormal": {"median": 5}}}},
            "timing.think_ms.lognormal",
            "p99",
        ),
        ({"timing": {"think_ms": {"gauss": 5}}}, "timing.think_ms.gauss", "unknown key"),
        ({"faults": {"http_503": 1.5}}, "faults.http_503", "[0, 1]"),
        ({"faults": {"http_504": 0.1}}, "faults.http_504", "unknown key"),
        ({"faults": {"stall_then": "explode"}}, "faults.stall_then", "continue"),
        ({"answer": {"empty_deltas": "yes"}}, "answer.empty_deltas", "true or false"),
        ({"seed": "x"}, "seed", "integer"),
        (
            {"replay": {"first_turn": {"events": [{"at_ms": 0, "event": "run.started"}]}}},
            "replay.first_turn.events",
            "ends with done",
        ),
        (
            {"replay": {"first_turn": {"events": [{"at_ms": 0, "event": "run.bogus"}]}}},
            "replay.first_turn.events[0].event",
            "expected one of",
        ),
        ("just text", "", "mapping"),
    ],
)
def test_a_bad_profile_is_an_error_naming_the_file_and_the_key(
    raw: object, key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_profile(raw, source="my.yaml")
    text = str(info.value)
    assert text.startswith("profile file my.yaml")
    assert f"`{key}`" in text and words in text


def test_a_user_profile_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("timing:\n  think_ms: 42\nfaults:\n  http_503: 0.25\n")
    profile = load_profile(str(path))
    assert profile.name == "mine"
    assert profile.timing.think_ms.sample(random.Random(1)) == 42
    assert profile.faults.rates["http_503"] == 0.25
    assert profile.timing.steps == load_profile("default").timing.steps


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="default, fast, faults, replay, slow"):
        load_profile("nope")


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("timing: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_profile(str(path))


def _plan_offsets(profile_name: str, seed: int, turn: int = 1) -> list[tuple[str, float]]:
    planner = Planner(load_profile(profile_name), random.Random(seed))
    plan = planner.plan(thread_id=THREAD, agent_id=AGENT, turn=turn)
    return [(e.event, e.offset_s) for e in plan.events]


def test_default_runs_take_between_a_third_of_a_second_and_a_second_and_a_half() -> None:
    totals = [_plan_offsets("default", seed)[-1][1] for seed in range(300)]
    assert min(totals) >= 0.3 and max(totals) <= 1.5
    assert 0.5 <= sorted(totals)[150] <= 1.0


def test_fast_runs_take_a_few_milliseconds() -> None:
    assert max(_plan_offsets("fast", seed)[-1][1] for seed in range(50)) < 0.02


def test_slow_profile_thinks_for_seconds() -> None:
    starts = []
    for seed in range(50):
        events = _plan_offsets("slow", seed)
        starts.append(next(t for name, t in events if name == "message.delta"))
    assert sorted(starts)[25] > 10


@pytest.mark.parametrize(("turn", "capture"), [(1, 1), (2, 2), (5, 2)])
def test_replay_plans_the_captured_offsets(turn: int, capture: int) -> None:
    events = _plan_offsets("replay", 1, turn)
    ms = [int(e["id"].split("-")[0]) for e in load_capture(capture)]
    assert [name for name, _ in events] == [e["event"] for e in load_capture(capture)]
    base = events[0][1]
    assert [round((t - base) * 1000) for _, t in events] == [m - ms[0] for m in ms]


def test_chars_per_delta_zero_sends_the_whole_answer_in_one_delta() -> None:
    profile = parse_profile({"answer": {"chars_per_delta": 0, "chars": 200}})
    plan = Planner(profile, random.Random(3)).plan(thread_id=THREAD, agent_id=AGENT, turn=1)
    assert [e.event for e in plan.events].count("message.delta") == 1
    assert len(plan.answer) == 200 or len(plan.answer) >= 190


def test_empty_deltas_carry_no_text() -> None:
    profile = parse_profile({"answer": {"empty_deltas": True}})
    plan = Planner(profile, random.Random(3)).plan(thread_id=THREAD, agent_id=AGENT, turn=1)
    deltas = [e.rest for e in plan.events if e.event == "message.delta"]
    assert deltas and all(b'"text": ""' in d for d in deltas)


def test_an_async_agent_and_its_delay_parse_and_are_checked() -> None:
    profile = parse_profile({"agent": {"async": True, "async_delay_ms": {"uniform": [10, 20]}}})
    assert profile.agent.async_answer is True
    assert 10 <= profile.agent.async_delay_ms.sample(random.Random(1)) <= 20
    assert load_profile("async").agent.async_answer is True
    with pytest.raises(ConfigError, match="agent.async"):
        parse_profile({"agent": {"async": "yes"}})
