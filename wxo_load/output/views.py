"""What several formats show the same way: the load generator's facts (the report's banner,
summary.md's trust line, the live tab) and the per-persona rows. Pure: a `Summary` in, values out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wxo_load.core.channels import RUNS_STREAM
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import ChannelSummary, Stat, TurnSummary


@dataclass(frozen=True)
class LoadGeneratorFacts:
    """What summary.json says of the load generator, as the report's banner and summary.md's
    trust line state it: its lag p99s, its peak CPU, its warnings and whether it kept up."""

    client_lag_p99: float | None
    schedule_lag_p99: float | None
    cpu_percent_max: float | None
    warnings: list[str]
    trusted: bool  # trustworthy and not one warning
    workers_lost: int = 0  # load-generating processes lost mid-test (their late runs are gone)
    workers_seen: int = 1

    @classmethod
    def of(cls, summary: Summary) -> LoadGeneratorFacts:
        lg = summary.load_generator
        return cls(
            lg.client_lag.p99,
            lg.schedule_lag.p99,
            lg.cpu_percent_max,
            list(lg.warnings),
            lg.trustworthy and not lg.warnings,
            summary.workers.lost,
            summary.workers.seen,
        )

    def parts(self, num: Callable[[float], str], *, lag_missing: str = "") -> list[str]:
        """ "client lag p99 1.3 ms", "schedule lag p99 ...", "CPU max 45 %", "1 of 2 workers
        lost": those measured (lost workers only if any), each
        number written by `num`; `lag_missing` stands for an unmeasured client lag."""
        lag, sched, cpu = self.client_lag_p99, self.schedule_lag_p99, self.cpu_percent_max
        texts = (
            f"client lag p99 {num(lag)} ms" if lag is not None else lag_missing,
            f"schedule lag p99 {num(sched)} ms" if sched is not None else "",
            f"CPU max {cpu:.0f} %" if cpu is not None else "",
            f"{self.workers_lost} of {self.workers_seen} workers lost" if self.workers_lost else "",
        )
        return [text for text in texts if text]


PERSONA_COLUMNS = ("persona", "runs", "ok", "failed", "error rate", "conversations", "runs/s",
                   "first_text p50", "first_text p95", "done p95")  # fmt: skip
"""The per-persona table, as summary.md, the report and the live tab show it (times in ms)."""


def persona_rows(summary: Summary) -> list[list[Any]]:
    """One row per persona (PERSONA_COLUMNS); [] without personas."""
    rows = []
    for name, p in (summary.personas or {}).items():
        first, done = p.metrics.get("first_text"), p.metrics.get("done")
        rows.append([
            name, p.runs.total, p.runs.ok, p.runs.failed, p.runs.error_rate,
            p.conversations.total, p.throughput.runs_per_s,
            first.p50 if first else None, first.p95 if first else None,
            done.p95 if done else None,
        ])  # fmt: skip
    return rows


CHANNEL_COLUMNS = ("channel", *PERSONA_COLUMNS[1:])
"""The per-channel table (times in ms; a timing the channel cannot observe says so)."""
NOT_OBSERVABLE = "not observable on this channel"


def shows_channels(summary: Summary) -> bool:
    """Whether the per-channel table says anything the totals do not: more than one channel,
    or one other than the widget's."""
    channels = summary.channels or {}
    return len(channels) > 1 or any(name != RUNS_STREAM for name in channels)


def channel_rows(summary: Summary) -> list[list[Any]]:
    """One row per channel (CHANNEL_COLUMNS); [] when `shows_channels` is False."""
    if not shows_channels(summary):
        return []
    rows = []
    for name, c in (summary.channels or {}).items():
        rows.append([
            name, c.runs.total, c.runs.ok, c.runs.failed, c.runs.error_rate,
            c.conversations.total, c.throughput.runs_per_s,
            channel_stat(c, "first_text", "p50"), channel_stat(c, "first_text", "p95"),
            channel_stat(c, "done", "p95"),
        ])  # fmt: skip
    return rows


def channel_stat(channel: ChannelSummary, metric: str, key: str) -> float | int | str | None:
    """A channel's statistic, or NOT_OBSERVABLE for a timing the channel cannot observe."""
    if metric in channel.not_observable:
        return NOT_OBSERVABLE
    return stat(channel.metrics, metric, key)


def answer_rows(summary: Summary) -> list[tuple[str, str, str]]:
    """(figure, value, detail) of the answer checks, canaries and goodput, as summary.md and the
    live tab show them; [] when no answer was checked and goodput is simply the ok runs."""
    rows: list[tuple[str, str, str]] = []
    answers, goodput = summary.answers, summary.goodput
    if answers is not None and answers.checked:
        failed = ", ".join(f"{n} {c}" for n, c in answers.by_check.items() if c)
        rows += [
            ("Answers checked", str(answers.checked), "checks or canaries ran on these runs"),
            ("Wrong answers", f"{answers.wrong} ({answers.wrong_rate:.2%})",
             f"failed checks: {failed}" if failed else "no check failed"),
            ("Cross-talk", f"{answers.cross_talk} ({answers.cross_talk_rate:.2%})",
             "answers quoting another conversation's canary"),
        ]  # fmt: skip
    if goodput is not None and (rows or goodput.runs != summary.runs.ok):
        rows.append(("Goodput", f"{goodput.runs} runs ({goodput.share:.2%})",
                     f"{goodput.runs_per_s:g}/s ok, right and within the limits"))  # fmt: skip
    return rows


def stat(stats: Mapping[str, Stat | None] | None, metric: str, key: str) -> float | int | None:
    """One statistic (`p95`, `count`...) of a metric in a table of them; None when absent."""
    found = stats.get(metric) if stats else None
    return getattr(found, key) if found is not None else None


def turn(summary: Summary, name: str) -> TurnSummary | None:
    """The first turns' or follow-ups' figures (`first`, `follow_up`), if any."""
    return summary.by_turn.get(name)
