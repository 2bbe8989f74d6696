"""wxo-load's live figures in the Prometheus text exposition format (version 0.0.4).

Pure: a `MetricsBook` (the master's merge of every worker) and a few gauges in, text out.

- `wxo_load_runs_total{outcome}` and `wxo_load_conversations_total{outcome}`: counters by
  outcome (`ok`, an error class, or `stopped`); `wxo_load_run_errors_total{error_class}` the
  failed runs alone; `wxo_load_runs_excluded_total{window}` the runs of the warm-up and the
  cool-down, which are in no other figure.
- `wxo_load_timing_seconds{metric}`: a histogram per server timing of wxo_load.core.metrics
  (thread_create, run_started, ... conversation), and `wxo_load_client_lag_seconds` /
  `wxo_load_schedule_lag_seconds` for the load generator.
  Every histogram has the same fixed buckets (`BUCKETS_S`), read from the merged HDR
  histograms, so they aggregate across scrapes and instances; `_sum` and `_count` are exact.
- with personas, the same per persona under a `persona` label, in families of their own (so a
  sum over the plain families never counts a run twice): `wxo_load_persona_runs_total{persona,
  outcome}`, `wxo_load_persona_conversations_total{persona, outcome}`,
  `wxo_load_persona_timing_seconds{persona, metric}`; and per channel the same under a
  `channel` label (`wxo_load_channel_runs_total{channel, outcome}`, ...) when a test used more
  than the widget's channel.
- with answer checks or canaries on: `wxo_load_answers_total{verdict}`, runs whose answer was
  `checked`, and those `wrong` or with `cross_talk`, and `wxo_load_goodput_runs_total` (ok,
  right and within the goodput limits).
- gauges: `wxo_load_users`, `wxo_load_trustworthy` (1 while the load generator keeps up),
  `wxo_load_test_running`, `wxo_load_gate_passing{gate}`.

Counters restart from zero when a new test starts in the same web UI session (Prometheus's
`rate()` handles that as a counter reset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wxo_load.core.book import MetricsBook
from wxo_load.core.channels import RUNS_STREAM
from wxo_load.core.hdr import Timing
from wxo_load.core.metrics import ALL_METRICS, LOAD_GENERATOR, METRICS
from wxo_load.core.records import NOT_FAILED, OK
from wxo_load.core.window import EXCLUDED_WINDOWS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS_S = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    25.0,
    60.0,
    120.0,
    300.0,
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _header(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _counter(
    name: str, label: str, counts: Mapping[str, int], text: str, always: Iterable[str] = ()
) -> list[str]:
    lines = _header(name, "counter", text)
    values = {key: 0 for key in always}
    values.update(counts)
    for key in sorted(values):
        lines.append(f'{name}{{{label}="{_escape(key)}"}} {int(values[key])}')
    return lines


def histogram_lines(name: str, timing: Timing, labels: str = "") -> list[str]:
    """`_bucket`, `_sum` and `_count` lines of one histogram, in seconds."""
    sep = "," if labels else ""
    cumulative = timing.counts_at_or_below_ms([b * 1000.0 for b in BUCKETS_S])
    lines = [
        f'{name}_bucket{{{labels}{sep}le="{_num(b)}"}} {c}'
        for b, c in zip(BUCKETS_S, cumulative, strict=True)
    ]
    lines.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {timing.count}')
    braces = f"{{{labels}}}" if labels else ""
    lines.append(f"{name}_sum{braces} {_num(round(timing.sum_ms / 1000.0, 6))}")
    lines.append(f"{name}_count{braces} {timing.count}")
    return lines


def _gauge(name: str, value: float, text: str) -> list[str]:
    return [*_header(name, "gauge", text), f"{name} {_num(value)}"]


def _outcome_counters(book: MetricsBook) -> list[str]:
    """Counters of runs and conversations by outcome, and failed runs by error class."""
    errors = {k: v for k, v in book.runs_by_outcome.items() if k not in NOT_FAILED}
    lines = _counter(
        "wxo_load_runs_total",
        "outcome",
        book.runs_by_outcome,
        "Runs ended, by outcome (ok, an error class, or stopped by the end of the test).",
        always=(OK,),
    )
    lines += _counter(
        "wxo_load_run_errors_total", "error_class", errors, "Failed runs, by error class."
    )
    lines += _counter(
        "wxo_load_conversations_total",
        "outcome",
        book.conversations_by_outcome,
        "Conversations ended, by outcome.",
        always=(OK,),
    )
    lines += _counter(
        "wxo_load_runs_excluded_total",
        "window",
        book.excluded.get("runs") or {},
        "Runs left out of every figure: started in the warm-up or ended in the cool-down.",
        always=EXCLUDED_WINDOWS,
    )
    return lines


def _timing_histograms(book: MetricsBook) -> list[str]:
    """The timing histogram family, then one histogram per load-generator lag."""
    lines = _header(
        "wxo_load_timing_seconds",
        "histogram",
        "wxo-load timings: thread creation, each run milestone, whole conversations.",
    )
    for metric in ALL_METRICS:
        lines += histogram_lines(
            "wxo_load_timing_seconds", book.timing(metric), f'metric="{metric}"'
        )
    for lag in (m for m in METRICS if m.source == LOAD_GENERATOR):
        lines += _header(f"wxo_load_{lag.key}_seconds", "histogram", lag.about)
        lines += histogram_lines(f"wxo_load_{lag.key}_seconds", book.timing(lag.key))
    return lines


def _group_families(groups: Mapping[str, MetricsBook], label: str) -> list[str]:
    """Runs, conversations and timings of each persona or channel (`label`), in families of
    their own (`wxo_load_<label>_...`); nothing without any."""
    if not groups:
        return []
    lines: list[str] = []
    for family, text, attr in (
        ("runs", f"Runs ended, by {label} and outcome.", "runs_by_outcome"),
        (
            "conversations",
            f"Conversations ended, by {label} and outcome.",
            "conversations_by_outcome",
        ),
    ):
        name = f"wxo_load_{label}_{family}_total"
        lines += _header(name, "counter", text)
        for group, sub in sorted(groups.items()):
            for outcome, count in sorted({OK: 0, **getattr(sub, attr)}.items()):
                lines.append(f'{name}{{{label}="{_escape(group)}",outcome="{_escape(outcome)}"}} '
                             f"{int(count)}")  # fmt: skip
    name = f"wxo_load_{label}_timing_seconds"
    lines += _header(name, "histogram", f"wxo-load timings of each {label}.")
    for group, sub in sorted(groups.items()):
        for metric in ALL_METRICS:
            labels = f'{label}="{_escape(group)}",metric="{metric}"'
            lines += histogram_lines(name, sub.timing(metric), labels)
    return lines


def _answer_counters(book: MetricsBook) -> list[str]:
    """The answer checks' counters (nothing when no answer was checked)."""
    answers = book.answers
    if not answers.checked:
        return []
    verdicts = {"checked": answers.checked, "wrong": answers.wrong,
                "cross_talk": answers.cross_talk}  # fmt: skip
    text = "Runs whose answer was checked, and those wrong or quoting another's canary."
    lines = _counter("wxo_load_answers_total", "verdict", verdicts, text)
    lines += _header("wxo_load_goodput_runs_total", "counter", "Runs ok, right, within limits.")
    return [*lines, f"wxo_load_goodput_runs_total {answers.good}"]


def _state_gauges(*, users: int, trustworthy: bool, running: bool) -> list[str]:
    """Gauges of users, trustworthiness and whether a test runs."""
    lines = _gauge("wxo_load_users", users, "Users running now.")
    lines += _gauge(
        "wxo_load_trustworthy",
        1 if trustworthy else 0,
        "1 while the load generator keeps up (client lag and CPU within limits), else 0.",
    )
    lines += _gauge("wxo_load_test_running", 1 if running else 0, "1 while a test runs.")
    return lines


def _gate_gauges(gates: Iterable[tuple[str, bool]]) -> list[str]:
    """One gauge per gate (nothing when there are no gates)."""
    gate_list = list(gates)
    if not gate_list:
        return []
    lines = _header(
        "wxo_load_gate_passing", "gauge", "1 while a gate passes on the live figures, else 0."
    )
    lines += [
        f'wxo_load_gate_passing{{gate="{_escape(text)}"}} {1 if ok else 0}'
        for text, ok in gate_list
    ]
    return lines


def exposition(
    book: MetricsBook,
    *,
    users: int,
    trustworthy: bool,
    running: bool,
    gates: Iterable[tuple[str, bool]] = (),
) -> str:
    """The whole scrape body."""
    lines = _outcome_counters(book)
    lines += _timing_histograms(book)
    lines += _group_families(book.personas, "persona")
    channels = book.channels
    if list(channels) == [RUNS_STREAM]:  # the widget's alone: the plain families say it all
        channels = {}
    lines += _group_families(channels, "channel")
    lines += _answer_counters(book)
    lines += _state_gauges(users=users, trustworthy=trustworthy, running=running)
    lines += _gate_gauges(gates)
    return "\n".join(lines) + "\n"
