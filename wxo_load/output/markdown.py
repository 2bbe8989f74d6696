"""summary.md: short Markdown tables of a `Summary` for a CI job summary (timings, outcomes,
throughput, turns, tools, personas, answers, the load plan's stages or capacity search, a
replay's then versus now). Pure: a `Summary` in, text out; `output.files` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from wxo_load.core.fmt import short_num, table_num
from wxo_load.core.metrics import ALL_METRICS
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_plan import Segment
from wxo_load.core.summary_sections import Outcomes, Stat, Throughput, TurnSummary
from wxo_load.core.window import window_text
from wxo_load.output.views import (
    CHANNEL_COLUMNS,
    PERSONA_COLUMNS,
    LoadGeneratorFacts,
    answer_rows,
    channel_rows,
    persona_rows,
    shows_channels,
)

STATS = ("count", "p50", "p90", "p95", "p99", "max")


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return table_num(value)
    text = str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: int = 1) -> str:
    """A Markdown table; columns after the first `text_columns` are numbers, right-aligned."""
    align = [" --- " if i < text_columns else " ---: " for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _stat(stat: Stat | None, name: str) -> Any:
    return getattr(stat, name) if stat is not None else None


def _trust_line(summary: Summary) -> str:
    lg = LoadGeneratorFacts.of(summary)
    facts = ", ".join(lg.parts(table_num))
    if lg.trusted:
        return f"**Load generator: OK** — {facts or 'no lag measured'}."
    warnings = "".join(f"\n> - {_cell(w)}" for w in lg.warnings)
    return f"> **Load generator: NOT trustworthy** — {facts or 'see below'}.{warnings}"


def summary_markdown(summary: Summary, extra_sections: Sequence[str] = ()) -> str:
    """Short Markdown tables for a CI job summary; `extra_sections` are appended verbatim."""
    metric_rows = [
        [name, *(_stat(summary.metrics.get(name), k) for k in STATS)] for name in ALL_METRICS
    ]
    sections = [
        _summary_header(summary),
        "### Timings (ms)\n\n" + _table(["metric", *STATS], metric_rows),
        "### Outcomes\n\n" + _outcome_table(summary.runs, summary.conversations),
        "### Throughput\n\n" + _throughput_table(summary.throughput),
        "### First turn vs follow-ups (ms)\n\n" + _turn_table(summary.by_turn),
    ]
    if summary.tools:  # where the time goes inside a run: tools by p95
        keys = ("calls", "failures", "p50", "p95", "p99", "max")
        rows = sorted(
            ([n, *(getattr(t, k) for k in keys)] for n, t in summary.tools.items()),
            key=lambda r: -(r[4] or 0),
        )
        sections.append("### Tools (ms)\n\n" + _table(["tool", *keys], rows))
    if summary.personas:
        sections.append("### Personas\n\n" + _table(PERSONA_COLUMNS, persona_rows(summary)))
    if shows_channels(summary):
        sections.append("### Channels\n\n" + _table(CHANNEL_COLUMNS, channel_rows(summary)))
    answers = answer_rows(summary)
    if answers:
        sections.append("### Answers\n\n" + _table(["figure", "value", "detail"], answers, 3))
    sections += [s for s in [plan_markdown(summary), replay_markdown(summary)] if s]
    sections += [s.strip("\n") for s in extra_sections]
    return "\n\n".join(sections) + "\n"


def _summary_header(summary: Summary) -> str:
    """Title, when/how long/how many users/host, run totals and the trust line."""
    runs, convs = summary.runs, summary.conversations
    duration = summary.duration_s
    return (
        f"## wxo-load: {_cell(summary.scenario.name or 'test')}\n\n"
        f"{_cell(summary.started_at)} · {table_num(duration) if duration else '–'} s · "
        f"{_cell(summary.users.peak)} users · {_cell(summary.host)}\n\n"
        f"**{runs.total} runs** ({runs.ok} ok, {runs.failed} failed, "
        + (f"{runs.left} left mid-answer, " if runs.left else "")
        + f"error rate {100 * runs.error_rate:.2f} %) in "
        f"{convs.total} conversations. {window_text(summary.window)}\n\n" + _trust_line(summary)
    )


def _outcome_table(runs: Outcomes, convs: Outcomes) -> str:
    run_by = runs.by_outcome or {"ok": 0}
    conv_by = convs.by_outcome or {"ok": 0}
    names = list(run_by) + [name for name in conv_by if name not in run_by]
    return _table(
        ["outcome", "runs", "conversations"],
        ([n, run_by.get(n, 0), conv_by.get(n, 0)] for n in names),
    )


_RATES = (("runs/s", "runs_per_s"), ("ok runs/s", "ok_runs_per_s"),
          ("conversations/s", "conversations_per_s"),
          ("answer characters/s", "answer_chars_per_s"))  # fmt: skip


def _throughput_table(throughput: Throughput) -> str:
    return _table(["rate", "value"], ([label, getattr(throughput, key)] for label, key in _RATES))


def _turn_table(by_turn: dict[str, TurnSummary]) -> str:
    rows = []
    for metric in ("first_text", "done"):
        for turn in ("first", "follow_up"):
            entry = by_turn.get(turn)
            stat = entry.metrics.get(metric) if entry is not None else None
            runs = entry.runs if entry is not None else None
            cells = [_stat(stat, p) for p in ("p50", "p95", "p99")]
            rows.append([metric, turn.replace("_", "-"), runs, *cells])
    return _table(["metric", "turn", "runs", "p50", "p95", "p99"], rows, text_columns=2)


# -- the load plan: stages or a capacity search ---------------------------------------------


def _load(load: dict[str, int | float | None]) -> str:
    if "users" in load:
        return f"{short_num(load['users'])} users"
    return f"{short_num(load.get('arrival_rate'))}/s"


def _row(item: Segment, last: str) -> str:
    first, done = item.metrics.get("first_text"), item.metrics.get("done")
    cells = [item.name, _load(item.load), item.runs.total, item.throughput.runs_per_s,
             _stat(first, "p95"), _stat(done, "p95"),
             f"{100 * item.runs.error_rate:.2f} %", last]  # fmt: skip
    return "| " + " | ".join(short_num(c) if not isinstance(c, str) else c for c in cells) + " |"


def plan_markdown(summary: Summary) -> str:
    """The section for a load plan, or "" when the test had no stages or search."""
    header = (
        "| {} | load | runs | runs/s | first text p95 | done p95 | errors | {} |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
    )
    if summary.search_steps:
        capacity, knee = summary.capacity, summary.knee
        search = summary.plan.search if summary.plan is not None else None
        kind = search.kind if search is not None else "users"
        found = (
            f"**Capacity: {_load({kind: getattr(capacity, kind)})}** at "
            f"{short_num(capacity.runs_per_s)} runs/s"
            if capacity
            else "**No step met the SLO.**"
        )
        found += f"; knee at {_load({kind: getattr(knee, kind)})}." if knee else "."
        rows = "\n".join(_row(s, str(s.verdict)) for s in summary.search_steps)
        return f"### Capacity search\n\n{found}\n\n" + header.format("step", "verdict") + rows
    if summary.stages:
        rows = "\n".join(
            _row(s, short_num(s.arrivals.dropped if s.arrivals else None)) for s in summary.stages
        )
        return "### Stages\n\n" + header.format("stage", "dropped") + rows
    return ""


def replay_markdown(summary: Summary) -> str:
    """The then-versus-now table ('' without a replay)."""
    replay = summary.replay
    if replay is None:
        return ""
    rec, mea = replay.recorded_agent_ms, replay.measured_agent_ms
    rows = [
        f"| p50 | {rec.p50} | {mea.p50} | {replay.ratio_p50} |",
        f"| p95 | {rec.p95} | {mea.p95} | {replay.ratio_p95} |",
    ]
    return (
        f"### Then versus now ({replay.conversations} replayed conversations)\n\n"
        "| agent time per turn (ms) | recorded | replayed | ratio |\n| --- | --- | --- | --- |\n"
        + "\n".join(rows)
    )
