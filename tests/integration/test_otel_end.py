"""--otel with no collector listening: a test's last export (OtelExport.flush, at every test
stop) is abandoned after END_EXPORT_LIMIT_S, said once, instead of holding the end for
OTEL_EXPORTER_OTLP_TIMEOUT while the SDK retries. Runs in its own Python process, gevent
patched by importing locust as a real load-generating process is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from net import free_port

from wxo_load.locust_plugin.otel import END_EXPORT_LIMIT_S

PROBE = """
import locust  # gevent's monkey-patching, as in every Locust process
import sys, time
sys.path.insert(0, sys.argv[1])
from test_otel_records import _conversation, _run
from wxo_load.locust_plugin.otel import OtelExport

export = OtelExport("probe", "local", "local", "agent-1")
export.records.add_run(_run("c1", 0))
export.records.add_conversation(_conversation("c1", 1))
started = time.monotonic()
export.flush()
print(f"END {time.monotonic() - started:.3f}")
"""


def test_a_tests_end_waits_at_most_the_limit_when_no_collector_listens() -> None:
    env = dict(os.environ)
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",  # nothing listens
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_TIMEOUT="60",  # what the SDK alone would wait, per signal
        OTEL_TRACES_SAMPLER="always_on",  # a span to export as well as the metrics
    )
    unit_tests = Path(__file__).resolve().parents[1] / "unit"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(unit_tests)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    took = float(done.stdout.split("END ")[1])
    assert END_EXPORT_LIMIT_S <= took < 30, took  # far below the SDK's 60 s, whatever the load
    assert done.stderr.count("did not take this test's last export within 2 s") == 1
    assert "Traceback" not in done.stderr
