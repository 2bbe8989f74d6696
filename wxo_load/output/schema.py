"""docs/summary.schema.json (the JSON Schema of summary.json) and docs/summary-schema.md (the
same, as a page of the docs site), generated from the typed model
(`wxo_load.core.summary_model.Summary`), never written by hand; likewise
docs/aggregate.schema.json and docs/aggregate-schema.md from `wxo-load repeat`'s
`wxo_load.core.aggregate_model.Aggregate`.

    python -m wxo_load.output.schema      # regenerate all four (from the repository's root)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import orjson

from wxo_load.core.aggregate_model import AGGREGATE_SCHEMA, Aggregate
from wxo_load.core.summary_model import SCHEMA, Summary

SCHEMA_FILE = "docs/summary.schema.json"
SCHEMA_PAGE = "docs/summary-schema.md"
AGGREGATE_SCHEMA_FILE = "docs/aggregate.schema.json"
AGGREGATE_SCHEMA_PAGE = "docs/aggregate-schema.md"


def _schema_document(model: type, schema_name: str, file_name: str) -> bytes:
    schema = msgspec.json.schema(model)
    version = schema_name.rsplit("/", 1)[-1]
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://wxo-load.dev/schemas/{version}/{file_name}",
        "title": f"wxo-load {file_name.replace('.schema', '')} ({schema_name})",
        **schema,
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def summary_schema() -> bytes:
    """The schema as indented JSON, with its id and title, newline-terminated."""
    return _schema_document(Summary, SCHEMA, "summary.schema.json")


def aggregate_schema() -> bytes:
    """aggregate.json's schema, as `summary_schema`."""
    return _schema_document(Aggregate, AGGREGATE_SCHEMA, "aggregate.schema.json")


def _type(prop: dict[str, Any]) -> str:
    """A property's type for people: `integer`, `number or null`, `list of Segment`..."""
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    if "enum" in prop:  # a Literal: its values
        return " or ".join(f"`{value}`" for value in prop["enum"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop:
        return f"name → {_type(prop['additionalProperties'])}"
    return str(kind)


def schema_page() -> str:
    """The schema as Markdown: one table per type, Summary first, then the others by name."""
    return _page(
        Summary,
        f"# summary.json schema ({SCHEMA})",
        "summary.schema.json",
        "[Results](results.md#summaryjson)",
    )


def aggregate_schema_page() -> str:
    """aggregate.json's schema as Markdown, as `schema_page`."""
    return _page(
        Aggregate,
        f"# aggregate.json schema ({AGGREGATE_SCHEMA})",
        "aggregate.schema.json",
        "[Results over time](over-time.md#repeated-runs)",
    )


def _page(model: type, title: str, json_file: str, meaning: str) -> str:
    schema = msgspec.json.schema(model)
    top = model.__name__
    defs: dict[str, Any] = schema["$defs"]
    names = [top, *sorted(n for n in defs if n != top)]
    lines = [
        title,
        "",
        "Generated from the typed model by `python -m wxo_load.output.schema` (do not edit); the",
        f"same as JSON Schema: [{json_file}]({json_file}). What the figures mean:",
        f"{meaning}.",
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
    (root / AGGREGATE_SCHEMA_FILE).write_bytes(aggregate_schema())
    (root / AGGREGATE_SCHEMA_PAGE).write_text(aggregate_schema_page(), encoding="utf-8")
    print(
        f"wrote {root / SCHEMA_FILE}, {root / SCHEMA_PAGE}, {root / AGGREGATE_SCHEMA_FILE} and "
        f"{root / AGGREGATE_SCHEMA_PAGE}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
