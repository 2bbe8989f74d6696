"""Regression gates that know the noise (gates/noise.py): the grammar, verdicts against a
repeated baseline that name the interval, a single baseline run as before, and `compare`."""

from __future__ import annotations

from pathlib import Path

import pytest
from gates_support import make_summary, write_results
from test_repeat_aggregate import P95S, aggregate_of

from wxo_load.cli.main import main as cli_main
from wxo_load.core.errors import ConfigError
from wxo_load.core.summary_codec import summary_from_dict
from wxo_load.gates.evaluate import evaluate
from wxo_load.gates.parse import parse_gate_spec, parse_regression
from wxo_load.output.aggregate import write_aggregate


def run_with(p95: float, runs_per_s_runs: int = 200):
    return summary_from_dict(make_summary(first_text_p95=p95, runs=runs_per_s_runs))


def test_the_grammar_names_the_interval_and_an_optional_minimum_effect() -> None:
    plain = parse_regression("first_text.p95 outside pi")
    assert (plain.figure, plain.interval, plain.tolerance, plain.tolerance_given) == (
        "first_text.p95", "pi", 0.0, False,
    )  # fmt: skip
    effect = parse_regression("first_text.p95 +5% outside CI")
    assert (effect.interval, effect.tolerance, effect.tolerance_kind) == ("ci", 5.0, "percent")
    assert parse_regression("done.p99 +50ms outside pi").tolerance == 50.0
    assert parse_gate_spec("first_text.p95 outside pi", where="gates[0]").interval == "pi"
    assert parse_regression("first_text.p95 +10%").interval is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("first_text.p95 outside band", 'name the interval, "outside pi"'),
        ("first_txt.p95 outside pi", "unknown figure"),
        ("runs +5% outside pi", "is a count"),
        ("runs outside pi", "is a count"),
        ("first_text.p95 -5% outside pi", "written with +"),
    ],
)
def test_a_wrong_noise_aware_gate_says_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_regression(text)


def test_inside_the_prediction_interval_passes_and_outside_fails_naming_it() -> None:
    baseline = aggregate_of(P95S)
    pi = baseline.figures["first_text.p95"].pi
    assert pi is not None
    gate = parse_regression("first_text.p95 outside pi")
    inside, outside = (
        evaluate([gate], run_with(v), baseline)[0] for v in (pi.high - 1, pi.high + 1)
    )
    assert inside.passed and "inside the 95% prediction interval" in inside.reason
    assert not outside.passed
    assert "above the 95% prediction interval" in outside.reason and "of 5 runs" in outside.reason
    assert "prediction interval" in outside.limit and outside.threshold == pytest.approx(pi.high)


def test_a_better_value_outside_the_interval_passes() -> None:
    verdict = evaluate(
        [parse_regression("first_text.p95 outside pi")], run_with(500), aggregate_of(P95S)
    )[0]
    assert verdict.passed and "better side" in verdict.reason


def test_the_minimum_effect_holds_back_a_small_change_outside_the_interval() -> None:
    baseline = aggregate_of([800.0, 801.0, 799.0, 800.0, 800.5])  # a very quiet baseline
    value = 820.0  # far outside its interval, but only +2.5 %
    quiet = evaluate([parse_regression("first_text.p95 +5% outside pi")], run_with(value), baseline)
    assert quiet[0].passed
    assert "within the minimum effect" in quiet[0].reason
    loud = evaluate([parse_regression("first_text.p95 outside pi")], run_with(value), baseline)[0]
    assert not loud.passed


def test_the_confidence_interval_is_narrower_than_the_prediction_interval() -> None:
    baseline = aggregate_of(P95S)
    stats = baseline.figures["first_text.p95"]
    assert stats.ci and stats.pi and stats.mean
    between = (stats.ci.high + stats.pi.high) / 2
    by_ci = evaluate([parse_regression("first_text.p95 outside ci")], run_with(between), baseline)[
        0
    ]
    by_pi = evaluate([parse_regression("first_text.p95 outside pi")], run_with(between), baseline)[
        0
    ]
    assert not by_ci.passed and "confidence interval" in by_ci.reason
    assert by_pi.passed


def test_a_plain_gate_against_a_repeated_baseline_uses_its_mean() -> None:
    verdict = evaluate(
        [parse_regression("first_text.p95 +10%")], run_with(880), aggregate_of(P95S)
    )[0]
    mean = sum(P95S) / 5
    assert verdict.baseline == pytest.approx(mean) and verdict.threshold == pytest.approx(
        mean * 1.1
    )
    assert "mean of 5 runs" in verdict.reason and verdict.passed


def test_a_single_baseline_run_has_no_interval_and_says_so() -> None:
    single = run_with(800)
    with_effect = evaluate(
        [parse_regression("first_text.p95 +10% outside pi")], run_with(860), single
    )
    assert with_effect[0].passed and "single run: no interval" in with_effect[0].reason
    assert "judged on +10% alone" in with_effect[0].reason
    bare = evaluate([parse_regression("first_text.p95 outside pi")], run_with(900), single)[0]
    assert not bare.passed and "wxo-load repeat" in bare.reason
    one_run_aggregate = evaluate(
        [parse_regression("first_text.p95 outside pi")], run_with(900), aggregate_of([800.0])
    )[0]
    assert not one_run_aggregate.passed and "1 run(s)" in one_run_aggregate.reason


def test_a_single_baseline_run_works_as_before() -> None:
    gate = parse_regression("first_text.p95 +10%")
    passing = evaluate([gate], run_with(860), run_with(800))[0]
    assert (
        passing.passed and passing.reason == "+7.5% (+60 ms) against baseline 800 ms (limit +10%)"
    )
    assert not evaluate([gate], run_with(900), run_with(800))[0].passed


def test_gate_and_compare_read_a_repeated_baseline(tmp_path: Path, capsys) -> None:
    write_aggregate(tmp_path / "base" / "aggregate", aggregate_of(P95S))
    slow = write_results(tmp_path / "slow", make_summary(first_text_p95=1000.0))
    code = cli_main(["gate", str(slow), "--baseline", str(tmp_path / "base"), "--no-write",
                     "--regression", "first_text.p95 outside pi"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 3 and "95% prediction interval" in out
    assert cli_main(["compare", str(tmp_path / "base"), str(slow)]) == 0
    out = capsys.readouterr().out
    assert "A: the mean of 5 runs, its 95% prediction interval; B: one run" in out
    assert "A interval" in out
    row = next(line for line in out.splitlines() if line.startswith("first_text.p95 "))
    assert "worse" in row
    same = write_results(tmp_path / "same", make_summary(first_text_p95=P95S[0]))
    cli_main(["compare", str(tmp_path / "base"), str(same), "--threshold", "0"])
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("first_text.p95 ")
    )
    assert "worse" not in row and "better" not in row


def test_a_repeated_run_is_gated_by_its_mean(tmp_path: Path, capsys) -> None:
    write_aggregate(tmp_path / "base" / "aggregate", aggregate_of(P95S))
    write_aggregate(tmp_path / "new" / "aggregate", aggregate_of([v * 1.15 for v in P95S]))
    gates = ["--regression", "first_text.p95 outside ci", "--gate", "first_text.p95 < 2s"]
    code = cli_main(["gate", str(tmp_path / "new"), "--baseline", str(tmp_path / "base"), *gates])
    out = capsys.readouterr().out
    assert code == 3 and "(mean of 5 runs)" in out and "95% confidence interval" in out
    written = tmp_path / "new" / "aggregate"
    assert (written / "gates.json").is_file() and (written / "junit.xml").is_file()
    assert "first_text.p95 outside ci" in (written / "aggregate.md").read_text()
    assert not (written / "summary.md").exists()


def test_throughput_is_worse_below_the_interval() -> None:
    baseline = aggregate_of(P95S)  # runs_per_s is 10/s in every run: a zero-width interval
    gate = parse_regression("runs_per_s outside pi")
    fewer = summary_from_dict(make_summary(runs=180))  # 9/s
    more = summary_from_dict(make_summary(runs=220))  # 11/s
    low = evaluate([gate], fewer, baseline)[0]
    assert not low.passed and "below the 95% prediction interval" in low.reason
    assert evaluate([gate], more, baseline)[0].passed
