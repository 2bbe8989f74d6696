"""A fixed, rich `MetricsBook` and the description of its test: every section a summary can have
but the load plan's (personas, channels, answers, replay, tools and steps, window exclusions, a
lost worker, load-generator warnings). Deterministic: a seeded generator, fixed times."""

from __future__ import annotations

import random

from wxo_load.core.book import MetricsBook
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.core.summary_sections import TimelinePoint

T0 = 1_800_000_000.0
OUTCOMES = ("ok",) * 14 + ("http_503", "timeout", "wrong_answer", "cross_talk", "stopped",
                           "abandoned")  # fmt: skip


def golden_book() -> MetricsBook:
    """About 240 runs of 80 conversations over 60 s, from two personas on two channels."""
    rng = random.Random(31)
    book = MetricsBook()
    for index in range(80):
        persona = ("hr", "it")[index % 2]
        channel = ("runs-stream", "chat")[index % 3 == 0]
        worker = ("w1", "w2", "w3")[index % 3]
        start = T0 + index * 0.7
        window = "warmup" if index < 6 else "cooldown" if index >= 76 else "measured"
        conv = ConversationRecord(
            start, f"u{index % 9}", f"c{index}", thread_id=f"th{index}", turns_planned=3,
            worker=worker, persona=persona, channel=channel, window=window,
            thread_create_ms=round(rng.lognormvariate(3.5, 0.3), 3),
        )  # fmt: skip
        t = start
        for turn in range(3):
            run = _run(rng, index, turn, t, conv)
            run.window = window
            book.book_run(run)
            for _ in range(run.events):
                book.record_client_lag_ms(round(rng.lognormvariate(-0.5, 0.9), 3))
            conv.runs += 1
            t += (run.total_ms or 0.0) / 1000.0 + 0.5
            if run.outcome != "ok":
                conv.outcome = run.outcome
                break
            conv.turns_completed += 1
        conv.total_ms = round((t - start) * 1000.0, 3)
        book.book_conversation(conv)
    return book


def _run(
    rng: random.Random, index: int, turn: int, t: float, conv: ConversationRecord
) -> RunRecord:
    outcome = rng.choice(OUTCOMES)
    run = RunRecord(
        t, conv.user_id, conv.conversation_id, turn, f"req-{index}-{turn}",
        thread_id=conv.thread_id, run_id=f"run-{index}-{turn}", worker=conv.worker,
        persona=conv.persona, channel=conv.channel, outcome=outcome,
        schedule_lag_ms=round(rng.uniform(0, 30), 3), canary=f"CAN{index}",
    )  # fmt: skip
    slow = 1.3 if turn == 0 else 1.0
    run.run_started_ms = round(rng.lognormvariate(4.6, 0.3) * slow, 3)
    run.total_ms = round(run.run_started_ms + rng.lognormvariate(7.4, 0.4) * slow, 3)
    run.events = rng.randint(5, 30)
    if outcome in ("http_503", "timeout"):
        run.status_code = 503 if outcome == "http_503" else None
        return run
    if conv.channel == "runs-stream":
        run.first_delta_ms = round(run.run_started_ms + rng.lognormvariate(6.2, 0.4), 3)
        run.first_text_ms = round(run.first_delta_ms + rng.uniform(0, 20), 3)
    run.message_created_ms = round(run.total_ms - rng.uniform(1, 5), 3)
    run.done_ms = run.total_ms
    run.answer_chars = rng.randint(50, 900)
    run.thinking_ms = round(rng.uniform(50, 400), 3)
    run.intermediate_ms = round(rng.uniform(0, 80), 3)
    run.handoff_ms = round(rng.uniform(0, 40), 3) if index % 4 == 0 else None
    run.tools = [("lookup", 10.0, round(rng.uniform(20, 200), 3))]
    if index % 5 == 0:
        run.tools.append(("payroll", 250.0, None if outcome != "stopped" else 3.0))
    run.delta_gaps_ms = [round(rng.uniform(1, 60), 3) for _ in range(5)]
    run.stream_chars_per_s = round(rng.uniform(100, 900), 3)
    run.ended_without_done = index % 11 == 0
    run.checked = True
    run.good = outcome == "ok" and run.total_ms < 2500
    if outcome == "wrong_answer":
        run.failed_checks = ["contains", "min_chars"][: 1 + index % 2]
    if outcome == "cross_talk":
        run.foreign_canary = f"CAN{max(index - 2, 0)}"
        run.cross_talk_thread_id = None if index % 2 else f"th{index - 2}"
    if index % 4 == 1:
        run.source_id = f"conv-{index % 7}"
        run.recorded_agent_ms = round(rng.uniform(900, 2500), 3)
    return run


GOLDEN_TIMELINE = [
    TimelinePoint(t_s=float(s * 5), users=min(9, s * 2), runs=4 * s, errors=s % 3,
                  first_text_p50=510.5 + s, done_p95=None)
    for s in range(13)
]  # fmt: skip
