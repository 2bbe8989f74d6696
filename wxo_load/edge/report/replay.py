"""Then versus now: a replayed run's agent time next to what the capture recorded (first page)."""

from __future__ import annotations

from typing import Any

from wxo_load.edge.report.page import safe_text, section, table
from wxo_load.edge.report.svg import fmt_num

SHOWN = 20  # conversations listed, slowest against their recording first


def replay_section(summary: dict[str, Any]) -> str:
    replay = summary.get("replay")
    if not replay:
        return ""
    recorded = replay.get("recorded_agent_ms") or {}
    measured = replay.get("measured_agent_ms") or {}

    def ms(value: Any) -> str:
        return "–" if value is None else f"{fmt_num(value)} ms"

    def ratio(value: Any) -> str:
        return "–" if value is None else f"{value:.2f}×"

    aggregate = table(
        ["agent time per turn", "recorded (then)", "replayed (now)", "now / then"],
        [[p, ms(recorded.get(p)), ms(measured.get(p)), ratio(replay.get(f"ratio_{p}"))]
         for p in ("p50", "p95")],
    )  # fmt: skip
    rows = sorted(replay.get("per_conversation") or [], key=lambda r: -(r.get("ratio") or 0.0))
    per_conversation = table(
        ["conversation", "turns", "recorded", "replayed", "now / then"],
        [[r.get("id"), r.get("turns"), ms(r.get("recorded_ms")), ms(r.get("measured_ms")),
          ratio(r.get("ratio"))] for r in rows[:SHOWN]],
    )  # fmt: skip
    note = (
        f"{replay.get('conversations', 0)} captured conversations replayed, "
        f"{replay.get('turns', 0)} turns measured. Recorded: from the user message to the "
        "assistant's last message as the tenant stored them; replayed: from the request to the "
        "assistant message (message.created). Conversations with the highest ratio first."
    )
    body = aggregate + per_conversation + f'<p class="note">{safe_text(note)}</p>'
    return section("replay", "Then versus now (replay)", body)
