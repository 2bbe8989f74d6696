"""Where the time goes inside a run: tool calls, hand-overs, thinking and streaming cadence.

Pure: times are milliseconds since the run's request was written, passed in by the tracker.
The tracker hands only `run.step.delta` events here (`StepTracker.on_delta`); everything else
is computed once, when the run ends (`finish_phases`).

Step details, as the ADK's evaluation framework reads them (`data.delta.step_details[]`):

    {"type": "tool_calls", "tool_calls": [{"id", "name", "args"}, ...]}   calls begin
    {"type": "tool_call", "id", "name", "args", "tool_call_id"}            a call begins
    {"type": "tool_response", "name", "content", "tool_call_id"}           a call ends

A call lasts from its first tool_call(s) to the tool_response with the same tool_call_id. A
tool whose name ends in `_agent` is a hand-over to a collaborator agent. Any other shape (an
unknown type, a response to no known call, a call without id or name) is counted in
`unknown_steps` and kept out of the tool figures.
"""

from __future__ import annotations

from typing import Any

from wxo_load.core.records import RunRecord

HANDOFF_SUFFIX = "_agent"


def is_handoff(name: str) -> bool:
    return name.endswith(HANDOFF_SUFFIX)


class StepTracker:
    """The tool calls of one run, by tool_call_id: id -> [name, start_ms, end_ms | None]."""

    __slots__ = ("calls", "unknown")

    def __init__(self) -> None:
        self.calls: dict[str, list[Any]] = {}
        self.unknown = 0

    def on_delta(self, data: dict[str, Any], since_ms: float) -> None:
        delta = data.get("delta")
        details = delta.get("step_details") if type(delta) is dict else None
        if type(details) is not list:
            self.unknown += 1
            return
        for item in details:
            kind = item.get("type") if type(item) is dict else None
            if kind == "tool_calls":
                calls = item.get("tool_calls")
                if type(calls) is not list or not calls:
                    self.unknown += 1
                    continue
                for call in calls:
                    if type(call) is dict:
                        self._start(call.get("id"), call.get("name"), since_ms)
                    else:
                        self.unknown += 1
            elif kind == "tool_call":
                self._start(item.get("tool_call_id") or item.get("id"), item.get("name"), since_ms)
            elif kind == "tool_response":
                self._finish(item.get("tool_call_id"), since_ms)
            else:
                self.unknown += 1

    def _start(self, call_id: Any, name: Any, since_ms: float) -> None:
        if type(call_id) is not str or type(name) is not str or not name:
            self.unknown += 1
        elif call_id not in self.calls:  # a tool_call after its tool_calls: the same call
            self.calls[call_id] = [name, since_ms, None]

    def _finish(self, call_id: Any, since_ms: float) -> None:
        call = self.calls.get(call_id) if type(call_id) is str else None
        if call is None or call[2] is not None:
            self.unknown += 1
        else:
            call[2] = since_ms


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _union_ms(intervals: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Total length of the intervals' union, clipped to [lo, hi]."""
    total, reach = 0.0, lo
    for start, end in sorted(intervals):
        start, end = max(start, reach), min(end, hi)
        if end > start:
            total += end - start
            reach = end
    return total


def _tool_phases(
    rec: RunRecord, steps: StepTracker | None, answer_ms: float | None
) -> float | None:
    """Fills tools, tool_calls, handoffs, handoff_ms; returns the first call's start."""
    if steps is None:
        return None
    rec.unknown_steps = steps.unknown
    calls = sorted(steps.calls.values(), key=lambda c: c[1])
    if not calls:
        return None
    rec.tools = [
        (name, round(start, 3), _r(None if end is None else end - start))
        for name, start, end in calls
    ]
    rec.tool_calls = len(calls)
    handoffs = [c for c in calls if is_handoff(c[0])]
    rec.handoffs = len(handoffs)
    if handoffs:
        rec.handoff_ms = _r(sum(end - start for _, start, end in handoffs if end is not None))
    if answer_ms is not None and rec.thinking_ms is not None:
        begin = calls[0][1]
        spans = [(s, e) for _, s, e in calls if e is not None]
        rec.intermediate_ms = _r(max(0.0, answer_ms - begin - _union_ms(spans, begin, answer_ms)))
    return float(calls[0][1])


def _streaming(
    rec: RunRecord, gaps: list[float] | None, text_chars: int, last_text_ms: float | None
) -> None:
    if not gaps:
        return
    ordered = sorted(gaps)
    rec.inter_delta_p50_ms = _r(ordered[(len(ordered) + 1) // 2 - 1])  # nearest rank
    rec.inter_delta_max_ms = _r(ordered[-1])
    if (
        rec.first_text_ms is not None
        and last_text_ms is not None
        and last_text_ms > rec.first_text_ms
    ):
        rec.stream_chars_per_s = round(text_chars * 1000.0 / (last_text_ms - rec.first_text_ms), 1)
    rec.delta_gaps_ms = gaps


def finish_phases(
    rec: RunRecord,
    steps: StepTracker | None,
    gaps: list[float] | None,
    text_chars: int,
    last_text_ms: float | None,
) -> None:
    """Once per run, at its end: the phase fields of `rec` from what the tracker saw."""
    answer_ms = rec.first_text_ms if rec.first_text_ms is not None else rec.message_created_ms
    start = rec.run_started_ms
    first_call = None
    if steps is not None:
        calls = [c[1] for c in steps.calls.values()]
        first_call = min(calls) if calls else None
    thinking_end = first_call if first_call is not None else answer_ms
    if start is not None and thinking_end is not None:
        rec.thinking_ms = _r(max(0.0, thinking_end - start))
    _tool_phases(rec, steps, answer_ms)
    if rec.first_text_ms is not None and rec.message_created_ms is not None:
        rec.streaming_ms = _r(max(0.0, rec.message_created_ms - rec.first_text_ms))
    if rec.message_created_ms is not None and rec.done_ms is not None:
        rec.finish_ms = _r(max(0.0, rec.done_ms - rec.message_created_ms))
    _streaming(rec, gaps, text_chars, last_text_ms)
