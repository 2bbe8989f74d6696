"""Incremental decoding of a streamed run's body: bytes in, events out.

Orchestrate writes newline-delimited JSON (one `{"id", "event", "data"}` object per line) even
though it labels the body `text/event-stream`. Proxies and other deployments may reframe it as
real Server-Sent Events (`event:` / `id:` / `data:` lines, events separated by a blank line), and
may use CRLF or CR line ends. The decoder accepts all of these, at any chunk boundary (including
one that splits a multi-byte character: lines are split as bytes and decoded only when whole);
`StreamDecoder.lines` is the one line splitter (the chat channels' decoder uses it too).

Each event is returned as the dict the server sent (`{"id": ..., "event": ..., "data": ...}`),
so the hot path allocates nothing beyond what the JSON parser builds. A line that is not a JSON
object with an `event` name comes back as `{"event": BAD_LINE, "raw": <the line>}`; the caller
decides what that means for the run. Blank keep-alive lines and SSE comments are skipped.
"""

from __future__ import annotations

from typing import TypedDict, cast

import orjson

from wxo_load.core.json_value import Json

_loads = orjson.loads
_DecodeError = orjson.JSONDecodeError

BAD_LINE = "wxo-load.bad-line"
"""Event name of a line that could not be understood (not JSON, or JSON without an event)."""


class Event(TypedDict, total=False):
    """One JSON object a stream carried: the fields wxo-load reads, typed (the rest of the
    server's object passes through untouched). The widget's events: `event`, `id`, `data`; a
    chat completions frame (core.chat_stream): `object`, `id`, the top-level `thread_id`,
    `run_id` and `trace_id`, `choices`, `data`, `error`; a line not understood: `event` =
    BAD_LINE and `raw`. The decoders build no copy: this is the dict orjson made."""

    event: str
    id: Json
    data: Json
    raw: str
    object: str
    thread_id: Json
    run_id: Json
    trace_id: Json
    choices: Json
    error: Json


_SSE_FIELDS = (b"data", b"event", b"id", b"retry")
_MAX_RAW_CHARS = 500


def _bad(raw: bytes) -> Event:
    return {
        "event": BAD_LINE,
        "raw": raw[: _MAX_RAW_CHARS * 4].decode("utf-8", "replace")[:_MAX_RAW_CHARS],
    }


def _parse_json_line(line: bytes) -> Event:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _bad(line)
    if type(obj) is not dict or type(obj.get("event")) is not str:
        return _bad(line)
    return cast(Event, obj)  # a JSON object with an `event` name: an Event


class StreamDecoder:
    """Turns chunks of a run's body into events. `feed()` as bytes arrive, `close()` at the end."""

    __slots__ = ("_buf", "_cr", "_sse_event", "_sse_id", "_sse_data")

    def __init__(self) -> None:
        self._buf = b""
        self._cr = False  # the last chunk ended in CR: a LF starting the next one is its pair
        self._sse_event: str | None = None
        self._sse_id: str | None = None
        self._sse_data: list[bytes] | None = None

    def lines(self, chunk: bytes) -> list[bytes]:
        """The whole lines `chunk` completes, without their ends (LF, CRLF or CR, at any chunk
        boundary); the rest waits for the next chunk. The one line splitter of every decoder."""
        if self._cr:  # the last chunk ended in CR: a LF starting this one is its pair
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buf = self._buf + chunk if self._buf else chunk
        if not buf:
            return []
        lines = buf.splitlines()  # bytes: at LF, CRLF and CR only
        end = buf[-1]
        if end == 0x0A:
            self._buf = b""
        elif end == 0x0D:
            self._buf = b""
            self._cr = True
        else:
            self._buf = lines.pop()
        return lines

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        for line in self.lines(chunk):
            # the Developer Edition's framing, inline: one JSON object per LF-terminated line
            if line[:1] == b"{" and line[-1:] == b"}":
                try:
                    obj = _loads(line)
                except _DecodeError:
                    obj = None
                if type(obj) is dict and type(obj.get("event")) is str:
                    events.append(cast(Event, obj))  # checked: an object with an event name
                    continue
            self._line(line, events)
        return events

    def close(self) -> list[Event]:
        """The body ended: decode a last line without a newline and any SSE event still open."""
        events: list[Event] = []
        if self._buf:
            line, self._buf = self._buf, b""
            self._line(line, events)
        self._dispatch_sse(events)
        return events

    @property
    def pending_bytes(self) -> int:
        """Bytes received but not yet part of a whole line."""
        return len(self._buf)

    def _line(self, line: bytes, events: list[Event]) -> None:
        if not line:
            self._dispatch_sse(events)  # blank line: end of an SSE event, or an NDJSON keep-alive
            return
        first = line[0]
        if first == 0x7B:  # "{": an NDJSON event, the Developer Edition's framing
            events.append(_parse_json_line(line))
        elif first == 0x3A:  # ":": an SSE comment (keep-alive)
            return
        elif not self._sse_field(line):
            stripped = line.strip()
            if stripped:
                events.append(_parse_json_line(stripped) if stripped[:1] == b"{" else _bad(line))

    def _sse_field(self, line: bytes) -> bool:
        name, sep, value = line.partition(b":")
        if not sep or name not in _SSE_FIELDS:
            return False
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            if self._sse_data is None:
                self._sse_data = [value]
            else:
                self._sse_data.append(value)
        elif name == b"event":
            self._sse_event = value.decode("utf-8", "replace")
        elif name == b"id":
            self._sse_id = value.decode("utf-8", "replace")
        return True

    def _dispatch_sse(self, events: list[Event]) -> None:
        data, name, event_id = self._sse_data, self._sse_event, self._sse_id
        if data is None and name is None:
            return
        self._sse_data = self._sse_event = self._sse_id = None
        payload = b"\n".join(data) if data else b""
        events.append(_sse_event(payload, name, event_id))


def _sse_event(payload: bytes, name: str | None, event_id: str | None) -> Event:
    """An SSE event whose data is either a whole `{"id","event","data"}` object or just the data."""
    if not payload:
        return {"event": name, "id": event_id, "data": {}} if name else _bad(payload)
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _bad(payload)
    if type(obj) is dict and type(obj.get("event")) is str:
        if event_id is not None and "id" not in obj:
            obj["id"] = event_id
        return cast(Event, obj)  # checked: an object with an event name
    if name is None:
        return _bad(payload)
    return {"event": name, "id": event_id, "data": obj}
