"""What `wxo-load capture` writes: the conversations JSONL (one conversation a line, turns in
order, start offsets from the first) and, with `--placeholders`, a CSV of synthetic values for
the personas' data feeders."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from wxo_load.core.captured import CapturedConversation
from wxo_load.core.errors import ConfigError
from wxo_load.core.pii import PiiRedactor, synthetic_value


def write_conversations(
    path: Path, captured: list[tuple[float, CapturedConversation]], redactor: PiiRedactor
) -> None:
    """The conversations file (and its synthetic data file): ConfigError naming `-o` when the
    place cannot be written."""
    captured.sort(key=lambda item: item[0])
    first = captured[0][0] if captured else 0.0
    lines = []
    for start, conversation in captured:
        line = {"id": conversation["id"], "start_offset_s": round(start - first, 6)}
        lines.append(orjson.dumps({**line, "turns": conversation["turns"]}) + b"\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(lines))
        if redactor.placeholders:
            _write_data(data_file(path), redactor.column_names(), max(len(captured), 1))
    except OSError as exc:
        raise ConfigError(f"option -o {path}: cannot write there ({exc.strerror}).") from None


def data_file(path: Path) -> Path:
    """Where `--placeholders` writes its synthetic values: `conversations.data.csv`."""
    return path.with_suffix(".data.csv")


def _write_data(path: Path, columns: list[str], rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns or ["placeholder"])
        for row in range(rows):
            writer.writerow([synthetic_value(c, row) for c in columns] or [""])
