"""The stream decoder: same events for every way of cutting the bytes, in every framing."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxo_load.core.stream import BAD_LINE, StreamDecoder

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = [(DATA / name).read_bytes() for name in ("capture_run1.ndjson", "capture_run2.ndjson")]
EXPECTED = [[orjson.loads(line) for line in body.splitlines() if line.strip()] for body in CAPTURES]


def as_crlf(body: bytes) -> bytes:
    return body.replace(b"\n", b"\r\n")


def as_sse(body: bytes, *, crlf: bool = False, whole_object: bool = False) -> bytes:
    """Reframe NDJSON as Server-Sent Events: event/id/data lines, blank line between events."""
    out = [b": keep-alive comment\n\n"]
    for line in body.splitlines():
        if not line.strip():
            continue
        event = orjson.loads(line)
        data = line if whole_object else orjson.dumps(event["data"])
        out.append(
            b"event: %s\nid: %s\ndata: %s\n\n"
            % (event["event"].encode(), event["id"].encode(), data)
        )
    text = b"".join(out)
    return as_crlf(text) if crlf else text


def decode_in_pieces(body: bytes, cuts: list[int]) -> list[dict]:
    decoder = StreamDecoder()
    events: list[dict] = []
    last = 0
    for cut in sorted(set(c % (len(body) + 1) for c in cuts)):
        events.extend(decoder.feed(body[last:cut]))
        last = cut
    events.extend(decoder.feed(body[last:]))
    events.extend(decoder.close())
    return events


FRAMINGS = {
    "ndjson": lambda b: b,
    "ndjson-crlf": as_crlf,
    "ndjson-keepalive-lines": lambda b: b.replace(b"\n", b"\n\n\r\n"),
    "sse": as_sse,
    "sse-crlf": lambda b: as_sse(b, crlf=True),
    "sse-whole-object": lambda b: as_sse(b, whole_object=True),
    "sse-cr": lambda b: as_sse(b).replace(b"\n", b"\r"),
    "ndjson-cr": lambda b: b.replace(b"\n", b"\r"),
}


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize("capture", [0, 1])
@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_decoder_yields_the_captured_events_for_any_chunking(
    framing: str, capture: int, cuts: list[int]
) -> None:
    body = FRAMINGS[framing](CAPTURES[capture])
    assert decode_in_pieces(body, cuts) == EXPECTED[capture]


@pytest.mark.parametrize("capture", [0, 1])
def test_decoder_survives_one_byte_chunks_splitting_multibyte_characters(capture: int) -> None:
    body = CAPTURES[capture]
    assert "…".encode() in body  # the capture's ellipsis is three bytes in UTF-8
    decoder = StreamDecoder()
    events = [e for i in range(len(body)) for e in decoder.feed(body[i : i + 1])] + decoder.close()
    assert events == EXPECTED[capture]
    assert any("…" in str(e["data"]) for e in events)


def test_last_line_without_newline_is_decoded_at_close() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(b'{"id": "1-0", "event": "done", "data": {}}') == []
    assert decoder.pending_bytes > 0
    assert decoder.close() == [{"id": "1-0", "event": "done", "data": {}}]


def test_unparseable_line_becomes_a_bad_line_event_and_decoding_goes_on() -> None:
    decoder = StreamDecoder()
    events = decoder.feed(
        b'{"id": "1-0", "event": "run.started", "data": {}}\n{not json\n'
        b'{"id": "1-1", "event": "done", "data": {}}\n'
    )
    assert [e["event"] for e in events] == ["run.started", BAD_LINE, "done"]
    assert events[1]["raw"] == "{not json"


@pytest.mark.parametrize("line", [b"[1, 2]", b'{"no_event": 1}', b"plain text", b'{"event": 5}'])
def test_json_without_an_event_name_is_a_bad_line(line: bytes) -> None:
    events = StreamDecoder().feed(line + b"\n")
    assert [e["event"] for e in events] == [BAD_LINE]


def test_unknown_event_names_pass_through_untouched() -> None:
    events = StreamDecoder().feed(b'{"id": "1-0", "event": "brand.new.event", "data": {"x": 1}}\n')
    assert events == [{"id": "1-0", "event": "brand.new.event", "data": {"x": 1}}]


def test_sse_multiline_data_is_joined() -> None:
    events = StreamDecoder().feed(b'event: message.delta\ndata: {"a":\ndata: 1}\n\n')
    assert events == [{"event": "message.delta", "id": None, "data": {"a": 1}}]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))),
    end=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=20),
)
def test_the_line_splitter_finds_every_line_at_any_end_and_cut(
    lines: list[bytes], end: bytes, cuts: list[int]
) -> None:
    """`StreamDecoder.lines`, the one splitter of both decoders: LF, CRLF and CR, a CRLF split
    between chunks included, give the same lines."""
    body = b"".join(line + end for line in lines)
    decoder = StreamDecoder()
    got: list[bytes] = []
    last = 0
    for cut in sorted(set(c % (len(body) + 1) for c in cuts)) + [len(body)]:
        got.extend(decoder.lines(body[last:cut]))
        last = cut
    assert got == lines
    assert decoder.pending_bytes == 0
