#!/bin/sh
# wxo-load's container entrypoint: the first argument says what this container is.
#   master ARGS...   locust -f $WXO_LOCUSTFILE --master ARGS (its exit code: 0, 2 or 3, gates.md);
#                    with WXO_RESULTS_UPLOAD set, that shell command runs after the test (e.g.
#                    an object-storage copy of /results) and the exit code stays the test's
#   worker ARGS...   locust -f $WXO_LOCUSTFILE --worker ARGS (give --master-host)
#   mock ARGS...     the simulator, listening on every interface: wxo-load mock --bind 0.0.0.0 ARGS
#   help             this text
#   anything else    run as given: `locust -f locustfile.py --headless -u 5 -r 5 -t 15s`,
#                    `wxo-load gate /results/ci ...`
# The process replaces this shell (exec), so signals and the exit code are Locust's own.
set -eu
LOCUSTFILE="${WXO_LOCUSTFILE:-/app/locustfile.py}"
case "${1:-help}" in
  master)
    shift
    [ -z "${WXO_RESULTS_UPLOAD:-}" ] && exec locust -f "$LOCUSTFILE" --master "$@"
    locust -f "$LOCUSTFILE" --master "$@" &
    pid=$!
    trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
    rc=0; wait "$pid" || rc=$?
    if [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then rc=0; wait "$pid" || rc=$?; fi   # a signal interrupted the wait
    sh -c "$WXO_RESULTS_UPLOAD" || echo "wxo-load: WXO_RESULTS_UPLOAD failed (exit $?)" >&2
    exit "$rc" ;;
  worker) shift; exec locust -f "$LOCUSTFILE" --worker "$@" ;;
  mock) shift; exec wxo-load mock --bind 0.0.0.0 "$@" ;;
  help | --help | -h)
    sed -n '2,12s/^# \{0,1\}//p' "$0"
    echo "open files: $(ulimit -n) (a worker holds about one per concurrent stream)" ;;
  *) exec "$@" ;;
esac
