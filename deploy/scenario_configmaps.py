"""Write a scenario and the files it reads (data rows, prompts) as two Kubernetes ConfigMaps.

    python deploy/scenario_configmaps.py scenarios/personas.yaml data/employees.csv \
        > deploy/k8s/scenario.yaml

The master mounts `wxo-load-scenario` at /scenario (the scenario as scenario.yaml) and
`wxo-load-data` at /data (each file under its own name). A ConfigMap key holds no `/`, and a
volume mounted inside another one is not portable (podman 4.3 ignores `items`, Kubernetes refuses
a mount point inside a read-only configMap volume), so each file's path, as the scenario writes
it, becomes `/data/<name>` in the copy. Files are named relative to the scenario's folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

SCENARIO_CONFIGMAP, DATA_CONFIGMAP, DATA_MOUNT = "wxo-load-scenario", "wxo-load-data", "/data"
REPO = Path(__file__).resolve().parents[1]


def _literal(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _literal)


def configmaps(scenario: Path, files: list[str]) -> str:
    """The YAML of both ConfigMaps: the scenario with its files' paths moved to /data."""
    text = scenario.read_text(encoding="utf-8")
    data: dict[str, str] = {}
    for rel in files:
        name = Path(rel).name
        if rel not in text:
            raise SystemExit(f"{scenario}: names no file {rel!r}; give paths as the scenario does")
        if name in data:
            raise SystemExit(f"two files named {name!r}: rename one (ConfigMap keys are names)")
        data[name] = (scenario.parent / rel).read_text(encoding="utf-8")
        text = text.replace(rel, f"{DATA_MOUNT}/{name}")
    labels = {"app.kubernetes.io/name": "wxo-load"}
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": SCENARIO_CONFIGMAP, "labels": labels},
         "data": {"scenario.yaml": text}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": DATA_CONFIGMAP, "labels": labels}, "data": data},
    ]  # fmt: skip
    shown = scenario.resolve()
    shown = shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown
    head = (
        f"# Generated from {shown.as_posix()} by deploy/scenario_configmaps.py: edit the"
        "\n# scenario, not this file (tests/unit/test_deploy_manifests.py checks they agree).\n"
    )
    body = yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("files", nargs="*", help="files the scenario reads, as it names them")
    args = parser.parse_args(argv)
    sys.stdout.write(configmaps(args.scenario, args.files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
