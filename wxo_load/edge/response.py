"""An HTTP/1.1 response read from a `Connection`, parsed by httptools (llhttp) as bytes arrive.

httptools calls the `on_*` methods while `feed_data` runs: every 1xx is skipped until the final
answer; chunk extensions and trailers, Content-Length, read-to-close bodies and
`Connection: close` / HTTP/1.0 are handled as the RFC says.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httptools

from wxo_load.core.errors import ProtocolError

if TYPE_CHECKING:
    from wxo_load.edge.transport import Connection

MAX_HEADER_BYTES = 64 * 1024
DRAIN_MAX_BYTES = 64 * 1024
DRAIN_MAX_S = 0.5
_perf = time.perf_counter
_join = b"".join


class StaleConnection(ConnectionResetError):
    """A kept-alive connection the server had already closed: safe to send the request again."""


class _Unsolicited(Exception):
    """Bytes after the final answer: they belong to no request of ours."""


class Response:
    """A response whose body is read lazily through `iter_body()` (or `read()`).

    It is also the parser's protocol: httptools calls the `on_*` methods while `feed_data` runs.
    """

    __slots__ = (
        "status", "headers", "_conn", "_parser", "_pieces", "_head_done", "_complete", "_dirty",
        "_keep_alive", "_close_delimited", "_interim", "head_bytes",
    )  # fmt: skip

    def __init__(self, conn: Connection) -> None:
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self._conn = conn
        self._parser = httptools.HttpResponseParser(self)
        self._pieces: list[bytes] = []
        self._head_done = self._complete = self._dirty = self._keep_alive = False
        self._close_delimited = self._interim = False
        self.head_bytes = 0

    # -- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            raise _Unsolicited
        self.headers = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head_done:
            return  # a chunked trailer: nothing we use
        key = name.lower()
        headers = self.headers
        headers[key] = headers[key] + b", " + value if key in headers else value

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:
            if status == 101:
                raise ProtocolError(
                    "the server switched protocols (101), which wxo-load never asks for"
                )
            self._interim = True  # 100 Continue, 102, 103 Early Hints...: the answer follows
            return
        self.status = status
        self._head_done = True
        headers = self.headers
        self._close_delimited = (
            status not in (204, 304) and b"content-length" not in headers
            and b"chunked" not in headers.get(b"transfer-encoding", b"").lower()
        )  # fmt: skip

    def on_body(self, body: bytes) -> None:
        self._pieces.append(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        parser = self._parser  # HTTP/1.0 keep-alive is legal but rare: not reused, like h11
        self._keep_alive = parser.should_keep_alive() and parser.get_http_version() == "1.1"
        self._complete = True

    # -- reading --------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Unsolicited):
                self._dirty = True
            elif isinstance(cause, ProtocolError):
                raise cause from None
            else:
                raise ProtocolError(f"bad HTTP response: {cause or exc}") from None
        except httptools.HttpParserError as exc:
            if not self._complete:
                raise ProtocolError(f"bad HTTP response: {exc}") from None
            self._dirty = True  # garbage after the answer: the connection is not reused

    def release(self) -> None:
        """Drop the parser (breaks the parser <-> protocol cycle, so no GC work): the connection
        calls this when it is done with the answer."""
        self._parser = None  # type: ignore[assignment]

    def read_head(self) -> None:
        """Read until the final status and headers (1xx skipped); some body may follow."""
        conn = self._conn
        while not self._head_done:
            data = conn.recv_piece()
            if not data:
                if self.head_bytes == 0:
                    raise StaleConnection("the server closed the connection before answering")
                raise ConnectionResetError(
                    "the connection closed in the middle of the response headers"
                )
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEADER_BYTES and not self._head_done:
                raise ProtocolError("response headers larger than 64 KiB")
            self._feed(data)

    @property
    def complete(self) -> bool:
        """True once the whole body was read (the connection can then be reused)."""
        return self._complete

    def read(self, limit: int | None = None) -> bytes:
        parts: list[bytes] = []
        size = 0
        for chunk in self.iter_body():
            parts.append(chunk)
            size += len(chunk)
            if limit is not None and size >= limit:
                break
        return _join(parts)

    def iter_body(self) -> Iterator[bytes]:
        """Body bytes as they arrive (one piece per `recv`); ends at the end of the body."""
        raw = self._iter_raw()
        encoding = self.headers.get(b"content-encoding", b"").lower()
        if encoding in (b"gzip", b"deflate"):
            return _iter_decoded(raw, zlib.decompressobj(47))  # gzip or zlib header, detected
        return raw

    def _iter_raw(self) -> Iterator[bytes]:
        pieces = self._pieces
        if pieces:
            chunk = pieces[0] if len(pieces) == 1 else _join(pieces)
            pieces.clear()
            yield chunk
        recv, feed = self._conn.recv_piece, self._feed
        while not self._complete:
            data = recv()
            if not data:
                self._at_eof()
                return
            feed(data)
            if pieces:
                chunk = pieces[0] if len(pieces) == 1 else _join(pieces)
                pieces.clear()
                yield chunk
        self._finish()

    def _at_eof(self) -> None:
        if not self._close_delimited:
            raise ConnectionResetError("the connection closed before the end of the body")
        self._complete = True  # a read-to-close body: its end is the connection's end
        self._conn.close()

    def _finish(self) -> None:
        self._parser = None  # type: ignore[assignment]  # break the parser <-> protocol cycle: no GC work
        self._conn.response_done(self._keep_alive and not self._dirty)

    def drain(self, max_bytes: int = DRAIN_MAX_BYTES, max_s: float = DRAIN_MAX_S) -> bool:
        """Read and drop the rest of the body, at most `max_bytes` within `max_s`, so the
        connection can be reused. True if it was; else the connection is closed."""
        conn = self._conn
        pieces = self._pieces
        pieces.clear()
        got = 0
        deadline = _perf() + max_s
        try:
            while not self._complete:
                left_s = deadline - _perf()
                if got > max_bytes or left_s <= 0:
                    conn.close()
                    return False
                data = conn.recv_within(left_s)
                if not data:
                    self._at_eof()
                    return False
                got += len(data)
                self._feed(data)
                pieces.clear()
        except (OSError, ProtocolError):
            conn.close()
            return False
        self._finish()
        return conn.reusable


def _iter_decoded(raw: Iterator[bytes], decoder: zlib._Decompress) -> Iterator[bytes]:
    try:
        for chunk in raw:
            data = decoder.decompress(chunk)
            if data:
                yield data
        tail = decoder.flush()
    except zlib.error as exc:
        raise ProtocolError(f"the compressed body cannot be decoded: {exc}") from None
    if tail:
        yield tail
