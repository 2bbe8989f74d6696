"""Repeated runs: the aggregate's statistics (gates/aggregate.py), its typed model and schema,
and what one run cannot say."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import jsonschema
import pytest
from gates_support import make_summary, variant, write_results

from wxo_load.cli.main import main as cli_main
from wxo_load.cli.repeat import exit_code_of
from wxo_load.core.aggregate_model import Aggregate, RepeatedRun, aggregate_from_bytes
from wxo_load.core.metrics import RATE, TIME
from wxo_load.core.student_t import two_sided_t
from wxo_load.core.summary_codec import summary_from_dict
from wxo_load.core.summary_sections import Tool
from wxo_load.edge.results import load_baseline
from wxo_load.gates.aggregate import build_aggregate, figure_stats
from wxo_load.output.aggregate import aggregate_markdown, write_aggregate
from wxo_load.output.report.repeated import aggregate_report_html
from wxo_load.output.schema import AGGREGATE_SCHEMA_FILE, aggregate_schema

REPO = Path(__file__).resolve().parents[2]
TOOL = Tool(name="wxo-load", version="test")
P95S = [800.0, 820.0, 790.0, 845.0, 810.0]


def aggregate_of(p95s: list[float], *, confidence: float = 0.95) -> Aggregate:
    summaries = [summary_from_dict(make_summary(first_text_p95=v)) for v in p95s]
    runs = [
        RepeatedRun(index=i + 1, results_dir=f"run-{i + 1:02d}", exit_code=0, summary=True)
        for i in range(len(p95s))
    ]
    return build_aggregate(runs, summaries, confidence=confidence, tool=TOOL)


def test_mean_stdev_cv_and_both_intervals_are_the_textbook_ones() -> None:
    stats = aggregate_of(P95S).figures["first_text.p95"]
    mean, sd = statistics.mean(P95S), statistics.stdev(P95S)
    t = two_sided_t(0.95, 4)
    assert stats.n == 5 and stats.values == P95S and stats.kind == TIME
    assert stats.mean == pytest.approx(mean) and stats.stdev == pytest.approx(sd)
    assert stats.cv == pytest.approx(sd / mean)
    assert stats.ci is not None and stats.pi is not None
    assert stats.ci.high - mean == pytest.approx(t * sd / math.sqrt(5))
    assert stats.pi.high - mean == pytest.approx(t * sd * math.sqrt(1 + 1 / 5))


def test_one_run_gives_a_mean_and_states_nothing_else() -> None:
    stats = aggregate_of([800.0]).figures["first_text.p95"]
    assert (stats.n, stats.mean) == (1, 800.0)
    assert stats.stdev is None and stats.cv is None and stats.ci is None and stats.pi is None
    assert "| `first_text.p95` | 1 | 800 ms | – | – | – | – |" in aggregate_markdown(
        aggregate_of([800.0])
    )


def test_a_run_without_the_figure_is_left_out_of_its_statistics() -> None:
    stats = figure_stats([800.0, None, 820.0], TIME, 0.95)
    assert stats.n == 2 and stats.mean == 810.0 and stats.values == [800.0, None, 820.0]


def test_a_higher_level_widens_the_intervals() -> None:
    narrow = aggregate_of(P95S, confidence=0.9).figures["first_text.p95"]
    wide = aggregate_of(P95S, confidence=0.99).figures["first_text.p95"]
    assert narrow.pi and wide.pi and wide.pi.high > narrow.pi.high


def test_personas_get_their_own_table() -> None:
    raw = make_summary()
    persona = {k: raw[k] for k in ("runs", "conversations", "throughput", "metrics", "by_turn")}
    with_personas = [
        summary_from_dict(variant(raw, personas={"hr": persona, "it": persona})) for _ in range(3)
    ]
    runs = [RepeatedRun(index=i, results_dir=f"r{i}", exit_code=0, summary=True) for i in (1, 2, 3)]
    aggregate = build_aggregate(runs, with_personas, confidence=0.95, tool=TOOL)
    assert aggregate.personas is not None and set(aggregate.personas) == {"hr", "it"}
    hr = aggregate.stats("personas.hr.first_text.p95")
    assert hr is not None and hr.n == 3 and hr.stdev == 0.0
    assert aggregate.stats("personas.hr.error_rate") is not None
    assert "### Persona hr" in aggregate_markdown(aggregate)


def test_aggregate_json_round_trips_and_loads_as_a_baseline(tmp_path: Path) -> None:
    aggregate = aggregate_of(P95S)
    write_aggregate(tmp_path / "aggregate", aggregate)
    assert (
        aggregate_from_bytes((tmp_path / "aggregate" / "aggregate.json").read_bytes()) == aggregate
    )
    schema = json.loads((REPO / AGGREGATE_SCHEMA_FILE).read_text())
    jsonschema.validate(json.loads((tmp_path / "aggregate" / "aggregate.json").read_text()), schema)
    for path in (tmp_path, tmp_path / "aggregate", tmp_path / "aggregate" / "aggregate.json"):
        assert load_baseline(path) == aggregate
    single = write_results(tmp_path / "one", make_summary())
    assert not isinstance(load_baseline(single), Aggregate)


def test_the_checked_in_aggregate_schema_is_what_the_model_generates() -> None:
    assert (REPO / AGGREGATE_SCHEMA_FILE).read_bytes() == aggregate_schema(), (
        f"{AGGREGATE_SCHEMA_FILE} is stale: run `python -m wxo_load.output.schema`"
    )


def test_the_repeat_exit_code_follows_the_table() -> None:
    assert exit_code_of([0, 0, 0]) == 0
    assert exit_code_of([0, 1, 0]) == 1
    assert exit_code_of([1, 3, 0]) == 3
    assert exit_code_of([0, 2]) == 2
    assert exit_code_of([3, 130]) == 130


def test_wxo_load_aggregate_makes_a_baseline_of_saved_runs(tmp_path: Path) -> None:
    dirs = [
        str(write_results(tmp_path / f"r{v:.0f}", make_summary(first_text_p95=v))) for v in P95S
    ]
    assert cli_main(["aggregate", *dirs, "--results-dir", str(tmp_path / "base")]) == 0
    baseline = load_baseline(tmp_path / "base")
    assert isinstance(baseline, Aggregate) and baseline.n == 5
    assert baseline.figures["first_text.p95"].values == P95S
    assert (
        cli_main(["aggregate", dirs[0], "--results-dir", str(tmp_path), "--confidence", "2"]) == 2
    )


def test_repeat_refuses_a_results_dir_among_the_locust_arguments(capsys) -> None:
    assert cli_main(["repeat", "3", "--", "-t", "5s", "--results-dir", "x"]) == 2
    assert "each run gets its own directory" in capsys.readouterr().err


def test_the_aggregate_report_draws_the_runs_over_their_intervals(tmp_path: Path) -> None:
    write_aggregate(tmp_path, aggregate_of(P95S))
    html = (tmp_path / "report.html").read_text()
    assert '<section id="repeated">' in html and "<script" not in html
    assert html.count('fill="#c0620b"') >= 5  # a dot per run of first_text.p95 at least
    assert "95% prediction interval of one more run" in html and "first_text.p95" in html
    one = aggregate_of([800.0])
    assert "<svg" not in aggregate_report_html(one) and "nothing else" in aggregate_report_html(one)


def test_an_interval_is_clamped_to_what_the_figure_can_be() -> None:
    times = figure_stats([1.0, 9.0, 2.0], TIME, 0.95)  # mean 4 ms, spread far wider
    assert times.ci and times.pi and times.mean is not None and times.stdev is not None
    assert times.ci.low == 0.0 and times.pi.low == 0.0  # not below 0 ms
    half = two_sided_t(0.95, 2) * times.stdev / math.sqrt(3)
    assert times.ci.high == pytest.approx(times.mean + half)  # the other side unchanged
    rates = figure_stats([0.0, 0.9, 0.1], RATE, 0.95)
    assert rates.pi and (rates.pi.low, rates.pi.high) == (0.0, 1.0)
    narrow = figure_stats([800.0, 810.0, 820.0], TIME, 0.95)
    assert narrow.ci and narrow.ci.low == pytest.approx(810.0 - two_sided_t(0.95, 2) * 10 / 3**0.5)
