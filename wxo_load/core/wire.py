"""The one codec of every wire format between wxo-load processes: typed msgspec Structs (or
frozen dataclasses) encoded to builtins with `msgspec.to_builtins` and decoded with
`msgspec.convert`, which checks every field and refuses unknown ones.

Locust msgpack-encodes its own messages, so what goes on the wire stays builtins (dicts, lists,
str, int, float, bool, None): `encode` gives them, `decode` reads them back. Each wire shape is
declared beside its owner (`hdr.TimingWire`, `book.BookWire`, `handoff.WorkerReport`...).
Pure: no I/O.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from wxo_load.core.errors import WireFormatError

T = TypeVar("T")

SAME_VERSION = "Run the same wxo-load version on the master and every worker"


def encode(value: object) -> object:
    """A Struct (or dataclass) as msgpack-safe builtins, opaque until `decode` reads them."""
    plain: object = msgspec.to_builtins(value)
    return plain


def decode(data: object, kind: type[T], what: str) -> T:
    """`data` (builtins, as `encode` gave them) read as `kind`; a WireFormatError that names
    `what` and the path of the value at fault when it does not fit."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise WireFormatError(
            f"{what} could not be read ({exc}). {SAME_VERSION}; if they are the same, "
            "report it as a bug."
        ) from exc
