"""Everything a load generator measured (`MetricsBook`), mergeable across processes, and the
wire format workers send it to the master in.

Pure: no clock, no I/O. Each timing is a `wxo_load.core.hdr.Timing`.
"""

from __future__ import annotations

import msgspec

from wxo_load.core.answer_stats import AnswerBook, AnswersWire
from wxo_load.core.errors import WireFormatError
from wxo_load.core.hdr import Timing, TimingWire, round_ms
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
from wxo_load.core.replay_stats import ReplayBook, ReplayWire
from wxo_load.core.step_stats import record_run_steps
from wxo_load.core.summary_sections import Stat
from wxo_load.core.window import MEASURED
from wxo_load.core.wire import SAME_VERSION


class BookWire(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A `MetricsBook` on the wire, inside a worker's report (`handoff.WorkerReport`): the
    histograms as `TimingWire`s (merged exactly on the master), the counters as they are, and a
    sub-book per persona and per channel."""

    timings: dict[str, TimingWire] = {}
    runs_by_outcome: dict[str, int] = {}
    conversations_by_outcome: dict[str, int] = {}
    runs_by_turn: dict[str, dict[str, int]] = {}
    runs_by_worker: dict[str, dict[str, int]] = {}
    answer_chars: int = 0
    first_start_unix: float | None = None
    last_end_unix: float | None = None
    answers: AnswersWire = msgspec.field(default_factory=AnswersWire)
    replay: ReplayWire | None = None
    personas: dict[str, BookWire] = {}
    channels: dict[str, BookWire] = {}
    excluded: dict[str, dict[str, int]] = {}


def _turn_class(turn_index: int) -> str:
    return FIRST if turn_index == 0 else FOLLOW_UP


def _add_counts(into: dict[str, int], other: dict[str, int]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + value


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

    def record_client_lags_ms(self, values_ms: list[float]) -> None:
        """A run's client lags (its events in order) at once: as `record_client_lag_ms` each."""
        self._client_lag.record_many(values_ms)

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
        self._merge_counters(other)
        self.answers.merge(other.answers)
        self.replay.merge(other.replay)
        for name, book in other.personas.items():
            self.persona(name).merge(book)
        for name, book in other.channels.items():
            self.channel(name).merge(book)

    def _merge_counters(self, other: MetricsBook | BookWire) -> None:
        """Counts, span and excluded records of a book, or of a book read from the wire."""
        _add_counts(self.runs_by_outcome, other.runs_by_outcome)
        _add_counts(self.conversations_by_outcome, other.conversations_by_outcome)
        for turn, counts in other.runs_by_turn.items():
            _add_counts(self.runs_by_turn.setdefault(turn, {}), counts)
        for worker, counts in other.runs_by_worker.items():
            _add_counts(self.runs_by_worker.setdefault(worker, {"runs": 0, "failed": 0}), counts)
        for kind, counts in other.excluded.items():
            _add_counts(self.excluded.setdefault(kind, {}), counts)
        self.answer_chars += other.answer_chars
        first, last = other.first_start_unix, other.last_end_unix
        if first is not None and (self.first_start_unix is None or first < self.first_start_unix):
            self.first_start_unix = first
        if last is not None and (self.last_end_unix is None or last > self.last_end_unix):
            self.last_end_unix = last

    def packed(self) -> BookWire:
        """This book on the wire (a worker's report): every histogram, counter and sub-book."""
        return BookWire(
            timings={key: t.packed() for key, t in self.timings.items() if t.count},
            runs_by_outcome=self.runs_by_outcome,
            conversations_by_outcome=self.conversations_by_outcome,
            runs_by_turn=self.runs_by_turn,
            runs_by_worker=self.runs_by_worker,
            answer_chars=self.answer_chars,
            first_start_unix=self.first_start_unix,
            last_end_unix=self.last_end_unix,
            answers=self.answers.packed(),
            replay=self.replay.packed(),
            personas={name: b.packed() for name, b in self.personas.items()},
            channels={name: b.packed() for name, b in self.channels.items()},
            excluded=self.excluded,
        )

    @classmethod
    def unpack(cls, wire: BookWire) -> MetricsBook:
        book = cls()
        book.merge_packed(wire)
        return book

    def merge_packed(self, wire: BookWire) -> None:
        """Add a book read from the wire (`wxo_load.core.wire.decode`); a WireFormatError, and
        nothing added, when one of its histograms is damaged."""
        try:
            timings = {key: Timing.unpack(t) for key, t in wire.timings.items()}
            replay = ReplayBook()
            replay.merge_packed(wire.replay)
            personas = {name: MetricsBook.unpack(b) for name, b in wire.personas.items()}
            channels = {name: MetricsBook.unpack(b) for name, b in wire.channels.items()}
        except ValueError as exc:
            raise WireFormatError(
                f"received a damaged statistics report ({exc}). {SAME_VERSION}; if it "
                "persists, report it as a bug."
            ) from exc
        for key, timing in timings.items():  # fresh objects: a new key takes its own as it is
            if (mine := self.timings.setdefault(key, timing)) is not timing:
                mine.merge(timing)
        self._merge_counters(wire)
        self.answers.merge_packed(wire.answers)
        self.replay.merge(replay)
        for books, unpacked in ((self.personas, personas), (self.channels, channels)):
            for name, book in unpacked.items():
                if (held := books.setdefault(name, book)) is not book:
                    held.merge(book)

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
