"""Per-test figures of answers: checked, wrong (by check), cross-talk, goodput. Mergeable.

An `AnswerBook` is part of every `MetricsBook` (`book.answers`): counts add up across workers,
and the cross-talk list is resolved on the master: a leaked canary's owner may have been measured
by another worker, so each book also keeps which thread each canary's conversation used (only
when canaries are on) and `summary()` looks the owners up there.

summary.json gains:

    answers: {checked, wrong, wrong_rate, by_check: {CHECK: runs}, cross_talk, cross_talk_rate,
              cross_talks: [{run_id, thread_id, canary, owner_thread_id}]}   (first 100 listed)
    goodput: {runs, runs_per_s, share}    runs ok, right and within the `goodput:` limits;
                                          share = of the runs that ended (not stopped, not left)
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.checks import CHECK_NAMES
from wxo_load.core.records import CROSS_TALK, OK, WRONG_ANSWER, RunRecord
from wxo_load.core.summary_sections import Answers, CrossTalk, Goodput

MAX_LISTED = 100


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


class AnswerBook:
    __slots__ = ("checked", "wrong", "cross_talk", "good", "by_check", "owners", "leaks")

    def __init__(self) -> None:
        self.checked = 0
        self.wrong = 0
        self.cross_talk = 0
        self.good = 0
        self.by_check: dict[str, int] = {}
        self.owners: dict[str, str] = {}  # canary -> its conversation's thread id
        self.leaks: list[list[Any]] = []  # [run_id, thread_id, canary, owner thread id | None]

    def record(self, run: RunRecord) -> None:
        """Once per run (called by MetricsBook.record_run)."""
        outcome = run.outcome
        good = run.good
        if good if good is not None else outcome == OK:
            self.good += 1
        if run.canary is not None and run.turn_index == 0 and run.thread_id is not None:
            self.owners[run.canary] = run.thread_id
        if not run.checked:
            return
        self.checked += 1
        for name in run.failed_checks or ():
            self.by_check[name] = self.by_check.get(name, 0) + 1
        if outcome == WRONG_ANSWER:
            self.wrong += 1
        elif outcome == CROSS_TALK:
            self.cross_talk += 1
            if len(self.leaks) < MAX_LISTED:
                self.leaks.append(
                    [run.run_id, run.thread_id, run.foreign_canary, run.cross_talk_thread_id]
                )

    def to_wire(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "wrong": self.wrong,
            "cross_talk": self.cross_talk,
            "good": self.good,
            "by_check": dict(self.by_check),
            "owners": dict(self.owners),
            "leaks": [list(leak) for leak in self.leaks],
        }

    def merge_wire(self, data: dict[str, Any] | None) -> None:
        if not data:
            return
        self.checked += int(data.get("checked", 0))
        self.wrong += int(data.get("wrong", 0))
        self.cross_talk += int(data.get("cross_talk", 0))
        self.good += int(data.get("good", 0))
        for name, count in (data.get("by_check") or {}).items():
            self.by_check[name] = self.by_check.get(name, 0) + int(count)
        self.owners.update(data.get("owners") or {})
        room = MAX_LISTED - len(self.leaks)
        self.leaks.extend(list(leak) for leak in (data.get("leaks") or [])[: max(0, room)])

    def merge(self, other: AnswerBook) -> None:
        self.merge_wire(other.to_wire())

    def summary(self, ended_runs: int, duration_s: float | None) -> tuple[Answers, Goodput]:
        """The `answers` and `goodput` sections of summary.json."""
        listed = [
            CrossTalk(
                run_id=run_id,
                thread_id=thread_id,
                canary=canary,
                owner_thread_id=owner or self.owners.get(canary),
            )
            for run_id, thread_id, canary, owner in self.leaks
        ]
        answers = Answers(
            checked=self.checked,
            wrong=self.wrong,
            wrong_rate=_rate(self.wrong, self.checked),
            by_check={name: self.by_check.get(name, 0) for name in CHECK_NAMES},
            cross_talk=self.cross_talk,
            cross_talk_rate=_rate(self.cross_talk, self.checked),
            cross_talks=listed,
        )
        goodput = Goodput(
            runs=self.good,
            runs_per_s=round(self.good / duration_s, 3) if duration_s else 0.0,
            share=_rate(self.good, ended_runs),
        )
        return answers, goodput
