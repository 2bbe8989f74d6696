"""The open model's dispatcher: tickets to idle users, dropped arrivals by reason, shares that add
up.

Run in a subprocess: importing wxo_load.locust_plugin imports locust, which monkey-patches the
process (the other tests must not run under gevent's patches).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, sys, time
import gevent
from wxo_load.locust_plugin.arrival import ArrivalDispatcher

def run(pool, hold_s, epoch_offset_s, slot=0, processes=1):
    d = ArrivalDispatcher("constant", 1, tolerance_s=0.2)
    taken = []
    def user():
        while True:
            ticket = d.take()
            taken.append(ticket.scheduled_unix)
            gevent.sleep(hold_s)
    users = [gevent.spawn(user) for _ in range(pool)]
    gevent.sleep(0.01)
    d.begin(time.time() + epoch_offset_s, slot, processes, [[0, 0.0, 1.0, 20.0]])  # 20/s for 1 s
    gevent.sleep(max(0.0, epoch_offset_s) + 1.2)
    d.stop(); gevent.killall(users)
    reasons = {}
    for _unix, reason in d.take_dropped():
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"scheduled": d.scheduled, "started": len(taken), "dropped": reasons}

print(json.dumps({
    "plenty": run(pool=30, hold_s=0.3, epoch_offset_s=0.05),
    "capped": run(pool=2, hold_s=0.3, epoch_offset_s=0.05),
    "behind": run(pool=30, hold_s=0.0, epoch_offset_s=-0.5),
    "share0": run(pool=30, hold_s=0.0, epoch_offset_s=0.05, slot=0, processes=3),
    "share1": run(pool=30, hold_s=0.0, epoch_offset_s=0.05, slot=1, processes=3),
    "share2": run(pool=30, hold_s=0.0, epoch_offset_s=0.05, slot=2, processes=3),
}))
"""


@pytest.mark.slow
def test_dispatcher_starts_drops_and_splits_arrivals() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["plenty"] == {"scheduled": 20, "started": 20, "dropped": {}}
    capped = result["capped"]  # two users busy 0.3 s each: about 2 of every 6 arrivals start
    assert capped["scheduled"] == 20 and capped["started"] + capped["dropped"]["cap_reached"] == 20
    assert 4 <= capped["started"] <= 10
    behind = result["behind"]  # the schedule began 0.5 s ago: arrivals over 0.2 s late are dropped
    assert behind["scheduled"] == 20 and 5 <= behind["dropped"]["generator_behind"] <= 8
    assert behind["started"] + behind["dropped"]["generator_behind"] == 20
    shares = [result[f"share{i}"]["started"] for i in range(3)]
    assert sum(shares) == 20 and max(shares) - min(shares) <= 1  # every 3rd arrival each
