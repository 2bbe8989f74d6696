"""Strict reading of a profile's YAML values: mappings, numbers, strings, distributions.

Every error names the profile file and the dotted key (`timing.think_ms.lognormal.p99`).
A distribution is a number (fixed), or a mapping with exactly one of `fixed: X`,
`uniform: [A, B]`, `lognormal: {median: M, p99: Q}`, `exponential: {mean: M}`, plus optional
`min:` / `max:` clamps.
"""

from __future__ import annotations

import math
from typing import Any

from wxo_load.core.errors import ConfigError
from wxo_load.mock.profile_model import Dist, fixed

_Z99 = 2.3263478740408408  # standard normal quantile at 0.99
_DIST_KINDS = ("fixed", "uniform", "lognormal", "exponential")


class FieldReader:
    """Reads one profile file's values; `fail` builds the error for a key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"profile file {self.source}, key `{key}`: {message}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {kind_of(value)}.")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}" if key else str(unknown[0]),
                f"unknown key; allowed keys here are: {', '.join(allowed)}.",
            )
        return value

    def number(self, value: Any, key: str, lo: float = 0.0, hi: float = math.inf) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {kind_of(value)}.")
        if not (lo <= value <= hi) or math.isnan(value):
            raise self.fail(key, f"expected a number in [{lo:g}, {hi:g}], got {value!r}.")
        return float(value)

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {kind_of(value)}.")
        return value

    def dist(self, value: Any, key: str) -> Dist:
        if not isinstance(value, dict):
            return fixed(self.number(value, key))
        kinds = [k for k in value if k in _DIST_KINDS]
        extra = [k for k in value if k not in (*_DIST_KINDS, "min", "max")]
        if extra:
            raise self.fail(
                f"{key}.{extra[0]}",
                "unknown key; a distribution has one of fixed, uniform, lognormal, exponential "
                "and optional min / max.",
            )
        if len(kinds) != 1:
            raise self.fail(
                key,
                "a distribution needs exactly one of `fixed: X`, `uniform: [A, B]`, "
                "`lognormal: {median: M, p99: Q}`, `exponential: {mean: M}`.",
            )
        kind = kinds[0]
        lo = self.number(value.get("min", 0.0), f"{key}.min")
        hi = self.number(value["max"], f"{key}.max") if "max" in value else math.inf
        if hi < lo:
            raise self.fail(f"{key}.max", f"must be >= min ({lo:g}).")
        return self._dist_body(kind, value[kind], f"{key}.{kind}", lo, hi)

    def _dist_body(self, kind: str, body: Any, sub: str, lo: float, hi: float) -> Dist:
        if kind == "fixed":
            return Dist("fixed", self.number(body, sub), 0.0, lo, hi)
        if kind == "uniform":
            if not isinstance(body, list) or len(body) != 2:
                raise self.fail(sub, f"expected a list of two numbers [A, B], got {body!r}.")
            a, b = self.number(body[0], sub), self.number(body[1], sub)
            if b < a:
                raise self.fail(sub, f"expected A <= B, got [{a:g}, {b:g}].")
            return Dist("uniform", a, b, lo, hi)
        if kind == "lognormal":
            params = self.mapping(body, sub, ("median", "p99"))
            if "median" not in params or "p99" not in params:
                raise self.fail(sub, "needs both `median` and `p99`.")
            median = self.number(params["median"], f"{sub}.median", lo=1e-6)
            p99 = self.number(params["p99"], f"{sub}.p99", lo=median)
            sigma = math.log(p99 / median) / _Z99
            return Dist("lognormal", median, sigma, lo, hi)
        params = self.mapping(body, sub, ("mean",))
        if "mean" not in params:
            raise self.fail(sub, "needs `mean`.")
        return Dist("exponential", self.number(params["mean"], f"{sub}.mean"), 0.0, lo, hi)


def kind_of(value: Any) -> str:
    """How an error message names a YAML value's type."""
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
