"""Headless Chromium for the tests that open report.html in a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


SCRIPT = ROOT / "scripts" / "screenshot_report.py"


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# The one Chromium finder of the tests: WXO_LOAD_CHROMIUM, else the first of CHROMIUM_NAMES on PATH.
CHROMIUM: str | None = os.environ.get("WXO_LOAD_CHROMIUM") or next(
    (found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None
)

# Skipped on a developer's machine without Chromium; CI sets WXO_REQUIRE_BROWSER=1 (.ci/run), so
# there a missing browser fails the test instead.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("WXO_REQUIRE_BROWSER"),
    reason="needs Chromium (apt-get install chromium)",
)


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
