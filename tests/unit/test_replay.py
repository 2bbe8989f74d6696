"""Capture and replay, pure parts: redaction, messages to turns, retiming, then versus now."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.gates_support import make_summary, typed
from wxo_load.config.fields import Where
from wxo_load.config.prompts import parse_prompts
from wxo_load.core.captured import Malformed, conversation_of
from wxo_load.core.errors import ConfigError
from wxo_load.core.pii import PiiRedactor, parse_rule, synthetic_value
from wxo_load.core.records import RunRecord
from wxo_load.core.replay_stats import ReplayBook, ReplayWire
from wxo_load.core.wire import decode, encode
from wxo_load.output.markdown import replay_markdown
from wxo_load.output.report.replay import replay_section


def test_default_rules_redact_email_phone_card_iban_and_digit_runs_but_not_dates() -> None:
    r = PiiRedactor()
    text = (
        "mail a.b+c@x.example.org, call +1 (555) 010-0003, card 4111-1111-1111-1111, "
        "IBAN DE89 3704 0044 0532 0130 00, order 987654, on 2026-01-05 at 10:30"
    )
    out = r.text(text)
    assert out == (
        "mail [EMAIL], call [PHONE], card [CARD], IBAN [IBAN], order [DIGITS], "
        "on 2026-01-05 at 10:30"
    )
    assert r.summary() == "1 email, 1 iban, 1 card, 1 phone, 1 digits"


def test_user_rules_run_first_and_placeholders_number_values_per_conversation() -> None:
    r = PiiRedactor((parse_rule(r"EMP\d+=[EMP]"),), placeholders=True)
    r.start()
    assert r.text("EMP123 a@b.io and c@d.io, again a@b.io") == (
        "[EMP] {{email_1}} and {{email_2}}, again {{email_1}}"
    )
    r.start()
    assert r.text("x@y.io") == "{{email_1}}"
    assert r.column_names() == ["email_1", "email_2"]
    assert synthetic_value("email_2", 0) != synthetic_value("email_2", 1)
    with pytest.raises(ConfigError, match="--redact"):
        parse_rule("no-equals-sign")


def _message(role: str, text: str, at: str, **extra: object) -> dict[str, object]:
    return {"role": role, "content": [{"response_type": "text", "text": text}],
            "created_on": f"2026-01-05T09:00:{at}Z", **extra}  # fmt: skip


def test_messages_become_turns_with_think_time_from_the_last_answer() -> None:
    call = {"type": "tool_calls", "tool_calls": [{"name": "lookup"}]}
    tools = {"step_history": [{"step_details": [call]}]}
    messages = [
        _message("user", "hi", "00.000"),
        _message("assistant", "hello", "01.500", assistant={"name": "bot"}, **tools),
        _message("user", "more", "04.250"),
        _message("assistant", "a", "05.000"),
        _message("assistant", "bc", "05.750"),
    ]
    start, conv = conversation_of("t1", messages, str.upper) or (0, {})
    recorded = {"answer_chars": 5, "agent_ms": 1500.0, "tools": ["lookup"], "answered_by": "bot"}
    assert conv["turns"][0] == {"text": "HI", "recorded": recorded}
    assert conv["turns"][1]["think_s"] == 2.75
    assert conv["turns"][1]["recorded"]["agent_ms"] == 1500.0
    assert conv["turns"][1]["recorded"]["answer_chars"] == 3
    with pytest.raises(Malformed):
        conversation_of("t2", [{"role": "user", "content": "x", "created_on": "yesterday"}], str)


def test_timing_recorded_scales_think_times_and_scenario_drops_them(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"id": "a", "start_offset_s": 10, "turns": ["x", {"text": "y", "think_s": 4}]}\n'
    )
    w = Where("s.yaml")
    half = parse_prompts(w, {"conversations": str(path), "time_scale": 0.5}, tmp_path)
    assert half.conversations[0].turns[1].think_s == 2.0
    assert half.conversations[0].start_offset_s == 5.0
    own = parse_prompts(w, {"conversations": str(path), "timing": "scenario"}, tmp_path)
    assert own.conversations[0].turns[1].think_s is None
    with pytest.raises(ConfigError, match="prompts.time_scale"):
        parse_prompts(w, {"conversations": str(path), "time_scale": 0}, tmp_path)
    with pytest.raises(ConfigError, match="prompts.timing"):
        parse_prompts(w, {"messages": ["x"], "timing": "recorded"}, tmp_path)


def test_replay_book_merges_and_summarises_then_versus_now() -> None:
    def run(source: str, recorded: float, measured: float) -> RunRecord:
        return RunRecord(0.0, "u", "c", 0, "r", source_id=source, recorded_agent_ms=recorded,
                         message_created_ms=measured)  # fmt: skip

    a, b = ReplayBook(), ReplayBook()
    a.record(run("c1", 1000, 500))
    b.record(run("c1", 1000, 700))
    b.record(run("c2", 2000, 4000))
    a.merge_packed(decode(encode(b.packed()), ReplayWire, "b"))
    replay = a.summary()["replay"]
    assert replay["conversations"] == 2 and replay["turns"] == 3
    rows = {r["id"]: r for r in replay["per_conversation"]}
    assert rows["c1"]["ratio"] == 0.6 and rows["c2"]["ratio"] == 2.0
    plain = typed(make_summary())
    with_replay = typed({**make_summary(), "replay": replay})
    html = replay_section(with_replay)
    assert "Then versus now" in html and "2.00×" in html
    assert ReplayBook().summary() == {} and replay_section(plain) == ""
    assert "| p50 | " in replay_markdown(with_replay) and replay_markdown(plain) == ""


def test_order_unique_is_for_conversation_files_and_sequential_means_script(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"turns": ["x"]}\n')
    w = Where("s.yaml")
    assert parse_prompts(w, {"conversations": str(path), "order": "unique"}, tmp_path).order == (
        "unique"
    )
    assert parse_prompts(w, {"messages": ["a"], "order": "sequential"}, tmp_path).order == "script"
    with pytest.raises(ConfigError, match="prompts.order"):
        parse_prompts(w, {"messages": ["a"], "order": "unique"}, tmp_path)


def test_arrivals_is_recorded_or_none(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"turns": ["x"]}\n')
    w = Where("s.yaml")
    raw = {"conversations": str(path), "arrivals": "recorded"}
    assert parse_prompts(w, raw, tmp_path).arrivals == "recorded"
    with pytest.raises(ConfigError, match="prompts.arrivals"):
        parse_prompts(w, {**raw, "arrivals": "poisson"}, tmp_path)
