"""Performance gates: expressions, evaluation against a summary.json dict, baselines, early
stop, and the comparison of two summaries.

Pure core: no files, no clock, no exit codes. Callers (the Locust integration at quit, and
`wxo-load gate` offline) read `summary.json`-shaped dicts and turn verdicts into outputs and
exit codes (`wxo_load.output.gates`).

Two kinds of gate:

    first_text.p95 < 3000ms        a limit:      FIGURE OP LIMIT
    first_text.p95 +10%            a regression: FIGURE TOLERANCE, against a baseline summary

    figures.py    what a gate can measure (FIGURE) and its kind; steps.py the tools / phases /
                  streaming figures
    parse.py      Gate, RegressionGate from text or a scenario's `gates:` list
    evaluate.py   Verdict per gate; abort_reason for the early stop
    compare.py    `wxo-load compare`: the figures of two summaries side by side

Import the names from the package: `from wxo_load.gates import parse_gate, evaluate, Verdict`.
"""

from __future__ import annotations

from wxo_load.core.fmt import signed_delta
from wxo_load.core.fmt import value as format_value
from wxo_load.gates.compare import COMPARE_STATS, Difference, compare_figures, compare_summaries
from wxo_load.gates.evaluate import ABORT_MIN_RUNS, Verdict, abort_reason, evaluate
from wxo_load.gates.figures import (
    COUNT,
    PER_S,
    PERCENT,
    RATE,
    SCALARS,
    STATS,
    TIME,
    TURNS,
    figure_kind,
    figure_value,
    sample_count,
)
from wxo_load.gates.parse import (
    GATE_GRAMMAR,
    OPS,
    AnyGate,
    Gate,
    RegressionGate,
    parse_gate,
    parse_gate_list,
    parse_gate_spec,
    parse_regression,
)

__all__ = [
    "ABORT_MIN_RUNS",
    "COMPARE_STATS",
    "COUNT",
    "GATE_GRAMMAR",
    "OPS",
    "PERCENT",
    "PER_S",
    "RATE",
    "SCALARS",
    "STATS",
    "TIME",
    "TURNS",
    "AnyGate",
    "Difference",
    "Gate",
    "RegressionGate",
    "Verdict",
    "abort_reason",
    "compare_figures",
    "compare_summaries",
    "evaluate",
    "figure_kind",
    "figure_value",
    "format_value",
    "parse_gate",
    "parse_gate_list",
    "parse_gate_spec",
    "parse_regression",
    "sample_count",
    "signed_delta",
]
