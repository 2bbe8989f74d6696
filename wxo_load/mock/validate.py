"""Request-body checks that answer like FastAPI/pydantic v2 would: 422 with a `detail` list.

Each error is `{"type", "loc", "msg", "input"}` (plus `ctx` where pydantic adds one), `loc`
starting with "body". The schema is the one in the API reference of
`POST /api/v1/orchestrate/runs/stream` (tests/data/seed_runs_stream_reference.txt): the parts a
client plausibly gets wrong are checked, the rest of the body is accepted as is.
"""

from __future__ import annotations

import json
import uuid

from wxo_load.mock.shapes import Json
from wxo_load.mock.shapes import ValidationError as Error

RESPONSE_TYPES = (
    "conversational_search", "text", "image", "option", "pause", "iframe", "connect_to_agent",
    "suggestion", "channel_transfer", "search", "user_defined", "video", "audio", "date",
    "inline_error", "chat_with_docs_upload", "disconnected_apps", "forms", "form_operation",
    "document_processing_response",
)  # fmt: skip

# llm_params bounds from the reference: name -> (lo, hi, integer?)
_LLM_BOUNDS: dict[str, tuple[float | None, float | None, bool]] = {
    "beam_width": (0, None, True),
    "max_new_tokens": (0, None, True),
    "min_new_tokens": (0, None, True),
    "random_seed": (1, 4294967295, True),
    "repetition_penalty": (1, 2, False),
    "temperature": (0, 2, False),
    "time_limit": (None, None, True),
    "top_k": (1, 100, True),
    "top_p": (0, 1, False),
    "truncate_input_tokens": (0, None, True),
    "typical_p": (0.01, 1, False),
}
_DICT_FIELDS = (
    "context",
    "additional_properties",
    "additional_parameters",
    "context_variables",
    "guardrails",
)
_STR_FIELDS = ("agent_id", "environment_id")


def parse_json_body(raw: bytes) -> tuple[Json, list[Error]]:
    try:
        return json.loads(raw), []
    except (ValueError, UnicodeDecodeError) as exc:
        pos = getattr(exc, "pos", 0)
        msg = getattr(exc, "msg", "Invalid JSON")
        return None, [
            {"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error",
             "input": {}, "ctx": {"error": msg}}
        ]  # fmt: skip


def _err(
    kind: str, loc: list[str | int], msg: str, value: Json, ctx: dict[str, Json] | None = None
) -> Error:
    out: Error = {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}
    if ctx:
        out["ctx"] = ctx
    return out


def _not_object(loc: list[str | int], value: Json) -> Error:
    return _err(
        "model_attributes_type", loc,
        "Input should be a valid dictionary or object to extract fields from", value,
    )  # fmt: skip


def _check_str(errors: list[Error], body: dict[str, Json], key: str, loc: list[str | int]) -> None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        errors.append(_err("string_type", [*loc, key], "Input should be a valid string", value))


def validate_run_body(body: Json) -> list[Error]:
    if not isinstance(body, dict):
        return [_not_object([], body)]
    errors: list[Error] = []
    if "message" not in body:
        errors.append(_err("missing", ["message"], "Field required", body))
    else:
        errors.extend(_check_message(body["message"]))
    thread_id = body.get("thread_id")
    if thread_id is not None:
        try:
            uuid.UUID(str(thread_id)) if isinstance(thread_id, str) else uuid.UUID(int=-1)
        except ValueError:
            errors.append(
                _err("uuid_parsing", ["thread_id"],
                     "Input should be a valid UUID, invalid character: expected an optional prefix "
                     "of `urn:uuid:` followed by [0-9a-fA-F-]", thread_id)
            )  # fmt: skip
    for key in _STR_FIELDS:
        _check_str(errors, body, key, [])
    for key in _DICT_FIELDS:
        value = body.get(key)
        if value is not None and not isinstance(value, dict):
            errors.append(_err("dict_type", [key], "Input should be a valid dictionary", value))
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        errors.append(_err("int_type", ["version"], "Input should be a valid integer", version))
    llm = body.get("llm_params")
    if llm is not None:
        errors.extend(_check_llm_params(llm))
    return errors


def _check_message(message: Json) -> list[Error]:
    if not isinstance(message, dict):
        return [_not_object(["message"], message)]
    errors: list[Error] = []
    for key in ("role", "content"):
        if key not in message:
            errors.append(_err("missing", ["message", key], "Field required", message))
    _check_str(errors, message, "role", ["message"])
    content = message.get("content")
    if content is None or isinstance(content, str):
        return errors
    if not isinstance(content, list):
        errors.append(
            _err("list_type", ["message", "content"], "Input should be a valid list", content)
        )
        return errors
    for i, part in enumerate(content):
        loc: list[str | int] = ["message", "content", i]
        if not isinstance(part, dict):
            errors.append(_not_object(loc, part))
        elif "response_type" not in part:
            errors.append(_err("missing", [*loc, "response_type"], "Field required", part))
        elif part["response_type"] not in RESPONSE_TYPES:
            expected = ", ".join(f"'{t}'" for t in RESPONSE_TYPES)
            errors.append(
                _err("enum", [*loc, "response_type"], f"Input should be {expected}",
                     part["response_type"], {"expected": expected})
            )  # fmt: skip
    return errors


def _check_llm_params(llm: Json) -> list[Error]:
    if not isinstance(llm, dict):
        return [_not_object(["llm_params"], llm)]
    errors: list[Error] = []
    method = llm.get("decoding_method")
    if method is not None and method not in ("greedy", "sample"):
        errors.append(
            _err("enum", ["llm_params", "decoding_method"], "Input should be 'greedy' or 'sample'",
                 method, {"expected": "'greedy' or 'sample'"})
        )  # fmt: skip
    for key, (lo, hi, integer) in _LLM_BOUNDS.items():
        value = llm.get(key)
        if value is None:
            continue
        error = _check_bounded(["llm_params", key], value, lo, hi, integer)
        if error is not None:
            errors.append(error)
    return errors


def _check_bounded(
    loc: list[str | int], value: Json, lo: float | None, hi: float | None, integer: bool
) -> Error | None:
    """The error for one numeric llm_params field (a number within [lo, hi]), or None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and value != int(value))
    ):
        kind, what = ("int_type", "integer") if integer else ("float_type", "number")
        return _err(kind, loc, f"Input should be a valid {what}", value)
    if lo is not None and value < lo:
        return _err(
            "greater_than_equal",
            loc,
            f"Input should be greater than or equal to {lo}",
            value,
            {"ge": lo},
        )
    if hi is not None and value > hi:
        return _err(
            "less_than_equal",
            loc,
            f"Input should be less than or equal to {hi}",
            value,
            {"le": hi},
        )
    return None


def validate_thread_body(body: Json) -> list[Error]:
    if not isinstance(body, dict):
        return [_not_object([], body)]
    errors: list[Error] = []
    for key in ("title", "agent_id", "description"):
        _check_str(errors, body, key, [])
    return errors
