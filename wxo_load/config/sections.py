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
    base = RequestSettings()
    stream_s, stall_s, connect_s = (
        number(w, f"request.{key}", raw[key], minimum=0.001) if key in raw else default
        for key, default in (("stream_timeout_s", base.stream_timeout_s),
                             ("stall_timeout_s", base.stall_timeout_s),
                             ("connect_timeout_s", base.connect_timeout_s))
    )  # fmt: skip
    context_variables, llm_params, guardrails, additional, context = (
        mapping(w, f"request.{key}", raw[key]) if key in raw else None for key in _MAPPING_KEYS
    )
    environment_id = (
        string(w, "request.environment_id", raw["environment_id"])
        if "environment_id" in raw
        else base.environment_id
    )
    return RequestSettings(
        stream_s, stall_s, connect_s, context_variables, llm_params, guardrails,
        additional if additional is not None else base.additional_properties,
        context if context is not None else base.context,
        environment_id, _headers(w, raw["headers"]) if "headers" in raw else base.headers,
    )  # fmt: skip


def _headers(w: Where, value: Any) -> dict[str, str]:
    headers = mapping(w, "request.headers", value) or {}
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
    return {str(k): str(v) for k, v in headers.items()}


def parse_simulator(w: Where, value: Any) -> SimulatorSettings:
    raw = section(w, "simulator", value, ("profile", "seed", "faults", "token_ttl_s", "capacity"))
    base = SimulatorSettings()
    profile = (
        string(w, "simulator.profile", raw["profile"], non_empty=True)
        if "profile" in raw
        else base.profile
    )
    seed = int(number(w, "simulator.seed", raw["seed"], integer=True)) if "seed" in raw else None
    token_ttl_s = (
        number(w, "simulator.token_ttl_s", raw["token_ttl_s"], minimum=0.1)
        if "token_ttl_s" in raw
        else None
    )
    faults = _faults(w, raw["faults"]) if "faults" in raw else base.faults
    capacity = _sim_capacity(w, raw["capacity"]) if "capacity" in raw else base.capacity
    return SimulatorSettings(profile, seed, faults, token_ttl_s, capacity)


def _faults(w: Where, value: Any) -> dict[str, float]:
    faults: dict[str, float] = {}
    for fault, given in (mapping(w, "simulator.faults", value) or {}).items():
        rate = number(w, f"simulator.faults.{fault}", given)
        if rate > 1:
            raise w.error(
                f"simulator.faults.{fault}", f"a rate is a fraction from 0 to 1; got {rate}."
            )
        faults[str(fault)] = rate
    return faults


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
