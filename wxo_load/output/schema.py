"""docs/summary.schema.json: the JSON Schema of summary.json, generated from the typed model
(`wxo_load.core.summary_model.Summary`), never written by hand.

    python -m wxo_load.output.schema docs/summary.schema.json     # regenerate it
"""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec
import orjson

from wxo_load.core.summary_model import SCHEMA, Summary

SCHEMA_FILE = "docs/summary.schema.json"


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else SCHEMA_FILE)
    target.write_bytes(summary_schema())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
