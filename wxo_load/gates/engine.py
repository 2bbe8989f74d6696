"""The old module name of the gates API, kept only for `wxo_load.locust_plugin` (which does
`from wxo_load.gates import engine as gates`). Import from the package instead:
`from wxo_load import gates`. Delete this file once nothing imports it."""

from __future__ import annotations

from wxo_load.gates import (
    ABORT_MIN_RUNS,
    GATE_GRAMMAR,
    OPS,
    STATS,
    AnyGate,
    Gate,
    RegressionGate,
    Verdict,
    abort_reason,
    evaluate,
    figure_kind,
    figure_value,
    format_value,
    parse_gate,
    parse_gate_list,
    parse_gate_spec,
    parse_regression,
    sample_count,
)

__all__ = [
    "ABORT_MIN_RUNS",
    "GATE_GRAMMAR",
    "OPS",
    "STATS",
    "AnyGate",
    "Gate",
    "RegressionGate",
    "Verdict",
    "abort_reason",
    "evaluate",
    "figure_kind",
    "figure_value",
    "format_value",
    "parse_gate",
    "parse_gate_list",
    "parse_gate_spec",
    "parse_regression",
    "sample_count",
]
