"""Whether an answer is still right: checks, cross-talk canaries and goodput, once per run.

Pure: the settings (`AnswerSettings`, read from a scenario by `wxo_load.config.answers`) and the
`AnswerJudge` one load-generating process keeps. After a run's `done` the Locust user hands the
judge the answer's text (kept by the tracker only when a check, a canary or `--keep-answers`
needs it) and the judge decides the run's answer outcome:

    cross_talk     the answer carries another conversation's canary (`checks: {canary: true}`)
    wrong_answer   it failed a check (`expect:`, or the scripted turn's own `expect`)

and whether it counts as goodput (`ok`, right, and within `goodput:` limits).

A canary is `ref WXO-XXXXXXXXXX`: 50 random bits (Crockford base32), unique in a test across
workers without coordination; the first message of its conversation carries it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace

from wxo_load.core.checks import Expect, answered_by, failed_checks
from wxo_load.core.conversation import ConversationPlan
from wxo_load.core.records import CROSS_TALK, OK, WRONG_ANSWER, RunRecord

ANSWER_TEXT_MAX = 2048  # characters of an answer kept in runs.jsonl
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CANARY_PATTERN = re.compile(r"\bWXO-[0-9A-HJKMNP-TV-Z]{10}\b")


def new_canary() -> str:
    bits = secrets.randbits(50)
    return "WXO-" + "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in range(10))


def with_canary(plan: ConversationPlan, canary: str) -> ConversationPlan:
    """The plan with `canary` carried by its first message (and so by the thread's title)."""
    first = plan.turns[0]
    turns = (replace(first, text=f"{first.text} (ref {canary})"), *plan.turns[1:])
    return replace(plan, turns=turns, canary=canary)


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    expect: Expect | None = None  # the scenario's checks (a scripted turn's own replace them)
    canary: bool = False  # `checks: {canary: true}`
    goodput_first_text_ms: float | None = None
    goodput_done_ms: float | None = None

    @property
    def judges(self) -> bool:
        """Whether runs need the judge at all (goodput limits alone need no answer text)."""
        return (
            self.expect is not None
            or self.canary
            or self.goodput_first_text_ms is not None
            or self.goodput_done_ms is not None
        )


def _within(value: float | None, limit: float | None) -> bool:
    return limit is None or (value is not None and value <= limit)


class AnswerJudge:
    """One process's judge of answers, for one scenario (and its canaries' owners)."""

    def __init__(self, settings: AnswerSettings, *, keep_answers: bool = False) -> None:
        self.settings = settings
        self.keep_answers = keep_answers
        self.keeps_text = settings.expect is not None or settings.canary or keep_answers
        self.owners: dict[str, str] = {}  # canary -> thread id, conversations of this process

    def wants(self, expect: Expect | None) -> bool:
        """Whether a run with the turn's own `expect` is judged."""
        return self.keeps_text or expect is not None or self.settings.judges

    def wants_text(self, expect: Expect | None) -> bool:
        """Whether the tracker keeps the run's answer text (checks, canaries, --keep-answers)."""
        return self.keeps_text or expect is not None

    def plan_for(self, plan: ConversationPlan) -> ConversationPlan:
        """The plan as played: with a fresh canary in its first message when canaries are on."""
        return with_canary(plan, new_canary()) if self.settings.canary else plan

    def own(self, plan: ConversationPlan, thread_id: str | None) -> None:
        if plan.canary is not None and thread_id is not None:
            self.owners[plan.canary] = thread_id

    def judge(
        self,
        rec: RunRecord,
        text: str | None,
        agent: str | None,
        expect: Expect | None,
        canary: str | None,
    ) -> None:
        """Once per run, after it ended: the answer outcome, the checks failed, goodput."""
        rec.canary = canary
        settings = self.settings
        expect = expect if expect is not None else settings.expect
        if rec.outcome != OK:
            if self.keep_answers and text:
                rec.answer_text = text[:ANSWER_TEXT_MAX]
            rec.good = False
            return
        text = text or ""
        if expect is not None and expect.wants_agent:
            rec.answered_by = answered_by(rec.tools, agent)
        failed = failed_checks(expect, text, rec.tools, rec.answered_by) if expect else []
        rec.checked = expect is not None or settings.canary
        foreign = self._foreign(text, canary) if settings.canary else None
        if failed:
            rec.failed_checks = failed
        if foreign is not None:
            rec.outcome = CROSS_TALK
            rec.foreign_canary = foreign
            rec.cross_talk_thread_id = self.owners.get(foreign)
            rec.error_detail = f"the answer quotes another conversation's canary {foreign}"
        elif failed:
            rec.outcome = WRONG_ANSWER
            rec.error_detail = "failed checks: " + ", ".join(failed)
        if rec.outcome != OK or self.keep_answers:
            rec.answer_text = text[:ANSWER_TEXT_MAX]
        rec.good = (
            rec.outcome == OK
            and _within(rec.first_text_ms, settings.goodput_first_text_ms)
            and _within(rec.done_ms, settings.goodput_done_ms)
        )

    @staticmethod
    def _foreign(text: str, canary: str | None) -> str | None:
        if "WXO-" not in text:
            return None
        for found in CANARY_PATTERN.findall(text):
            if found != canary:
                return str(found)
        return None
