"""Ctrl+C reaches the main greenlet, whatever greenlet runs when it comes (interrupt.py, #32).

The child process is a stand-in for a Locust master: a busy greenlet that catches
KeyboardInterrupt and carries on, as Locust's `client_listener` and stats printer do, and the
main greenlet waiting, as Locust's main does before its shutdown. Without `install_interrupt`
the SIGINT lands in the busy greenlet (the only one running Python code) and is lost; with it,
the main greenlet gets it. A child of its own: gevent's signal handler is process-wide.
"""

from __future__ import annotations

import signal
import subprocess
import sys

CHILD = """
import sys
import gevent
from wxo_load.locust_plugin.interrupt import install_interrupt

install_interrupt(forked_worker=False)

def busy():
    while True:
        try:
            sum(range(20_000))
            gevent.sleep(0)
        except KeyboardInterrupt:
            print("the busy greenlet caught it", flush=True)

gevent.spawn(busy)
gevent.sleep(0.1)
print("ready", flush=True)
try:
    gevent.sleep(20)
    print("the main greenlet waited 20 s", flush=True)
except KeyboardInterrupt:
    print("the main greenlet got KeyboardInterrupt", flush=True)
"""


def test_sigint_raises_keyboardinterrupt_in_the_main_greenlet_not_in_a_busy_one() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=15)
    finally:
        child.kill()
    assert out.strip() == "the main greenlet got KeyboardInterrupt", out + err
    assert child.returncode == 0, err
