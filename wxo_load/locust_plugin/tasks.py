"""Small helpers of the harness with no state of their own: a background task repeated every
few seconds, the end of a test after a harness error, one object kept per owner."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

import gevent
from locust.env import Environment

log = logging.getLogger("wxo_load")


def repeat(interval: float, action: Any) -> None:
    while True:
        gevent.sleep(interval)
        try:
            action()
        except Exception:  # a reporting glitch must never end the test
            log.exception("wxo-load: background task failed")


def end_test(environment: Environment) -> None:
    """After a harness error: headless, end the process (its exit code is set); with the web
    UI, stop this test and keep the UI for the next one. An Environment with no runner (built
    by hand, no test running) has nothing to end: the error was logged, so say so and return."""
    runner = cast(Any, environment.runner)
    if runner is None:
        log.warning("wxo-load: no Locust runner in this environment, so no test to end; "
                    "create one (environment.create_local_runner()) to run a test")  # fmt: skip
        return
    headless = getattr(environment.parsed_options, "headless", True)
    gevent.spawn(runner.quit if headless else runner.stop)


T = TypeVar("T")


def kept(cache: dict[int, tuple[object, T]], owner: object, make: Callable[[], T]) -> T:
    """The one `T` made for `owner` (a scenario or persona object), made on first use: keyed by
    identity, and made again when another object has taken a freed one's id."""
    found = cache.get(id(owner))
    if found is None or found[0] is not owner:
        found = (owner, make())
        cache[id(owner)] = found
    return found[1]
