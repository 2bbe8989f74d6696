"""The summary of a fixed, rich book is byte-equal to a golden file made by the code before the
sections were typed at their source (#31): building a summary from typed parts changed nothing.

To accept an intended change of summary.json, regenerate the file:
`WXO_GOLDEN_WRITE=1 pytest tests/unit/test_summary_golden.py` and review its diff."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.golden_book import GOLDEN_TIMELINE, T0, golden_book
from wxo_load import __version__
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_codec import dump_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_sections import Options, ScenarioInfo, Workers
from wxo_load.core.window import MeasuredWindow

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "summary_rich.json"


def _meta() -> SummaryMeta:
    return SummaryMeta(
        scenario=ScenarioInfo(name="golden", file="scenarios/golden.yaml",
                              config={"turns": 3, "personas": [{"name": "hr"}, {"name": "it"}]}),
        options=Options(users=9, spawn_rate=3, run_time_s=60, processes=2, workers=3,
                        stop_timeout_s=5.0, gates=["done.p95 < 5000"], baseline=None),
        host="http://127.0.0.1:4321",
        started_at=T0,
        ended_at=T0 + 60.0,
        window=MeasuredWindow(T0, warmup_s=4.0, cooldown_s=5.0, planned_end_unix=T0 + 58.0),
        users_peak=9,
        timeline=GOLDEN_TIMELINE,
        workers=Workers(seen=3, lost=1, lost_ids=["w3"]),
        load_generator=LoadGeneratorExtras(
            cpu_percent_max=95.5, cpu_s=12.25, cpu_ms_per_run=51.042,
            cpu_percent_limit=90.0, client_lag_p99_limit_ms=1.5,
            schedule_lag_p99_limit_ms=20.0, warnings=["a warning given by the runner"],
        ),
    )  # fmt: skip


def test_a_rich_summary_is_byte_equal_to_the_golden_file() -> None:
    made = dump_summary(build_summary(golden_book(), meta=_meta()))
    made = made.replace(f'"version": "{__version__}"'.encode(), b'"version": "VERSION"')
    if os.environ.get("WXO_GOLDEN_WRITE"):
        GOLDEN.write_bytes(made)
    assert made == GOLDEN.read_bytes()


EMPTY = GOLDEN.with_name("summary_empty.json")


def test_an_empty_summary_without_a_description_is_byte_equal_to_its_golden_file() -> None:
    from wxo_load.core.book import MetricsBook

    made = dump_summary(build_summary(MetricsBook()))
    made = made.replace(f'"version": "{__version__}"'.encode(), b'"version": "VERSION"')
    if os.environ.get("WXO_GOLDEN_WRITE"):
        EMPTY.write_bytes(made)
    assert made == EMPTY.read_bytes()
