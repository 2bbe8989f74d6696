"""report.html opens and renders in headless Chromium; the screenshot script works for a user."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from browser import _script, needs_chromium
from report_support import REPORT_SECTIONS, synthetic_results

pytestmark = needs_chromium


def _png_pixels_not_blank(path: Path) -> float:
    """Share of non-zero bytes in the PNG's filtered scanlines: ~0 for a blank page."""
    data = path.read_bytes()
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            idat += data[position + 8 : position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(idat)
    return sum(1 for b in raw[::97] if b) / len(raw[::97])


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("browser") / "20270115T080000Z-synthetic"
    synthetic_results(directory)
    return directory


@pytest.mark.slow  # starts a real browser
def test_report_renders_in_headless_chromium_with_every_chart_section(results_dir: Path) -> None:
    result = _script(str(results_dir), "--dump-dom")
    assert result.returncode == 0, result.stderr
    dom = result.stdout
    assert 'data-report-ready="1"' in dom
    for section in REPORT_SECTIONS:
        assert f'id="{section}"' in dom
    assert dom.count("<svg") >= 18
    assert (
        "Runs completed per second, by outcome" in dom and "First text (time to first token)" in dom
    )


@pytest.mark.slow  # starts a real browser
def test_screenshot_script_writes_a_full_non_blank_png(results_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    result = _script(str(results_dir), "--out", str(png), "--width", "1400", "--height", "2400")
    assert result.returncode == 0, result.stderr
    assert f"wrote {png} (1400x2400" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 100_000  # a blank 1400x2400 page compresses to a few KiB
    assert _png_pixels_not_blank(png) > 0.01  # blank page: 0.0002; this report: ~0.03


def test_screenshot_script_explains_a_wrong_directory(tmp_path: Path) -> None:
    result = _script(str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "not a directory" in result.stderr
