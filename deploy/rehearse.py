"""Rehearse the Kubernetes manifests of deploy/k8s/ with `podman kube play`, on one machine.

    sudo python3 deploy/rehearse.py --results-out /tmp/rehearsal        # prints a JSON report
    sudo python3 deploy/rehearse.py --kill-worker-after 5 ...            # and kill one worker pod

Plays the simulator, the master and two workers from the very manifests (settings, scenario,
results volume, master, workers, simulator), waits for the master to end, reads the simulator's
own counts (`/_mock/stats`), copies the master's results volume to --results-out, and removes
everything it made. What podman 4.3 (Debian 12) lacks is bridged here, not in the manifests:

- a Job is not played: its pod template is played as a Pod of the same name (the Job's verdict
  is then the pod's exit code, as in Kubernetes with restartPolicy Never and backoffLimit 0);
- a Service is not played: each becomes a DNS alias (`--network NET:alias=NAME`) of the pods
  its selector picks, on a podman network of its own, so `wxo-load-master` and `wxo-mock`
  resolve as they do in a cluster;
- a Secret played by `kube play` cannot be read by `secretKeyRef` (podman #16269, fixed in 4.4):
  each Secret is created with `podman secret create` in the form 4.3 reads (JSON, base64 values).
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
MANIFESTS = (
    "settings.yaml", "scenario.yaml", "results-volume.yaml", "master.yaml", "simulator.yaml",
    "workers.yaml",
)  # fmt: skip
NETWORK = "wxo-load-rehearsal"


def podman(*args: str, check: bool = True, timeout: float = 300, both: bool = False) -> str:
    """podman with deploy/podman.sh's settings (ulimits below the hard limits, runc); `both`:
    its stderr too (a container's log is its stdout and stderr)."""
    merge = " 2>&1" if both else ""
    cmd = ["bash", "-c", f'. "{DEPLOY}/podman.sh" && exec podman "$@"{merge}', "podman", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def load(image: str | None) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in MANIFESTS:
        text = (DEPLOY / "k8s" / name).read_text(encoding="utf-8")
        if image:
            text = text.replace("localhost/wxo-load:0.1.0", image)
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def _pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    return dict(doc["spec"]["template"]["metadata"]["labels"])


def _as_pod(job: dict[str, Any]) -> dict[str, Any]:
    template = job["spec"]["template"]
    meta = {"name": job["metadata"]["name"], "labels": template["metadata"].get("labels", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}


def _secret_json(secret: dict[str, Any]) -> str:
    values = dict(secret.get("data") or {})
    for key, value in (secret.get("stringData") or {}).items():
        values[key] = base64.b64encode(str(value).encode()).decode()
    return json.dumps(values)


class Rehearsal:
    def __init__(self, docs: list[dict[str, Any]], workdir: Path) -> None:
        self.docs, self.workdir = docs, workdir
        self.played: list[Path] = []
        self.by_kind: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            self.by_kind.setdefault(doc["kind"], []).append(doc)

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return self.by_kind.get(kind, [])

    def aliases(self, labels: dict[str, str]) -> list[str]:
        return [
            s["metadata"]["name"]
            for s in self.kinds("Service")
            if all(labels.get(k) == v for k, v in s["spec"]["selector"].items())
        ]

    def up_shared(self) -> None:
        podman("network", "create", NETWORK)
        for secret in self.kinds("Secret"):
            path = self.workdir / f"{secret['metadata']['name']}.json"
            path.write_text(_secret_json(secret), encoding="utf-8")
            podman("secret", "create", secret["metadata"]["name"], str(path))
        for claim in self.kinds("PersistentVolumeClaim"):
            podman("volume", "create", claim["metadata"]["name"])

    def play(self, workload: dict[str, Any], labels: dict[str, str]) -> None:
        name = workload["metadata"]["name"]
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all([*self.kinds("ConfigMap"), workload]), "utf-8")
        network = NETWORK + "".join(f":alias={a}" for a in self.aliases(labels))
        podman("kube", "play", "--network", network, str(path))
        self.played.append(path)

    def down(self) -> None:
        for path in reversed(self.played):
            podman("kube", "down", str(path), check=False)
        for secret in self.kinds("Secret"):
            podman("secret", "rm", secret["metadata"]["name"], check=False)
        for volume in self.kinds("PersistentVolumeClaim") + self.kinds("ConfigMap"):
            podman("volume", "rm", "-f", volume["metadata"]["name"], check=False)  # podman's copy
        podman("network", "rm", "-f", NETWORK, check=False)


def _wait(what: str, ok: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.5)


def mock_stats(container: str) -> dict[str, Any] | None:
    url = "http://127.0.0.1:4321/_mock/stats"
    probe = f"import urllib.request as u; print(u.urlopen({url!r}).read().decode())"
    out = podman("exec", container, "python3", "-c", probe, check=False)
    return json.loads(out) if out.strip() else None


def state(container: str) -> tuple[str, int]:
    out = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container)
    status, code = out.split()
    return status, int(code)


def rehearse(docs: list[dict[str, Any]], out: Path, kill_worker_after_s: float | None) -> dict:
    """Play everything, wait for the master's end, read back what happened, tear down."""
    started = time.monotonic()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wxo-rehearsal-") as tmp:
        rehearsal = Rehearsal(docs, Path(tmp))
        try:
            rehearsal.up_shared()
            for deployment in rehearsal.kinds("Deployment"):  # the simulator first: the master
                if deployment["metadata"]["name"] == "wxo-mock":  # checks its target at start
                    rehearsal.play(deployment, _pod_labels(deployment))
            mock = "wxo-mock-pod-0-mock"
            _wait("the simulator answers", lambda: mock_stats(mock) is not None, 60)
            for job in rehearsal.kinds("Job"):
                rehearsal.play(_as_pod(job), _pod_labels(job))
            for deployment in rehearsal.kinds("Deployment"):
                if deployment["metadata"]["name"] != "wxo-mock":
                    rehearsal.play(deployment, _pod_labels(deployment))
            master = f"{rehearsal.kinds('Job')[0]['metadata']['name']}-master"
            if kill_worker_after_s is not None:
                report["killed"] = kill_a_worker(mock, kill_worker_after_s)
            _wait("the master ends", lambda: state(master)[0] == "exited", 300)
            report["master_exit_code"] = state(master)[1]
            log = podman("logs", master, check=False, both=True)
            report["master_log_tail"] = log[-3000:]
            report["master_log_workers"] = [
                line for line in log.splitlines() if "worker" in line.lower() and "|" not in line
            ]  # who joined, went missing or was lost, and when
            report["simulator"] = mock_stats(mock)
            report["pods"] = podman("pod", "ps", "--format", "{{.Name}} {{.Status}}").split("\n")
            volume = podman("volume", "inspect", "--format", "{{.Mountpoint}}", "wxo-load-results")
            shutil.copytree(volume.strip(), out, dirs_exist_ok=True)
            report["results"] = sorted(str(p) for p in out.glob("*/summary.json"))
        finally:
            rehearsal.down()
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def kill_a_worker(mock: str, after_s: float) -> str:
    """SIGKILL one worker pod once both have reported runs (a report every 3 s)."""
    _wait("runs are served", lambda: (mock_stats(mock) or {}).get("runs_completed", 0) >= 10, 90)
    time.sleep(after_s)
    pod = "wxo-load-worker-pod-1"
    podman("pod", "kill", "--signal", "KILL", pod)
    return pod


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results-out", type=Path, required=True, help="copy results here")
    parser.add_argument("--image", help="the image to run instead of localhost/wxo-load:0.1.0")
    parser.add_argument("--kill-worker-after", type=float, metavar="S",
                        help="SIGKILL one worker pod S seconds after runs are served")  # fmt: skip
    args = parser.parse_args(argv)
    report = rehearse(load(args.image), args.results_out, args.kill_worker_after)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
