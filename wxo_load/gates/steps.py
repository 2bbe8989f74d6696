"""Gate and compare figures on where the time goes (summary.json `tools`, `phases`, `streaming`).

    tools.NAME.STAT          STAT in p50 p90 p95 p99 p999 min max mean count (answered calls),
                             or calls / failures (counts); NAME as in summary.json (may hold dots)
    steps.PHASE.STAT         PHASE in thinking intermediate handoff
    streaming.inter_delta.STAT      gaps between consecutive text deltas (ms)
    streaming.chars_per_s.STAT      characters per second while streaming (lower is worse)

gates/figures.py asks this module about any figure whose first part is tools, steps or streaming.
"""

from __future__ import annotations

from wxo_load.core.errors import ConfigError
from wxo_load.core.metrics import COUNT, PER_S, STATS, TIME
from wxo_load.core.step_stats import STEP_PHASES, STREAMING_FIGURES
from wxo_load.core.summary_model import Summary
from wxo_load.core.summary_sections import PersonaSummary, Stat

TOOL_COUNTS = ("calls", "failures")
EXAMPLES = (
    '"tools.get_weather.p95 < 2s", "phases.thinking.p95 < 1s", "streaming.inter_delta.p99 < 250ms"'
)


def _fail(where: str, shown: str, why: str) -> ConfigError:
    return ConfigError(f'{where} "{shown}": {why} For example {EXAMPLES}.')


def split_figure(figure: str) -> tuple[str, str, str]:
    """`tools.a.b.p95` -> ("tools", "a.b", "p95"): the middle part is a name that may hold dots."""
    root, _, rest = figure.partition(".")
    name, _, stat = rest.rpartition(".")
    return root, name, stat


def step_figure_kind(figure: str, where: str, shown: str) -> str:
    root, name, stat = split_figure(figure)
    if not name or not stat:
        raise _fail(where, shown, f"a {root} figure is {root}.NAME.STAT.")
    if root == "tools" and stat in TOOL_COUNTS:
        return COUNT
    if stat not in STATS:
        raise _fail(where, shown, f'unknown statistic "{stat}"; use one of {" ".join(STATS)}.')
    if root == "phases" and name not in STEP_PHASES:
        raise _fail(
            where, shown, f'unknown step phase "{name}"; use one of {" ".join(STEP_PHASES)}.'
        )
    if root == "streaming" and name not in STREAMING_FIGURES:
        raise _fail(
            where,
            shown,
            f'unknown streaming figure "{name}"; use one of {" ".join(STREAMING_FIGURES)}.',
        )
    if stat == "count":
        return COUNT
    return PER_S if name == "chars_per_s" else TIME


def step_figure_path(figure: str) -> tuple[str, ...]:
    return split_figure(figure)


def step_sample_count(summary: Summary | PersonaSummary, figure: str) -> int:
    root, name, _stat = split_figure(figure)
    section: dict[str, Stat] = getattr(summary, root, None) or {}
    entry = section.get(name)
    return entry.count if entry is not None else 0


def step_compare_figures(a: Summary, b: Summary) -> list[str]:
    """The tool, step and streaming figures either summary has, for `wxo-load compare`."""
    figures: list[str] = []
    names: list[str] = []
    for summary in (a, b):
        names += [name for name in summary.tools if name not in names]
    for name in names:
        figures += [
            f"tools.{name}.p50",
            f"tools.{name}.p95",
            f"tools.{name}.p99",
            f"tools.{name}.failures",
        ]
    for root, members in (("phases", tuple(STEP_PHASES)), ("streaming", tuple(STREAMING_FIGURES))):
        for name in members:
            if step_sample_count(a, f"{root}.{name}.count") or step_sample_count(
                b, f"{root}.{name}.count"
            ):
                figures += [f"{root}.{name}.p50", f"{root}.{name}.p95", f"{root}.{name}.p99"]
    return figures
