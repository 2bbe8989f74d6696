"""Ctrl+C (SIGINT) ends a Locust process in order, whatever the process was doing when it came.

Python turns SIGINT into a KeyboardInterrupt raised in whatever Python code runs next. Under
gevent that is whichever greenlet the hub wakes next, not the main greenlet, where Locust waits
for the test and then shuts down in order. A `--processes` master spends its time in the greenlet
that reads its workers' messages (merging their reports), so that is where the interrupt lands,
and that greenlet (like Locust's stats printer) either catches KeyboardInterrupt and carries on,
so the Ctrl+C is lost and the test runs to its end, or dies of it, so the master hears its
workers no more: they end as "lost", and the runs of their last seconds are missing from the
results (issue #32: py-spy showed every process idle in the hub a minute after the signal; the
master's log showed the interrupt raised inside `client_listener`, merging a worker's report).

So every process takes SIGINT as gevent's event, as Locust already takes SIGTERM: the hub runs
`_interrupt` in a greenlet of its own, which raises KeyboardInterrupt in the main greenlet only.
Every other greenlet carries on, so the shutdown that follows (users stopped, the workers' final
reports, the results) has all it needs. A second Ctrl+C interrupts that shutdown, as before.

A worker forked by `--processes` ignores SIGINT. Ctrl+C in a terminal signals the whole process
group, and a worker that quit on its own raced its master's orderly stop: the master waited 10 s
for final reports that never came and counted every worker lost. Its master ends it (the stop,
the final report, the quit message), or, if the master is gone, its lifeline does (lifeline.py);
the simulator the master started is in a session of its own for the same reason.
"""

from __future__ import annotations

import signal

import gevent
from gevent.hub import Hub

_installed: list[object] = []  # gevent's handle, kept alive (a collected one may stop working)


def install_interrupt(forked_worker: bool) -> None:
    """From now on SIGINT raises KeyboardInterrupt in the main greenlet only, or, in a worker
    forked by `--processes`, is ignored (once a process)."""
    if _installed:
        return
    if forked_worker:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _installed.append(signal.SIG_IGN)
    else:
        _installed.append(gevent.signal_handler(signal.SIGINT, _interrupt))


def _interrupt() -> None:
    """In the signal's greenlet: the hub raises KeyboardInterrupt in its parent, the main
    greenlet, as gevent does with any system error (`Hub.handle_system_error`)."""
    hub: Hub = gevent.get_hub()
    hub.loop.run_callback(hub.parent.throw, KeyboardInterrupt)
