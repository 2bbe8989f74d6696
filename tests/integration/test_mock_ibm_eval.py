"""IBM's own chat completions v2 client, the evaluation framework's `WXOV2RuntimeAdapter`
(ibm-watsonx-orchestrate-evaluation-framework), holds four-turn conversations with the
simulator's tools agent: stateful, stateless, without a thread store (it falls back to
stateless) and with threads that expire (it restarts with `new` and replays its transcript).

The framework is a heavy install (langchain, pandas, OpenTelemetry): it lives in its own
virtualenv, named by `WXO_IBM_EVAL_PYTHON` (its `python`), and runs as the `heavy_client` CI step
(`.ci/run`); skipped without it.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from mockserver import bearer, login, simulator

pytestmark = pytest.mark.heavy_client

DRIVER = """
import json, sys
from agentops.runtime_adapter.wxo_v2_runtime_adapter import WXOV2RuntimeAdapter
from agentops.type import CallTracker, Message
from agentops.wxo_client import WXOClient

url, token, mode, agent = sys.argv[1:5]
adapter = WXOV2RuntimeAdapter(WXOClient(url, token), stateful=mode == "stateful")
context = {"agent_name": agent, "call_tracker": CallTracker()}
thread, turns = None, []
for n in range(4):
    resp = adapter.run(Message(role="user", content=f"question {n}"), context, thread_id=thread)
    thread = resp.thread_id
    context["adapter_state"] = resp.context["adapter_state"]
    turns.append({"thread": thread, "types": [str(m.type) for m in resp.messages],
                  "text": [m.content for m in resp.messages if str(m.type) == "text"]})
print(json.dumps(turns))
"""


def _converse(args: list[str], mode: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    python = os.environ.get("WXO_IBM_EVAL_PYTHON")
    if not python:
        pytest.skip("IBM's evaluation framework not installed: set WXO_IBM_EVAL_PYTHON (.ci/run)")
    with (
        simulator("tools", seed=4, args=args) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as client,
    ):
        token = login(client)
        agent = client.get("/v1/orchestrate/agents", headers=bearer(token)).json()[0]["name"]
        proc = subprocess.run(
            [python, "-c", DRIVER, sim.url, token, mode, agent],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1]), sim.stats()


def _check_turns(turns: list[dict[str, Any]]) -> None:
    assert len(turns) == 4
    for turn in turns:
        types = turn["types"]
        # the tools profile: two tools and a hand-over, each call answered, then the text
        assert types.count("tool_call") == types.count("tool_response") == 3
        assert types[-1] == "text" and turn["text"][0]


@pytest.mark.parametrize(
    ("args", "mode", "channel", "threads"),
    [
        ([], "stateful", "chat-v2", 1),
        ([], "stateless", "chat-v2-stateless", 0),
        (["--thread-store", "off"], "stateful", "chat-v2-stateless", 0),
        (["--thread-expiry-turns", "2"], "stateful", "chat-v2", 2),
    ],
)
def test_ibm_v2_adapter_holds_a_conversation(
    args: list[str], mode: str, channel: str, threads: int
) -> None:
    turns, stats = _converse(args, mode)
    _check_turns(turns)
    assert stats["runs_by_channel"] == {channel: 4}
    assert stats["threads_created"] == threads
    assert len({t["thread"] for t in turns}) == max(threads, 1)
    if channel == "chat-v2-stateless":  # the transcript grows by the turn's 7 messages + 1
        assert stats["stateless_messages_total"] == 1 + 9 + 17 + 25
