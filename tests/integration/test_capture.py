"""`wxo-load capture` against the simulator seeded with history (`--history`)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.history import conversation, think_ms, write_history
from tests.helpers.mockserver import AGENT_ID, simulator
from wxo_load.core.pii import DEFAULT_RULES

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
SECRET = "sk-THIS-IS-A-SECRET-TOKEN-1234"


def capture(url: str, out: Path, *extra: str, env: dict[str, str] | None = None):
    cmd = [sys.executable, "-m", "wxo_load.cli.main", "capture", "--host", url,
           "--agent-id", AGENT_ID, "-o", str(out), *extra]  # fmt: skip
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WXO_")}
    environ.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=environ)


def test_capture_writes_every_conversation_redacted_in_order_with_the_seeded_think_times(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.jsonl"
    seeded = write_history(history, 50)
    out = tmp_path / "conversations.jsonl"
    with simulator(args=["--history", str(history)]) as sim:
        done = capture(sim.url, out)
    assert done.returncode == 0, done.stderr
    assert "50 conversations written" in done.stdout and "0 threads skipped" in done.stdout
    assert "redacted 150 email, 150 phone" in done.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    texts = "\n".join(t["text"] for line in lines for t in line["turns"])
    assert not EMAIL.search(texts) and not PHONE.search(texts)
    assert len(lines) == 50
    by_id = {c["thread_id"]: i for i, c in enumerate(seeded)}
    for line in lines:
        i = by_id[line["id"]]
        assert [t["text"].split(":")[0] for t in line["turns"]] == [
            f"c{i} turn {k}" for k in range(3)
        ]
        assert "think_s" not in line["turns"][0]
        for k, turn in enumerate(line["turns"][1:], 1):
            assert abs(turn["think_s"] * 1000 - think_ms(i, k)) < 1.0
        assert line["turns"][1]["recorded"]["tools"] == ["lookup"]
        assert line["turns"][0]["recorded"]["agent_ms"] == 1200.0
        assert abs(line["start_offset_s"] - (7 * i + i / 1000)) < 0.001


def test_a_thread_answering_500_is_skipped_counted_and_named(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    seeded = write_history(history, 6, **{"4": {"status": 500}})
    out = tmp_path / "conversations.jsonl"
    with simulator(args=["--history", str(history), "--threads-list", "data"]) as sim:
        done = capture(sim.url, out)
    assert done.returncode == 0, done.stderr
    assert "5 conversations written" in done.stdout
    assert f"1 threads skipped: {seeded[4]['thread_id']} (HTTP 500)" in done.stdout
    assert len(out.read_text().splitlines()) == 5


def test_a_401_stops_the_capture_with_exit_2_and_what_to_set(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    write_history(history, 2)
    out = tmp_path / "conversations.jsonl"
    with simulator(args=["--history", str(history)]) as sim:
        done = capture(sim.url, out, env={"WXO_TOKEN": SECRET})
    assert done.returncode == 2
    assert "401" in done.stderr and "WXO_API_KEY" in done.stderr
    assert SECRET not in done.stderr + done.stdout
    assert not out.exists()


def test_capture_writes_no_token_no_authorization_and_no_default_rule_match(
    tmp_path: Path,
) -> None:
    item = conversation(0)
    pii = [
        "my card is 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00",
        f"Authorization: Bearer {SECRET} and mail jane.doe+x@corp.example.org",
        "call me on 020 7946 0958 or +33 6 12 34 56 78, account 123456789",
    ]
    for k, text in enumerate(pii):
        item["messages"][2 * k]["text"] = text
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(item) + "\n")
    out = tmp_path / "conversations.jsonl"
    rules = ["--redact", r"sk-[A-Za-z0-9-]+=[SECRET]", "--redact", "Bearer=[AUTH]"]
    with simulator(args=["--history", str(history)]) as sim:
        done = capture(sim.url, out, *rules, "--placeholders")
    assert done.returncode == 0, done.stderr
    written = out.read_text()
    texts = "\n".join(t["text"] for t in json.loads(written)["turns"])
    for kind, pattern in DEFAULT_RULES:
        assert not pattern.search(texts), kind
    assert SECRET not in written and "Bearer" not in written
    assert "{{card_1}}" in written and "{{email_1}}" in written and "{{phone_2}}" in written
    rows = list(csv.DictReader((tmp_path / "conversations.data.csv").open()))
    assert {"card_1", "iban_1", "email_1", "phone_1", "phone_2"} <= set(rows[0])
    assert "2 custom" in done.stdout and "1 card" in done.stdout


def test_since_keeps_recent_conversations_and_thread_ids_reads_only_those(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from tests.helpers.history import iso

    old, recent = conversation(0), conversation(1)
    base = datetime.now(timezone.utc) - timedelta(hours=1)
    for k, message in enumerate(recent["messages"]):
        message["created_on"] = iso(base + timedelta(seconds=k))
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps(old) + "\n" + json.dumps(recent) + "\n")
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# one thread\n{old['thread_id']}\n")
    with simulator(args=["--history", str(history)]) as sim:
        since = capture(sim.url, tmp_path / "since.jsonl", "--since", "2d")
        listed = capture(sim.url, tmp_path / "listed.jsonl", "--thread-ids", str(ids))
    assert since.returncode == 0 and listed.returncode == 0, since.stderr + listed.stderr
    assert "1 older than --since left out" in since.stdout
    assert [json.loads(x)["id"] for x in (tmp_path / "since.jsonl").read_text().splitlines()] == [
        recent["thread_id"]
    ]
    assert [json.loads(x)["id"] for x in (tmp_path / "listed.jsonl").read_text().splitlines()] == [
        old["thread_id"]
    ]
