"""Then versus now: a replayed run's agent time next to what the capture recorded (first page)."""

from __future__ import annotations

from typing import Any

from wxo_load.core.fmt import grouped
from wxo_load.core.summary_model import Summary
from wxo_load.output.report.page import safe_text, section, table

SHOWN = 20  # conversations listed, slowest against their recording first


def replay_section(summary: Summary) -> str:
    replay = summary.replay
    if replay is None:
        return ""
    recorded, measured = replay.recorded_agent_ms, replay.measured_agent_ms

    def ms(value: Any) -> str:
        return "–" if value is None else f"{grouped(value)} ms"

    def ratio(value: Any) -> str:
        return "–" if value is None else f"{value:.2f}×"

    aggregate = table(
        ["agent time per turn", "recorded (then)", "replayed (now)", "now / then"],
        [["p50", ms(recorded.p50), ms(measured.p50), ratio(replay.ratio_p50)],
         ["p95", ms(recorded.p95), ms(measured.p95), ratio(replay.ratio_p95)]],
    )  # fmt: skip
    rows = sorted(replay.per_conversation, key=lambda r: -(r.ratio or 0.0))
    per_conversation = table(
        ["conversation", "turns", "recorded", "replayed", "now / then"],
        [[r.id, r.turns, ms(r.recorded_ms), ms(r.measured_ms), ratio(r.ratio)]
         for r in rows[:SHOWN]],
    )  # fmt: skip
    note = (
        f"{replay.conversations} captured conversations replayed, "
        f"{replay.turns} turns measured. Recorded: from the user message to the "
        "assistant's last message as the tenant stored them; replayed: from the request to the "
        "assistant message (message.created). Conversations with the highest ratio first."
    )
    body = aggregate + per_conversation + f'<p class="note">{safe_text(note)}</p>'
    return section("replay", "Then versus now (replay)", body)
