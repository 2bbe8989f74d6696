"""What the container tests share: the repository, the image's name, podman as deploy/ runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/wxo-load:0.1.0"


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """podman with deploy/podman.sh's settings (ulimits below the hard limits, runc)."""
    cmd = ["bash", "-c", f'. "{ROOT}/deploy/podman.sh" && exec podman "$@"', "podman", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
