"""The end of a test (master or local runner): summary, results, gates, exit code; and the
early stop when an `abort` gate can no longer pass. Imports no locust and no harness: each
function takes the few things it needs (`HowRun`, the test's state, the CPU meter, the plan).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from wxo_load.config.model import Persona, Scenario
from wxo_load.core.aggregate_model import Aggregate
from wxo_load.core.redact import redact
from wxo_load.core.summary import PlanSections, build_summary, worker_warnings
from wxo_load.core.summary_model import Summary
from wxo_load.gates.evaluate import abort_reason, evaluate
from wxo_load.locust_plugin.handoff import workers_summary
from wxo_load.locust_plugin.progress import LAG_ADVICE, CpuMeter, load_generator_cpu
from wxo_load.locust_plugin.session import EXIT_HARNESS_ERROR, Session
from wxo_load.locust_plugin.state import TestState
from wxo_load.output import gates as gate_output

if TYPE_CHECKING:
    from wxo_load.output.files import ResultsWriter

log = logging.getLogger("wxo_load")

CPU_LIMIT_PERCENT = 90.0


@dataclass(frozen=True, slots=True)
class HowRun:
    """How the test is run, as the summary states it: what `meta` needs besides the test's
    own figures (`describe` reads it from Locust's options and the session)."""

    scenario: Scenario
    options: dict[str, Any]  # summary.json's `options`, but `workers`
    host: str | None
    lag_limit_ms: float
    is_master: bool
    gates: list[Any] = field(default_factory=list)  # parsed gates
    baseline: Summary | Aggregate | None = None  # one run, or a repeated one


def describe(
    options: Any, session: Session, host: str | None, stop_timeout: float | None, is_master: bool
) -> HowRun:
    """`HowRun` from Locust's parsed options and the session (its scenario loaded)."""
    scenario = session.scenario
    assert scenario is not None
    return HowRun(
        scenario=scenario,
        options={
            "users": options.num_users,
            "spawn_rate": options.spawn_rate,
            "run_time_s": options.run_time,
            "processes": getattr(options, "processes", None),
            "stop_timeout_s": stop_timeout,
            "gates": [g.text for g in session.gates],
            "baseline": options.baseline or scenario.baseline,
        },
        host=host,
        lag_limit_ms=float(options.lag_limit_ms),
        is_master=is_master,
        gates=session.gates,
        baseline=session.baseline,
    )


def meta(how: HowRun, test: TestState, cpu: CpuMeter, ended_at: float) -> dict[str, Any]:
    """The summary's description of the test: scenario, options, host, times, load generator."""
    cpu_peak, cpu_s = load_generator_cpu(test, cpu, how.is_master)
    runs = test.total.runs_total
    options = {**how.options, "workers": len(test.workers_seen) if how.is_master else 1}
    return {
        "scenario": _scenario_for_summary(how.scenario),
        "options": options,
        "host": how.host,
        "started_at": test.started_at,
        "ended_at": ended_at,
        "window": test.measured,
        "users_peak": test.users_peak,
        "timeline": test.timeline,
        "workers": workers_summary(test, how.is_master),
        "load_generator": {
            "cpu_percent_max": round(cpu_peak, 1),
            "cpu_s": round(cpu_s, 3),
            "cpu_ms_per_run": round(cpu_s * 1000.0 / runs, 3) if runs else None,
            "cpu_percent_limit": CPU_LIMIT_PERCENT,
            "client_lag_p99_limit_ms": how.lag_limit_ms,
            "warnings": [],
        },
    }


def summary_now(
    how: HowRun, test: TestState, cpu: CpuMeter, load: PlanSections | None, now: float
) -> Summary:
    """The whole summary as of `now`, from the same parts every time: the book's sections and
    the load plan's (plan, stages, search steps, capacity, knee, arrivals). The final summary,
    the live tab and the early stop all come from here, so they see the same stages and steps."""
    return build_summary(test.total, meta=meta(how, test, cpu, now), plan=load)


def check_abort(test: TestState, gates: list[Any], summary: Callable[[], Summary]) -> bool:
    """True (and the test is being stopped) when an `abort` gate can no longer pass on the
    summary as of now."""
    if test.aborted_by is not None or test.finished:
        return False
    verdict = abort_reason(gates, summary())
    if verdict is None:
        return False
    test.aborted_by = verdict
    log.error("wxo-load: gate %r can no longer pass (%s): stopping the test early",
              verdict.gate_text, verdict.reason)  # fmt: skip
    return True


def finish(test: TestState, how: HowRun, summary: Summary) -> int | None:
    """Master or local runner, at quitting (after the last flush): the results of `summary`
    (the test's, as of now), gates; returns the process's exit code when it is not Locust's."""
    writer = test.writer
    assert writer is not None
    writer.write_summary(summary)
    test.final_summary = summary
    lost = worker_warnings(summary.workers)
    for warning in summary.load_generator.warnings:
        log.warning("wxo-load: %s%s", warning, "" if warning in lost else LAG_ADVICE)
    exit_code = _apply_gates(test, how, summary, writer) if how.gates else None
    if test.abort_message is not None:
        exit_code = EXIT_HARNESS_ERROR
        sys.stderr.write(f"wxo-load: the test was stopped: {redact(test.abort_message)}\n")
    writer.close()
    runs = summary.runs
    sys.stderr.write(
        f"wxo-load: {runs.total} runs ({runs.ok} ok, {runs.failed} failed, "
        + (f"{runs.left} left mid-answer, " if runs.left else "")
        + f"{runs.stopped} stopped by the end of the test); results in {writer.directory}\n"
    )
    return exit_code


def _apply_gates(test: TestState, how: HowRun, summary: Summary, writer: ResultsWriter) -> int:
    verdicts = evaluate(how.gates, summary, how.baseline)
    aborted = test.aborted_by
    if aborted is not None and all(v.gate_text != aborted.gate_text for v in verdicts):
        verdicts.append(aborted)
    test.final_verdicts = verdicts
    where = {"scenario": summary.scenario.name, "results_dir": str(writer.directory)}
    gate_output.write_gate_outputs(writer.directory, verdicts, where)
    sys.stdout.write("\n" + gate_output.format_table(verdicts) + "\n")
    return gate_output.exit_code(verdicts)


def _scenario_for_summary(scenario: Scenario) -> dict[str, Any]:
    wire: dict[str, Any] = msgspec.to_builtins(scenario)
    prompts = wire.get("prompts", {})
    messages = prompts.get("messages", [])
    if len(messages) > 20:
        prompts["messages"] = messages[:20] + [f"... {len(messages) - 20} more"]
    if prompts.get("conversations"):  # the file is named in `source`; the summary counts them
        prompts["conversations"] = len(prompts["conversations"])
    wire["personas"] = [_persona_for_summary(p) for p in scenario.personas]
    file = _relative(scenario.file)
    return {"name": scenario.name, "file": file, "config": {**wire, "file": file}}


def _persona_for_summary(persona: Persona) -> dict[str, Any]:
    """A persona as summary.json states it: never its rows (they may hold credentials)."""
    own, data = persona.scenario, persona.data
    return {
        "name": persona.name, "weight": persona.weight, "fixed_count": persona.fixed_count,
        "agent_id": own.agent_id, "prompts": own.prompts.source,
        "data": None if data is None else {"file": _relative(data.file), "mode": data.mode,
                                           "on_exhausted": data.on_exhausted,
                                           "rows": len(data.rows)},
    }  # fmt: skip


def _relative(path: str | None) -> str | None:
    """A scenario path as the user would write it: relative to the working directory if inside."""
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
