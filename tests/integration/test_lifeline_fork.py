"""A process forked from the one that imported lifeline.py ends as soon as its parent is gone,
before Locust's `init` (lifeline.py): the race of a `--processes` master that fails at its own
start before its workers have connected, made explicit. The child stands in for a worker still
waiting for its master (Locust's connect tries: 5 s each, 60 of them); it would hold the pipes
for 60 s. The launcher exits at once, as a master that cannot start does.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import logging, os, gevent
logging.basicConfig(level=logging.INFO, format="%(message)s")
from wxo_load.locust_plugin import lifeline
if gevent.fork():  # as Locust's --processes forks
    os._exit(2)  # the master fails before its worker has connected
gevent.sleep(60)  # the worker, waiting for its master
os._exit(9)
"""


def test_a_forked_worker_whose_master_is_gone_before_init_ends_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        timeout=30,  # returns once the child, too, has closed the pipes
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "the master ended before this worker started; it ends too" in done.stderr
