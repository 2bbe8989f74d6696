"""OpenTelemetry export of every load-generating process (`--otel`, off by default).

Locust's own `--otel` switches it on (also `LOCUST_ENABLE_OPENTELEMETRY=true`); the standard
`OTEL_*` variables configure it: `OTEL_EXPORTER_OTLP_ENDPOINT` (default
`http://localhost:4318`), `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default here, or
`grpc` with `opentelemetry-exporter-otlp-proto-grpc` installed), `OTEL_METRICS_EXPORTER` /
`OTEL_TRACES_EXPORTER` (`otlp`, `console` or `none`), `OTEL_METRIC_EXPORT_INTERVAL`,
`OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default here: `parentbased_traceidratio`
at 0.01, one conversation in a hundred), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_SDK_DISABLED`.

Each load-generating process (a worker, or a local runner) has its own providers, made at its
first test start (after `--processes` forked it), with a resource that tells it apart:
`service.instance.id` (Locust's client id of the worker, else host and pid), `wxo_load.worker`
(the name its runs carry in runs.jsonl: `worker-0`, `local`) and `wxo_load.role`. The master
exports nothing (it measures nothing). Records are queued by the recorder and drained into the
SDK every second by a greenlet; every test stop drains and flushes.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

import gevent

from wxo_load.core.errors import WxoLoadError
from wxo_load.output.otel import OtelRecords
from wxo_load.output.otel_hist import Histograms, histogram_exporter

log = logging.getLogger("wxo_load")

DRAIN_INTERVAL_S = 1.0
END_EXPORT_LIMIT_S = 2.0  # a test's last export, at most: a dead collector does not hold the end
DRAIN_SLICE = 200  # records between two yields to the event loop (about 1 ms)
DEFAULT_SAMPLE_RATIO = 0.01  # without OTEL_TRACES_SAMPLER: parentbased_traceidratio at 0.01
INSTALL_ADVICE = "install it with `pip install 'wxo-load[otel]'`"


def enabled(options: Any) -> bool:
    if not getattr(options, "otel", False):
        return False
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"


def _exporters(kind: str) -> set[str]:
    raw = os.environ.get(f"OTEL_{kind}_EXPORTER", "otlp")
    return {part.strip().lower() for part in raw.split(",") if part.strip()} - {"none"}


def _protocol(kind: str) -> str:
    protocol = os.environ.get(f"OTEL_EXPORTER_OTLP_{kind}_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    protocol = protocol.strip().lower()
    if protocol not in ("http/protobuf", "grpc"):
        raise WxoLoadError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: wxo-load exports with "
            "'http/protobuf' or 'grpc'; set one of them"
        )
    return protocol


def _otlp_exporter(kind: str) -> Any:
    protocol = _protocol(kind.upper())
    try:
        if protocol == "grpc":
            if kind == "metrics":
                from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                    OTLPMetricExporter as GrpcMetrics,
                )

                return GrpcMetrics()
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpans,
            )

            return GrpcSpans()
        if kind == "metrics":
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

            return OTLPMetricExporter()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    except ImportError as exc:
        package = f"opentelemetry-exporter-otlp-proto-{'grpc' if protocol == 'grpc' else 'http'}"
        raise WxoLoadError(f"--otel with protocol {protocol}: {package} is missing; "
                           f"install it (`pip install {package}`)") from exc  # fmt: skip


def _resource(instance_id: str, worker: str, role: str) -> Any:
    from opentelemetry.sdk.resources import Resource

    from wxo_load import __version__

    return Resource.create({
        "service.name": os.environ.get("OTEL_SERVICE_NAME") or "wxo-load",
        "service.version": __version__,
        "service.instance.id": instance_id,
        "host.name": socket.gethostname(),
        "wxo_load.worker": worker,
        "wxo_load.role": role,
    })  # fmt: skip


def _meter_provider(resource: Any, histograms: Histograms) -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    readers = []
    for exporter in _exporters("METRICS"):
        if exporter == "otlp":
            inner = _otlp_exporter("metrics")
        elif exporter == "console":
            inner = ConsoleMetricExporter()
        else:
            log.warning("wxo-load: OTEL_METRICS_EXPORTER %r is not supported: ignored", exporter)
            continue
        readers.append(PeriodicExportingMetricReader(histogram_exporter(inner, histograms)))
    return MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)


def _tracer_provider(resource: Any) -> Any | None:
    exporters = _exporters("TRACES")
    if not exporters:
        return None
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    # unset: one conversation in a hundred; else the SDK reads OTEL_TRACES_SAMPLER(_ARG) itself
    sampler = (
        None
        if os.environ.get("OTEL_TRACES_SAMPLER")
        else ParentBased(TraceIdRatioBased(DEFAULT_SAMPLE_RATIO))
    )
    provider = TracerProvider(resource=resource, sampler=sampler, shutdown_on_exit=False)
    for exporter in exporters:
        if exporter == "otlp":
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter("traces")))
        elif exporter == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        else:
            log.warning("wxo-load: OTEL_TRACES_EXPORTER %r is not supported: ignored", exporter)
    return provider


class OtelExport:
    """This process's providers and the record queue (`records`), for its life."""

    def __init__(self, instance_id: str, worker: str, role: str, agent: str) -> None:
        try:
            resource = _resource(instance_id, worker, role)
        except ImportError as exc:
            missing = f"--otel: the OpenTelemetry SDK is missing; {INSTALL_ADVICE}"
            raise WxoLoadError(missing) from exc
        self.records = records = OtelRecords(agent)
        self.meter_provider = _meter_provider(resource, records.histograms)
        self.tracer_provider = _tracer_provider(resource)
        tracer = self.tracer_provider.get_tracer("wxo_load") if self.tracer_provider else None
        records.start(self.meter_provider.get_meter("wxo_load"), tracer)
        self._drainer = gevent.spawn(self._drain_forever)
        log.info("wxo-load: OpenTelemetry export on (service.instance.id %s)", instance_id)

    def _drain_forever(self) -> None:
        while True:
            gevent.sleep(DRAIN_INTERVAL_S)
            try:
                # in slices, yielding between them: a second of runs at once would hold the
                # event loop for tens of ms, and every open stream would measure it
                while self.records.drain(DRAIN_SLICE):
                    gevent.sleep(0)
            except Exception:  # an export glitch must never end the test
                log.exception("wxo-load: OpenTelemetry drain failed")

    def flush(self) -> None:
        """The end of a test: every record into the SDK, and exported now, for at most
        END_EXPORT_LIMIT_S. A collector that is down or slow would otherwise hold the end up
        to OTEL_EXPORTER_OTLP_TIMEOUT per signal (the SDK retries until then): past the limit
        the export is abandoned and said once, and the results are unchanged."""
        self.records.close()
        export = gevent.spawn(self._export_now)
        export.join(timeout=END_EXPORT_LIMIT_S)
        if not export.dead:
            export.kill(block=False)
            log.warning(
                "wxo-load: --otel: the collector did not take this test's last export within "
                "%.0f s; it is not exported (is a collector listening at "
                "OTEL_EXPORTER_OTLP_ENDPOINT?). The results are unchanged.",
                END_EXPORT_LIMIT_S,
            )

    def _export_now(self) -> None:
        timeout_ms = END_EXPORT_LIMIT_S * 1000
        self.meter_provider.force_flush(timeout_millis=timeout_ms)
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush(timeout_millis=timeout_ms)

    def stop(self) -> None:
        """The process ends: the last test's figures were flushed at its stop, so nothing more
        is exported (a provider's shutdown would export once more, and wait on a dead
        collector again)."""
        self._drainer.kill(block=False)


def instance_id(runner: Any) -> str:
    client_id = getattr(runner, "client_id", None)
    return str(client_id) if client_id else f"{socket.gethostname()}_{os.getpid()}"


def begin_test(
    current: OtelExport | None, options: Any, runner: Any, recorder: Any, role: str, agent: str
) -> OtelExport | None:
    """A load-generating process's test start: make its export on the first test with `--otel`
    and hand the recorder its queue."""
    if not enabled(options):
        return current
    if current is None:
        current = OtelExport(instance_id(runner), recorder.worker_name, role, agent)
    current.records.set_agent(agent)
    recorder.otel = current.records
    return current


def take_over_locust_otel() -> None:
    """Locust's `--otel` sets up global providers in the parent process, before `--processes`
    forks its workers, and the forked workers then hang before they report ready (seen here with
    Locust 2.47 and SDK 1.45). wxo-load makes its own providers in each process after the fork,
    so Locust's set-up is replaced by a note (its `locust.client.duration` would repeat
    `gen_ai.client.operation.duration`: one Locust request per run)."""
    main = sys.modules.get("locust.main")
    if main is not None and hasattr(main, "setup_opentelemetry"):
        main.setup_opentelemetry = _wxo_load_exports  # type: ignore[attr-defined]


def _wxo_load_exports(*_: Any) -> bool:
    log.info("wxo-load: --otel: each load-generating process exports wxo-load's metrics and traces")
    _import_sdk()
    return True


def _import_sdk() -> None:
    """Import the SDK and its exporters now, in the process that `--processes` forks: imported
    at a worker's first test instead, they held its event loop for seconds on a loaded machine
    (3-10 s, four `--otel` tests at once at load average 11), the master heard no heartbeat and
    marked both workers missing before a run was made. Modules only: providers made before the
    fork hang the workers (above). A missing package is said by `OtelExport`, not here."""
    import importlib

    modules = [
        "opentelemetry.sdk.resources",
        "opentelemetry.sdk.metrics.export",
        "opentelemetry.sdk.trace.export",
        "opentelemetry.sdk.trace.sampling",
    ]
    for kind in ("metrics", "traces"):
        try:
            wire = "grpc" if _protocol(kind.upper()) == "grpc" else "http"
        except WxoLoadError:
            continue  # said by OtelExport
        exporter = "metric_exporter" if kind == "metrics" else "trace_exporter"
        modules.append(f"opentelemetry.exporter.otlp.proto.{wire}.{exporter}")
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            return
