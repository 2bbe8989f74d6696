"""bench/soak.py: the fit that says whether memory is flat, and a few seconds of a real soak
(simulator and Locust as processes, sampled from /proc and the harness's output)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", REPO / "bench" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _samples(soak: ModuleType, kb_per_run: float, fds_step: int = 0) -> list:
    return [
        soak.Sample(
            t_s=10.0 * i,
            runs=500 * i,
            rss_kb=int(80_000 + kb_per_run * 500 * i + i % 2),
            fds=60 + fds_step * i,
            greenlets=70,
            client_lag_p99_ms=1.5,
            cpu_s=i * 0.8,
            cpu_ms_per_run=1.6,
            load1=0.5,
        )  # fmt: skip
        for i in range(1, 31)
    ]


def test_least_squares_slope_and_its_error() -> None:
    soak = _soak()
    slope, stderr = soak.fit([(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)])
    assert slope == pytest.approx(2.0) and stderr == pytest.approx(0.0)
    assert soak.fit([(1.0, 1.0), (2.0, 2.0)]) is None


def test_flat_memory_passes_and_growth_per_run_or_fd_leak_fails() -> None:
    soak = _soak()
    flat = soak.verdict(_samples(soak, 0.0), warmup_s=30, max_kb_per_1000=50)
    assert flat["flat"] and abs(flat["rss_kb_per_1000_runs"]) < 1
    growing = soak.verdict(_samples(soak, 0.2), warmup_s=30, max_kb_per_1000=50)  # 200 KB/1000
    assert not growing["flat"] and growing["rss_kb_per_1000_runs"] == pytest.approx(200, abs=1)
    leaking = soak.verdict(_samples(soak, 0.0, fds_step=1), warmup_s=30, max_kb_per_1000=50)
    assert not leaking["flat"] and "open fds grew" in leaking["problems"][0]


@pytest.mark.slow
def test_a_short_soak_samples_rss_fds_greenlets_lag_and_cpu_per_run(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    cmd = [sys.executable, str(REPO / "bench" / "soak.py"), "--minutes", "0.25", "--users", "5",
           "--interval", "2", "--warmup", "0", "--max-kb-per-1000-runs", "1e9",
           "--json", str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    samples = result["samples"]
    assert len(samples) >= 4
    assert all(s["rss_kb"] > 10_000 and s["fds"] > 3 for s in samples)
    runs = [s["runs"] for s in samples]  # the simulator's own count
    assert runs == sorted(runs) and runs[-1] > 0
    assert any(s["greenlets"] for s in samples) and any(s["client_lag_p99_ms"] for s in samples)
    assert any(s["cpu_ms_per_run"] for s in samples)
    assert result["verdict"]["flat"] and result["verdict"]["locust_exit_code"] == 0
    assert "soak: memory flat" in done.stdout
