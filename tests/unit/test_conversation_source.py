"""The conversation model: files of whole conversations, the prompt source, the wire to workers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.config.sources import PromptSource
from wxo_load.core.conversation import ConversationPlan, Turn
from wxo_load.core.errors import ConfigError

BASE = "name: s\nagent_id: a\n"
FILE = (
    '{"id": "c1", "turns": ["hello", "my laptop will not start", "thanks"]}\n'
    "\n"
    '{"id": "c2", "start_offset_s": 12.5, "turns": [{"text": "hi"}, '
    '{"content": "balance?", "think_s": 4.2, "recorded": {"answer_chars": 180}}]}\n'
)


def scenario(tmp_path: Path, text: str, conversations: str = FILE) -> Scenario:
    (tmp_path / "c.jsonl").write_text(conversations, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_scenario(path)


def test_a_conversations_file_gives_whole_conversations_with_their_think_times(
    tmp_path: Path,
) -> None:
    loaded = scenario(tmp_path, "prompts: {conversations: c.jsonl}\n")
    first, second = loaded.prompts.conversations
    assert first.texts == ["hello", "my laptop will not start", "thanks"]
    assert first.source_id == "c1" and first.turns[1].think_s is None
    assert second.start_offset_s == 12.5 and second.title == "hi"
    assert second.turns[1] == Turn("balance?", 4.2, None, {"answer_chars": 180})


def test_scripted_conversations_are_played_in_file_order_cycling(tmp_path: Path) -> None:
    source = PromptSource(scenario(tmp_path, "prompts: {conversations: c.jsonl}\n"))
    rng = random.Random(1)
    ids = [source.next_plan(rng).source_id for _ in range(5)]
    assert ids == ["c1", "c2", "c1", "c2", "c1"]


def test_without_conversations_the_pool_gives_as_many_turns_as_the_scenario_draws(
    tmp_path: Path,
) -> None:
    loaded = scenario(tmp_path, "prompts: [a, b]\nconversation: {turns: 3}\n")
    plan = PromptSource(loaded).next_plan(random.Random(1))
    assert plan.texts == ["a", "b", "a"] and all(t.think_s is None for t in plan.turns)


def test_the_scenario_travels_to_workers_with_its_conversations(tmp_path: Path) -> None:
    loaded = scenario(tmp_path, "prompts: {conversations: c.jsonl, order: random}\n")
    again = scenario_from_wire(scenario_to_wire(loaded))
    assert again.prompts.conversations == loaded.prompts.conversations
    assert isinstance(again.prompts.conversations[0], ConversationPlan)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1"),
        ('{"turns": []}\n', "non-empty list"),
        ('{"turns": ["a"], "speaker": "x"}\n', "unknown key 'speaker'"),
        ('{"turns": ["a", {"text": "b", "think_s": -1}]}\n', "turn 2"),
        ('{"turns": ["a", {"think_s": 1}]}\n', "non-empty message text"),
        ("\n", "holds no conversation"),
    ],
)
def test_a_bad_conversations_file_names_the_file_line_and_key(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        scenario(tmp_path, "prompts: {conversations: c.jsonl}\n", content)
    assert "prompts.conversations" in str(info.value) and message in str(info.value)
