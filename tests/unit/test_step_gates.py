"""Gates, regressions and compare on the tools / steps / streaming figures of summary.json."""

from __future__ import annotations

import pytest
from steps_support import run_of, two_tools_and_a_handoff

from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ConfigError
from wxo_load.core.metrics import COUNT, PER_S, TIME
from wxo_load.core.summary import build_summary
from wxo_load.gates.compare import compare_summaries
from wxo_load.gates.evaluate import evaluate
from wxo_load.gates.figures import figure_kind, figure_value
from wxo_load.gates.parse import parse_gate, parse_regression


def summary_with_lookup(ms: float, runs: int = 5) -> dict:
    book = MetricsBook()
    for _ in range(runs):
        timeline = two_tools_and_a_handoff()
        timeline[4] = (100 + ms, timeline[4][1])  # lookup_order's response
        book.record_run(run_of(timeline))
    return build_summary(book)


def test_figure_kinds_and_values() -> None:
    summary = summary_with_lookup(300)
    assert (
        figure_kind("tools.lookup_order.p95") == TIME
        and figure_kind("tools.lookup_order.calls") == COUNT
    )
    assert (
        figure_kind("streaming.chars_per_s.p50") == PER_S
        and figure_kind("phases.thinking.p99") == TIME
    )
    assert figure_kind("tools.my.dotted.tool.p95") == TIME
    assert figure_value(summary, "tools.lookup_order.p95") == 300
    assert figure_value(summary, "tools.lookup_order.calls") == 5
    assert figure_value(summary, "streaming.inter_delta.p99") == 20
    assert figure_value(summary, "phases.handoff.p50") == 200


@pytest.mark.parametrize(
    "text", ["tools.lookup_order", "tools.x.p97", "phases.nap.p95", "streaming.jitter.p50"]
)
def test_bad_step_figures_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="For example"):
        parse_gate(f"{text} < 1s")


def test_gate_on_a_tools_p95_passes_and_fails() -> None:
    summary = summary_with_lookup(300)
    passed, failed, missing = evaluate(
        [
            parse_gate("tools.lookup_order.p95 < 2s"),
            parse_gate("tools.lookup_order.p95 < 250ms"),
            parse_gate("tools.get_weather.p95 < 2s"),
        ],
        summary,
    )
    assert passed.passed and not failed.passed and not missing.passed
    assert "only 0" in missing.reason  # a tool never called fails for want of samples


def test_regression_and_compare_on_tool_figures() -> None:
    base, now = summary_with_lookup(300), summary_with_lookup(390)
    (verdict,) = evaluate([parse_regression("tools.lookup_order.p95 +10%")], now, base)
    assert not verdict.passed
    rows = {r.figure: r for r in compare_summaries(base, now)}
    assert rows["tools.lookup_order.p95"].mark == "worse" and "streaming.inter_delta.p99" in rows
    assert "phases.thinking.p95" in rows
