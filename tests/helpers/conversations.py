"""One real conversation through the client against a simulator."""

from __future__ import annotations

from wxo_load.config.model import Prompts, RequestSettings, Scenario
from wxo_load.core.records import RunRecord
from wxo_load.edge.auth.resolve import resolve_auth
from wxo_load.edge.auth.settings import AuthSettings
from wxo_load.edge.client import ChatClient
from wxo_load.edge.endpoint import request_id
from wxo_load.mock.process import SimulatorProcess

SCENARIO = Scenario(
    name="t",
    agent_id="a",
    prompts=Prompts("script", ("hello",)),
    request=RequestSettings(stall_timeout_s=0.7, stream_timeout_s=20),
)
PATIENT = Scenario(
    name="t",
    agent_id="a",
    prompts=Prompts("script", ("hello",)),
    request=RequestSettings(stall_timeout_s=10, stream_timeout_s=30),
)


def scenario(**request: object) -> Scenario:
    """A one-prompt scenario for the simulator's agent, with these request settings."""
    return Scenario(
        name="t",
        agent_id="0c191f04-78cd-45e3-a99a-988cfb29434d",
        prompts=Prompts("script", ("hello",)),
        request=RequestSettings(**request),
    )  # type: ignore[arg-type]


def new_run(thread_id: str | None, turn: int) -> RunRecord:
    """A run record for turn TURN of a thread, with a fresh request id."""
    return RunRecord(
        started_at_unix=0.0,
        user_id="u",
        conversation_id="c",
        turn_index=turn,
        request_id=request_id(),
        thread_id=thread_id,
    )


def one_conversation(
    sim: SimulatorProcess, turns: int = 2, scenario: Scenario = SCENARIO
) -> list[RunRecord]:
    tokens, _ = resolve_auth(AuthSettings(), sim.url)
    client = ChatClient(sim.url, scenario, tokens)
    thread = client.create_thread("hello")
    records = []
    for turn in range(turns):
        record = new_run(thread.thread_id, turn)
        records.append(client.stream_run(record, "hello").record)
    client.close()
    return records
