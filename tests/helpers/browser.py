"""Headless Chromium for the tests that open report.html in a real browser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SCRIPT = ROOT / "scripts" / "screenshot_report.py"


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium_available() -> bool:
    import shutil

    return bool(os.environ.get("WXO_LOAD_CHROMIUM")) or any(shutil.which(n) for n in CHROMIUM_NAMES)


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
