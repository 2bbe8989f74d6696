"""A metrics book the way a worker ships it to the master: packed, encoded to builtins, through
msgpack (Locust's own encoding), decoded."""

from __future__ import annotations

import msgpack

from wxo_load.core.book import BookWire, MetricsBook
from wxo_load.core.wire import decode, encode


def via_wire(book: MetricsBook) -> BookWire:
    plain = msgpack.unpackb(msgpack.packb(encode(book.packed())), raw=False)
    return decode(plain, BookWire, "a test's book")
