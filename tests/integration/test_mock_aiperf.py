"""NVIDIA AIPerf, a client nobody here wrote, completes a run against the simulator's chat
completions v1 path (`--chat-frames openai`: AIPerf reads only `chat.completion.chunk` frames).

AIPerf is a heavy install (~1.2 GB with its dependencies), so it lives in its own virtualenv and
this test runs in the `heavy_client` CI step (`.ci/run`): `WXO_AIPERF=<venv>/bin/aiperf`.
Without `WXO_AIPERF` (or `aiperf` on PATH) it is skipped. AIPerf needs a tokenizer and has no
hub access here: the test saves a tiny WordLevel one with `tokenizers` and `transformers`
(AIPerf's own dependencies), run by the Python of AIPerf's virtualenv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from mockserver import AGENT_ID, login, simulator

pytestmark = pytest.mark.heavy_client

MAKE_TOKENIZER = """
import sys
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
words = ["[UNK]", "[PAD]", *(chr(c) for c in range(33, 127))]
tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
tok.pre_tokenizer = pre_tokenizers.Whitespace()
PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]").save_pretrained(
    sys.argv[1]
)
"""
REQUESTS = 12


def _aiperf() -> Path:
    found = os.environ.get("WXO_AIPERF") or shutil.which("aiperf")
    if not found:
        pytest.skip("AIPerf not installed: set WXO_AIPERF=<venv>/bin/aiperf (see .ci/run)")
    return Path(found)


def test_aiperf_profile_completes_a_streamed_chat_run_against_the_v1_agent_path(
    tmp_path: Path,
) -> None:
    aiperf = _aiperf()
    tokenizer = tmp_path / "tokenizer"
    made = subprocess.run(
        [str(aiperf.parent / "python"), "-c", MAKE_TOKENIZER, str(tokenizer)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    with simulator("fast", seed=9, args=["--chat-frames", "openai"]) as sim:
        with httpx.Client(base_url=sim.url, timeout=10) as client:
            token = login(client)
        cmd = [
            str(aiperf), "profile", "--model", "agent", "--tokenizer", str(tokenizer),
            "--url", sim.url, "--endpoint-type", "chat",
            "--custom-endpoint", f"/api/v1/orchestrate/{AGENT_ID}/chat/completions",
            "--streaming", "--concurrency", "2", "--request-count", str(REQUESTS),
            "--api-key", token, "--ui-type", "none", "--artifact-dir", str(tmp_path / "art"),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        stats = sim.stats()
    records = [
        json.loads(line)
        for line in (tmp_path / "art" / "profile_export.jsonl").read_text().splitlines()
        if line
    ]
    assert len(records) == REQUESTS
    assert all(r["metrics"]["time_to_first_token"]["value"] > 0 for r in records)
    assert all(r["metrics"]["output_sequence_length"]["value"] > 0 for r in records)
    assert not any(r.get("error") for r in records)
    assert stats["runs_by_channel"]["chat"] == REQUESTS
    assert stats["streams_abandoned"] == 0
