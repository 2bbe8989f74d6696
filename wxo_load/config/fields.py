"""Checked reading of scenario values: every error names the file and the key, says what is allowed.

Shared by the scenario loader (`wxo_load.config.scenario`), its prompts (`config.prompts`) and
its load plans (`config.load`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wxo_load.config.model import Range
from wxo_load.core.errors import ConfigError


class Where:
    """Builds error messages that name the file and the key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}, key `{key}`: {message}")


def no_unknown_keys(
    w: Where, prefix: str, raw: Mapping[str, Any], allowed: Mapping[str, str] | tuple[str, ...]
) -> None:
    for key in raw:
        if key not in allowed:
            keys = ", ".join(f"`{k}`" for k in allowed if k != "file")
            raise w.error(f"{prefix}{key}", f"unknown key. Allowed here: {keys}.")


def section(w: Where, key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, object]:
    """A mapping with only `allowed` keys; {} when the section is absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise w.error(
            key, f"expected a mapping with keys {', '.join(allowed)}; got {describe(value)}."
        )
    no_unknown_keys(w, f"{key}.", value, allowed)
    return value


def describe(value: Any) -> str:
    """The type and a short repr of a value, for error messages: `str 'abc'`."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


def string(w: Where, key: str, value: Any, *, non_empty: bool = False) -> str:
    if not isinstance(value, str) or (non_empty and not value.strip()):
        what = "a non-empty" if non_empty else "a"
        raise w.error(key, f"expected {what} string; got {describe(value)}.")
    return value


def optional_string(w: Where, key: str, value: Any) -> str | None:
    return None if value is None else string(w, key, value, non_empty=True)


def optional_url(w: Where, key: str, value: Any) -> str | None:
    if value is None:
        return None
    url = string(w, key, value, non_empty=True).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise w.error(key, f"expected a URL starting with http:// or https://; got {value!r}.")
    return url


def number(w: Where, key: str, value: Any, *, minimum: float = 0.0, integer: bool = False) -> float:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        what = "an integer" if integer else "a number"
        raise w.error(key, f"expected {what}; got {describe(value)}.")
    if value < minimum:
        raise w.error(key, f"must be at least {minimum:g}; got {value}.")
    return float(value)


def duration_s(w: Where, key: str, value: Any) -> float:
    """Seconds from a number or a string like `90s`, `2m`, `1h30m`."""
    if isinstance(value, str):
        total, digits, units = 0.0, "", {"h": 3600.0, "m": 60.0, "s": 1.0}
        for ch in value.strip().lower():
            if ch.isdigit() or ch == ".":
                digits += ch
            elif ch in units and digits:
                total, digits = total + float(digits) * units[ch], ""
            else:
                raise w.error(key, f"expected a duration like 30, 30s, 2m or 1h30m; got {value!r}.")
        return total + (float(digits) if digits else 0.0)
    return number(w, key, value)


def value_range(
    w: Where, key: str, value: Any, *, minimum: float = 0.0, integer: bool = False
) -> Range:
    """A fixed number or a [min, max] pair (sampled uniformly)."""
    if isinstance(value, list):
        if len(value) != 2:
            raise w.error(
                key, f"expected a number or a [min, max] pair; got a list of {len(value)}."
            )
        low = number(w, key, value[0], minimum=minimum, integer=integer)
        high = number(w, key, value[1], minimum=minimum, integer=integer)
        if low > high:
            raise w.error(key, f"[min, max] with min above max: {value}.")
        return (low, high)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        what = "an integer" if integer else "a number"
        raise w.error(
            key, f"expected {what} or a [min, max] pair like [2, 5]; got {describe(value)}."
        )
    fixed = number(w, key, value, minimum=minimum, integer=integer)
    return (fixed, fixed)


def mapping(w: Where, key: str, value: Any) -> dict[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise w.error(key, f"expected a mapping; got {describe(value)}.")
    return value
