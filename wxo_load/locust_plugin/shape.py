"""Stages, the arrival model's pool and the capacity search, run by one Locust LoadTestShape.

`LoadTestShape.tick()` runs on the master (or the local runner) only, once a second, so the
same shape drives a headless test, the web UI and a distributed test. Everything it decides
comes from `control.LoadControl`, which applies what the plan's strategy (`strategies.py`)
decides. The shape is installed in Locust's `init` when the scenario has `load: stages |
arrival | search` (a locustfile cannot know the scenario before), so a plain scenario keeps
Locust's own -u / -r / -t.
"""

from __future__ import annotations

import time
from typing import Any

from locust import LoadTestShape

from wxo_load.locust_plugin.control import LoadControl


class WxoShape(LoadTestShape):
    """Locust's shape hook; everything it decides comes from `LoadControl.tick()`, whose clock
    starts at its first tick (Locust calls `reset_time()` again inside that tick's `start()` on a
    master, so the control is reset when a test stops instead)."""

    # Locust starts no -t timer for a shape test (it waits for the shape to end), so the run
    # time is applied by LoadControl; this only keeps Locust from warning that -t is ignored.
    use_common_options = True

    def __init__(self, control: LoadControl) -> None:
        super().__init__()
        self.control = control

    def tick(self) -> tuple[int, float] | None:
        return self.control.tick(time.time())


def install_shape(env: Any, control: LoadControl) -> None:
    """Locust runs `control`'s plan from now on."""
    shape = WxoShape(control)
    shape.runner = env.runner
    env.shape_class = shape
