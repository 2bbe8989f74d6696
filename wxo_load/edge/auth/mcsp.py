"""MCSP specifics the ADK applies: which token service a key belongs to, and where v2 lives.

- An MCSP API key is base64; decoded, it starts `k1:` (the v1 service) or `k2:` (v2). A key that
  does not decode that way says nothing, and plain `mcsp` then tries v1, then v2 on any error.
- The v2 token service is regional: instances in `germanywestcentral` use
  `https://account-iam.azure.westus3.platform.saas.ibm.com`, all others
  `https://account-iam.platform.saas.ibm.com`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

V2_DEFAULT_BASE = "https://account-iam.platform.saas.ibm.com"
V2_GERMANY_BASE = "https://account-iam.azure.westus3.platform.saas.ibm.com"


def key_version(api_key: str | None) -> str | None:
    """`mcsp` for a `k1:` key, `mcsp_v2` for a `k2:` key, None when the key does not say."""
    if not api_key:
        return None
    text = api_key.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None
    if raw.startswith(b"k1:"):
        return "mcsp"
    if raw.startswith(b"k2:"):
        return "mcsp_v2"
    return None


def v2_base(host: str | None) -> str:
    """The v2 token service for an instance URL (regional, as the ADK chooses it)."""
    hostname = (urlsplit(host).hostname or "") if host else ""
    return V2_GERMANY_BASE if "germanywestcentral" in hostname.lower() else V2_DEFAULT_BASE
