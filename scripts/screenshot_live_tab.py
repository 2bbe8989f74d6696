#!/usr/bin/env python3
"""Screenshot the web UI's wxo-load tabs during a real test against the built-in simulator.

    python scripts/screenshot_live_tab.py --out docs/images/live-tab.png --users 10 --seconds 20

Starts `locust -f locustfile.py` (web UI on a free loopback port, built-in simulator), starts a
test from the UI's own /swarm endpoint, waits, captures the tab with headless Chromium while the
test still runs, then stops everything. Needs Chromium (or WXO_LOAD_CHROMIUM).
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot_report import FLAGS, find_chromium  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"screenshot_live_tab: {url} did not answer within {timeout_s:g} s")


def _post(url: str, data: dict[str, str] | None = None) -> None:
    body = urllib.parse.urlencode(data or {}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=30):
        pass


def _screenshot(url: str, png: Path, width: int, height: int) -> None:
    binary = find_chromium()
    if binary is None:
        raise SystemExit(
            "screenshot_live_tab: no Chromium found (apt-get install chromium, or set "
            "WXO_LOAD_CHROMIUM)"
        )
    with tempfile.TemporaryDirectory(prefix="wxo-load-chromium-") as profile:
        command = [
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            url,
        ]
        subprocess.run(command, capture_output=True, timeout=90, check=False)
    if not png.exists():
        raise SystemExit(f"screenshot_live_tab: Chromium wrote no {png}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("live-tab.png"))
    parser.add_argument(
        "--tab", default="wxo-load", help="wxo-load, wxo-load-timings or wxo-load-over-time"
    )
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="how long the test runs before the screenshot"
    )
    parser.add_argument("--scenario", default="scenarios/smoke.yaml")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1100)
    args = parser.parse_args()
    port = _free_port()
    ui = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="wxo-load-live-") as results:
        cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "locustfile.py"),
            "--web-host",
            "127.0.0.1",
            "--web-port",
            str(port),
            "--results-dir",
            str(Path(results) / "r"),
        ]
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_for(ui)
            _post(
                f"{ui}/swarm",
                {
                    "user_count": str(args.users),
                    "spawn_rate": str(args.users),
                    "scenario": args.scenario,
                },
            )
            time.sleep(args.seconds)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            _screenshot(f"{ui}/?tab={args.tab}", args.out, args.width, args.height)
            _post(f"{ui}/stop")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
