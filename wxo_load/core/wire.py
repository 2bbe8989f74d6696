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

from wxo_load.core.errors import ResultsError

T = TypeVar("T")

# What `encode` returns: msgpack-safe builtins.
Plain = dict[str, "Plain"] | list["Plain"] | str | int | float | bool | None

SAME_VERSION = "Run the same wxo-load version on the master and every worker"


class WireError(ResultsError):
    """A message from another wxo-load process that this version cannot read."""


def encode(value: object) -> Plain:
    """A Struct (or dataclass) as msgpack-safe builtins."""
    plain: Plain = msgspec.to_builtins(value)
    return plain


def decode(data: object, kind: type[T], what: str) -> T:
    """`data` (builtins, as `encode` gave them) read as `kind`; a WireError that names `what`
    and the field at fault when it does not fit."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise WireError(
            f"{what} could not be read ({exc}). {SAME_VERSION}; if they are the same, "
            "report it as a bug."
        ) from exc
