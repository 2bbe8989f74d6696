"""How the simulator frames each event line on the wire (`--framing`).

- `ndjson` (default): one JSON object per line, `\\n`-terminated, one HTTP chunk per event:
  what the Developer Edition writes.
- `sse`: Server-Sent Events, `data: {...}` then a blank line, as a reframing proxy would write.
- `crlf-tiny`: NDJSON with `\\r\\n` line ends, each event cut into 16-byte HTTP chunks (a
  worst case for a client's parser: many tiny chunks, CRLFs split across them).
"""

from __future__ import annotations

from collections.abc import Callable

FRAMINGS = ("ndjson", "sse", "crlf-tiny")
TINY_CHUNK_BYTES = 16

Framer = Callable[[bytes], list[bytes]]


def _sse(line: bytes) -> list[bytes]:
    return [b"data: " + line + b"\n"]  # the line ends with \n: a blank line closes the event


def _crlf_tiny(line: bytes) -> list[bytes]:
    data = line[:-1] + b"\r\n"
    return [data[i : i + TINY_CHUNK_BYTES] for i in range(0, len(data), TINY_CHUNK_BYTES)]


def framer(name: str) -> Framer | None:
    """The function that cuts one event line into the pieces to send; None for plain NDJSON."""
    return {"ndjson": None, "sse": _sse, "crlf-tiny": _crlf_tiny}[name]
