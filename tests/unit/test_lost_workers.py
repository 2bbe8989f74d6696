"""A lost worker is said: summary.json's `workers`, the trust line, banner and live tab, the gate
`workers.lost == 0` (and `==` for counts)."""

from __future__ import annotations

import msgspec
import pytest

from wxo_load.core.book import MetricsBook
from wxo_load.core.errors import ConfigError
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import SummaryMeta
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import Workers
from wxo_load.gates.evaluate import abort_reason, evaluate
from wxo_load.gates.parse import parse_gate
from wxo_load.output import live
from wxo_load.output.markdown import summary_markdown
from wxo_load.output.report.overview import trust_banner
from wxo_load.output.views import LoadGeneratorFacts

LOST = Workers(seen=2, lost=1, lost_ids=["host_b"])


def _summary(workers: Workers | None) -> Summary:
    meta = SummaryMeta(started_at=0.0, ended_at=10.0, workers=workers or Workers())
    return build_summary(MetricsBook(), meta=meta)


def test_summary_says_one_kept_process_when_no_worker_is_named() -> None:
    summary = _summary(None)
    assert msgspec.to_builtins(summary.workers) == {"seen": 1, "lost": 0, "lost_ids": []}
    assert summary.load_generator.trustworthy is True


def test_a_lost_worker_is_counted_and_makes_the_results_untrustworthy() -> None:
    summary = _summary(LOST)
    assert msgspec.to_builtins(summary.workers) == {"seen": 2, "lost": 1, "lost_ids": ["host_b"]}
    lg = summary.load_generator
    assert lg.trustworthy is False
    assert any("1 of 2 workers lost (host_b)" in w for w in lg.warnings)


def test_the_trust_line_banner_and_live_tab_say_a_worker_was_lost() -> None:
    summary = _summary(LOST)
    facts = LoadGeneratorFacts.of(summary)
    assert facts.workers_lost == 1 and not facts.trusted
    assert "1 of 2 workers lost" in facts.parts(str)
    markdown = summary_markdown(summary)
    assert "NOT trustworthy" in markdown and "1 of 2 workers lost (host_b)" in markdown
    banner = trust_banner(summary)
    assert 'class="banner bad"' in banner and "1 of 2 workers lost" in banner
    rows = live.overview_rows(summary, [], state="running")
    lost = [r for r in rows if r["figure"] == "WARNING: workers lost"]
    assert len(lost) == 1 and "host_b" in lost[0]["detail"]
    assert not any("limited by the load generator" in r["figure"] for r in rows)


def test_gate_workers_lost_equals_zero_passes_without_loss_and_fails_with_one() -> None:
    gate = parse_gate("workers.lost == 0")
    kept, lost = evaluate([gate], _summary(None)), evaluate([gate], _summary(LOST))
    assert kept[0].passed, kept[0].reason
    assert not lost[0].passed and lost[0].measured == "1"


def test_equals_is_for_counts_only() -> None:
    with pytest.raises(ConfigError, match='operator "==" compares counts only'):
        parse_gate("done.p95 == 3s")
    assert parse_gate("runs == 100").op == "=="


def test_an_equals_abort_gate_stops_only_once_the_count_is_past_it() -> None:
    lost = parse_gate("workers.lost == 0", abort=True)
    assert abort_reason([lost], _summary(None)) is None
    verdict = abort_reason([lost], _summary(LOST))
    assert verdict is not None and "can only grow" in verdict.reason
    runs = parse_gate("runs == 100", abort=True)
    assert abort_reason([runs], _summary(None)) is None  # 0 runs so far: may still come
