"""The scenario sent to workers and the load plan: one codec (msgspec) from the typed models.

Every shipped scenario, and one that sets every part, survives scenario -> builtins -> msgpack
(Locust's spawn message) -> scenario equal; a key that is not a field fails, naming its path; the
load plan of each stages / arrival / search scenario round-trips and is what summary.json states.
"""

from __future__ import annotations

from pathlib import Path

import msgpack
import msgspec
import pytest

from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import WireFormatError
from wxo_load.core.plan import LoadPlan
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_codec import summary_from_dict, summary_to_dict

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))

EVERY_PART = """
name: every-part
description: each part of the model set, so that each travels
agent_id: agent-a
host: http://127.0.0.1:1
api: {prefix: /api/v1, deployment: local}
load: {users: 3, spawn_rate: 2, run_time: 20s, warmup: 2s, cooldown: 1s}
conversation: {turns: [1, 3], think_time_s: [0.5, 1.5], pause_between_s: 0.2, on_failure: end}
request:
  stall_timeout_s: 9
  context_variables: {dept: sales, nested: {a: [1, 2]}}
  llm_params: {temperature: 0.1}
  headers: {x-team: load}
simulator: {profile: default, seed: 7, faults: {http_503: 0.01}}
expect: {not_contains: "I'm sorry", contains: [days], min_chars: 3}
checks: {canary: true}
goodput: {first_text: 3s, done: 20s}
abandon: {share: 10%, at: first_text}
interrupt: {share: 5%, at: [1s, 5s]}
prompts: {conversations: convs.jsonl}
gates: ["first_text.p95 < 3s"]
personas:
  - name: hr
    weight: 3
    data: {file: people.csv, mode: unique, on_exhausted: stop}
    context_variables: {dept: "{{department}}"}
  - name: it
    agent_id: agent-b
    api_key_env: IT_API_KEY
    cancel: {share: 0.1, at: 2s}
    conversation: {script: [hi, {text: "it is blue", think_s: 2, expect: {contains: [ok]}}]}
"""


def _every_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    monkeypatch.setenv("IT_API_KEY", "sk-secret-of-it")
    (tmp_path / "people.csv").write_text("department\nhr\nit\n")
    (tmp_path / "convs.jsonl").write_text(
        '{"id": "c1", "turns": ["hello", {"text": "balance?", "think_s": 1.5,'
        ' "expect": {"matches": "\\\\d+"}}]}\n'
    )
    path = tmp_path / "every.yaml"
    path.write_text(EVERY_PART)
    return load_scenario(path)


def _through_locust(scenario: Scenario) -> Scenario:
    """What a worker rebuilds from the master's spawn message (msgpack, as Locust sends it)."""
    return scenario_from_wire(msgpack.unpackb(msgpack.packb(scenario_to_wire(scenario))))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_reaches_the_workers_equal(path: Path) -> None:
    scenario = load_scenario(path)
    assert _through_locust(scenario) == scenario


def test_a_scenario_that_sets_every_part_reaches_the_workers_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = _every_part(tmp_path, monkeypatch)
    assert scenario.personas and scenario.prompts.conversations and scenario.leaving.any
    assert _through_locust(scenario) == scenario
    assert b"sk-secret" not in msgpack.packb(scenario_to_wire(scenario))  # the variable's name


def test_a_misspelt_key_on_the_wire_fails_naming_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = msgspec.to_builtins(_every_part(tmp_path, monkeypatch))
    wire["prompts"]["ordr"] = "script"
    with pytest.raises(WireFormatError, match=r"not a field: `\$\.prompts\.ordr`"):
        scenario_from_wire(wire)
    wire = msgspec.to_builtins(_every_part(tmp_path, monkeypatch))
    wire["personas"][1]["scenario"]["leaving"]["cancel"]["shar"] = 0.1
    with pytest.raises(
        WireFormatError, match=r"`\$\.personas\[1\]\.scenario\.leaving\.cancel\.shar`"
    ):
        scenario_from_wire(wire)
    wire = msgspec.to_builtins(_every_part(tmp_path, monkeypatch))
    wire["personas"][0]["data"]["mode"] = "uniq"  # modes and kinds are Literals: checked too
    with pytest.raises(WireFormatError, match=r"Invalid enum value 'uniq'.*personas\[0\]\.data"):
        scenario_from_wire(wire)
    wire = msgspec.to_builtins(_every_part(tmp_path, monkeypatch))
    wire["conversation"]["turns"] = "three"
    with pytest.raises(
        WireFormatError, match=r"not valid: Expected `array`.*\$\.conversation\.turns"
    ):
        scenario_from_wire(wire)


def test_a_misspelt_key_in_the_load_plan_fails_naming_its_path() -> None:
    wire = msgspec.to_builtins(load_scenario(REPO / "scenarios" / "stages.yaml"))
    wire["load"]["plan"]["stages"][0]["userz"] = 5
    with pytest.raises(
        WireFormatError, match=r"unknown field `userz`.*\$\.load\.plan\.stages\[0\]"
    ):
        scenario_from_wire(wire)


@pytest.mark.parametrize(("name", "mode"), [("stages", "stages"), ("arrival", "arrival"),
                                            ("capacity", "search")])  # fmt: skip
def test_the_load_plan_round_trips_and_is_what_the_summary_states(name: str, mode: str) -> None:
    plan = load_scenario(REPO / "scenarios" / f"{name}.yaml").load.plan
    assert plan is not None and plan.mode == mode
    assert msgspec.convert(msgpack.unpackb(msgpack.packb(msgspec.to_builtins(plan))), LoadPlan) == (
        plan
    )
    summary = summary_from_dict(
        {
            **summary_to_dict(build_summary(MetricsBook(), meta={})),
            "plan": msgspec.to_builtins(plan),
        }
    )
    assert summary.plan == plan  # summary.json's `plan` is the same model
