"""tasks.end_test after a harness error: ends the test of the runner it has, and says so,
without raising, when the Environment has no runner at all (a library user's). In a Python
process of its own: importing locust here would monkey-patch the test process with gevent."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import logging, sys
import gevent
from locust import User
from locust.env import Environment
from wxo_load.locust_plugin.tasks import end_test

logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")

class Idle(User):
    def on_start(self):
        gevent.sleep(60)

bare = Environment(user_classes=[Idle])
assert bare.runner is None
end_test(bare)  # raised AttributeError before
print("NO RUNNER: OK")

environment = Environment(user_classes=[Idle])
runner = environment.create_local_runner()
runner.start(1, 1)
end_test(environment)  # no parsed options: taken as headless, the test is ended
runner.greenlet.join(timeout=30)
print("LOCAL RUNNER:", runner.state)
"""


def test_no_runner_is_said_not_raised_and_a_runner_is_ended() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no Locust runner in this environment" in done.stdout
    assert "NO RUNNER: OK" in done.stdout
    assert "LOCAL RUNNER: stopped" in done.stdout
