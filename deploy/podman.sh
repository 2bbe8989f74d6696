# Sourced by the scripts in deploy/: `podman` with what this kind of machine needs.
# - ulimits below the hard limits: podman's defaults raise nofile and nproc, which a machine that
#   forbids raising them refuses (WXO_NOFILE, WXO_NPROC; 16384 open files hold ~16,000 streams).
# - runc where it is installed: crun refuses a host whose cgroups are in hybrid mode (v1 with a
#   v2 mount), which runc runs on.
WXO_NOFILE="${WXO_NOFILE:-$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))}"
WXO_NPROC="${WXO_NPROC:-4096}"
PODMAN_GLOBAL=()
if command -v runc >/dev/null 2>&1; then PODMAN_GLOBAL=(--runtime "$(command -v runc)"); fi
PODMAN_LIMITS=(--ulimit "nofile=$WXO_NOFILE:$WXO_NOFILE" --ulimit "nproc=$WXO_NPROC:$WXO_NPROC")
