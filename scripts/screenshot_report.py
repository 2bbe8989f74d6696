#!/usr/bin/env python3
"""Screenshot a results directory's report.html with headless Chromium.

    python scripts/screenshot_report.py results/20261121T070000Z-smoke --out report.png
    python scripts/screenshot_report.py results/20261121T070000Z-smoke --dump-dom > dom.html

Needs a Chromium or Chrome binary (Debian/Ubuntu: `apt-get install chromium`; or set
WXO_LOAD_CHROMIUM=/path/to/chrome). The page needs no network; Chromium is started with its
background networking off, a throw-away profile, and a time limit. If report.html is missing it
is rebuilt first, as `wxo-load report` would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def find_chromium() -> str | None:
    configured = os.environ.get("WXO_LOAD_CHROMIUM")
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(
    extra: list[str], html: Path, timeout_s: float
) -> subprocess.CompletedProcess[bytes]:
    binary = find_chromium()
    if binary is None:
        raise SystemExit(
            "screenshot_report: no Chromium found. "
            "Install it (Debian/Ubuntu: apt-get install chromium) "
            "or set WXO_LOAD_CHROMIUM to a Chrome/Chromium binary."
        )
    with tempfile.TemporaryDirectory(prefix="wxo-load-chromium-") as profile:
        command = [binary, *FLAGS, f"--user-data-dir={profile}", *extra, html.resolve().as_uri()]
        try:
            return subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SystemExit(
                f"screenshot_report: Chromium did not finish within {timeout_s:g} s"
            ) from exc


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def screenshot(
    html: Path, png: Path, *, width: int = 1400, height: int = 2400, timeout_s: float = 60.0
) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    result = _run_chromium(
        [f"--window-size={width},{height}", f"--screenshot={png.resolve()}"], html, timeout_s
    )
    if not png.exists():
        stderr = result.stderr.decode(errors="replace")[-800:]
        raise SystemExit(
            f"screenshot_report: Chromium wrote no screenshot (exit {result.returncode}):\n{stderr}"
        )
    return png


def dump_dom(html: Path, *, timeout_s: float = 60.0) -> str:
    result = _run_chromium(["--dump-dom"], html, timeout_s)
    return result.stdout.decode("utf-8", errors="replace")


def ensure_report(results_dir: Path) -> Path:
    report = results_dir / "report.html"
    if not report.exists():
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from wxo_load.edge.results import load_summary, write_derived

        write_derived(results_dir, load_summary(results_dir))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--out", type=Path, default=None, help="PNG to write (default RESULTS_DIR/report.png)"
    )
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2400, help="page height captured, in pixels")
    parser.add_argument("--dump-dom", action="store_true", help="print the rendered DOM instead")
    args = parser.parse_args(argv)
    if not args.results_dir.is_dir():
        parser.error(
            f"{args.results_dir} is not a directory; pass a results directory a test wrote"
        )
    report = ensure_report(args.results_dir)
    if args.dump_dom:
        sys.stdout.write(dump_dom(report))
        return 0
    png = screenshot(
        report, args.out or args.results_dir / "report.png", width=args.width, height=args.height
    )
    width, height = png_size(png)
    print(f"wrote {png} ({width}x{height}, {png.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
