"""docs/summary.schema.json (the JSON Schema of summary.json) and docs/summary-schema.md (the
same, as a page of the docs site), generated from the typed model
(`wxo_load.core.summary_model.Summary`), never written by hand.

    python -m wxo_load.output.schema      # regenerate both (from the repository's root)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import orjson

from wxo_load.core.summary_model import SCHEMA, Summary

SCHEMA_FILE = "docs/summary.schema.json"
SCHEMA_PAGE = "docs/summary-schema.md"


def summary_schema() -> bytes:
    """The schema as indented JSON, with its id and title, newline-terminated."""
    schema = msgspec.json.schema(Summary)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://wxo-load.dev/schemas/{SCHEMA.rsplit('/', 1)[-1]}/summary.schema.json",
        "title": f"wxo-load summary.json ({SCHEMA})",
        **schema,
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _type(prop: dict[str, Any]) -> str:
    """A property's type for people: `integer`, `number or null`, `list of Segment`..."""
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop:
        return f"name → {_type(prop['additionalProperties'])}"
    return str(kind)


def schema_page() -> str:
    """The schema as Markdown: one table per type, Summary first, then the others by name."""
    schema = msgspec.json.schema(Summary)
    defs: dict[str, Any] = schema["$defs"]
    names = ["Summary", *sorted(n for n in defs if n != "Summary")]
    lines = [
        f"# summary.json schema ({SCHEMA})",
        "",
        "Generated from the typed model by `python -m wxo_load.output.schema` (do not edit); the",
        "same as JSON Schema: [summary.schema.json](summary.schema.json). What the figures mean:",
        "[Results](results.md#summaryjson).",
    ]
    for name in names:
        definition = defs[name]
        required = set(definition.get("required", []))
        lines += ["", f"## {name}", "", definition.get("description", "").replace("\n", " "), ""]
        lines += ["| field | type | |", "| --- | --- | --- |"]
        for field, prop in definition["properties"].items():
            need = "required" if field in required else ""
            lines.append(f"| `{field}` | {_type(prop)} | {need} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".")
    (root / SCHEMA_FILE).write_bytes(summary_schema())
    (root / SCHEMA_PAGE).write_text(schema_page(), encoding="utf-8")
    print(f"wrote {root / SCHEMA_FILE} and {root / SCHEMA_PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
