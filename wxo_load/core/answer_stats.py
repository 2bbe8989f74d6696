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

import msgspec
from msgspec.structs import astuple

from wxo_load.core.checks import CHECK_NAMES
from wxo_load.core.records import CROSS_TALK, OK, WRONG_ANSWER, RunRecord

MAX_LISTED = 100


class Leak(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """One cross-talk run on the wire: the run, its thread, the foreign canary and the thread
    that owns it (None: resolved on the master from `owners`)."""

    run_id: str | None
    thread_id: str | None
    canary: str | None
    owner_thread_id: str | None


class AnswersWire(msgspec.Struct, forbid_unknown_fields=True):
    """An `AnswerBook` on the wire (inside a `BookWire`)."""

    checked: int = 0
    wrong: int = 0
    cross_talk: int = 0
    good: int = 0
    by_check: dict[str, int] = {}
    owners: dict[str, str] = {}
    leaks: list[Leak] = []


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

    def packed(self) -> AnswersWire:
        """This book on the wire (a worker's report)."""
        return AnswersWire(self.checked, self.wrong, self.cross_talk, self.good,
                           dict(self.by_check), dict(self.owners),
                           [Leak(*leak) for leak in self.leaks])  # fmt: skip

    def merge_packed(self, wire: AnswersWire) -> None:
        """Add a book read from the wire."""
        self._add(wire.checked, wire.wrong, wire.cross_talk, wire.good, wire.by_check,
                  wire.owners, [list(astuple(leak)) for leak in wire.leaks])  # fmt: skip

    def merge(self, other: AnswerBook) -> None:
        self._add(other.checked, other.wrong, other.cross_talk, other.good, other.by_check,
                  other.owners, other.leaks)  # fmt: skip

    def _add(
        self,
        checked: int,
        wrong: int,
        cross_talk: int,
        good: int,
        by_check: dict[str, int],
        owners: dict[str, str],
        leaks: list[list[Any]],
    ) -> None:
        self.checked += checked
        self.wrong += wrong
        self.cross_talk += cross_talk
        self.good += good
        for name, count in by_check.items():
            self.by_check[name] = self.by_check.get(name, 0) + count
        self.owners.update(owners)
        room = MAX_LISTED - len(self.leaks)
        self.leaks.extend(list(leak) for leak in leaks[: max(0, room)])

    def summary(self, ended_runs: int, duration_s: float | None) -> dict[str, Any]:
        """The `answers` and `goodput` sections of summary.json."""
        listed = [
            {
                "run_id": run_id,
                "thread_id": thread_id,
                "canary": canary,
                "owner_thread_id": owner or self.owners.get(canary),
            }
            for run_id, thread_id, canary, owner in self.leaks
        ]
        return {
            "answers": {
                "checked": self.checked,
                "wrong": self.wrong,
                "wrong_rate": _rate(self.wrong, self.checked),
                "by_check": {name: self.by_check.get(name, 0) for name in CHECK_NAMES},
                "cross_talk": self.cross_talk,
                "cross_talk_rate": _rate(self.cross_talk, self.checked),
                "cross_talks": listed,
            },
            "goodput": {
                "runs": self.good,
                "runs_per_s": round(self.good / duration_s, 3) if duration_s else 0.0,
                "share": _rate(self.good, ended_runs),
            },
        }
