"""An OTLP/HTTP receiver on loopback for tests and benchmarks: decodes what an exporter posts to
`/v1/metrics`, `/v1/traces` (and accepts `/v1/logs`) with `opentelemetry-proto`'s messages.

It keeps every request; `counter()` / `histogram_count()` read the last cumulative point of each
series (one per exporting process: `service.instance.id` tells them apart) and add them up, as a
backend would.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


class OtlpReceiver:
    """`with OtlpReceiver() as receiver:` serves on `receiver.endpoint` until the block ends."""

    def __init__(self) -> None:
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                reply = receiver.receive(self.path, body)
                self.send_response(200 if reply is not None else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply or b"")))
                self.end_headers()
                self.wfile.write(reply or b"")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, path: str, body: bytes) -> bytes | None:
        if path == "/v1/metrics":
            metrics = ExportMetricsServiceRequest.FromString(body)
            with self.lock:
                self.metrics.append(metrics)
            return ExportMetricsServiceResponse().SerializeToString()
        if path == "/v1/traces":
            traces = ExportTraceServiceRequest.FromString(body)
            with self.lock:
                self.traces.append(traces)
            return ExportTraceServiceResponse().SerializeToString()
        return b"" if path == "/v1/logs" else None

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- reading what arrived -------------------------------------------------------------

    def points(self, name: str) -> Iterator[tuple[dict[str, Any], Any]]:
        """(resource attributes, data point) of every point of metric NAME received."""
        with self.lock:
            requests = list(self.metrics)
        for request in requests:
            for resource_metrics in request.resource_metrics:
                resource = attributes(resource_metrics.resource.attributes)
                for scope in resource_metrics.scope_metrics:
                    for metric in scope.metrics:
                        if metric.name == name:
                            kind = metric.WhichOneof("data")
                            for point in getattr(metric, kind).data_points:
                                yield resource, point

    def last_points(self, name: str, **match: Any) -> dict[tuple[Any, ...], Any]:
        """The newest cumulative point of each series (instance and attributes) matching MATCH."""
        newest: dict[tuple[Any, ...], Any] = {}
        for resource, point in self.points(name):
            attrs = attributes(point.attributes)
            if any(attrs.get(k) != v for k, v in match.items()):
                continue
            key = (resource.get("service.instance.id"), tuple(sorted(attrs.items())))
            if key not in newest or point.time_unix_nano >= newest[key].time_unix_nano:
                newest[key] = point
        return newest

    def counter(self, name: str, **match: Any) -> float:
        return sum(p.as_int or p.as_double for p in self.last_points(name, **match).values())

    def histogram_count(self, name: str, **match: Any) -> int:
        return sum(p.count for p in self.last_points(name, **match).values())

    def instances(self, name: str) -> set[str]:
        return {str(r.get("service.instance.id")) for r, _ in self.points(name)}

    def resources(self, name: str) -> list[dict[str, Any]]:
        return [r for r, _ in self.points(name)]

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) of every span received."""
        with self.lock:
            requests = list(self.traces)
        found = []
        for request in requests:
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope.spans)
        return found
