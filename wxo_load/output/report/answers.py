"""The report's answers section: checked, wrong (by check), cross-talk, goodput, and samples.

Shown when the test judged answers (`expect:`, `checks: {canary: true}`, `goodput:`). The
samples are the first wrong answers in runs.jsonl (their text is kept, 2 KiB, redacted); the
page shows each one's first characters.
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.records import CROSS_TALK, WRONG_ANSWER, RunRecord
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.page import safe_text, section, table

MAX_SAMPLES = 12
SAMPLE_CHARS = 300


class AnswerSamples:
    """The first wrong answers seen, from one streaming pass over the runs."""

    def __init__(self) -> None:
        self.samples: list[RunRecord] = []

    def add(self, run: RunRecord) -> None:
        if len(self.samples) < MAX_SAMPLES and run.outcome in (WRONG_ANSWER, CROSS_TALK):
            self.samples.append(run)


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.2f} %" if isinstance(value, (int, float)) else "–"


def _why(run: RunRecord) -> str:
    if run.outcome == CROSS_TALK:
        owner = run.cross_talk_thread_id or "another conversation"
        return f"canary {run.foreign_canary} of {owner}"
    return ", ".join(run.failed_checks or [])


def answers_section(summary: Summary, samples: AnswerSamples) -> str:
    answers, goodput = summary.answers, summary.goodput
    if (answers is None or not answers.checked) and not samples.samples:
        return ""
    a: list[Any] = (
        [answers.checked, answers.wrong, _pct(answers.wrong_rate), answers.cross_talk]
        if answers is not None
        else [None, None, _pct(None), None]
    )
    g: list[Any] = (
        [goodput.runs, goodput.runs_per_s, _pct(goodput.share)]
        if goodput is not None
        else [None, None, _pct(None)]
    )
    figures = table(
        ["checked", "wrong", "wrong rate", "cross-talk", "good runs", "goodput /s", "good share"],
        [a + g],
    )
    by_check = {k: v for k, v in (answers.by_check if answers else {}).items() if v}
    checks = table(["check failed", "runs"], sorted(by_check.items())) if by_check else ""
    rows = [
        [s.run_id, s.outcome, _why(s), (s.answer_text or "")[:SAMPLE_CHARS]]
        for s in samples.samples
    ]
    sample_html = (
        f"<h3>{safe_text('Sample wrong answers')}</h3>"
        + table(["run", "outcome", "why", "answer"], rows)
        if rows
        else ""
    )
    return section(
        "answers",
        "Answers",
        figures + checks + sample_html,
        "Runs whose answer was checked (expect:, canaries): wrong answers and cross-talk are "
        "failures of their own; goodput counts the runs that were ok, right and in time.",
    )
