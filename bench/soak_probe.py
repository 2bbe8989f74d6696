"""Loaded beside the harness's locustfile by `bench/soak.py` (`-f locustfile.py,soak_probe.py`).

It changes nothing the harness does: every $WXO_SOAK_PROBE_INTERVAL_S seconds (default 10) it
counts the greenlet objects alive in the Locust process and prints one line to stderr,

    wxo-soak-probe: greenlets 123 scan_ms 1.4

The count is a scan of the objects the garbage collector tracks. The harness freezes the
objects built before the users started (`gc.freeze()` at spawning_complete, so full collections
do not walk them); those are counted once, right after the freeze, and added to every later
count, so a periodic scan walks only what was made since (a few ms). `scan_ms` is what the
scan itself blocked the event loop for: the client lag it adds, if any, shows next to it.
"""

import gc
import os
import sys
import time

import gevent
from greenlet import greenlet
from locust import events

_frozen = {"greenlets": 0}


def _count(objects):
    return sum(1 for obj in objects if isinstance(obj, greenlet))


@events.spawning_complete.add_listener
def _count_frozen(**_kwargs):
    # listeners run in the order they were added: the harness's freeze has run
    if gc.get_freeze_count():
        gc.unfreeze()  # the permanent generation is not in gc.get_objects()
        frozen = gc.get_objects()
        gc.freeze()
        _frozen["greenlets"] = _count(frozen)


def _report_forever(interval_s):
    while True:
        gevent.sleep(interval_s)
        t0 = time.perf_counter()
        alive = _count(gc.get_objects()) + _frozen["greenlets"]
        scan_ms = (time.perf_counter() - t0) * 1000.0
        sys.stderr.write(f"wxo-soak-probe: greenlets {alive} scan_ms {scan_ms:.1f}\n")


@events.init.add_listener
def _start(**_kwargs):
    gevent.spawn(_report_forever, float(os.environ.get("WXO_SOAK_PROBE_INTERVAL_S", "10")))
