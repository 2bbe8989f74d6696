"""Signed things the simulator hands out: HS256 JWTs and verifiable thread ids.

Every worker process of one simulator shares one key (derived from the seed, or random and
inherited by the forked workers), so a token or a thread id minted by one worker is accepted
by every other one without shared state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import msgspec

from wxo_load.mock.shapes import Claims

# The local edition's built-in user and tenant, as in the captured token and message.
LOCAL_USERNAME = "wxo.archer@ibm.com"
LOCAL_PASSWORD = "watsonx"
LOCAL_USER_ID = "f242eadf-0dc9-4eae-b2d7-65b09b4b4b16"
DEFAULT_TENANT_ID = "575ef8ef-c00f-42c6-9c62-374d7f5e7ce3"
DEFAULT_TENANT_NAME = "wxo-dev"
DEFAULT_TENANT_TITLE = "WatsonX Orchestrate Development"

_CLAIMS = msgspec.json.Decoder(Claims)
_JWT_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def make_key(seed: int | None) -> bytes:
    """The signing key: from the seed (reproducible) or random for this simulator."""
    if seed is None:
        return os.urandom(32)
    return hashlib.sha256(f"wxo-load mock key {seed}".encode()).digest()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class TokenError(Exception):
    """Why a bearer token was refused; the text goes into the 401 `detail`."""


class Keyring:
    """Mints and checks JWTs and thread ids with one HMAC key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, Claims] = {}

    # ------------------------------------------------------------------ tokens

    def issue(self, claims: Claims, ttl_s: float | None) -> str:
        claims = claims.copy()
        if ttl_s is not None:
            claims["exp"] = int(time.time() + ttl_s) if ttl_s >= 1 else time.time() + ttl_s
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = _JWT_HEADER + b"." + payload
        sig = _b64(hmac.new(self._key, signing_input, hashlib.sha256).digest())
        return (signing_input + b"." + sig).decode()

    def verify(self, token: str) -> Claims:
        claims = self._cache.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[token] = claims
        exp = claims.get("exp")
        if exp is not None and time.time() >= exp:
            raise TokenError("Token has expired")
        return claims

    def _verify_signature(self, token: str) -> Claims:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("Could not validate credentials: not a JWT")
        signing_input = f"{parts[0]}.{parts[1]}".encode()
        expected = _b64(hmac.new(self._key, signing_input, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2].encode()):
            raise TokenError("Could not validate credentials: bad signature")
        try:
            return _CLAIMS.decode(_unb64(parts[1]))
        except (ValueError, msgspec.DecodeError):  # (a ValidationError is a DecodeError)
            raise TokenError("Could not validate credentials: unreadable claims") from None

    # ---------------------------------------------------------- ids with a tag

    def _tag(self, kind: bytes, head: bytes) -> bytes:
        return hmac.new(self._key, kind + head, hashlib.sha256).digest()[:8]

    def new_signed_uuid(self, kind: bytes, random_bits: int) -> str:
        """A version-4-looking UUID whose second half is an HMAC tag of its first half."""
        head = bytearray(random_bits.to_bytes(8, "big"))
        head[6] = (head[6] & 0x0F) | 0x40  # version 4
        tag = bytearray(self._tag(kind, bytes(head)))
        tag[0] = (tag[0] & 0x3F) | 0x80  # RFC 4122 variant
        return str(uuid.UUID(bytes=bytes(head) + bytes(tag)))

    def check_signed_uuid(self, kind: bytes, value: str) -> bool:
        try:
            raw = uuid.UUID(value).bytes
        except (ValueError, AttributeError, TypeError):
            return False
        tag = bytearray(self._tag(kind, raw[:8]))
        tag[0] = (tag[0] & 0x3F) | 0x80
        return hmac.compare_digest(bytes(tag), raw[8:])

    def tenant_id_for(self, name: str) -> str:
        """Stable tenant id per name (the default tenant keeps the captured id)."""
        if name == DEFAULT_TENANT_NAME:
            return DEFAULT_TENANT_ID
        digest = hmac.new(self._key, b"tenant:" + name.encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))
