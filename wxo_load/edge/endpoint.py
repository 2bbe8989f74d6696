"""Who a client talks to and how it names its requests: the parsed base URL (`Endpoint`), the
token protocol a client holds, a thread's creation result, and the widget's `x-ibm-request-id`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from wxo_load.core.errors import ConfigError


class Tokens(Protocol):
    def token(self) -> str: ...
    def refresh(self, stale: str) -> str: ...


@dataclass(slots=True)
class ThreadResult:
    thread_id: str | None
    elapsed_ms: float | None  # None: no request was made (the channel's first turn makes it)
    outcome: str  # "ok" or an error class
    detail: str | None = None
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A parsed base URL."""

    https: bool
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"host {url!r} is not an http(s) URL: pass --host like http://localhost:4321 or https://api.<region>.watson-orchestrate.cloud.ibm.com/instances/<id>."
            )
        https = parts.scheme == "https"
        return cls(
            https, parts.hostname, parts.port or (443 if https else 80), parts.path.rstrip("/")
        )


def request_id() -> str:
    """A random (version 4) UUID, as the widget's x-ibm-request-id; uuid.uuid4() costs 3x more."""
    h = "%032x" % (_random_bits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_random_bits = random.getrandbits  # reseeded in every forked worker (random registers at-fork)
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)
