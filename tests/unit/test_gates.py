"""The gate engine on hand-built summary.json dicts: parsing, evaluation, regressions, abort."""

from __future__ import annotations

import pytest
from gates_support import make_summary, metric, variant

from wxo_load.core.errors import ConfigError
from wxo_load.gates.evaluate import Verdict, abort_reason, evaluate
from wxo_load.gates.figures import figure_value
from wxo_load.gates.parse import (
    Gate,
    RegressionGate,
    parse_gate,
    parse_gate_list,
    parse_gate_spec,
    parse_regression,
)

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "figure", "op", "limit", "unit"),
    [
        ("first_text.p95 < 3000ms", "first_text.p95", "<", 3000.0, "ms"),
        ("done.p99 < 10s", "done.p99", "<", 10_000.0, "s"),
        ("conversation.p50 < 1m", "conversation.p50", "<", 60_000.0, "m"),
        ("first_text.p95<2.5 s", "first_text.p95", "<", 2500.0, "s"),
        ("error_rate < 1%", "error_rate", "<", 0.01, "%"),
        ("error_rate <= 0.02", "error_rate", "<=", 0.02, ""),
        ("error_rate.timeout <= 0.5%", "error_rate.timeout", "<=", 0.005, "%"),
        ("error_rate.http_503 < 2%", "error_rate.http_503", "<", 0.02, "%"),
        ("runs_per_s >= 5", "runs_per_s", ">=", 5.0, ""),
        ("runs_per_s > 2.5/s", "runs_per_s", ">", 2.5, "/s"),
        ("runs >= 100", "runs", ">=", 100.0, ""),
        ("first_text.count >= 50", "first_text.count", ">=", 50.0, ""),
        (
            "by_turn.follow_up.first_text.p95 < 800ms",
            "by_turn.follow_up.first_text.p95",
            "<",
            800.0,
            "ms",
        ),
        ("client_lag.p99 < 20ms", "client_lag.p99", "<", 20.0, "ms"),
        ("thread_create.p999 < 1e3ms", "thread_create.p999", "<", 1000.0, "ms"),
    ],
)
def test_parse_gate_normalises_figure_op_and_limit(
    text: str, figure: str, op: str, limit: float, unit: str
) -> None:
    gate = parse_gate(text)
    assert (gate.figure, gate.op, gate.unit) == (figure, op, unit)
    assert gate.limit == pytest.approx(limit)
    assert gate.text == text.strip()


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("first_text.p95 < 3000", ["add a unit", "ms, s or m"]),
        ("first_text.p95 < 3 parsecs", ['"parsecs" is not a time unit']),
        ("first_txt.p95 < 3s", ['unknown figure "first_txt.p95"', "first_text", "p999"]),
        ("first_text.p97 < 3s", ['unknown statistic "p97"', "p50 p90 p95 p99 p999"]),
        ("first_text < 3s", ["say which statistic of first_text", '"first_text.p95"']),
        ("error_rate.oops < 1%", ['unknown error class "oops"', "http_<status>"]),
        ("error_rate < 5", ["a percentage or a fraction from 0 to 1"]),
        ("error_rate < 150%", ["cannot be over 100%"]),
        ("runs >= 100ms", ['"ms" does not fit', "plain numbers"]),
        ("first_text.p95 == 3s", ['operator "==" compares counts only', "< <= > >="]),
        ("first_text.p95 != 3s", ['operator "!="', "< <= > >="]),
        ("first_text.p95 < -3s", ["cannot be negative"]),
        (
            "p95 of first text is fast",
            ["not a gate expression", "FIGURE OP LIMIT", '"error_rate < 1%"'],
        ),
        ("by_turn.third.first_text.p95 < 1s", ['unknown turn "third"']),
        ("by_turn.first.conversation.p95 < 1s", ["by_turn figures are per run"]),
        ("", ["empty gate expression"]),
    ],
)
def test_parse_gate_rejects_bad_expressions_with_guidance(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_gate(text, where="--gate")
    message = str(info.value)
    assert message.startswith("--gate")
    for fragment in fragments:
        assert fragment in message


def test_parse_gate_names_where_the_expression_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^scenarios/ci\.yaml, key gates\[2\] "):
        parse_gate("first_text.p95 < 3", where="scenarios/ci.yaml, key gates[2]")


def test_parse_gate_points_a_regression_to_the_regression_option() -> None:
    with pytest.raises(ConfigError, match="is a regression gate"):
        parse_gate("first_text.p95 +10%")


@pytest.mark.parametrize(
    ("text", "figure", "tolerance", "kind"),
    [
        ("first_text.p95 +10%", "first_text.p95", 10.0, "percent"),
        ("first_text.p95 10%", "first_text.p95", 10.0, "percent"),
        ("done.p99+5%", "done.p99", 5.0, "percent"),
        ("done.p99 +50ms", "done.p99", 50.0, "absolute"),
        ("done.p99 +0.5s", "done.p99", 500.0, "absolute"),
        ("error_rate +0.5pp", "error_rate", 0.005, "absolute"),
        ("error_rate +0.005", "error_rate", 0.005, "absolute"),
        ("runs_per_s +10%", "runs_per_s", 10.0, "percent"),
        ("runs_per_s +2", "runs_per_s", 2.0, "absolute"),
    ],
)
def test_parse_regression_reads_relative_and_absolute_tolerances(
    text: str, figure: str, tolerance: float, kind: str
) -> None:
    gate = parse_regression(text)
    assert (gate.figure, gate.tolerance_kind) == (figure, kind)
    assert gate.tolerance == pytest.approx(tolerance)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("runs_per_s -10%", "written with +"),
        ("runs +10%", "runs is a count"),
        ("first_text.p95 +50", 'tolerance unit "" does not fit'),
        ("error_rate +2", 'tolerance unit "" does not fit'),
        ("first_text.p95 < 3s", "is a limit (FIGURE OP LIMIT), not a regression"),
    ],
)
def test_parse_regression_rejects_bad_tolerances(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match="^--regression") as info:
        parse_regression(text)
    assert fragment in str(info.value)


def test_parse_gate_spec_accepts_strings_and_mappings() -> None:
    assert parse_gate_spec("runs >= 10", where="w") == parse_gate("runs >= 10")
    assert isinstance(parse_gate_spec("first_text.p95 +10%", where="w"), RegressionGate)
    gate = parse_gate_spec({"gate": "error_rate < 5%", "abort": True, "min_runs": 50}, where="w")
    assert isinstance(gate, Gate) and gate.abort and gate.min_runs == 50
    regression = parse_gate_spec({"regression": "done.p99 +50ms"}, where="w")
    assert isinstance(regression, RegressionGate) and regression.tolerance == 50.0


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"gate": "runs >= 1", "abrot": True}, "unknown key(s) abrot"),
        ({"gate": "runs >= 1", "abort": "yes"}, "key `abort`: expected true or false"),
        ({"gate": "runs >= 1", "min_runs": -1}, "key `min_runs`: expected a whole number"),
        ({"abort": True}, "exactly one of `gate`"),
        ({"gate": "done.p99 +5%", "abort": True}, "is a regression"),
        ({"regression": "done.p99 +5%", "abort": True}, "apply to limits, not regressions"),
        (42, "got int"),
    ],
)
def test_parse_gate_spec_rejects_bad_items(item: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=r"^ci\.yaml, key gates\[0\]") as info:
        parse_gate_list([item], where="ci.yaml, key gates")
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- figures


def test_figure_value_reads_every_kind_of_figure() -> None:
    summary = make_summary(runs=200, failed={"timeout": 3, "http_503": 1}, first_text_p95=900.0)
    assert figure_value(summary, "first_text.p95") == 900.0
    assert figure_value(summary, "first_text.count") == 196
    assert figure_value(summary, "error_rate") == pytest.approx(0.02)
    assert figure_value(summary, "error_rate.timeout") == pytest.approx(0.015)
    assert figure_value(summary, "error_rate.http_429") == 0.0  # absent class: none happened
    assert figure_value(summary, "runs") == 200
    assert figure_value(summary, "runs.failed") == 4
    assert figure_value(summary, "runs_per_s") == pytest.approx(10.0)
    assert figure_value(summary, "by_turn.follow_up.first_text.p95") == 700.0
    assert figure_value(summary, "by_turn.first.runs") == 50
    assert figure_value(summary, "client_lag.p99") == 3.0
    assert figure_value(summary, "cpu_percent_max") == 55.0
    assert figure_value(summary, "by_turn.follow_up.done.p95") is None  # not in the summary
    assert figure_value(summary, "nonsense.p95") is None


# --------------------------------------------------------------------------- evaluation


def _one(text: str, summary: dict, baseline: dict | None = None) -> Verdict:
    (verdict,) = evaluate([parse_gate_spec(text, where="test")], summary, baseline)
    return verdict


def test_percentile_gate_passes_under_its_limit_and_fails_over_it() -> None:
    summary = make_summary(first_text_p95=812.0)
    passing = _one("first_text.p95 < 3000ms", summary)
    assert passing.passed and passing.measured == "812 ms" and passing.limit == "< 3000 ms"
    failing = _one("first_text.p95 < 0.5s", summary)
    assert not failing.passed
    assert failing.measured == "0.812 s" and failing.reason == "0.812 s is not < 0.5 s"


def test_boundary_respects_strict_and_inclusive_operators() -> None:
    summary = make_summary(first_text_p95=800.0)
    assert not _one("first_text.p95 < 800ms", summary).passed
    assert _one("first_text.p95 <= 800ms", summary).passed
    assert _one("runs >= 200", summary).passed
    assert not _one("runs > 200", summary).passed


def test_gate_on_too_few_samples_fails_instead_of_passing() -> None:
    summary = make_summary(runs=12)
    verdict = _one("error_rate < 50%", variant(summary))
    assert verdict.passed  # 12 runs are enough by default
    (strict,) = evaluate([parse_gate("error_rate < 50%", min_runs=100)], summary)
    assert not strict.passed and strict.reason == "only 12 runs, gate needs >= 100"


def test_gate_on_a_metric_without_samples_fails() -> None:
    summary = make_summary(first_text=metric(0, 0))
    verdict = _one("first_text.p95 < 3000ms", summary)
    assert not verdict.passed
    assert (
        verdict.measured == "n/a" and verdict.reason == "only 0 first_text samples, gate needs >= 1"
    )


def test_rate_gate_with_no_runs_fails() -> None:
    verdict = _one("error_rate < 1%", make_summary(runs=0, conversations=0))
    assert not verdict.passed and verdict.reason == "only 0 runs, gate needs >= 1"


def test_per_class_error_rate_gate_reads_its_own_class() -> None:
    summary = make_summary(runs=1000, failed={"timeout": 3, "http_503": 20})
    assert _one("error_rate.timeout <= 0.5%", summary).passed
    verdict = _one("error_rate.http_503 < 1%", summary)
    assert not verdict.passed and verdict.measured == "2%"
    assert _one("error_rate.http_429 <= 0%", summary).passed


def test_minimum_throughput_gate() -> None:
    summary = make_summary(runs=90, duration_s=30.0)  # 3 runs/s
    assert _one("runs_per_s >= 2", summary).passed
    verdict = _one("runs_per_s >= 5", summary)
    assert not verdict.passed and verdict.measured == "3/s" and verdict.limit == ">= 5/s"


def test_minimum_runs_gate() -> None:
    assert not _one("runs >= 100", make_summary(runs=40)).passed
    assert _one("runs >= 100", make_summary(runs=100)).passed


def test_figure_missing_from_summary_fails_with_reason() -> None:
    summary = make_summary()
    del summary["load_generator"]["client_lag"]
    verdict = _one("client_lag.p99 < 10ms", summary)
    assert not verdict.passed and "only 0 client_lag samples" in verdict.reason


def test_verdicts_keep_gate_order_and_text() -> None:
    texts = ["runs >= 1", "first_text.p95 < 1ms", "error_rate < 1%"]
    verdicts = evaluate([parse_gate(t) for t in texts], make_summary())
    assert [v.gate_text for v in verdicts] == texts
    assert [v.passed for v in verdicts] == [True, False, True]


# --------------------------------------------------------------------------- regressions


def test_regression_percent_fails_when_a_time_got_slower_than_tolerance() -> None:
    baseline = make_summary(first_text_p95=812.0)
    current = make_summary(first_text_p95=1002.0)
    verdict = _one("first_text.p95 +10%", current, baseline)
    assert not verdict.passed and verdict.kind == "regression"
    assert verdict.reason == "+23.4% (+190 ms) against baseline 812 ms (limit +10%)"
    assert verdict.limit == "<= 893 ms (baseline 812 ms +10%)"


def test_regression_percent_passes_within_tolerance_and_when_faster() -> None:
    baseline = make_summary(first_text_p95=800.0)
    assert _one("first_text.p95 +10%", make_summary(first_text_p95=880.0), baseline).passed
    faster = _one("first_text.p95 +10%", make_summary(first_text_p95=400.0), baseline)
    assert faster.passed and faster.reason.startswith("-50.0%")


def test_regression_absolute_tolerance_on_times() -> None:
    baseline = make_summary(first_text_p95=800.0)
    assert _one("first_text.p95 +50ms", make_summary(first_text_p95=849.0), baseline).passed
    assert not _one("first_text.p95 +50ms", make_summary(first_text_p95=851.0), baseline).passed


def test_regression_on_throughput_treats_lower_as_worse() -> None:
    baseline = make_summary(runs=200, duration_s=20.0)  # 10 runs/s
    slower = make_summary(runs=170, duration_s=20.0)  # 8.5 runs/s: -15%
    faster = make_summary(runs=400, duration_s=20.0)
    verdict = _one("runs_per_s +10%", slower, baseline)
    assert not verdict.passed and verdict.limit == ">= 9/s (baseline 10/s -10%)"
    assert _one("runs_per_s +10%", faster, baseline).passed
    assert _one("runs_per_s +2", slower, baseline).passed


def test_regression_on_error_rate_from_zero_needs_an_absolute_tolerance() -> None:
    baseline = make_summary(runs=200)
    current = make_summary(runs=200, failed={"timeout": 2})  # 1%
    relative = _one("error_rate +10%", current, baseline)
    assert not relative.passed and "use an absolute tolerance" in relative.reason
    assert _one("error_rate +1pp", current, baseline).passed
    assert not _one("error_rate +0.5pp", current, baseline).passed
    assert _one("error_rate +10%", baseline, baseline).passed


def test_regression_fails_when_the_baseline_lacks_the_figure() -> None:
    baseline = make_summary()
    del baseline["by_turn"]["follow_up"]["metrics"]["first_text"]
    verdict = _one("by_turn.follow_up.first_text.p95 +10%", make_summary(), baseline)
    assert not verdict.passed
    assert (
        verdict.reason == "no baseline figure: the baseline has no by_turn.follow_up.first_text.p95"
    )


def test_regression_without_a_baseline_fails() -> None:
    verdict = _one("first_text.p95 +10%", make_summary())
    assert not verdict.passed and "no baseline given" in verdict.reason


# --------------------------------------------------------------------------- abort


def _abort_gate(text: str, min_runs: int = 0) -> Gate:
    return parse_gate(text, abort=True, min_runs=min_runs)


def test_abort_on_error_rate_waits_for_the_minimum_number_of_runs() -> None:
    gate = _abort_gate("error_rate < 5%")
    assert abort_reason([gate], make_summary(runs=10, failed={"timeout": 5})) is None
    verdict = abort_reason([gate], make_summary(runs=20, failed={"timeout": 5}))
    assert verdict is not None and not verdict.passed
    assert verdict.gate_text == "error_rate < 5%"
    assert verdict.reason == "abort: 25% is not < 5% after 20 runs"


def test_abort_respects_a_gates_own_min_runs() -> None:
    gate = _abort_gate("error_rate.http_503 < 5%", min_runs=50)
    assert abort_reason([gate], make_summary(runs=49, failed={"http_503": 20})) is None
    assert abort_reason([gate], make_summary(runs=50, failed={"http_503": 20})) is not None


def test_abort_never_fires_on_gates_without_abort_or_still_within_limits() -> None:
    broken = make_summary(runs=100, failed={"timeout": 50})
    assert abort_reason([parse_gate("error_rate < 5%")], broken) is None
    assert abort_reason([_abort_gate("error_rate < 60%")], broken) is None


def test_abort_never_fires_on_lower_limits_that_can_still_be_reached() -> None:
    early = make_summary(runs=30, duration_s=30.0)
    assert (
        abort_reason([_abort_gate("runs >= 1000"), _abort_gate("runs_per_s >= 50")], early) is None
    )


def test_abort_on_percentile_needs_min_samples_and_a_broken_limit() -> None:
    gate = _abort_gate("first_text.p95 < 1s")
    assert (
        abort_reason([gate], make_summary(runs=19, conversations=5, first_text_p95=4000.0)) is None
    )
    assert abort_reason([gate], make_summary(runs=200, first_text_p95=900.0)) is None
    verdict = abort_reason([gate], make_summary(runs=200, first_text_p95=4000.0))
    assert (
        verdict is not None
        and verdict.reason == "abort: 4 s is not < 1 s after 200 first_text samples"
    )


def test_abort_on_max_or_count_is_final_from_the_first_sample() -> None:
    few = make_summary(runs=3, conversations=1, first_text=metric(3, 100.0, max_ms=9000.0))
    verdict = abort_reason([_abort_gate("first_text.max < 5s")], few)
    assert verdict is not None and "can only grow" in verdict.reason
    failures = make_summary(runs=5, conversations=1, failed={"timeout": 3})
    assert abort_reason([_abort_gate("runs.failed < 3")], failures) is not None


def test_abort_reports_the_first_gate_that_cannot_pass() -> None:
    summary = make_summary(runs=100, failed={"timeout": 30}, first_text_p95=5000.0)
    gates = [
        _abort_gate("runs >= 10"),
        _abort_gate("first_text.p95 < 1s"),
        _abort_gate("error_rate < 1%"),
    ]
    verdict = abort_reason(gates, summary)
    assert verdict is not None and verdict.gate_text == "first_text.p95 < 1s"
