"""Keep secrets out of every output: logs, errors, result files, reports.

`mask()` turns a secret into a short recognisable stub (`eyJh…(masked)`); `SecretRedactor` remembers
every secret the process has seen and scrubs them from any text before it leaves.
"""

from __future__ import annotations

import re
import threading

_BEARER = re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_KEYVAL = re.compile(
    r"(?i)((?:api[_-]?key|apikey|password|token|secret)[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}]{6,})"
)


def mask(secret: str | None) -> str:
    """`eyJhbGciOi…` -> `eyJh…(masked)`; short or empty secrets become `(masked)`."""
    if not secret:
        return "(none)"
    if len(secret) < 12:
        return "(masked)"
    return f"{secret[:4]}…(masked)"


class SecretRedactor:
    """Scrubs known secrets and anything shaped like a bearer token or JWT from text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            with self._lock:
                self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for secret in tuple(self._secrets):
            if secret in text:
                text = text.replace(secret, mask(secret))
        text = _BEARER.sub(lambda m: m.group(1) + mask(m.group(2)), text)
        text = _JWT.sub(lambda m: mask(m.group(0)), text)
        return _KEYVAL.sub(lambda m: m.group(1) + mask(m.group(2)), text)


redact = SecretRedactor()
"""The process-wide redactor: token providers register every secret they hold with it."""
