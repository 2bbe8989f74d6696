"""Records read back from runs.jsonl / conversations.jsonl (or a worker's rows) go through
msgspec.convert: every field comes back, unknown keys are ignored, a wrong type is named."""

from __future__ import annotations

import msgspec
import orjson
import pytest

from wxo_load.core.records import ConversationRecord, RunRecord


def _run() -> RunRecord:
    run = RunRecord(
        started_at_unix=1.5,
        user_id="u",
        conversation_id="c",
        turn_index=1,
        request_id="r",
        thread_id="t",
    )
    run.total_ms = 12.5
    run.tools = [("search", 1.0, 2.5), ("slow", 3.0, None)]
    run.failed_checks = ["contains"]
    return run


def test_a_run_row_comes_back_as_the_record_it_was_through_json() -> None:
    run = _run()
    row = orjson.loads(orjson.dumps(run.to_dict()))
    back = RunRecord.from_dict({**row, "a_field_of_a_later_version": 1})
    assert back.to_dict() == run.to_dict()
    assert back.tools == [("search", 1.0, 2.5), ("slow", 3.0, None)]


def test_a_conversation_row_comes_back_and_an_int_is_a_float_where_one_is_due() -> None:
    conv = ConversationRecord(started_at_unix=2, user_id="u", conversation_id="c", runs=2)
    back = ConversationRecord.from_dict(orjson.loads(orjson.dumps(conv.to_dict())))
    assert back == conv and isinstance(back.started_at_unix, float)


def test_a_row_with_a_wrong_type_names_its_field() -> None:
    row = _run().to_dict()
    row["turn_index"] = "one"
    with pytest.raises(msgspec.ValidationError, match="turn_index"):
        RunRecord.from_dict(row)
