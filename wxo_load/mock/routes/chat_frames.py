"""Chat completions' SSE frames (v1 and v2) rendered from one run's planned events.

Every frame is `data: {json}` then a blank line, typed by `object`, with `thread_id`, `run_id`
and `trace_id` at its top level, and OpenAI's `choices[0].delta.content` for text, so the
`openai` client and AIPerf read v1 as they read any chat completion:

| planned event | v1 | v2 |
| --- | --- | --- |
| run.started | (none) | `: keep-alive` comment (and one after every 15 s of silence) |
| message.delta | `thread.message.delta` | `thread.message.delta` |
| run.step.delta (tools) | (none) | `thread.run.step.delta`, `data.delta.step_details` |
| message.created | `thread.message.completed` | the same, + `data.message.step_details` |
| error, run.failed | `error` (+ OpenAI's `error.message`) | `error` |
| done | `data: [DONE]` | the end of the stream (nothing written: the connection ends) |

A cancelled run ends with a `thread.run.cancelled` frame (v1: then `[DONE]`).

With `--chat-frames openai`, v1's delta and completed frames are typed `chat.completion.chunk`
(the completed one with an empty delta and `finish_reason: "stop"`), the other shape a v1
client should expect, and the one AIPerf's `--endpoint-type chat` reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from wxo_load.mock.agent_tools import STEP_DELTA
from wxo_load.mock.plan import DROP, MALFORMED, MESSAGE_CREATED, PlannedEvent, RunPlan, encode
from wxo_load.mock.routes.http import DropConnection
from wxo_load.mock.shapes import Json

DONE_FRAME = b"data: [DONE]\n\n"
KEEP_ALIVE = b": keep-alive\n\n"
KEEP_ALIVE_EVERY_S = 15.0  # v2: a comment whenever nothing was written for this long
_ERROR_EVENTS = frozenset({"error", "run.failed"})


def _event_data(ev: PlannedEvent) -> dict[str, Json]:
    """The `data` of a planned event whose line is already encoded (rare paths only)."""
    data = json.loads(b'{"id": "' + ev.rest).get("data")
    return dict(data) if isinstance(data, dict) else {}


def _v2_step(step: dict[str, Json]) -> dict[str, Json]:
    """A hand-over's call (`{"type": "tool_call", ...}` on the widget's stream) in v2's one
    shape of a call, `{"type": "tool_calls", "tool_calls": [{"id", "name", "args"}]}`, its id
    the one its `tool_response` answers."""
    if step.get("type") != "tool_call":
        return step
    call: dict[str, Json] = {
        "id": step.get("tool_call_id"),
        "name": step.get("name"),
        "args": step.get("args"),
    }
    return {"type": "tool_calls", "tool_calls": [call]}


class ChatFrames:
    """Renders one run for `version` 1 or 2; `on_created` stores the answer in its thread."""

    def __init__(
        self,
        plan: RunPlan,
        version: int,
        thread_id: str,
        on_created: Callable[[], None],
        openai_chunks: bool = False,
    ) -> None:
        self.plan = plan
        self.version = version
        chunk = openai_chunks and version == 1
        self.delta_object = "chat.completion.chunk" if chunk else "thread.message.delta"
        self.completed_object = "chat.completion.chunk" if chunk else "thread.message.completed"
        self.on_created = on_created
        trace = plan.trace_id or plan.run_id.replace("-", "")
        self.ids = (
            f'"thread_id": {encode(thread_id)}, "run_id": "{plan.run_id}", "trace_id": "{trace}", '
            f'"model": {encode(plan.agent_id)}, "created": '
        )
        # the tool steps written so far, for the completed frame
        self.steps: list[dict[str, Json]] = []

    def _frame(self, event_id: str, obj: str, rest: str) -> bytes:
        return (
            f'data: {{"id": "{event_id}", "object": "{obj}", {self.ids}{int(time.time())}, '
            f"{rest}}}\n\n"
        ).encode()

    def render(self, ev: PlannedEvent, event_id: str) -> bytes | None:
        name = ev.event
        if name == "message.delta":
            return self._frame(
                event_id,
                self.delta_object,
                '"choices": [{"index": 0, "delta": {"role": "assistant", "content": '
                f'{encode(ev.text)}}}, "finish_reason": null}}]',
            )
        if name == MESSAGE_CREATED:
            if ev.tag:  # an async agent's interim message: not on these channels
                return None
            self.on_created()
            return self._completed(event_id)
        if name == STEP_DELTA:
            if self.version == 1:
                return None
            delta = _event_data(ev).get("delta")
            steps = delta.get("step_details") if isinstance(delta, dict) else None
            details = (
                [_v2_step(d) for d in steps if isinstance(d, dict)]
                if isinstance(steps, list)
                else []
            )
            self.steps.extend(details)
            return self._frame(
                event_id,
                "thread.run.step.delta",
                f'"data": {{"delta": {{"role": "assistant", "step_details": {encode(details)}}}}}',
            )
        if name in _ERROR_EVENTS:
            error = _event_data(ev).get("error")
            said = error.get("message") if isinstance(error, dict) else None
            message = str(said or "The run failed (simulated).")
            return self._frame(
                event_id,
                "error",
                f'"error": {{"message": {encode(message)}, "code": 500}}, '
                f'"choices": [{{"index": 0, "delta": {{"content": {encode(message)}}}, '
                '"finish_reason": "error"}]',
            )
        if name == "done":
            return DONE_FRAME if self.version == 1 else b""
        if name == "run.started":
            return KEEP_ALIVE if self.version == 2 else None
        if name == MALFORMED:
            return b'data: {"object": "thread.message.delta", "choi\n\n'
        if name == DROP:
            raise DropConnection(self.plan.run_id)
        return None

    def _completed(self, event_id: str) -> bytes:
        answer = encode(self.plan.answer)
        message = {
            "id": self.plan.message_id,
            "role": "assistant",
            "content": [{"response_type": "text", "text": self.plan.answer}],
            "step_details": self.steps,
        }
        return self._frame(
            event_id,
            self.completed_object,
            '"choices": [{"index": 0, "delta": {}, "message": {"role": "assistant", '
            f'"content": {answer}}}, "finish_reason": "stop"}}], '
            f'"data": {{"message": {encode(message)}}}',
        )

    def cancelled(self) -> bytes:
        frame = self._frame(
            str(int(time.time() * 1000)) + "-0", "thread.run.cancelled", '"choices": []'
        )
        return frame + DONE_FRAME if self.version == 1 else frame


def completion_json(plan: RunPlan, thread_id: str) -> dict[str, Json]:
    """The `stream: false` answer, OpenAI's `chat.completion` plus `thread_id`."""
    return {
        "id": plan.run_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": plan.agent_id,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": plan.answer},
                "finish_reason": "stop",
            }
        ],
        "thread_id": thread_id,
        "run_id": plan.run_id,
    }
