"""The worker's collector once its users are spawned: frozen start-up objects and raised
thresholds (docs/measurements.md, how many people one worker holds). Run in a process of its
own: importing Locust monkey-patches the process."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import gc
from wxo_load.locust_plugin import listeners
listeners._on_spawning_complete()
assert gc.get_threshold() == listeners.GC_THRESHOLDS, gc.get_threshold()
assert gc.get_freeze_count() > 0
print("ok")
"""


def test_spawned_users_freeze_start_up_objects_and_raise_the_thresholds() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
