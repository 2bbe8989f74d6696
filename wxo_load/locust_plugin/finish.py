"""The end of a test (master or local runner): summary, results, gates, exit code; and the
early stop when an `abort` gate can no longer pass. Imports no locust: the harness is passed in.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wxo_load.config.model import Persona, Scenario
from wxo_load.core.redact import redact
from wxo_load.core.summary import build_summary, summary_sections, worker_warnings
from wxo_load.core.summary_codec import summary_from_dict
from wxo_load.core.summary_model import Summary
from wxo_load.gates.evaluate import abort_reason, evaluate
from wxo_load.locust_plugin.handoff import workers_summary
from wxo_load.locust_plugin.progress import LAG_ADVICE, load_generator_cpu
from wxo_load.locust_plugin.session import EXIT_HARNESS_ERROR
from wxo_load.output import gates as gate_output

if TYPE_CHECKING:
    from wxo_load.locust_plugin.harness import Harness
    from wxo_load.output.files import ResultsWriter

log = logging.getLogger("wxo_load")

CPU_LIMIT_PERCENT = 90.0


def meta(h: Harness, ended_at: float) -> dict[str, Any]:
    """The summary's description of the test: scenario, options, host, times, load generator."""
    options, test, scenario = h.options, h.test, h.session.scenario
    assert scenario is not None
    cpu_peak, cpu_s = load_generator_cpu(test, h.cpu, h.is_master)
    runs = test.total.runs_total
    return {
        "scenario": _scenario_for_summary(scenario),
        "options": {
            "users": options.num_users,
            "spawn_rate": options.spawn_rate,
            "run_time_s": options.run_time,
            "processes": getattr(options, "processes", None),
            "workers": len(test.workers_seen) if h.is_master else 1,
            "stop_timeout_s": h.env.stop_timeout,
            "gates": [g.text for g in h.session.gates],
            "baseline": options.baseline or scenario.baseline,
        },
        "host": h.env.host,
        "started_at": test.started_at,
        "ended_at": ended_at,
        "window": test.measured,
        "users_peak": test.users_peak,
        "timeline": test.timeline,
        "workers": workers_summary(test, h.is_master),
        "load_generator": {
            "cpu_percent_max": round(cpu_peak, 1),
            "cpu_s": round(cpu_s, 3),
            "cpu_ms_per_run": round(cpu_s * 1000.0 / runs, 3) if runs else None,
            "cpu_percent_limit": CPU_LIMIT_PERCENT,
            "client_lag_p99_limit_ms": float(options.lag_limit_ms),
            "warnings": [],
        },
    }


def check_abort(h: Harness) -> bool:
    """True (and the test is being stopped) when an `abort` gate can no longer pass."""
    test = h.test
    if test.aborted_by is not None or test.finished:
        return False
    live = build_summary(test.total, meta=meta(h, time.time()))
    verdict = abort_reason(h.session.gates, live)
    if verdict is None:
        return False
    test.aborted_by = verdict
    log.error("wxo-load: gate %r can no longer pass (%s): stopping the test early",
              verdict.gate_text, verdict.reason)  # fmt: skip
    return True


def finish(h: Harness) -> None:
    """Master or local runner, at quitting (after the last flush): results, gates, exit code."""
    test = h.test
    writer = test.writer
    assert writer is not None
    now = time.time()
    sections = summary_sections(test.total, meta=meta(h, now))
    if h.load is not None:
        sections.update(h.load.summary_extras(sections, now))
    summary = summary_from_dict(sections)
    writer.write_summary(summary)
    test.final_summary = summary
    lost = worker_warnings(summary.workers)
    for warning in summary.load_generator.warnings:
        log.warning("wxo-load: %s%s", warning, "" if warning in lost else LAG_ADVICE)
    if h.session.gates:
        _apply_gates(h, summary, writer)
    if test.abort_message is not None:
        h.env.process_exit_code = EXIT_HARNESS_ERROR
        sys.stderr.write(f"wxo-load: the test was stopped: {redact(test.abort_message)}\n")
    writer.close()
    runs = summary.runs
    sys.stderr.write(
        f"wxo-load: {runs.total} runs ({runs.ok} ok, {runs.failed} failed, "
        + (f"{runs.left} left mid-answer, " if runs.left else "")
        + f"{runs.stopped} stopped by the end of the test); results in {writer.directory}\n"
    )


def _apply_gates(h: Harness, summary: Summary, writer: ResultsWriter) -> None:
    test = h.test
    verdicts = evaluate(h.session.gates, summary, h.session.baseline)
    aborted = test.aborted_by
    if aborted is not None and all(v.gate_text != aborted.gate_text for v in verdicts):
        verdicts.append(aborted)
    test.final_verdicts = verdicts
    where = {"scenario": summary.scenario.name, "results_dir": str(writer.directory)}
    gate_output.write_gate_outputs(writer.directory, verdicts, where)
    sys.stdout.write("\n" + gate_output.format_table(verdicts) + "\n")
    h.env.process_exit_code = gate_output.exit_code(verdicts)


def _scenario_for_summary(scenario: Scenario) -> dict[str, Any]:
    wire = scenario.to_wire()
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
