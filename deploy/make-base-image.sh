#!/usr/bin/env bash
# Make the base image deploy/Containerfile builds on, without a container registry: a minimal
# Debian (debootstrap --variant=minbase from a Debian mirror) with python3 and its venv module,
# imported into podman. CI runs it before the container tests (tests/container/).
#
#   deploy/make-base-image.sh [TAG]          # default wxo-base:bookworm
#   MIRROR=http://deb.debian.org/debian SUITE=bookworm deploy/make-base-image.sh
#
# Needs root, debootstrap and podman. Where a registry is reachable, any image with python3 >= 3.10
# and its venv module does instead (e.g. --build-arg BASE_IMAGE=docker.io/library/python:3.12-slim).
set -euo pipefail

TAG="${1:-wxo-base:bookworm}"
SUITE="${SUITE:-bookworm}"
# The mirror this machine's apt uses, unless told otherwise.
if [[ -z "${MIRROR:-}" ]]; then
  MIRROR="$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources \
    2>/dev/null | head -n1)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

ROOT="$(mktemp -d /tmp/wxo-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || { tail -n 30 "$ROOT.log"; exit 1; }
rm -f "$ROOT.log"

# What an image does not need: apt's caches and lists, docs, man pages, locales but C.UTF-8.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
  "$ROOT"/var/log/* "$ROOT"/var/cache/debconf/*-old
find "$ROOT"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} + 2>/dev/null || true

# A stable layer: every file's time set to one epoch, names in order, numeric owners.
EPOCH="${SOURCE_DATE_EPOCH:-0}"
tar -C "$ROOT" --sort=name --numeric-owner --mtime="@$EPOCH" -c . \
  | podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.wxo-load.base=$SUITE" - "$TAG" >/dev/null
# The base this one replaced, if nothing else holds it.
podman image prune -f --filter label=org.wxo-load.base >/dev/null 2>&1 || true
echo "$TAG: $(podman image inspect --format '{{.Size}}' "$TAG") bytes"
