"""A scenario's `request:`, `simulator:` and `auth:` sections: checked values, errors naming the
file and the key. `config.scenario` reads the rest."""

from __future__ import annotations

from typing import Any

from wxo_load.config.fields import Where, describe, mapping, number, section, string
from wxo_load.config.model import RequestSettings, SimulatorSettings

_REQUEST_KEYS = (
    "stream_timeout_s", "stall_timeout_s", "connect_timeout_s", "context_variables", "llm_params",
    "guardrails", "additional_properties", "context", "environment_id", "headers",
)  # fmt: skip
_MAPPING_KEYS = (
    "context_variables",
    "llm_params",
    "guardrails",
    "additional_properties",
    "context",
)
_FORBIDDEN_HEADERS = frozenset({"authorization", "content-length", "host", "transfer-encoding"})


def parse_request(w: Where, value: Any) -> RequestSettings:
    raw = section(w, "request", value, _REQUEST_KEYS)
    settings: dict[str, Any] = {}
    for key in ("stream_timeout_s", "stall_timeout_s", "connect_timeout_s"):
        if key in raw:
            settings[key] = number(w, f"request.{key}", raw[key], minimum=0.001)
    for key in _MAPPING_KEYS:
        if key in raw:
            settings[key] = mapping(w, f"request.{key}", raw[key])
    if "environment_id" in raw:
        settings["environment_id"] = string(w, "request.environment_id", raw["environment_id"])
    if "headers" in raw:
        headers = mapping(w, "request.headers", raw["headers"]) or {}
        for name, header_value in headers.items():
            if str(name).lower() in _FORBIDDEN_HEADERS:
                raise w.error(
                    f"request.headers.{name}",
                    "set by wxo-load itself; remove it (tokens come from --token / WXO_TOKEN / "
                    "WXO_API_KEY).",
                )
            if not isinstance(header_value, (str, int, float)):
                raise w.error(
                    f"request.headers.{name}", f"expected a string; got {describe(header_value)}."
                )
        settings["headers"] = {str(k): str(v) for k, v in headers.items()}
    return RequestSettings(**settings)


def parse_simulator(w: Where, value: Any) -> SimulatorSettings:
    raw = section(w, "simulator", value, ("profile", "seed", "faults", "token_ttl_s", "capacity"))
    settings: dict[str, Any] = {}
    if "profile" in raw:
        settings["profile"] = string(w, "simulator.profile", raw["profile"], non_empty=True)
    if "seed" in raw:
        settings["seed"] = int(number(w, "simulator.seed", raw["seed"], integer=True))
    if "token_ttl_s" in raw:
        settings["token_ttl_s"] = number(
            w, "simulator.token_ttl_s", raw["token_ttl_s"], minimum=0.1
        )
    if "faults" in raw:
        faults = mapping(w, "simulator.faults", raw["faults"]) or {}
        for fault, rate in faults.items():
            rate = number(w, f"simulator.faults.{fault}", rate)
            if rate > 1:
                raise w.error(
                    f"simulator.faults.{fault}", f"a rate is a fraction from 0 to 1; got {rate}."
                )
        settings["faults"] = {str(k): float(v) for k, v in faults.items()}
    if "capacity" in raw:
        settings["capacity"] = _sim_capacity(w, raw["capacity"])
    return SimulatorSettings(**settings)


def _sim_capacity(w: Where, value: Any) -> dict[str, int]:
    raw = section(w, "simulator.capacity", value, ("concurrent_runs", "max_queue", "reject_status"))
    if "concurrent_runs" not in raw:
        raise w.error(
            "simulator.capacity.concurrent_runs",
            "missing: how many runs the simulator serves at once, e.g. `concurrent_runs: 40`.",
        )
    out = {
        k: int(number(w, f"simulator.capacity.{k}", raw[k],
                      minimum=1 if k == "concurrent_runs" else 0, integer=True))
        for k in raw
    }  # fmt: skip
    if out.get("reject_status", 429) not in (429, 503):
        raise w.error(
            "simulator.capacity.reject_status",
            f"expected 429 or 503; got {out['reject_status']}.",
        )
    return out


_AUTH_KEYS = (
    "mode", "auth_type", "iam_url", "wxo_env", "token_env", "api_key_env", "password_env",
    "username", "tenant", "insecure", "ca_bundle", "refresh_margin_s",
)  # fmt: skip
_SECRET_KEYS = {
    "token": "token_env", "api_key": "api_key_env", "apikey": "api_key_env",
    "password": "password_env",
}  # fmt: skip


def parse_auth(w: Where, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        for key, instead in _SECRET_KEYS.items():
            if key in value:
                raise w.error(
                    f"auth.{key}",
                    f"secrets do not belong in a scenario file (it lands in results and reports): "
                    f"put the value in an environment variable and name it with `{instead}: VAR`.",
                )
    raw = section(w, "auth", value, _AUTH_KEYS)
    return dict(raw)
