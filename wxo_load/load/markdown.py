"""summary.md's lines for a load plan: the capacity found, each step or stage in one table row."""

from __future__ import annotations

from typing import Any


def _n(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _load(load: dict[str, Any]) -> str:
    if "users" in load:
        return f"{load['users']} users"
    return f"{_n(load.get('arrival_rate'))}/s"


def _row(item: dict[str, Any], last: str) -> str:
    metrics = item.get("metrics") or {}
    cells = [item.get("name"), _load(item.get("load") or {}), item["runs"]["total"],
             item["throughput"]["runs_per_s"],
             (metrics.get("first_text") or {}).get("p95"), (metrics.get("done") or {}).get("p95"),
             f"{100 * item['runs']['error_rate']:.2f} %", last]  # fmt: skip
    return "| " + " | ".join(_n(c) if not isinstance(c, str) else c for c in cells) + " |"


def load_markdown(summary: dict[str, Any]) -> str:
    """The section for summary.md, or "" when the test had no stages or search."""
    header = (
        "| {} | load | runs | runs/s | first text p95 | done p95 | errors | {} |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
    )
    if summary.get("steps"):
        capacity = summary.get("capacity")
        kind = ((summary.get("load_plan") or {}).get("search") or {}).get("kind", "users")
        found = (
            f"**Capacity: {_load({kind: capacity[kind]})}** at {_n(capacity['runs_per_s'])} runs/s"
            if capacity
            else "**No step met the SLO.**"
        )
        knee = summary.get("knee")
        found += f"; knee at {_load({kind: knee[kind]})}." if knee else "."
        rows = "\n".join(_row(s, str(s.get("verdict"))) for s in summary["steps"])
        return f"### Capacity search\n\n{found}\n\n" + header.format("step", "verdict") + rows
    if summary.get("stages"):
        rows = "\n".join(
            _row(s, _n((s.get("arrivals") or {}).get("dropped"))) for s in summary["stages"]
        )
        return "### Stages\n\n" + header.format("stage", "dropped") + rows
    return ""
