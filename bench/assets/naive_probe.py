"""Loaded beside the reference locustfile by `wxo-load bench` (`-f naive.py,naive_probe.py`).

It changes nothing the reference does: it wraps `json.loads`, which the reference calls on
every line right before it takes its own `perf_counter()` stamp, and records that moment with
the event's name and run id. At exit it writes them to $WXO_BENCH_PROBE_OUT as JSON lines, so
the benchmark can hold the reference's timings against the server's record as it does the
harness's. Only the timing-error phase loads it (its own cost stays out of the CPU phase).
"""

import json
import os
import time

from locust import events

_loads = json.loads
_stamps: list = []
_perf = time.perf_counter


def _recording_loads(text, *args, **kwargs):
    obj = _loads(text, *args, **kwargs)
    if type(obj) is dict and "event" in obj:
        data = obj.get("data") or {}
        _stamps.append((_perf(), obj["event"], data.get("run_id")))
    return obj


json.loads = _recording_loads  # type: ignore[assignment]


@events.quitting.add_listener
def _write(**_kwargs):
    path = os.environ.get("WXO_BENCH_PROBE_OUT")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            for t, name, run_id in _stamps:
                out.write(json.dumps([t, name, run_id]) + "\n")
