"""The metric table (core.metrics), its derived views, and the one number formatter (core.fmt)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from tests.helpers.gates_support import summary_json
from wxo_load.core import fmt
from wxo_load.core.book import MetricsBook
from wxo_load.core.metrics import (
    ALL_METRICS,
    CONVERSATION,
    CONVERSATION_METRICS,
    COUNT,
    LOAD_GENERATOR_METRICS,
    LOCUST_NAMES,
    LOCUST_RUN_ENTRIES,
    METRIC_TITLES,
    METRICS,
    PER_S,
    PERCENT,
    RATE,
    RUN,
    RUN_METRICS,
    TIME,
)
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta


def test_every_metric_reads_a_field_its_record_has() -> None:
    record_fields = {
        RUN: {f.name for f in fields(RunRecord)},
        CONVERSATION: {f.name for f in fields(ConversationRecord)},
    }
    for metric in METRICS:
        if metric.field is not None:
            assert metric.field in record_fields[metric.source], metric.key
        assert metric.title
    assert len({m.key for m in METRICS}) == len(METRICS)


def test_derived_views_keep_the_summary_order() -> None:
    assert ALL_METRICS == (
        "thread_create",
        "run_started",
        "first_delta",
        "first_text",
        "message_created",
        "done",
        "conversation",
    )
    assert list(RUN_METRICS) == [
        "run_started",
        "first_delta",
        "first_text",
        "message_created",
        "done",
    ]
    assert CONVERSATION_METRICS == {"thread_create": "thread_create_ms", "conversation": "total_ms"}
    assert LOAD_GENERATOR_METRICS == ("client_lag", "schedule_lag")
    assert LOCUST_NAMES["first_text"] == ("STREAM", "first text")
    assert LOCUST_RUN_ENTRIES[-1] == ("done_ms", ("STREAM", "done"))
    assert [field for field, _ in LOCUST_RUN_ENTRIES] == list(RUN_METRICS.values())
    assert set(METRIC_TITLES) >= set(ALL_METRICS)


@pytest.mark.parametrize(
    ("value", "plain", "grouped"),
    [
        (0, "0", "0"),
        (-0.0, "0", "0"),
        (0.0001234, "0.000123", "0.000123"),
        (0.00001, "0.00001", "0.00001"),
        (0.5124, "0.512", "0.512"),
        (1.5, "1.5", "1.5"),
        (9.999, "10", "10"),
        (12.34, "12.3", "12.3"),
        (99.96, "100", "100"),
        (812.4, "812", "812"),
        (1234.5, "1234", "1,234"),
        (-3.5, "-3.5", "-3.5"),
    ],
)
def test_num(value: float, plain: str, grouped: str) -> None:
    assert fmt.num(value) == plain
    assert fmt.num(value, sep=",") == grouped


def test_ms_value_and_signed_delta() -> None:
    assert fmt.ms(None) == "-"
    assert fmt.ms(5) == "5.0 ms"
    assert fmt.ms(1234.4) == "1,234 ms"
    assert fmt.ms(1234.4, sep="") == "1234 ms"
    assert fmt.value(1500, TIME, "s") == "1.5 s"
    assert fmt.value(90_000, TIME, "m") == "1.5 min"
    assert fmt.value(0.0123, RATE) == "1.23%"
    assert fmt.value(2.5, PER_S) == "2.5/s"
    assert fmt.value(97, PERCENT) == "97%"
    assert fmt.value(100, COUNT) == "100"
    assert fmt.signed_delta(-0.005, RATE) == "-0.5pp"
    assert fmt.signed_delta(12, TIME) == "+12 ms"


def test_each_load_generator_lag_warns_over_its_limit() -> None:
    book = MetricsBook()
    for _ in range(10):
        book.record_client_lag_ms(80.0)
    book.record_run(RunRecord(1.0, "u", "c", 0, "r", schedule_lag_ms=30.0))
    limits = LoadGeneratorExtras(
        client_lag_p99_limit_ms=50,
        schedule_lag_p99_limit_ms=20,
        cpu_percent_max=95.0,
        cpu_percent_limit=90,
    )
    lg = summary_json(book, meta=SummaryMeta(load_generator=limits))["load_generator"]
    assert [w.split(" (")[0] for w in lg["warnings"]] == [
        "client lag p99 was 80 ms",
        "schedule lag p99 was 30 ms",
        "load generator CPU peaked at 95 %",
    ]
    assert lg["trustworthy"] is False
    assert list(lg)[:3] == ["client_lag", "schedule_lag", "cpu_percent_max"]
