"""The client against the simulator's agents with tools: async interim messages, trace ids,
and a stream that ends after run.completed without `done`."""

from __future__ import annotations

from pathlib import Path

from conversations import PATIENT, one_conversation

from wxo_load.mock.process import SimulatorProcess

ANSWER = "Your order 1234 ships tomorrow."
ASYNC_PROFILE = f"""
name: async-tools
timing: {{steps: 1, think_ms: 20}}
answer: {{texts: ["{ANSWER}"], empty_deltas: true}}
agent:
  async_interim: true
  trace_id: true
  tools: [{{name: lookup_order, latency_ms: 60}}]
"""


def test_async_interim_message_is_not_the_answer_and_trace_id_is_kept(tmp_path: Path) -> None:
    profile = tmp_path / "async.yaml"
    profile.write_text(ASYNC_PROFILE, encoding="utf-8")
    with SimulatorProcess.start(profile=str(profile), port=0, seed=2) as sim:
        records = one_conversation(sim, turns=2, scenario=PATIENT)
    for rec in records:
        assert rec.outcome == "ok", rec.error_detail
        assert rec.answer_chars == len(ANSWER)  # not the interim message's text
        assert (
            rec.first_text_ms == rec.message_created_ms
        )  # every delta was empty: the answer's message.created
        assert (
            rec.first_text_ms is not None
            and rec.tools is not None
            and rec.first_text_ms > rec.tools[0][1] + 60
        )
        assert rec.trace_id and len(rec.trace_id) == 32
        assert rec.tools[0][0] == "lookup_order" and abs(rec.tools[0][2] - 60) < 15


def test_stream_ending_after_run_completed_without_done_is_a_finished_run() -> None:
    with SimulatorProcess.start(
        profile="fast", port=0, seed=4, extra_args=["--fault", "no_done=1.0"]
    ) as sim:
        records = one_conversation(sim, turns=2)
    for rec in records:
        assert rec.outcome == "ok" and rec.ended_without_done, rec.error_detail
        assert rec.done_ms is not None and rec.message_created_ms is not None
