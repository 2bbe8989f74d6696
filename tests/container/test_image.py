"""The image: built from the recipe with podman, it runs the README's main command against the
built-in simulator as a non-root user, exit 0, results on the mounted volume; it holds no
credential."""

from __future__ import annotations

import json
import os
from pathlib import Path

from images import podman


def test_the_image_runs_the_readme_command_with_results_on_the_mounted_volume(
    image: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    os.chown(results, 10001, 10001)  # what fsGroup does in Kubernetes
    run = podman(
        "run", "--rm", "-v", f"{results}:/results", image,
        "locust", "-f", "locustfile.py", "--headless", "-u", "5", "-r", "5", "-t", "15s",
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (summary,) = results.glob("*-smoke/summary.json")
    data = json.loads(summary.read_text())
    assert data["runs"]["total"] > 0 and data["runs"]["failed"] == 0, data["runs"]
    assert {p.name for p in summary.parent.iterdir()} >= {"runs.jsonl", "summary.md", "report.html"}
    assert summary.stat().st_uid == 10001


def test_the_image_runs_as_a_non_root_user_and_holds_no_credential(image: str) -> None:
    inspect = podman("image", "inspect", image)
    assert inspect.returncode == 0, inspect.stderr
    config = json.loads(inspect.stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert not [e for e in config["Env"] if e.split("=")[0] in ("WXO_TOKEN", "WXO_API_KEY")]
    who = podman("run", "--rm", image, "id", "-u")
    assert who.stdout.strip() == "10001", who.stderr
    usage = podman("run", "--rm", image)
    assert usage.returncode == 0 and "master ARGS" in usage.stdout, usage.stderr
