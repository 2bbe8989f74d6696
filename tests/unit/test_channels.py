"""Channels in the scenario, the records and the summary: `channel:` (top level and per persona),
`--channel`, per-channel figures and gates, and milestones a channel cannot observe."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.gates_support import summary_json, typed
from tests.helpers.wire import via_wire
from wxo_load.config.channels import with_channel
from wxo_load.config.model import ChannelSettings, Scenario, scenario_from_wire, scenario_to_wire
from wxo_load.config.scenario import load_scenario
from wxo_load.core.book import MetricsBook
from wxo_load.core.channels import not_observable
from wxo_load.core.errors import ConfigError
from wxo_load.core.records import ConversationRecord, RunRecord
from wxo_load.gates.figures import figure_kind, figure_value, sample_count
from wxo_load.gates.parse import parse_gate, parse_regression

BASE = "name: s\nagent_id: a\nprompts: {messages: [hi]}\n"


def scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_scenario(path)


def test_channel_is_a_name_or_a_mapping_with_that_channels_options(tmp_path: Path) -> None:
    assert scenario(tmp_path, "").channel == ChannelSettings()
    assert scenario(tmp_path, "channel: chat\n").channel.name == "chat"
    v2 = scenario(tmp_path, "channel: {name: chat-v2, mode: stateful, environment_id: e1}\n")
    assert (v2.channel.name, v2.channel.mode, v2.channel.environment_id) == (
        "chat-v2", "stateful", "e1",
    )  # fmt: skip
    assert not scenario(tmp_path, "channel: {name: chat, stream: false}\n").channel.stream
    poll = scenario(tmp_path, "channel: {name: runs-poll, poll_interval_s: 0.5}\n")
    assert poll.channel.poll_interval_s == 0.5
    assert scenario_from_wire(scenario_to_wire(v2)).channel == v2.channel


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("channel: telegraph\n", "unknown channel 'telegraph'"),
        ("channel: {name: chat, mode: stateful}\n", "applies to channel chat-v2, not chat"),
        ("channel: {name: chat-v2, mode: forgetful}\n", "expected stateless"),
        ("channel: {name: chat, colour: red}\n", "channel.colour`: unknown key"),
        ("channel: [chat]\n", "expected a channel name"),
    ],
)
def test_a_bad_channel_is_a_load_time_error_naming_the_key(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ConfigError, match="s.yaml, key `channel") as info:
        scenario(tmp_path, text)
    assert says in str(info.value)


def test_a_persona_talks_over_its_own_channel_and_the_command_line_sets_every_ones(
    tmp_path: Path,
) -> None:
    loaded = scenario(
        tmp_path,
        "channel: {name: chat-v2, mode: stateful}\npersonas:\n"
        "  - {name: widget, channel: runs-stream}\n"
        "  - {name: app, channel: {name: chat, stream: false}}\n"
        "  - {name: evals}\n",
    )
    widget, app, evals = (p.scenario.channel for p in loaded.personas)
    assert (widget.name, app.name, app.stream, evals.mode) == (
        "runs-stream", "chat", False, "stateful",
    )  # fmt: skip
    forced = with_channel(loaded, "chat")
    assert {p.scenario.channel.name for p in forced.personas} == {"chat"}
    assert forced.persona("app").scenario.channel.stream is False  # its own options kept
    with pytest.raises(ConfigError, match="--channel"):
        with_channel(loaded, "pigeon")


def _run(channel: str, ms: float, *, streamed: bool = True) -> RunRecord:
    return RunRecord(1.0, "u", "c", 0, "r", first_text_ms=ms if streamed else None,
                     message_created_ms=ms, done_ms=ms, total_ms=ms, channel=channel,
                     request_bytes=100)  # fmt: skip


def test_each_channel_has_its_own_figures_and_says_what_it_could_not_observe() -> None:
    worker_a, worker_b = MetricsBook(), MetricsBook()
    for ms in (10, 20, 30):
        worker_a.record_run(_run("runs-stream", ms))
    worker_b.record_run(_run("chat", 500, streamed=False))
    worker_b.record_conversation(ConversationRecord(1.0, "u", "c", channel="chat"))
    master = MetricsBook()
    for worker in (worker_a, worker_b):
        master.merge_packed(via_wire(worker))
    summary = summary_json(master, meta={})
    widget, chat = summary["channels"]["runs-stream"], summary["channels"]["chat"]
    assert (widget["runs"]["total"], chat["runs"]["total"], chat["conversations"]["total"]) == (
        3, 1, 1,
    )  # fmt: skip
    assert widget["not_observable"] == []
    assert chat["not_observable"] == ["run_started", "first_delta", "first_text"]
    model = typed(summary)
    assert figure_value(model, "channels.runs-stream.first_text.p95") == 30
    assert figure_value(model, "channels.chat.first_text.p95") is None
    assert sample_count(model, "channels.chat.done.p95") == 1
    assert figure_kind("channels.chat-v2.first_text.p95") == figure_kind("first_text.p95")
    assert parse_gate("channels.chat-v2.first_text.p95 < 3s").figure == (
        "channels.chat-v2.first_text.p95"
    )
    with pytest.raises(ConfigError, match="a tolerance is how much worse"):
        parse_regression("first_text.p95-10%")  # the hyphen is the sign, not part of the name


def test_a_streamed_chat_completion_observes_its_first_text() -> None:
    streamed = {"first_delta": 3, "first_text": 3, "message_created": 3}
    assert not_observable("chat", streamed) == ["run_started"]
    assert not_observable("chat", {**streamed, "message_created": 0})[-1] == "message_created"
    assert not_observable("chat-v2", {}) == ["run_started"]


def test_summary_md_the_report_the_live_tab_and_gates_say_what_a_channel_cannot_observe() -> None:
    from wxo_load.core.summary import build_summary
    from wxo_load.gates.evaluate import evaluate
    from wxo_load.output import live
    from wxo_load.output.markdown import summary_markdown
    from wxo_load.output.report.html import build_report_html

    book = MetricsBook()
    book.record_run(_run("runs-stream", 10.0))
    book.record_run(_run("chat", 40.0, streamed=False))
    summary = build_summary(book, meta={})
    markdown = summary_markdown(summary)
    assert "### Channels" in markdown
    assert (
        "| chat | 1 | 1 | 0 | 0 | 0 |" in markdown and "not observable on this channel" in markdown
    )
    html = build_report_html(summary, [], [])
    assert 'id="channels"' in html and "chat: run_started, first_delta, first_text" in html
    rows = live.timing_rows(summary)
    assert any(r["turn"] == "channel chat (not observable on this channel)" for r in rows)
    verdict = evaluate([parse_gate("channels.chat.first_text.p95 < 3s")], summary)[0]
    assert not verdict.passed and "not observable on channel chat" in verdict.reason
    from wxo_load.output import prometheus

    text = prometheus.exposition(book, users=0, trustworthy=True, running=False)
    assert 'wxo_load_channel_runs_total{channel="chat",outcome="ok"} 1' in text
    widget_only = MetricsBook()
    widget_only.record_run(_run("runs-stream", 10.0))
    assert "### Channels" not in summary_markdown(build_summary(widget_only, meta={}))
    assert "channel" not in prometheus.exposition(
        widget_only, users=0, trustworthy=True, running=False
    )
