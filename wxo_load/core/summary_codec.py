"""One way in and one way out of summary.json: `summary_from_bytes` / `summary_from_dict` (v1 and
v2 files; a v1 file is upgraded first) and `dump_summary`. Pure: bytes and dicts, no files.

The model forbids unknown keys (a producer's misspelt key fails); a v1 file, written before the
model existed, may hold keys v2 never had, so its upgrade drops them (`_known`).

What v2 renamed (the upgrade applies it to a v1 file, so a v1 baseline gates a v2 run):

    v1 key       v2 key          why
    steps        search_steps    `steps` also means the agent's run steps (tools, phases)
    load_plan    plan            the plan the test ran; `load` was a package, modules and a verb
"""

from __future__ import annotations

import msgspec
import msgspec.inspect as mi
import orjson

from wxo_load.core.json_value import Json
from wxo_load.core.summary_model import SCHEMA, Summary

SCHEMA_PREFIX = "wxo-load/summary/"
SCHEMA_V1 = "wxo-load/summary/v1"
V1_RENAMES = {"steps": "search_steps", "load_plan": "plan"}


class SummaryFormatError(ValueError):
    """Bytes or a dict that are not a summary this version reads; the message says why."""


def upgrade(raw: dict[str, Json]) -> dict[str, Json]:
    """A v1 summary dict as v2 (renamed keys, v2 schema name, keys v2 has no field for dropped);
    a v2 dict as it is."""
    if raw.get("schema") != SCHEMA_V1:
        return raw
    upgraded = {V1_RENAMES.get(key, key): value for key, value in raw.items()}
    upgraded["schema"] = SCHEMA
    model = mi.type_info(Summary)
    assert isinstance(model, mi.StructType)
    return _known_fields(upgraded, model)


def _known_fields(value: dict[str, Json], model: mi.StructType) -> dict[str, Json]:
    fields = {f.encode_name: f.type for f in model.fields}
    return {k: _known(v, fields[k]) for k, v in value.items() if k in fields}


def _known(value: Json, kind: mi.Type) -> Json:
    """`value` without the mapping keys that `kind` (a model type) has no field for."""
    if isinstance(kind, mi.StructType) and isinstance(value, dict):
        return _known_fields(value, kind)
    if isinstance(kind, mi.DictType) and isinstance(value, dict):
        return {k: _known(v, kind.value_type) for k, v in value.items()}
    if isinstance(kind, mi.ListType) and isinstance(value, list):
        return [_known(v, kind.item_type) for v in value]
    if isinstance(kind, mi.UnionType):
        for member in kind.types:
            if isinstance(member, (mi.StructType, mi.DictType, mi.ListType)):
                return _known(value, member)
    return value


def summary_from_dict(raw: Json) -> Summary:
    """A decoded summary.json (v1 or v2) as a `Summary`; SummaryFormatError naming the path of
    the first wrong value."""
    if not isinstance(raw, dict):
        found: Json = type(raw).__name__
        raise SummaryFormatError(f"not a wxo-load summary (schema {found!r}, expected {SCHEMA!r})")
    found = raw.get("schema")
    if not isinstance(found, str) or not found.startswith(SCHEMA_PREFIX):
        raise SummaryFormatError(f"not a wxo-load summary (schema {found!r}, expected {SCHEMA!r})")
    if found not in (SCHEMA, SCHEMA_V1):
        raise SummaryFormatError(
            f"schema {found!r} is not one this version reads ({SCHEMA_V1!r} or {SCHEMA!r})"
        )
    try:
        return msgspec.convert(upgrade(raw), Summary)
    except msgspec.ValidationError as exc:
        raise SummaryFormatError(f"not a valid {SCHEMA} summary: {exc}") from None


def summary_from_bytes(data: bytes) -> Summary:
    """summary.json's bytes as a `Summary` (SummaryFormatError when they are not one)."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SummaryFormatError(f"not valid JSON: {exc}") from None
    return summary_from_dict(raw)


def summary_to_dict(summary: Summary) -> dict[str, Json]:
    """The summary as plain JSON data (what `dump_summary` writes)."""
    data: dict[str, Json] = msgspec.to_builtins(summary)
    return data


def dump_summary(summary: Summary) -> bytes:
    """summary.json bytes: indented, keys in the model's order, newline-terminated."""
    return orjson.dumps(summary_to_dict(summary), option=orjson.OPT_INDENT_2) + b"\n"
