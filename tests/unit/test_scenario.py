"""Scenario files: every key checked, prompts from files, plain data for the workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from wxo_load.config.model import Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
BASE = "name: s\nagent_id: a\n"


def scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


@pytest.mark.parametrize("name", ["smoke", "realistic", "ci", "personas", "answers"])
def test_shipped_scenarios_load(name: str) -> None:
    loaded = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    assert loaded.name == name and loaded.prompts.messages


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("p.yaml", "- first\n- {content: second}\n"),
        ("p.jsonl", '{"prompt": "first"}\n"second"\n'),
        ("p.csv", "id,message\n1,first\n2,second\n"),
        ("p.txt", "first\n\nsecond\n"),
    ],
)
def test_prompts_come_from_yaml_jsonl_csv_or_txt_files_next_to_the_scenario(
    tmp_path: Path, filename: str, content: str
) -> None:
    (tmp_path / filename).write_text(content, encoding="utf-8")
    loaded = scenario(tmp_path, BASE + f"prompts: {{file: {filename}, order: random}}\n")
    assert loaded.prompts.messages == ("first", "second") and loaded.prompts.order == "random"


def test_ranges_durations_and_request_extras(tmp_path: Path) -> None:
    loaded = scenario(
        tmp_path,
        BASE
        + (
            "prompts: [hi]\nload: {users: 3, run_time: 1m30s}\n"
            "conversation: {turns: [2, 5], think_time_s: 1.5}\n"
            "request: {context_variables: {wxo_user_name: A}, headers: {x-team: perf}}\n"
            "api: {stream_query: {stream: true}}\n"
        ),
    )
    assert loaded.load.run_time_s == 90 and loaded.load.users == 3
    assert loaded.conversation.turns == (2.0, 5.0) and loaded.conversation.think_time_s == (
        1.5,
        1.5,
    )
    assert loaded.request.context_variables == {
        "wxo_user_name": "A"
    } and loaded.request.headers == {"x-team": "perf"}
    assert loaded.api.stream_query == (("stream", "true"),)


def test_scenario_travels_to_workers_as_plain_data(tmp_path: Path) -> None:
    import msgpack

    loaded = scenario(
        tmp_path,
        BASE
        + "prompts: [hi, there]\nconversation: {turns: [1, 3]}\ngates: [first_text.p95 < 3s]\n",
    )
    wire = msgpack.unpackb(msgpack.packb(scenario_to_wire(loaded)))  # the spawn message: msgpack
    assert scenario_from_wire(wire) == loaded


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BASE + "prompts: [hi]\nconversation: {turns: [5, 2]}\n", "min above max"),
        (BASE + "prompts: [hi]\nconversation: {on_failure: retry}\n", "expected `continue`"),
        (BASE + "prompts: {file: missing.jsonl}\n", "does not exist"),
        (
            BASE + "prompts: [hi]\nrequest: {headers: {Authorization: x}}\n",
            "set by wxo-load itself",
        ),
        (BASE + "prompts: [hi]\nauth: {token: eyJabc}\n", "name it with `token_env"),
        (BASE + "prompts: [hi]\nhost: localhost:4321\n", "http:// or https://"),
        (BASE + "prompts: [hi]\ngates: [first_text.p95 < soon]\n", "key `gates[0]`"),
        ("name: s\nagent_id: a\nprompts: [hi\n", "not valid YAML at line"),
    ],
)
def test_bad_values_say_which_key_and_what_is_allowed(
    tmp_path: Path, text: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as error:
        scenario(tmp_path, text)
    assert fragment in str(error.value) and "s.yaml" in str(error.value)
