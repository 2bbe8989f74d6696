"""Read a JWT's claims without verifying it: we only need to know when it expires."""

from __future__ import annotations

import base64
import json

from wxo_load.core.json_value import JsonObject


def jwt_claims(token: str | None) -> JsonObject | None:
    """The payload of a JWT (`header.payload.signature`), or None if it is not one."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if type(claims) is dict else None  # JSON: an object's keys are strings


def jwt_exp(token: str | None) -> float | None:
    """The `exp` claim (Unix seconds), or None when there is none."""
    claims = jwt_claims(token)
    if claims is None:
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)
