"""Everything a load generator measured (`MetricsBook`), mergeable across processes, and the
wire format workers send it to the master in.

Pure: no clock, no I/O. Each timing is a `wxo_load.core.hdr.Timing`.
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.answer_stats import AnswerBook
from wxo_load.core.errors import ResultsError
from wxo_load.core.hdr import Timing, round_ms
from wxo_load.core.metrics import (
    CLIENT_LAG,
    CONVERSATION_METRICS,
    FIRST,
    FOLLOW_UP,
    RUN_METRICS,
    SCHEDULE_LAG,
)
from wxo_load.core.records import (
    LEFT_OUTCOMES,
    NOT_FAILED,
    OK,
    STOPPED,
    ConversationRecord,
    RunRecord,
)
from wxo_load.core.replay_stats import ReplayBook
from wxo_load.core.step_stats import record_run_steps
from wxo_load.core.summary_sections import Stat
from wxo_load.core.window import MEASURED

WIRE_SCHEMA = "wxo-load/book/v1"


def _turn_class(turn_index: int) -> str:
    return FIRST if turn_index == 0 else FOLLOW_UP


def _add_counts(into: dict[str, int], other: dict[str, int]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + int(value)


class MetricsBook:
    """Everything a load generator measured, mergeable across processes.

    Histograms (keys of `timings`): every metric in ALL_METRICS; `first/<run metric>` and
    `follow_up/<run metric>` per turn class; `client_lag` (per event) and `schedule_lag` (per
    run). Counters: runs and conversations by outcome, runs by turn class and outcome, runs by
    worker, answer characters, and the wall-clock span the runs covered.
    """

    def __init__(self) -> None:
        self.timings: dict[str, Timing] = {}
        self.runs_by_outcome: dict[str, int] = {}
        self.conversations_by_outcome: dict[str, int] = {}
        self.runs_by_turn: dict[str, dict[str, int]] = {FIRST: {}, FOLLOW_UP: {}}
        self.runs_by_worker: dict[str, dict[str, int]] = {}
        self.answer_chars = 0
        # records left out of the figures, by kind (runs, conversations) and window
        self.excluded: dict[str, dict[str, int]] = {"runs": {}, "conversations": {}}
        self.first_start_unix: float | None = None
        self.last_end_unix: float | None = None
        self._client_lag = self._timing(CLIENT_LAG)
        self.answers = AnswerBook()  # checked, wrong, cross-talk, goodput (core.answer_stats)
        self.replay = ReplayBook()  # then versus now of replayed turns (core.replay_stats)
        self.personas: dict[str, MetricsBook] = {}  # a book per persona (its runs, conversations)
        self.channels: dict[str, MetricsBook] = {}  # a book per channel (core.channels)

    # -- recording -------------------------------------------------------------------------

    def _timing(self, key: str) -> Timing:
        timing = self.timings.get(key)
        if timing is None:
            timing = self.timings[key] = Timing()
        return timing

    def _span(self, start_unix: float, duration_ms: float | None) -> None:
        end = start_unix + (duration_ms or 0.0) / 1000.0
        if self.first_start_unix is None or start_unix < self.first_start_unix:
            self.first_start_unix = start_unix
        if self.last_end_unix is None or end > self.last_end_unix:
            self.last_end_unix = end

    def persona(self, name: str) -> MetricsBook:
        """The book of one persona's runs and conversations (made on first use)."""
        book = self.personas.get(name)
        if book is None:
            book = self.personas[name] = MetricsBook()
        return book

    def channel(self, name: str) -> MetricsBook:
        """The book of one channel's runs and conversations (made on first use)."""
        book = self.channels.get(name)
        if book is None:
            book = self.channels[name] = MetricsBook()
        return book

    def book_run(self, run: RunRecord) -> bool:
        """Record a run of the measured window; count one outside it (`run.window`, set by
        `wxo_load.core.window`). True when it was recorded."""
        if run.window != MEASURED:
            self.exclude("runs", run.window)
            return False
        self.record_run(run)
        return True

    def book_conversation(self, conv: ConversationRecord) -> bool:
        """Like `book_run`, for a conversation."""
        if conv.window != MEASURED:
            self.exclude("conversations", conv.window)
            return False
        self.record_conversation(conv)
        return True

    def exclude(self, kind: str, window: str) -> None:
        counts = self.excluded.setdefault(kind, {})
        counts[window] = counts.get(window, 0) + 1

    def record_run(self, run: RunRecord) -> None:
        self._record_run(run)
        self.channel(run.channel)._record_run(run)
        if run.persona is not None:
            self.persona(run.persona)._record_run(run)

    def _record_run(self, run: RunRecord) -> None:
        turn = _turn_class(run.turn_index)
        outcome = run.outcome
        left = outcome in LEFT_OUTCOMES  # a person who left: counted, out of the timings
        for metric, field in () if left else RUN_METRICS.items():
            value = getattr(run, field)
            if value is not None:
                self._timing(metric).record(value)
                self._timing(f"{turn}/{metric}").record(value)
        if run.schedule_lag_ms is not None:
            self._timing(SCHEDULE_LAG).record(run.schedule_lag_ms)
        self.runs_by_outcome[outcome] = self.runs_by_outcome.get(outcome, 0) + 1
        by_turn = self.runs_by_turn[turn]
        by_turn[outcome] = by_turn.get(outcome, 0) + 1
        worker = self.runs_by_worker.setdefault(run.worker or "local", {"runs": 0, "failed": 0})
        worker["runs"] += 1
        if outcome not in NOT_FAILED:
            worker["failed"] += 1
        self.answer_chars += run.answer_chars
        self._span(run.started_at_unix, run.total_ms)
        if not left:
            record_run_steps(self, run)
        self.answers.record(run)
        if run.recorded_agent_ms is not None:
            self.replay.record(run)

    def record_conversation(self, conv: ConversationRecord) -> None:
        self._record_conversation(conv)
        self.channel(conv.channel)._record_conversation(conv)
        if conv.persona is not None:
            self.persona(conv.persona)._record_conversation(conv)

    def _record_conversation(self, conv: ConversationRecord) -> None:
        for metric, field in CONVERSATION_METRICS.items():
            value = getattr(conv, field)
            if value is not None:
                self._timing(metric).record(value)
        outcome = conv.outcome
        self.conversations_by_outcome[outcome] = self.conversations_by_outcome.get(outcome, 0) + 1

    def record_client_lag_ms(self, value_ms: float) -> None:
        """Per event: arrival minus the server's event timestamp. About 1.5 µs."""
        self._client_lag.record(value_ms)

    # -- counts ----------------------------------------------------------------------------

    @property
    def runs_total(self) -> int:
        return sum(self.runs_by_outcome.values())

    @property
    def runs_ok(self) -> int:
        return self.runs_by_outcome.get(OK, 0)

    @property
    def runs_stopped(self) -> int:
        return self.runs_by_outcome.get(STOPPED, 0)

    @property
    def runs_left(self) -> int:
        """Runs whose person left before the answer ended (abandoned, cancelled, interrupted)."""
        return sum(self.runs_by_outcome.get(o, 0) for o in LEFT_OUTCOMES)

    @property
    def runs_failed(self) -> int:
        """Runs that ended in an error class; `stopped` (the test ended first) and a person who
        left are not failures."""
        return self.runs_total - self.runs_ok - self.runs_stopped - self.runs_left

    @property
    def conversations_total(self) -> int:
        return sum(self.conversations_by_outcome.values())

    # -- reading ---------------------------------------------------------------------------

    def timing(self, key: str) -> Timing:
        """The histogram for `key` (a metric, `first/<metric>`, `client_lag`...); empty: unseen."""
        return self.timings.get(key) or Timing()

    def percentile_ms(self, metric: str, p: float) -> float | None:
        value = self.timing(metric).percentiles_ms([p])[0]
        return round_ms(value)

    def metric_summary(self, metric: str) -> Stat:
        return self.timing(metric).summary()

    # -- merging and the wire --------------------------------------------------------------

    def merge(self, other: MetricsBook) -> None:
        for key, timing in other.timings.items():
            self._timing(key).merge(timing)
        self._merge_counters(
            other.runs_by_outcome,
            other.conversations_by_outcome,
            other.runs_by_turn,
            other.runs_by_worker,
            other.answer_chars,
            other.first_start_unix,
            other.last_end_unix,
        )
        self.answers.merge(other.answers)
        self.replay.merge(other.replay)
        for name, book in other.personas.items():
            self.persona(name).merge(book)
        for name, book in other.channels.items():
            self.channel(name).merge(book)
        self._merge_excluded(other.excluded)

    def _merge_excluded(self, excluded: dict[str, dict[str, int]]) -> None:
        for kind, counts in excluded.items():
            _add_counts(self.excluded.setdefault(kind, {}), counts)

    def _merge_counters(
        self,
        runs_by_outcome: dict[str, int],
        conversations_by_outcome: dict[str, int],
        runs_by_turn: dict[str, dict[str, int]],
        runs_by_worker: dict[str, dict[str, int]],
        answer_chars: int,
        first_start_unix: float | None,
        last_end_unix: float | None,
    ) -> None:
        _add_counts(self.runs_by_outcome, runs_by_outcome)
        _add_counts(self.conversations_by_outcome, conversations_by_outcome)
        for turn, counts in runs_by_turn.items():
            _add_counts(self.runs_by_turn.setdefault(turn, {}), counts)
        for worker, counts in runs_by_worker.items():
            _add_counts(self.runs_by_worker.setdefault(worker, {"runs": 0, "failed": 0}), counts)
        self.answer_chars += int(answer_chars)
        if first_start_unix is not None and (
            self.first_start_unix is None or first_start_unix < self.first_start_unix
        ):
            self.first_start_unix = first_start_unix
        if last_end_unix is not None and (
            self.last_end_unix is None or last_end_unix > self.last_end_unix
        ):
            self.last_end_unix = last_end_unix

    def to_wire(self) -> dict[str, Any]:
        """msgpack-safe: dicts, lists, str, int, float, None; histograms as base64 text."""
        return {
            "schema": WIRE_SCHEMA,
            "timings": {key: t.to_wire() for key, t in self.timings.items() if t.count},
            "runs_by_outcome": dict(self.runs_by_outcome),
            "conversations_by_outcome": dict(self.conversations_by_outcome),
            "runs_by_turn": {turn: dict(c) for turn, c in self.runs_by_turn.items()},
            "runs_by_worker": {w: dict(c) for w, c in self.runs_by_worker.items()},
            "answer_chars": self.answer_chars,
            "first_start_unix": self.first_start_unix,
            "last_end_unix": self.last_end_unix,
            "answers": self.answers.to_wire(),
            "replay": self.replay.to_wire(),
            **(
                {"personas": {name: b.to_wire() for name, b in self.personas.items()}}
                if self.personas
                else {}
            ),
            **(
                {"channels": {name: b.to_wire() for name, b in self.channels.items()}}
                if self.channels
                else {}
            ),
            "excluded": {kind: dict(c) for kind, c in self.excluded.items()},
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> MetricsBook:
        book = cls()
        book.merge_wire(data)
        return book

    def merge_wire(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict) or data.get("schema") != WIRE_SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ResultsError(
                f"received statistics in an unknown format ({found!r}, expected {WIRE_SCHEMA!r}). "
                "Run the same wxo-load version on the master and every worker."
            )
        try:
            timings = {key: Timing.from_wire(t) for key, t in data["timings"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(
                f"received a damaged statistics report ({exc}). Run the same wxo-load version "
                "on the master and every worker; if it persists, report it as a bug."
            ) from exc
        for key, timing in timings.items():
            self._timing(key).merge(timing)
        self._merge_counters(
            data.get("runs_by_outcome", {}),
            data.get("conversations_by_outcome", {}),
            data.get("runs_by_turn", {}),
            data.get("runs_by_worker", {}),
            data.get("answer_chars", 0),
            data.get("first_start_unix"),
            data.get("last_end_unix"),
        )
        self.answers.merge_wire(data.get("answers"))
        self.replay.merge_wire(data.get("replay"))
        for name, wire in (data.get("personas") or {}).items():
            self.persona(name).merge_wire(wire)
        for name, wire in (data.get("channels") or {}).items():
            self.channel(name).merge_wire(wire)
        self._merge_excluded(data.get("excluded") or {})

    def reset(self) -> None:
        self.__dict__ = MetricsBook().__dict__

    def take(self) -> MetricsBook:
        """Return everything recorded so far and start afresh (for worker reports)."""
        taken = MetricsBook()
        taken.__dict__, self.__dict__ = self.__dict__, taken.__dict__
        return taken

    def is_empty(self) -> bool:
        return (
            not self.runs_by_outcome
            and not self.conversations_by_outcome
            and not any(self.excluded.values())
            and not any(t.count for t in self.timings.values())
            and all(b.is_empty() for b in self.personas.values())
            and all(b.is_empty() for b in self.channels.values())
        )
