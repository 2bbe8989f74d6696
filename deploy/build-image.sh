#!/usr/bin/env bash
# Build wxo-load's image with podman, offline: the dependencies as wheels made here (pip wheel,
# through this machine's package index and its CA), then deploy/Containerfile on BASE_IMAGE with
# nothing fetched inside the build.
#
#   deploy/build-image.sh [TAG]                 # default wxo-load:<version>
#   BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm deploy/build-image.sh
#
# With no BASE_IMAGE, the base is localhost/wxo-base:bookworm, made by make-base-image.sh when
# it is not there yet. The wheels must suit the base's Python (same minor version, glibc).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/podman.sh
. deploy/podman.sh

VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)"
TAG="${1:-wxo-load:$VERSION}"
BASE_IMAGE="${BASE_IMAGE:-localhost/wxo-base:bookworm}"
PYTHON="${PYTHON:-python3}"

if [[ "$BASE_IMAGE" == localhost/wxo-base:* ]] && ! podman image exists "$BASE_IMAGE"; then
  deploy/make-base-image.sh "${BASE_IMAGE#localhost/}"
fi

rm -rf deploy/wheelhouse/*.whl
"$PYTHON" -m pip wheel -q --disable-pip-version-check -w deploy/wheelhouse \
  -r deploy/requirements.txt . 2>&1 | grep -v '^WARNING: Location' || true
ls deploy/wheelhouse/wxo_load-*.whl >/dev/null   # the package's own wheel is there

podman build -f deploy/Containerfile -t "$TAG" \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg WHEELHOUSE_ONLY=1 \
  --build-arg "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}" --timestamp "${SOURCE_DATE_EPOCH:-0}" .
rm -f deploy/wheelhouse/*.whl
# The build stage, the image this one replaced, and a base that only that image held.
for label in org.wxo-load.stage=build org.wxo-load.image org.wxo-load.base; do
  podman image prune -f --filter "label=$label" >/dev/null 2>&1 || true
done
echo "$TAG: $(podman image inspect --format '{{.Size}}' "$TAG") bytes"
