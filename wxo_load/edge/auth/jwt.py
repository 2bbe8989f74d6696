"""Read a JWT's claims without verifying it: we only need to know when it expires."""

from __future__ import annotations

import base64
import json
from typing import Any


def jwt_claims(token: str | None) -> dict[str, Any] | None:
    """The payload of a JWT (`header.payload.signature`), or None if it is not one."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def jwt_exp(token: str | None) -> float | None:
    """The `exp` claim (Unix seconds), or None when there is none."""
    claims = jwt_claims(token)
    if claims is None:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)
