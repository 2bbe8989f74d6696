# Sourced by the scripts in deploy/ and the container tests: podman with what this kind of machine
# needs, through a containers.conf of its own (CONTAINERS_CONF), so `podman run`, `podman build`
# and `podman kube play` (which takes no --ulimit) all get it:
# - ulimits below the hard limits: podman's defaults raise nofile and nproc to values a machine
#   that forbids raising them refuses (WXO_NOFILE, WXO_NPROC; 16384 open files hold ~16,000
#   streams, one socket each).
# - runc where it is installed: crun refuses a host whose cgroups are in hybrid mode (v1 with a
#   v2 mount); runc runs there.
WXO_NOFILE="${WXO_NOFILE:-$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))}"
WXO_NPROC="${WXO_NPROC:-4096}"
CONTAINERS_CONF="${TMPDIR:-/tmp}/wxo-load-containers.conf"
{
  echo "[containers]"
  echo "default_ulimits = [\"nofile=$WXO_NOFILE:$WXO_NOFILE\", \"nproc=$WXO_NPROC:$WXO_NPROC\"]"
  echo "[engine]"
  if command -v runc >/dev/null 2>&1; then echo "runtime = \"runc\""; fi
} >"$CONTAINERS_CONF"
export CONTAINERS_CONF
