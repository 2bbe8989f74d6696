"""A realistic synthetic results directory for the report tests."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from wxo_load.core.book import MetricsBook
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary import build_summary
from wxo_load.core.summary_meta import LoadGeneratorExtras, SummaryMeta
from wxo_load.core.summary_sections import Options, ScenarioInfo, TimelinePoint
from wxo_load.output.files import ResultsWriter

REPORT_SECTIONS = (
    "timings",
    "over-time",
    "distributions",
    "throughput",
    "errors",
    "turns",
    "load-generator",
)
"""The sections every report.html has, by id."""


def synthetic_results(
    directory: Path,
    *,
    seed: int = 1,
    users: int = 30,
    duration_s: float = 60.0,
    scenario_name: str = "synthetic",
) -> dict[str, Any]:
    """Write a realistic results directory: ramp-up, 3-turn conversations, an error burst."""
    rng = random.Random(seed)
    book = MetricsBook()
    runs: list[RunRecord] = []
    convs: list[ConversationRecord] = []
    for user in range(users):
        t = user * 10.0 / users  # ramp up over 10 s
        conv_index = 0
        while t < duration_s - 1:
            conv = ConversationRecord(
                T0 + t,
                f"u{user}",
                f"u{user}-c{conv_index}",
                thread_id=f"th-{user}-{conv_index}",
                turns_planned=3,
                worker=f"w{user % 2}",
            )
            conv.thread_create_ms = rng.lognormvariate(3.6, 0.3)
            t += conv.thread_create_ms / 1000
            for turn in range(3):
                run = RunRecord(
                    T0 + t,
                    f"u{user}",
                    conv.conversation_id,
                    turn,
                    f"req-{user}-{conv_index}-{turn}",
                    thread_id=conv.thread_id,
                    run_id=f"run-{len(runs)}",
                    worker=conv.worker,
                    schedule_lag_ms=rng.uniform(0, 2),
                )
                failed = _fail(rng, run, t)
                if not failed:
                    _run_timings(rng, run, 1.25 if turn == 0 else 1.0)
                if t + (run.total_ms or 0) / 1000 > duration_s:
                    run.outcome, run.done_ms, run.message_created_ms = "stopped", None, None
                    run.total_ms = (duration_s - t) * 1000
                runs.append(run)
                conv.runs += 1
                for _ in range(run.events):
                    book.record_client_lag_ms(rng.lognormvariate(-0.5, 0.6))
                t += (run.total_ms or 0) / 1000 + rng.uniform(0.5, 1.5)
                if not run.ok:
                    conv.outcome = run.outcome
                    break
                conv.turns_completed += 1
            conv.total_ms = (T0 + t - conv.started_at_unix) * 1000
            convs.append(conv)
            conv_index += 1
    runs.sort(key=lambda r: r.started_at_unix + (r.total_ms or 0) / 1000)
    for run in runs:
        book.record_run(run)
    for conv in convs:
        book.record_conversation(conv)
    timeline = [
        TimelinePoint(t_s=float(s), users=min(users, round(users * s / 10)), runs=0, errors=0)
        for s in range(int(duration_s) + 1)
    ]
    meta = SummaryMeta(
        scenario=ScenarioInfo(
            name=scenario_name, file="scenarios/synthetic.yaml", config={"turns": 3}
        ),
        options=Options(users=users, spawn_rate=users / 10, run_time_s=duration_s, processes=2),
        host="http://127.0.0.1:4321",
        started_at=T0,
        ended_at=T0 + duration_s,
        users_peak=users,
        timeline=timeline,
        load_generator=LoadGeneratorExtras(cpu_percent_max=41.0),
    )
    summary = build_summary(book, meta=meta)
    with ResultsWriter(directory) as writer:
        writer.append_runs([r.to_dict() for r in runs])
        writer.append_conversations([c.to_dict() for c in convs])
        writer.write_summary(summary)
    return summary


T0 = 1_800_000_000.0


def _run_timings(rng: random.Random, run: RunRecord, slow: float) -> None:
    run.run_started_ms = rng.lognormvariate(4.6, 0.35) * slow
    run.first_delta_ms = run.run_started_ms + rng.lognormvariate(6.4, 0.45) * slow
    run.first_text_ms = run.first_delta_ms + rng.uniform(0, 30)
    run.message_created_ms = run.first_text_ms + rng.lognormvariate(7.2, 0.35) * slow
    run.done_ms = run.message_created_ms + rng.uniform(0.5, 4)
    run.total_ms = run.done_ms
    run.answer_chars = rng.randint(80, 900)
    run.events = rng.randint(10, 60)
    run.deltas = run.events - 4


def _fail(rng: random.Random, run: RunRecord, at_s: float) -> bool:
    roll = rng.random()
    burst = 30 <= at_s < 36
    if burst and roll < 0.5 or roll < 0.01:
        run.outcome, run.status_code = "http_503", 503
        run.error_detail = "Service Unavailable: model backend overloaded <retry later>"
        run.total_ms = rng.uniform(3, 15)
    elif roll < 0.02:
        run.outcome, run.error_detail = "timeout", "no event for 30 s"
        run.run_started_ms = rng.lognormvariate(4.6, 0.3)
        run.total_ms = 30_000.0
    elif roll < 0.025:
        run.outcome, run.error_detail = (
            "run_failed",
            "run.failed: tool call failed (token=abcdef123456789)",
        )
        run.run_started_ms = rng.lognormvariate(4.6, 0.3)
        run.total_ms = 900.0
    else:
        return False
    return True
