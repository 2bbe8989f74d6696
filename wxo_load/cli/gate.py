"""`wxo-load gate` (re-evaluate gates on saved results) and `wxo-load compare` (two results
side by side). Same gate engine as the Locust run; no locust import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wxo_load.core.aggregate_model import Aggregate
from wxo_load.core.errors import ConfigError, ResultsError
from wxo_load.core.summary_model import Summary
from wxo_load.edge.results import (
    SUMMARY_MD_FILE,
    aggregate_path,
    load_aggregate,
    load_baseline,
    load_summary,
    summary_path,
)
from wxo_load.gates.compare import Difference, compare_summaries
from wxo_load.gates.compare_repeated import compare_repeated, describe_sides
from wxo_load.gates.evaluate import Verdict, evaluate
from wxo_load.gates.parse import (
    AnyGate,
    RegressionGate,
    parse_gate_list,
    parse_gate_spec,
    parse_regression,
)
from wxo_load.output.aggregate import AGGREGATE_MD_FILE
from wxo_load.output.gates import GatesMeta, exit_code, format_table, write_gate_outputs

# --------------------------------------------------------------------------- gate


def configure_gate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results_dir",
        metavar="RESULTS_DIR",
        help="a results directory written by a test (holds summary.json), or a repeated run's "
        "(wxo-load repeat: judged by the mean of its runs)",
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="take gates, regressions and baseline from this scenario file "
        "(default: the ones saved with the results)",
    )
    parser.add_argument(
        "--gate",
        metavar="EXPR",
        action="append",
        default=[],
        help='a limit, e.g. "first_text.p95 < 3000ms", "error_rate < 1%%", '
        '"runs >= 100"; or a regression "first_text.p95 +10%%" (repeatable)',
    )
    parser.add_argument(
        "--regression",
        metavar="EXPR",
        action="append",
        default=[],
        help='a tolerance against --baseline, e.g. "first_text.p95 +10%%", '
        '"done.p99 +50ms", "error_rate +0.5pp" (repeatable)',
    )
    parser.add_argument(
        "--baseline",
        metavar="PATH",
        help="baseline results directory or summary.json for regressions",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="only print the table; leave gates.json, junit.xml and summary.md alone",
    )


@dataclass(slots=True)
class GatePlan:
    gates: list[AnyGate]
    baseline: str | None
    source: str


def plan_gates(args: argparse.Namespace, summary: Summary | None) -> GatePlan:
    """The gates to apply: the scenario's (or, without --scenario and without any --gate,
    the ones saved in summary.json's scenario; none for a repeated run, which saved none),
    then --gate and --regression."""
    gates: list[AnyGate] = []
    baseline: str | None = None
    sources: list[str] = []
    if args.scenario:
        from wxo_load.config.scenario import load_scenario  # pure; validates the whole file

        scenario = load_scenario(args.scenario)
        where = f"{args.scenario}, key `gates`"
        gates += parse_gate_list(list(scenario.gates), where=where)
        gates += [
            parse_regression(text, where=f"{args.scenario}, key `regressions[{i}]`")
            for i, text in enumerate(scenario.regressions)
        ]
        baseline = scenario.baseline
        sources.append(f"scenario {args.scenario}")
    elif not args.gate and not args.regression and summary is not None:
        gates, baseline = saved_gates(summary)
        if gates:
            sources.append("the gates saved in summary.json")
    gates += [parse_gate_spec(text, where="--gate") for text in args.gate]
    gates += [parse_regression(text, where="--regression") for text in args.regression]
    if args.gate or args.regression:
        sources.append("the command line")
    return GatePlan(gates, args.baseline or baseline, " and ".join(sources))


def saved_gates(summary: Summary) -> tuple[list[AnyGate], str | None]:
    """The gates a test ran with, from its summary.json: the scenario's specs (which keep
    `min_runs`), then any other gate text listed in `options.gates` (the run's --gate and
    --regression), and the baseline it used."""
    config: dict[str, Any] = summary.scenario.config or {}
    where = "summary.json, scenario"
    gates = parse_gate_list(list(config.get("gates") or []), where=f"{where} gates")
    gates += parse_gate_list(list(config.get("regressions") or []), where=f"{where} regressions")
    known = {gate.text for gate in gates}
    for text in summary.options.gates:
        if text.strip() not in known:
            gates.append(parse_gate_spec(text, where="summary.json, options.gates"))
            known.add(text.strip())
    baseline = summary.options.baseline or config.get("baseline") or None
    return gates, baseline if isinstance(baseline, str) else None


def run_gate(args: argparse.Namespace) -> int:
    results_dir = Path(args.results_dir)
    if not results_dir.is_dir():
        raise ResultsError(
            f"results directory {results_dir} does not exist. Give the directory "
            "a test wrote (its --results-dir), e.g. results/ci."
        )
    repeated = aggregate_path(results_dir) if not summary_path(results_dir).is_file() else None
    summary: Summary | Aggregate = (
        load_aggregate(results_dir) if repeated else load_summary(results_dir)
    )
    plan = plan_gates(args, summary if isinstance(summary, Summary) else None)
    if not plan.gates:
        raise ConfigError(
            'no gates to evaluate: pass --gate EXPR (e.g. --gate "first_text.p95 < 3000ms"), '
            "or --scenario FILE whose `gates:` list is not empty."
        )
    baseline = _baseline_for(plan)
    verdicts = evaluate(plan.gates, summary, baseline)
    sys.stdout.write(format_table(verdicts))
    if not args.no_write:
        out = repeated.parent if repeated else results_dir
        _write_outputs(out, plan, summary, verdicts, summary_file=repeated)
    return exit_code(verdicts)


def _baseline_for(plan: GatePlan) -> Summary | Aggregate | None:
    """The baseline summary, if given; ConfigError when regression gates have none, and a
    note on stderr when one is given but nothing compares against it."""
    has_regressions = any(isinstance(g, RegressionGate) for g in plan.gates)
    baseline = load_baseline(plan.baseline) if plan.baseline else None
    if has_regressions and baseline is None:
        raise ConfigError(
            "regression gates need a baseline: pass --baseline PATH (a results directory or "
            "its summary.json, e.g. one saved from your main branch), or set `baseline:` in "
            "the scenario."
        )
    if baseline is not None and not has_regressions:
        print(
            "wxo-load gate: note: --baseline given but no regression gates compare against "
            'it; add e.g. --regression "first_text.p95 +10%".',
            file=sys.stderr,
        )
    return baseline


def _write_outputs(
    results_dir: Path,
    plan: GatePlan,
    summary: Summary | Aggregate,
    verdicts: Sequence[Verdict],
    *,
    summary_file: Path | None = None,
) -> None:
    """The gate result files, with where the gates, summary and baseline came from. For a
    repeated run (`summary_file` its aggregate.json) they go beside it, the table into
    aggregate.md."""
    scenario = summary.scenario if isinstance(summary, Aggregate) else summary.scenario.name
    meta: GatesMeta = {
        "source": "wxo-load gate",
        "gates_from": plan.source,
        "results_dir": str(results_dir),
        "summary": str(summary_file or summary_path(results_dir)),
        "baseline": _baseline_file(plan.baseline),
        "scenario": scenario,
        "evaluated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    markdown = AGGREGATE_MD_FILE if summary_file else SUMMARY_MD_FILE
    write_gate_outputs(results_dir, verdicts, meta, markdown_file=markdown)


def _baseline_file(path: str | None) -> str | None:
    """The baseline's file: its aggregate.json for a repeated run, else its summary.json."""
    if path is None:
        return None
    return str(aggregate_path(path) or summary_path(path))


# --------------------------------------------------------------------------- compare


def configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="results directory or summary.json (before)")
    parser.add_argument("b", metavar="B", help="results directory or summary.json (after)")
    parser.add_argument(
        "--threshold",
        metavar="PCT",
        type=float,
        default=5.0,
        help="mark a change as worse/better only beyond this many percent (default 5)",
    )
    parser.add_argument(
        "--interval",
        choices=("pi", "ci"),
        default="pi",
        help="with a repeated A (wxo-load repeat's aggregate): mark only values outside its "
        "prediction interval (pi, default: B is one run) or confidence interval of the mean (ci)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")


def format_differences(
    rows: Sequence[Difference], a_name: str, b_name: str, *, markdown: bool = False
) -> str:
    with_interval = any(r.interval for r in rows)
    header: tuple[str, ...] = ("figure", "A", "B", "delta", "change", "")
    cells: list[tuple[str, ...]] = [(r.figure, r.a, r.b, r.delta, r.change, r.mark) for r in rows]
    if with_interval:
        header = ("figure", "A", "A interval", "B", "delta", "change", "")
        cells = [(r.figure, r.a, r.interval, r.b, r.delta, r.change, r.mark) for r in rows]
    if markdown:
        lines = [
            f"A: `{a_name}`  \nB: `{b_name}`",
            "",
            "| " + " | ".join(header) + " |",
            "| --- | " + " | ".join("---:" for _ in header[1:-1]) + " | --- |",
        ]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines) + "\n"
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    right = set(range(1, len(header) - 1))

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    worse = sum(1 for r in rows if r.mark == "worse")
    better = sum(1 for r in rows if r.mark == "better")
    out = [
        f"A: {a_name}",
        f"B: {b_name}",
        "",
        line(header),
        "  ".join("-" * w for w in widths),
        *(line(c) for c in cells),
        "",
        f"{worse} worse, {better} better (changes under the threshold"
        + (" or inside A's interval" if with_interval else "")
        + " are not marked)",
    ]
    return "\n".join(out) + "\n"


def run_compare(args: argparse.Namespace) -> int:
    if args.threshold < 0:
        raise ConfigError(f"--threshold {args.threshold}: give a percentage of 0 or more.")
    a, b = load_baseline(args.a, what="A"), load_baseline(args.b, what="B")
    if isinstance(a, Summary) and isinstance(b, Summary):
        rows = compare_summaries(a, b, threshold_pct=args.threshold)
        a_name, b_name = str(summary_path(args.a)), str(summary_path(args.b))
    else:
        rows = compare_repeated(a, b, threshold_pct=args.threshold, interval=args.interval)
        a_name, b_name = _baseline_file(args.a) or "", _baseline_file(args.b) or ""
        sys.stdout.write(describe_sides(a, b, args.interval) + "\n")
    sys.stdout.write(format_differences(rows, a_name, b_name, markdown=args.markdown))
    return 0
