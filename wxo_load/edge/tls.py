"""One TLS context per process, shared by every connection the harness opens.

Building an `ssl.SSLContext` (loading a CA bundle) costs 25-55 ms of CPU, during which no other
greenlet runs; `httpx.Client()` builds one per client unless it is given one. `ssl_context()`
builds it once per (insecure, ca_bundle) pair and hands out the same object afterwards.

Verification is on by default (certifi's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set,
as httpx does). `insecure` turns it off; `ca_bundle` (a PEM file or a directory of hashed
certificates) trusts a private CA, e.g. a self-signed on-premises install.
"""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from typing import Protocol

from wxo_load.core.errors import ConfigError


class TlsSettings(Protocol):
    """Anything with these two attributes: `AuthSettings`, parsed Locust options, ..."""

    @property
    def insecure(self) -> bool | None: ...

    @property
    def ca_bundle(self) -> str | None: ...


_contexts: dict[tuple[bool, str | None], ssl.SSLContext] = {}
_lock = threading.Lock()


def ssl_context(settings: TlsSettings | None = None) -> ssl.SSLContext:
    """The process's TLS context for these settings, built on first use and cached.

    Pass it as `verify=` to httpx (and `ssl_context=` to anything else); it is safe to share
    between threads and greenlets. Raises `ConfigError` when the CA bundle cannot be used.
    """
    insecure = bool(getattr(settings, "insecure", False))
    ca_bundle = getattr(settings, "ca_bundle", None) or None
    key = (insecure, None if insecure else ca_bundle)
    context = _contexts.get(key)
    if context is not None:
        return context
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = _build(insecure, key[1])
            _contexts[key] = context
    return context


def _build(insecure: bool, ca_bundle: str | None) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle:
        return _from_bundle(ca_bundle)
    if os.environ.get("SSL_CERT_FILE"):
        return _from_bundle(os.environ["SSL_CERT_FILE"], source="SSL_CERT_FILE")
    if os.environ.get("SSL_CERT_DIR"):
        return _from_bundle(os.environ["SSL_CERT_DIR"], source="SSL_CERT_DIR")
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _from_bundle(path_text: str, source: str = "--ca-bundle") -> ssl.SSLContext:
    path = Path(path_text).expanduser()
    try:
        if path.is_dir():
            return ssl.create_default_context(capath=str(path))
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{source} {path_text}: cannot load CA certificates from it ({exc.__class__.__name__}: "
            f"{exc}). Give a PEM file holding the CA certificate of your server (or a directory "
            "of hashed certificates), or use --insecure to skip verification on a trusted network."
        ) from None
