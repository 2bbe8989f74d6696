"""Builders of summary.json dicts and results directories, per docs/results.md (schema
wxo-load/summary/v1), shared by the gate tests. No tests live here."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from wxo_load.core.metrics import ALL_METRICS

_STAT_KEYS = ("count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max")


def metric(
    count: int,
    p50: float,
    p95: float | None = None,
    p99: float | None = None,
    max_ms: float | None = None,
) -> dict[str, Any]:
    """A metric block; p90 and p95 default between p50 and p99, mean near p50."""
    if count == 0:
        return {"count": 0, **{k: None for k in _STAT_KEYS if k != "count"}}
    p95 = p95 if p95 is not None else p50 * 1.5
    p99 = p99 if p99 is not None else p95 * 1.2
    max_ms = max_ms if max_ms is not None else p99 * 1.1
    return {
        "count": count,
        "min": p50 / 2,
        "mean": p50 * 1.1,
        "p50": p50,
        "p90": p95 * 0.9,
        "p95": p95,
        "p99": p99,
        "p999": max_ms,
        "max": max_ms,
    }


def make_summary(
    *,
    runs: int = 200,
    failed: dict[str, int] | None = None,
    first_text_p95: float = 800.0,
    duration_s: float = 20.0,
    conversations: int = 50,
    **metrics: dict[str, Any],
) -> dict[str, Any]:
    """A consistent summary: `runs` runs of which `failed` per error class failed."""
    failed = dict(failed or {})
    n_failed = sum(failed.values())
    ok = runs - n_failed
    blocks = {name: metric(ok, 100.0 + 50 * i) for i, name in enumerate(ALL_METRICS)}
    blocks["thread_create"] = metric(conversations, 40.0)
    blocks["conversation"] = metric(conversations, 4000.0)
    blocks["first_text"] = metric(ok, first_text_p95 / 1.5, p95=first_text_p95)
    blocks.update(metrics)
    follow = max(ok - conversations, 0)
    return {
        "schema": "wxo-load/summary/v1",
        "tool": {"name": "wxo-load", "version": "0.1.0"},
        "scenario": {"name": "ci", "file": "scenarios/ci.yaml", "config": {}},
        "options": {
            "users": 5,
            "spawn_rate": 5.0,
            "run_time_s": duration_s,
            "processes": None,
            "workers": 1,
        },
        "host": "http://127.0.0.1:4321",
        "started_at": "2026-11-21T07:00:00.000Z",
        "ended_at": "2026-11-21T07:00:20.000Z",
        "duration_s": duration_s,
        "users": {"peak": 5},
        "metrics": blocks,
        "runs": {
            "total": runs,
            "ok": ok,
            "failed": n_failed,
            "error_rate": n_failed / runs if runs else 0.0,
            "by_outcome": {"ok": ok, **failed},
        },
        "conversations": {
            "total": conversations,
            "ok": conversations,
            "failed": 0,
            "by_outcome": {"ok": conversations},
        },
        "throughput": {
            "runs_per_s": runs / duration_s,
            "conversations_per_s": conversations / duration_s,
            "answer_chars_per_s": 300.0 * ok / duration_s,
        },
        "by_turn": {
            "first": {
                "runs": min(conversations, ok),
                "metrics": {"first_text": metric(min(conversations, ok), 900.0, 1200.0)},
            },
            "follow_up": {"runs": follow, "metrics": {"first_text": metric(follow, 500.0, 700.0)}},
        },
        "load_generator": {
            "client_lag": {"count": 1000, "p50": 0.4, "p99": 3.0, "max": 12.0},
            "schedule_lag": {"count": runs, "p50": 1.0, "p99": 8.0, "max": 20.0},
            "cpu_percent_max": 55.0,
            "trustworthy": True,
            "warnings": [],
        },
        "timeline": [{"t_s": 0.0, "users": 0, "runs": 0, "errors": 0}],
    }


def variant(summary: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy with dotted-path keys replaced: variant(s, **{"metrics.done.p99": 9})."""
    out = copy.deepcopy(summary)
    for dotted, value in changes.items():
        node = out
        *head, last = dotted.split(".")
        for key in head:
            node = node[key]
        node[last] = value
    return out


def write_results(directory: Path, summary: dict[str, Any]) -> Path:
    """A results directory as the harness leaves it: summary.json and empty record files."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (directory / "runs.jsonl").write_text("", encoding="utf-8")
    (directory / "conversations.jsonl").write_text("", encoding="utf-8")
    return directory


def summary_json(book: Any, *, meta: Any = None) -> dict[str, Any]:
    """What summary.json holds for `book` (`meta`: a `SummaryMeta`, or None for none): the typed
    summary as the JSON data it is written as."""
    from wxo_load.core.summary import build_summary
    from wxo_load.core.summary_codec import summary_to_dict
    from wxo_load.core.summary_meta import SummaryMeta

    return summary_to_dict(build_summary(book, meta=meta or SummaryMeta()))


def typed(summary: dict[str, Any]) -> Any:
    """A summary.json dict (v1 or v2) as the `Summary` every reader takes."""
    from wxo_load.core.summary_codec import summary_from_dict

    return summary_from_dict(summary)
