"""Data feeders: a persona's rows (CSV or JSONL), `{{column}}` templates, and how rows are taken.

    data: {file: data/employees.csv, mode: random | sequential | unique,
           on_exhausted: recycle | stop}

A conversation takes one row; `{{column}}` in its messages, script, context variables and extra
headers is replaced by the row's value. `random` takes any row each time; `sequential` walks the
file in order in each load-generating process, cycling; `unique` hands each row out once across
the whole test (the master distributes them: wxo_load.locust_plugin.rows), then starts again
(`recycle`) or ends the test once the last row's conversation is over (`stop`).

Identity columns (`token`, `api_key`, or `token_env` / `api_key_env` naming an environment
variable) make the row's conversations run under that credential; they are never templated,
never in a result. Every template is checked against every row at load: a missing column, an
empty file or a bad template is a `ConfigError` naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

import orjson

from wxo_load.config.conversations import json_object
from wxo_load.config.fields import Where, describe, section, string
from wxo_load.config.model import DataFeed, FeedMode, OnExhausted
from wxo_load.core.conversation import Credential, CredentialKind

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
MODES: tuple[FeedMode, ...] = get_args(FeedMode)
ON_EXHAUSTED: tuple[OnExhausted, ...] = get_args(OnExhausted)
SECRET_COLUMNS: dict[str, CredentialKind] = {"token": "token", "api_key": "api_key"}
ENV_COLUMNS: dict[str, CredentialKind] = {"token_env": "token", "api_key_env": "api_key"}
IDENTITY_COLUMNS = frozenset(SECRET_COLUMNS) | frozenset(ENV_COLUMNS)


def parse_data(w: Where, key: str, value: Any, base_dir: Path) -> DataFeed:
    raw = section(w, key, value, ("file", "mode", "on_exhausted"))
    if "file" not in raw:
        raise w.error(f"{key}.file", "missing: name a CSV or JSONL file of rows.")
    rel = string(w, f"{key}.file", raw["file"], non_empty=True)
    path = Path(rel) if Path(rel).is_absolute() else base_dir / rel
    mode = raw.get("mode", "random")
    if mode not in MODES:
        raise w.error(f"{key}.mode", f"expected one of {', '.join(MODES)}; got {mode!r}.")
    on_exhausted = raw.get("on_exhausted", "recycle")
    if on_exhausted not in ON_EXHAUSTED:
        raise w.error(
            f"{key}.on_exhausted", f"expected recycle or stop; got {describe(on_exhausted)}."
        )
    if on_exhausted == "stop" and mode != "unique":
        raise w.error(
            f"{key}.on_exhausted",
            f"`stop` needs `mode: unique` (rows handed out once across the test); `{mode}` "
            "never runs out.",
        )
    return DataFeed(str(path), mode, on_exhausted, read_rows(w, f"{key}.file", path))


def read_rows(w: Where, key: str, path: Path) -> tuple[dict[str, str], ...]:
    if not path.is_file():
        raise w.error(key, f"file {path} does not exist (paths are relative to the scenario file).")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = [{str(k).strip(): v or "" for k, v in r.items() if k is not None}
                for r in csv.DictReader(io.StringIO(text))]  # fmt: skip
    elif suffix == ".jsonl":
        rows = [_json_row(w, key, path, n, line) for n, line in _lines(text) if line.strip()]
    else:
        raise w.error(key, f"unsupported data file type {suffix!r}: use .csv or .jsonl.")
    if not rows:
        raise w.error(key, f"{path} holds no rows: a CSV needs a header line and rows.")
    return tuple(rows)


def _lines(text: str) -> Iterable[tuple[int, str]]:
    return enumerate(text.splitlines(), 1)


def _json_row(w: Where, key: str, path: Path, number: int, line: str) -> dict[str, str]:
    item = json_object(w, f"{key} ({path.name}, line {number})", line, "of columns")
    return {str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in item.items()}


def columns_of(w: Where, key: str, text: str) -> list[str]:
    """The columns a text's `{{column}}` templates name; a stray `{{` or `}}` is an error."""
    rest = TEMPLATE.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise w.error(
            key, f"bad template in {text[:80]!r}: write {{{{column}}}} with a column name."
        )
    return TEMPLATE.findall(text)


def texts_of(value: Any, key: str) -> Iterable[tuple[str, str]]:
    """(key, text) for every string inside a value (mappings and lists walked)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from texts_of(v, f"{key}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from texts_of(v, f"{key}[{i}]")


def check_templates(
    w: Where, texts: Iterable[tuple[str, str]], feed: DataFeed | None, data_key: str
) -> bool:
    """Every template's column is in every row (else ConfigError naming file, row, column).
    Returns whether any text is a template."""
    used: dict[str, str] = {}
    for key, text in texts:
        for column in columns_of(w, key, text):
            used.setdefault(column, key)
    if not used:
        return False
    if feed is None:
        column, key = next(iter(used.items()))
        raise w.error(key, f"uses {{{{{column}}}}} but the persona has no `data:` rows to fill it.")
    for column, key in used.items():
        if column in IDENTITY_COLUMNS:
            raise w.error(key, f"{{{{{column}}}}} is a credential: it is never put in a text.")
        for number, row in enumerate(feed.rows, 1):
            if column not in row:
                raise w.error(
                    data_key,
                    f"{feed.file}, row {number}: no column `{column}` (used in `{key}`); "
                    f"the row has {', '.join(sorted(row)) or 'no columns'}.",
                )
    return True


def check_header_values(w: Where, feed: DataFeed, headers: Mapping[str, str]) -> None:
    """A header filled from a row must stay one line: no CR or LF in any row's value."""
    for number, row in enumerate(feed.rows, 1):
        for name, template in headers.items():
            if any(c in render(template, row) for c in "\r\n"):
                raise w.error(
                    f"headers.{name}", f"{feed.file}, row {number}: the value has a line break."
                )


def check_identities(w: Where, feed: DataFeed, data_key: str) -> None:
    """A row's `token_env` / `api_key_env` must name a set environment variable."""
    for number, row in enumerate(feed.rows, 1):
        for column in ENV_COLUMNS:
            name = row.get(column)
            if name and not os.environ.get(name):
                raise w.error(
                    data_key,
                    f"{feed.file}, row {number}, column `{column}`: environment variable "
                    f"{name} is not set.",
                )


def render(text: str, row: Mapping[str, str]) -> str:
    if "{{" not in text:
        return text
    return TEMPLATE.sub(lambda m: row[m.group(1)], text)


def render_value(value: Any, row: Mapping[str, str]) -> Any:
    """A value with every string rendered (mappings and lists walked)."""
    if isinstance(value, str):
        return render(value, row)
    if isinstance(value, Mapping):
        return {k: render_value(v, row) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render_value(v, row) for v in value]
    return value


def row_credential(row: Mapping[str, str]) -> Credential | None:
    """The credential the row carries, if any (an `_env` column read now)."""
    for column, kind in SECRET_COLUMNS.items():
        if row.get(column):
            return Credential(kind, row[column])
    for column, kind in ENV_COLUMNS.items():
        name = row.get(column)
        if name and os.environ.get(name):
            return Credential(kind, os.environ[name])
    return None


class LocalRows:
    """`random` and `sequential` rows: taken in this process, never exhausted."""

    def __init__(self, feed: DataFeed) -> None:
        self.count = len(feed.rows)
        self.random = feed.mode == "random"
        self.next_index = 0

    def take(self, rng: random.Random) -> int | None:
        if self.random:
            return rng.randrange(self.count)
        index = self.next_index % self.count
        self.next_index += 1
        return index
