"""Answers that go wrong, on purpose: a profile's `answers:` section, decided run by run.

    answers:
      wrong_rate: 0.2                 # this share of runs answer with `wrong_text`
      fallback_above_concurrent: 30   # past 30 runs in flight: `fallback_text` (tools timing out)
      cross_talk_rate: 0.05           # the answer quotes another live conversation's first message
      wrong_text: "I'm sorry, ..."    # optional
      fallback_text: "I'm sorry, ..."

Each run gets exactly one verdict, in this order: `fallback` (too many runs in flight, this one
included), `cross_talk` (when another thread has a run in flight), `wrong`, else `right`. With
`--event-log` every run's verdict is a line of its own, so a test compares the client's
judgement with the truth run by run:

    {"run_id", "thread_id", "event": "_answer", "answer": "right|wrong|fallback|cross_talk",
     "quoted_thread_id": "..."|null, "t_mono": ...}

A right answer is the profile's usual answer; a cross-talk answer is that answer followed by a
quote of the other conversation's first message (its thread title, else its first message).
Decisions draw from a random generator of their own (seeded from --seed), so the rest of the
simulator's sequence is the same with or without this section.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from wxo_load.mock.profile_fields import FieldReader

RIGHT, WRONG, FALLBACK, CROSS_TALK = "right", "wrong", "fallback", "cross_talk"
WRONG_TEXT = "I'm sorry, something went wrong and I could not find that information."
FALLBACK_TEXT = "I'm sorry, I couldn't retrieve that right now. Please try again later."
_KEYS = (
    "wrong_rate",
    "fallback_above_concurrent",
    "cross_talk_rate",
    "wrong_text",
    "fallback_text",
)
_FIRST_TEXTS_MAX = 100_000  # threads whose first message is remembered (oldest out first)


@dataclass(frozen=True, slots=True)
class AnswerFaults:
    wrong_rate: float = 0.0
    fallback_above_concurrent: int | None = None
    cross_talk_rate: float = 0.0
    wrong_text: str = WRONG_TEXT
    fallback_text: str = FALLBACK_TEXT


def parse_answers(ctx: FieldReader, raw: Any) -> AnswerFaults | None:
    if raw is None:
        return None
    values = ctx.mapping(raw, "answers", _KEYS)
    above = values.get("fallback_above_concurrent")
    if above is not None:
        above = ctx.number(above, "answers.fallback_above_concurrent", 0)
        if above != int(above):
            raise ctx.fail("answers.fallback_above_concurrent", "expected a whole number of runs.")
    return AnswerFaults(
        wrong_rate=ctx.number(values.get("wrong_rate", 0.0), "answers.wrong_rate", 0.0, 1.0),
        fallback_above_concurrent=None if above is None else int(above),
        cross_talk_rate=ctx.number(
            values.get("cross_talk_rate", 0.0), "answers.cross_talk_rate", 0.0, 1.0
        ),
        wrong_text=ctx.text(values.get("wrong_text", WRONG_TEXT), "answers.wrong_text"),
        fallback_text=ctx.text(values.get("fallback_text", FALLBACK_TEXT), "answers.fallback_text"),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    quoted_thread_id: str | None = None
    quoted_text: str = ""

    def rewrite(self, faults: AnswerFaults) -> Callable[[str], str] | None:
        """How the planned answer becomes this verdict's answer (None: unchanged)."""
        if self.kind == WRONG:
            return lambda _answer: faults.wrong_text
        if self.kind == FALLBACK:
            return lambda _answer: faults.fallback_text
        if self.kind == CROSS_TALK:
            quote = self.quoted_text
            return lambda answer: f'{answer} As you mentioned earlier: "{quote}"'
        return None


def _message_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


class AnswerDecider:
    """The runs in flight, the live threads' first messages, and each run's verdict."""

    def __init__(self, faults: AnswerFaults, seed: int | None) -> None:
        self.faults = faults
        self.rng = random.Random(None if seed is None else f"answers-{seed}")
        self.in_flight = 0
        self.live: dict[str, int] = {}  # thread id -> its runs in flight
        self.first_texts: dict[str, str] = {}

    def begin(self, thread_id: str, title: str, message: Any) -> Verdict:
        """A run starts on `thread_id`: count it in flight and decide its answer."""
        if thread_id not in self.first_texts:
            if len(self.first_texts) >= _FIRST_TEXTS_MAX:
                del self.first_texts[next(iter(self.first_texts))]
            self.first_texts[thread_id] = title or _message_text(message)
        self.in_flight += 1
        self.live[thread_id] = self.live.get(thread_id, 0) + 1
        return self._decide(thread_id)

    def end(self, thread_id: str) -> None:
        self.in_flight -= 1
        left = self.live.get(thread_id, 1) - 1
        if left > 0:
            self.live[thread_id] = left
        else:
            self.live.pop(thread_id, None)

    def _decide(self, thread_id: str) -> Verdict:
        faults = self.faults
        above = faults.fallback_above_concurrent
        if above is not None and self.in_flight > above:
            return Verdict(FALLBACK)
        if faults.cross_talk_rate and self.rng.random() < faults.cross_talk_rate:
            others = [t for t in self.live if t != thread_id and self.first_texts.get(t)]
            if others:
                other = self.rng.choice(others)
                return Verdict(CROSS_TALK, other, self.first_texts[other])
        if faults.wrong_rate and self.rng.random() < faults.wrong_rate:
            return Verdict(WRONG)
        return Verdict(RIGHT)


def log_line(run_id: str, thread_id: str, verdict: Verdict) -> str:
    """The event log's line for one run's verdict."""
    return (
        json.dumps(
            {
                "run_id": run_id,
                "thread_id": thread_id,
                "event": "_answer",
                "answer": verdict.kind,
                "quoted_thread_id": verdict.quoted_thread_id,
                "t_mono": perf_counter(),
            }
        )
        + "\n"
    )
