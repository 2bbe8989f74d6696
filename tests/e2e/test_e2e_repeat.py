"""End to end: `wxo-load repeat 5` against the simulator writes an aggregate whose intervals hold
its runs as the statistics say they must, and a noise-aware regression gate against it fails a
simulator slowed by 15 % (exit 3) and passes an unchanged one (docs/over-time.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from locust_runs import LOCUSTFILE, REPO, clean_env, run_locust, write_scenario

# default-like timings with a narrow think pause of about 1.5 s: the simulator's latencies (which
# --slow scales) dwarf what a busy machine adds to them, so first_text.p95 moves by a few percent
# at most from run to run even beside other tests, and 5 short runs give an interval narrower
# than 15 % (the realistic rates of the gate on the default profile are measured by
# bench/noise_gate.py, not here)
PROFILE = """name: repeat-e2e
timing: {think_ms: {uniform: [1500, 1560]}}
"""
SCENARIO = """name: repeat-e2e
agent_id: 0c191f04-78cd-45e3-a99a-988cfb29434d
conversation: {turns: 3, think_time_s: 0, pause_between_s: 0}
prompts: [hello, thanks]
simulator: {profile: %s}
"""
LOAD = ["-u", "20", "-r", "20", "-t", "4s"]
GATE = "first_text.p95 +5% outside pi"


def test_repeat_5_then_a_noise_aware_gate_catches_a_15_percent_slowdown(tmp_path: Path) -> None:
    profile = write_scenario(tmp_path / "profile.yaml", PROFILE)
    scenario = write_scenario(tmp_path / "repeat.yaml", SCENARIO % profile)
    base = tmp_path / "base"
    repeat = subprocess.run(
        [sys.executable, "-m", "wxo_load.cli", "repeat", "5", "--results-dir", str(base), "--",
         "-f", str(LOCUSTFILE), "--only-summary", *LOAD, "--scenario", str(scenario)],
        cwd=REPO, env=clean_env(tmp_path), capture_output=True, text=True, timeout=240,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert repeat.returncode == 0, repeat.stderr[-3000:]
    assert sorted(p.name for p in base.iterdir()) == [
        "aggregate", "run-01", "run-02", "run-03", "run-04", "run-05",
    ]  # fmt: skip
    aggregate = json.loads((base / "aggregate" / "aggregate.json").read_text())
    p95 = aggregate["figures"]["first_text.p95"]
    values = p95["values"]
    assert p95["n"] == 5 and all(isinstance(v, float) for v in values)
    # The prediction interval (for one more run) holds every run it was made from: with 5 runs
    # at 95 % this is certain (Samuelson: no value is more than s·4/√5 = 1.79 s from the mean;
    # the interval reaches 2.78·√1.2 = 3.04 s). The confidence interval of the *mean* is
    # narrower (1.24 s) and at most 2 of 5 runs can fall outside it (three would need a sum of
    # squares over 3 · 1.24² s² > 4 s²); about 4 of 5 inside is typical.
    assert all(p95["pi"]["low"] <= v <= p95["pi"]["high"] for v in values), p95
    assert sum(p95["ci"]["low"] <= v <= p95["ci"]["high"] for v in values) >= 3, p95
    assert p95["ci"]["low"] <= p95["mean"] <= p95["ci"]["high"]
    assert "first_text.p95" in (base / "aggregate" / "aggregate.md").read_text()
    assert 'id="repeated"' in (base / "aggregate" / "report.html").read_text()

    gate = ["--baseline", str(base), "--regression", GATE, "--scenario", str(scenario), *LOAD]
    slowed_env = clean_env(tmp_path, WXO_LOAD_MOCK_SLOW="1.15")
    slowed = run_locust([*gate, "--results-dir", str(tmp_path / "slowed")], home=tmp_path,
                        env=slowed_env)  # fmt: skip
    assert slowed.returncode == 3, (p95, slowed.stdout[-3000:] + slowed.stderr[-3000:])
    verdict = json.loads((tmp_path / "slowed" / "gates.json").read_text())["gates"][0]
    assert "above the 95% prediction interval" in verdict["reason"], verdict

    same = run_locust([*gate, "--results-dir", str(tmp_path / "same")], home=tmp_path)
    assert same.returncode == 0, (p95, same.stdout[-3000:] + same.stderr[-3000:])
