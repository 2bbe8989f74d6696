"""summary.json as a typed model: one load and dump, a generated JSON Schema that stays current,
and v1 files (baselines saved before v2) that still load, gate and compare."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec
import orjson
import pytest
from gates_support import make_summary, summary_json, write_results

from wxo_load.cli.main import main as cli_main
from wxo_load.core.book import MetricsBook
from wxo_load.core.records import RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_codec import (
    SCHEMA_V1,
    SummaryFormatError,
    dump_summary,
    summary_from_bytes,
    summary_from_dict,
)
from wxo_load.core.summary_meta import SummaryMeta
from wxo_load.core.summary_model import SCHEMA, Summary
from wxo_load.core.summary_sections import Stat
from wxo_load.output.files import write_summary_file
from wxo_load.output.schema import SCHEMA_FILE, summary_schema

REPO = Path(__file__).resolve().parents[2]


def _book(runs: int = 40, first_text_ms: float = 800.0) -> MetricsBook:
    book = MetricsBook()
    for i in range(runs):
        run = RunRecord(1_800_000_000.0 + i, "u", f"c{i // 2}", i % 2, f"r{i}")
        run.run_started_ms, run.first_delta_ms = 50.0, first_text_ms - 10
        run.first_text_ms, run.message_created_ms, run.done_ms = first_text_ms, 900.0, 1000.0
        book.record_run(run)
    return book


def test_the_checked_in_schema_is_what_the_model_generates() -> None:
    checked_in = (REPO / SCHEMA_FILE).read_bytes()
    assert checked_in == summary_schema(), (
        f"{SCHEMA_FILE} is stale: run `python -m wxo_load.output.schema {SCHEMA_FILE}`"
    )


def test_the_schema_check_bites_when_the_model_changes() -> None:
    class Wider(Summary, frozen=True, kw_only=True):
        added_figure: int = 0

    assert msgspec.json.schema(Wider) != msgspec.json.schema(Summary)


def test_dump_and_load_are_one_round_trip_and_the_file_validates(tmp_path: Path) -> None:
    summary = build_summary(_book(), meta=SummaryMeta(started_at=0.0, ended_at=10.0))
    assert summary_from_bytes(dump_summary(summary)) == summary
    write_summary_file(tmp_path, summary)
    data = json.loads((tmp_path / "summary.json").read_text())
    jsonschema.validate(data, json.loads((REPO / SCHEMA_FILE).read_text()))
    assert data["schema"] == SCHEMA and data["search_steps"] is None and data["plan"] is None


def test_a_wrong_value_is_refused_naming_its_path() -> None:
    data = summary_json(_book())
    data["runs"]["total"] = "many"
    with pytest.raises(SummaryFormatError, match=r"\$\.runs\.total"):
        summary_from_dict(data)
    with pytest.raises(SummaryFormatError, match="not one this version reads"):
        summary_from_dict({**data, "schema": "wxo-load/summary/v9"})


def test_a_misspelt_key_fails_instead_of_vanishing() -> None:
    data = summary_json(_book())
    with pytest.raises(SummaryFormatError, match="unknown field `runs_totl`"):
        summary_from_dict({**data, "runs_totl": 3})
    data["runs"]["erorr_rate"] = 0.5  # nested sections too
    with pytest.raises(SummaryFormatError, match=r"unknown field `erorr_rate`.*\$\.runs"):
        summary_from_dict(data)
    with pytest.raises(msgspec.ValidationError, match="unknown field `p9`"):
        msgspec.convert({"count": 1, "p9": 2.0}, Stat)


def test_a_v1_summary_with_keys_v2_never_had_still_loads() -> None:
    v1 = _v1_search_baseline()
    v1["legacy_note"] = "from an old version"
    v1["runs"] = {**v1["runs"], "retired_figure": 1}
    summary = summary_from_dict(v1)
    assert summary.runs.total == v1["runs"]["total"]


def _v1_search_baseline() -> dict:
    """A summary as v1 wrote it: a capacity search's `steps` and its `load_plan`."""
    v1 = make_summary(runs=40, first_text_p95=800.0)
    assert v1["schema"] == SCHEMA_V1
    segment = {"index": 0, "name": "step 1", "kind": "step", "load": {"users": 5},
               "started_at": None, "duration_s": 10.0, "measured_s": 10.0, "runs": v1["runs"],
               "conversations": v1["conversations"], "throughput": v1["throughput"],
               "metrics": {}, "verdict": "pass"}  # fmt: skip
    search = {"kind": "users", "start": 5, "step": 5, "max": 10, "slo": ["error_rate < 1%"]}
    return {**v1, "steps": [segment], "load_plan": {"mode": "search", "search": search}}


def test_a_v1_summary_loads_with_its_keys_renamed() -> None:
    summary = summary_from_dict(_v1_search_baseline())
    assert summary.schema == SCHEMA
    assert summary.search_steps is not None and summary.search_steps[0].verdict == "pass"
    assert summary.plan is not None and summary.plan.search is not None


def test_a_v1_baseline_gates_and_compares_a_v2_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = write_results(tmp_path / "baseline", _v1_search_baseline())  # first_text p95 800
    slower = tmp_path / "now"
    slower.mkdir()
    summary = build_summary(
        _book(first_text_ms=1200.0), meta=SummaryMeta(started_at=0.0, ended_at=4.0)
    )
    write_summary_file(slower, summary)
    assert orjson.loads((slower / "summary.json").read_bytes())["schema"] == SCHEMA
    failing = ["gate", str(slower), "--regression", "first_text.p95 +10%", "--baseline",
               str(baseline), "--no-write"]  # fmt: skip
    assert cli_main(failing) == 3
    assert "first_text.p95" in capsys.readouterr().out
    passing = [*failing[:3], "first_text.p95 +60%", *failing[4:]]
    assert cli_main(passing) == 0
    assert cli_main(["compare", str(baseline), str(slower)]) == 0
    assert "first_text.p95" in capsys.readouterr().out
