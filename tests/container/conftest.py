"""The container tier: the image built from deploy/Containerfile once per session, on a base made
without a registry by deploy/make-base-image.sh (afresh, so nothing is cached between runs;
WXO_KEEP_BASE=1 keeps the last one while iterating). Needs root, podman and debootstrap: without
them these tests are skipped, except under WXO_REQUIRE_CONTAINER=1 (CI), where they fail."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from images import IMAGE, ROOT


@pytest.fixture(scope="session")
def image() -> str:
    missing = [tool for tool in ("podman", "debootstrap") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root")
    if missing:
        if os.environ.get("WXO_REQUIRE_CONTAINER") == "1":
            pytest.fail(f"the container tests need {', '.join(missing)}")
        pytest.skip(f"the container tests need {', '.join(missing)}")
    if os.environ.get("WXO_KEEP_BASE") != "1":  # CI caches nothing: a base made afresh
        base = subprocess.run(
            ["bash", str(ROOT / "deploy" / "make-base-image.sh")],
            cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert base.returncode == 0, base.stdout[-3000:] + base.stderr[-3000:]
    build = subprocess.run(
        ["bash", str(ROOT / "deploy" / "build-image.sh"), IMAGE.removeprefix("localhost/")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return IMAGE
